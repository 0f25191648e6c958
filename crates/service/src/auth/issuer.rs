//! What a configured issuer may do, checked once at start-up into an
//! [`IssuerPolicy`] the verifier consults for every token.

use std::str::FromStr;

use jsonwebtoken::Algorithm;
use peerlab_core::auth::Role;
use peerlab_core::domain::CountryCode;

use crate::config::{ConfigError, IssuerConfig, invalid};

/// The countries an issuer may speak for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Countries {
    Any,
    Only(Vec<CountryCode>),
}

/// An issuer's configuration in checked form.
#[derive(Clone, Debug)]
pub(crate) struct IssuerPolicy {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) countries: Countries,
    pub(crate) roles: Vec<Role>,
}

impl IssuerPolicy {
    /// Check `config` (found at `at`, e.g. `auth.issuers[0]`) and keep the parsed form.
    pub(crate) fn from_config(config: &IssuerConfig, at: &str) -> Result<Self, ConfigError> {
        config.validate(at)?;
        let parse_err = |key: String, e: &dyn std::fmt::Display| invalid(key, e.to_string());
        let algorithms = config
            .algorithms
            .iter()
            .map(|a| Algorithm::from_str(a).map_err(|e| parse_err(format!("{at}.algorithms"), &e)))
            .collect::<Result<_, _>>()?;
        let countries = if config.countries.iter().any(|c| c == "*") {
            Countries::Any
        } else {
            Countries::Only(
                config
                    .countries
                    .iter()
                    .map(|c| CountryCode::parse(c).map_err(|e| parse_err(format!("{at}.countries"), &e)))
                    .collect::<Result<_, _>>()?,
            )
        };
        let roles = config
            .roles
            .iter()
            .map(|r| Role::parse(r).map_err(|e| parse_err(format!("{at}.roles"), &e)))
            .collect::<Result<_, _>>()?;
        Ok(IssuerPolicy {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            algorithms,
            countries,
            roles,
        })
    }

    pub(crate) fn grants_country(&self, country: CountryCode) -> bool {
        match &self.countries {
            Countries::Any => true,
            Countries::Only(list) => list.contains(&country),
        }
    }
}

impl IssuerConfig {
    pub(crate) fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(invalid(format!("{at}.issuer"), "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(invalid(format!("{at}.audience"), "must not be empty"));
        }
        if self.algorithms.is_empty() {
            return Err(invalid(format!("{at}.algorithms"), "must name at least one algorithm"));
        }
        for alg in &self.algorithms {
            match alg.as_str() {
                "ES256" | "EdDSA" | "RS256" => {}
                "HS256" if self.development => {}
                "HS256" => {
                    return Err(invalid(format!("{at}.algorithms"), "HS256 is only allowed for a development issuer"));
                }
                other => {
                    return Err(invalid(
                        format!("{at}.algorithms"),
                        format!("{other:?} is not one of ES256, EdDSA, RS256 (HS256 for development)"),
                    ));
                }
            }
        }
        let hmac = self.algorithms.iter().any(|a| a == "HS256");
        let public = self.algorithms.iter().any(|a| a != "HS256");
        if self.keys.is_empty() && self.jwks_file.is_none() {
            return Err(invalid(format!("{at}.keys"), "an issuer needs keys or a jwks_file"));
        }
        if self.jwks_file.is_some() && !public {
            return Err(invalid(format!("{at}.jwks_file"), "needs a public-key algorithm (ES256, EdDSA, RS256)"));
        }
        for (j, key) in self.keys.iter().enumerate() {
            let at = format!("{at}.keys[{j}]");
            if key.kid.is_empty() {
                return Err(invalid(format!("{at}.kid"), "must not be empty"));
            }
            if self.keys[..j].iter().any(|other| other.kid == key.kid) {
                return Err(invalid(format!("{at}.kid"), "is listed twice"));
            }
            match (&key.pem_file, &key.secret) {
                (Some(_), None) if public => {}
                (Some(_), None) => {
                    return Err(invalid(
                        format!("{at}.pem_file"),
                        "needs a public-key algorithm (ES256, EdDSA, RS256)",
                    ));
                }
                (None, Some(secret)) if self.development && hmac => {
                    if secret.len() < 32 {
                        return Err(invalid(format!("{at}.secret"), "must be at least 32 bytes"));
                    }
                }
                (None, Some(_)) => {
                    return Err(invalid(
                        format!("{at}.secret"),
                        "is only allowed for a development issuer using HS256",
                    ));
                }
                _ => return Err(invalid(at, "needs exactly one of pem_file and secret")),
            }
        }
        if self.countries.is_empty() {
            return Err(invalid(format!("{at}.countries"), "must name at least one country, or \"*\""));
        }
        let any = self.countries.iter().any(|c| c == "*");
        if any && self.countries.len() > 1 {
            return Err(invalid(format!("{at}.countries"), "\"*\" (every country) must be the only entry"));
        }
        if !any {
            for (j, country) in self.countries.iter().enumerate() {
                CountryCode::parse(country).map_err(|e| invalid(format!("{at}.countries[{j}]"), e.to_string()))?;
            }
        }
        if self.roles.is_empty() {
            return Err(invalid(format!("{at}.roles"), "must name at least one role"));
        }
        for (j, role) in self.roles.iter().enumerate() {
            Role::parse(role).map_err(|e| invalid(format!("{at}.roles[{j}]"), e.to_string()))?;
        }
        Ok(())
    }
}
