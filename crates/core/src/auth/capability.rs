//! Capabilities a [`Principal`] grants. Each is a value that can only be
//! obtained through the check that justifies it.

use super::principal::{Grant, Principal};
use crate::domain::{CountryCode, MunicipalityId};
use crate::{Error, Result};

/// What a principal may read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReadScope {
    /// Everything (coordinators).
    All,
    /// What one municipality can read: shared content of its groups, its own drafts.
    Municipality {
        /// The municipality.
        municipality: MunicipalityId,
        /// Its country.
        country: CountryCode,
    },
    /// What a country's municipalities can read; with `drafts`, also their drafts.
    Country {
        /// The country.
        country: CountryCode,
        /// Country admins read their municipalities' drafts; observers do not.
        drafts: bool,
    },
}

impl ReadScope {
    /// Whether a draft owned by `owner` in `country` is readable in this scope.
    pub fn reads_drafts_of(&self, owner: MunicipalityId, country: CountryCode) -> bool {
        match *self {
            ReadScope::All => true,
            ReadScope::Municipality { municipality, .. } => municipality == owner,
            ReadScope::Country { country: c, drafts } => drafts && c == country,
        }
    }

    /// Whether the scope is the municipality's own or its country's: where a
    /// missing item may be reported as missing without leaking anything.
    pub fn owns(&self, owner: MunicipalityId, country: CountryCode) -> bool {
        match *self {
            ReadScope::All => true,
            ReadScope::Municipality { municipality, .. } => municipality == owner,
            ReadScope::Country { country: c, .. } => c == country,
        }
    }
}

/// Proof that the principal may write for one municipality.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ActingFor {
    municipality: MunicipalityId,
    country: CountryCode,
    actor: String,
}

impl ActingFor {
    /// The municipality written for.
    pub fn municipality(&self) -> MunicipalityId {
        self.municipality
    }
    /// Its country.
    pub fn country(&self) -> CountryCode {
        self.country
    }
    /// Who acts (`issuer/subject`).
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Proof that the principal coordinates the network.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Coordinating {
    actor: String,
}

impl Coordinating {
    /// Who acts.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Proof that the principal may manage the municipalities of one country.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ManagingCountry {
    country: CountryCode,
    actor: String,
}

impl ManagingCountry {
    /// The country.
    pub fn country(&self) -> CountryCode {
        self.country
    }
    /// Who acts.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

impl Principal {
    /// What this principal may read.
    pub fn read_scope(&self) -> ReadScope {
        match *self.grant() {
            Grant::Coordinator => ReadScope::All,
            Grant::Staff(country, municipality) => ReadScope::Municipality { municipality, country },
            Grant::CountryAdmin(country) => ReadScope::Country { country, drafts: true },
            Grant::Observer(country) => ReadScope::Country { country, drafts: false },
        }
    }

    /// Write for `municipality` (of `country`): its own staff, or its
    /// country's admin. Writing never crosses a country; coordinators
    /// moderate but do not author content.
    pub fn act_for(&self, municipality: MunicipalityId, country: CountryCode) -> Result<ActingFor> {
        let allowed = match *self.grant() {
            Grant::Staff(c, m) => c == country && m == municipality,
            Grant::CountryAdmin(c) => c == country,
            Grant::Coordinator | Grant::Observer(_) => false,
        };
        if allowed {
            Ok(ActingFor { municipality, country, actor: self.actor() })
        } else {
            Err(Error::PermissionDenied(format!("the caller may not write for municipalities/{municipality}")))
        }
    }

    /// Run the network: working groups, memberships, workshops, moderation.
    pub fn coordinate(&self) -> Result<Coordinating> {
        match self.grant() {
            Grant::Coordinator => Ok(Coordinating { actor: self.actor() }),
            _ => Err(Error::PermissionDenied("only a network coordinator may do this".into())),
        }
    }

    /// Manage the municipalities of `country`: coordinators for any, country
    /// admins for their own.
    pub fn manage_country(&self, country: CountryCode) -> Result<ManagingCountry> {
        let allowed = match *self.grant() {
            Grant::Coordinator => true,
            Grant::CountryAdmin(c) => c == country,
            Grant::Staff(..) | Grant::Observer(_) => false,
        };
        if allowed {
            Ok(ManagingCountry { country, actor: self.actor() })
        } else {
            Err(Error::PermissionDenied(format!("the caller may not manage municipalities of {country}")))
        }
    }

    /// Archive an item owned by `owner`: the owner (as [`Principal::act_for`])
    /// or a coordinator, who moderates anything.
    pub fn archive(&self, owner: MunicipalityId, country: CountryCode) -> Result<String> {
        match self.grant() {
            Grant::Coordinator => Ok(self.actor()),
            _ => self.act_for(owner, country).map(|a| a.actor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }
    fn mid(n: i64) -> MunicipalityId {
        MunicipalityId::parse("m", n).unwrap()
    }

    #[test]
    fn writing_never_crosses_a_country() {
        let admin = Principal::new("ba", "a", Role::CountryAdmin, Some(cc("BA")), None).unwrap();
        assert!(admin.act_for(mid(1), cc("BA")).is_ok());
        assert!(admin.act_for(mid(1), cc("RS")).is_err());
        let staff = Principal::new("ba", "s", Role::Staff, Some(cc("BA")), Some(mid(1))).unwrap();
        assert!(staff.act_for(mid(1), cc("BA")).is_ok());
        assert!(staff.act_for(mid(2), cc("BA")).is_err());
        let obs = Principal::new("ba", "o", Role::Observer, Some(cc("BA")), None).unwrap();
        assert!(obs.act_for(mid(1), cc("BA")).is_err());
        let coord = Principal::new("net", "c", Role::Coordinator, None, None).unwrap();
        assert!(coord.act_for(mid(1), cc("BA")).is_err());
        assert!(coord.archive(mid(1), cc("BA")).is_ok());
        assert!(staff.archive(mid(2), cc("BA")).is_err());
    }

    #[test]
    fn impossible_principals_cannot_be_built() {
        assert!(Principal::new("i", "s", Role::Staff, Some(cc("BA")), None).is_err());
        assert!(Principal::new("i", "s", Role::Staff, None, Some(mid(1))).is_err());
        assert!(Principal::new("i", "s", Role::Observer, None, None).is_err());
        assert!(Principal::new("i", "s", Role::CountryAdmin, Some(cc("BA")), Some(mid(1))).is_err());
    }

    #[test]
    fn only_coordinators_coordinate_and_admins_manage_their_country() {
        let admin = Principal::new("ba", "a", Role::CountryAdmin, Some(cc("BA")), None).unwrap();
        assert!(admin.coordinate().is_err());
        assert!(admin.manage_country(cc("BA")).is_ok());
        assert!(admin.manage_country(cc("RS")).is_err());
    }
}
