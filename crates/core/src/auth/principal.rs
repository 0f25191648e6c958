//! The verified caller.

use std::fmt;

use crate::domain::{CountryCode, MunicipalityId};
use crate::{Error, Result};

/// A role a token may carry (claim `role`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Role {
    /// Runs the network: groups, memberships, workshops; reads all; moderates.
    Coordinator,
    /// Acts for every municipality of one country.
    CountryAdmin,
    /// Acts for one municipality.
    Staff,
    /// Reads what its country's municipalities can read.
    Observer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Coordinator, Role::CountryAdmin, Role::Staff, Role::Observer];

    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::CountryAdmin => "country_admin",
            Role::Staff => "staff",
            Role::Observer => "observer",
        }
    }

    /// Parse a claim value.
    pub fn parse(s: &str) -> Result<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            Error::invalid("role", format!("{s:?} is not one of coordinator, country_admin, staff, observer"))
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the principal is scoped to; impossible combinations cannot be built.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Grant {
    Coordinator,
    CountryAdmin(CountryCode),
    Staff(CountryCode, MunicipalityId),
    Observer(CountryCode),
}

/// A caller whose token was verified: issuer, subject and what it may do.
///
/// ```
/// use peerlab_core::auth::{Principal, Role};
/// use peerlab_core::domain::{CountryCode, MunicipalityId};
/// let ba = CountryCode::parse("BA").unwrap();
/// let mostar = MunicipalityId::parse("municipality", 7).unwrap();
/// let staff = Principal::new("ba-portal", "amra", Role::Staff, Some(ba), Some(mostar)).unwrap();
/// assert!(staff.act_for(mostar, ba).is_ok());
/// assert!(staff.coordinate().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    issuer: String,
    subject: String,
    grant: Grant,
}

impl Principal {
    /// Build a principal from verified claims. Staff need a country and a
    /// municipality; country admins and observers a country; a coordinator
    /// speaks for the whole network and carries neither.
    pub fn new(
        issuer: impl Into<String>,
        subject: impl Into<String>,
        role: Role,
        country: Option<CountryCode>,
        municipality: Option<MunicipalityId>,
    ) -> Result<Self> {
        let grant = match (role, country, municipality) {
            (Role::Coordinator, _, None) => Grant::Coordinator,
            (Role::CountryAdmin, Some(c), None) => Grant::CountryAdmin(c),
            (Role::Observer, Some(c), None) => Grant::Observer(c),
            (Role::Staff, Some(c), Some(m)) => Grant::Staff(c, m),
            (Role::Staff, _, None) => {
                return Err(Error::invalid("municipality", "a staff token needs a municipality claim"));
            }
            (Role::Coordinator | Role::CountryAdmin | Role::Observer, _, Some(_)) => {
                return Err(Error::invalid(
                    "municipality",
                    format!("a {role} token must not carry a municipality claim"),
                ));
            }
            (Role::CountryAdmin | Role::Observer | Role::Staff, None, _) => {
                return Err(Error::invalid("country", format!("a {role} token needs a country claim")));
            }
        };
        Ok(Principal { issuer: issuer.into(), subject: subject.into(), grant })
    }

    /// The token's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token's subject (a person or a portal's service account).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `issuer/subject`: who did it, as recorded in events.
    pub fn actor(&self) -> String {
        format!("{}/{}", self.issuer, self.subject)
    }

    /// The role.
    pub fn role(&self) -> Role {
        match self.grant {
            Grant::Coordinator => Role::Coordinator,
            Grant::CountryAdmin(_) => Role::CountryAdmin,
            Grant::Staff(..) => Role::Staff,
            Grant::Observer(_) => Role::Observer,
        }
    }

    /// The country the principal speaks for (none for a coordinator).
    pub fn country(&self) -> Option<CountryCode> {
        match self.grant {
            Grant::Coordinator => None,
            Grant::CountryAdmin(c) | Grant::Staff(c, _) | Grant::Observer(c) => Some(c),
        }
    }

    /// The municipality a staff member works for.
    pub fn municipality(&self) -> Option<MunicipalityId> {
        match self.grant {
            Grant::Staff(_, m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn grant(&self) -> &Grant {
        &self.grant
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("role", &self.role())
            .field("country", &self.country())
            .field("municipality", &self.municipality())
            .finish()
    }
}
