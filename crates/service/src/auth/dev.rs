//! The development issuer: an HS256 shared secret that is public knowledge,
//! so that local runs and tests can mint tokens without an identity provider.
//! A deployment that trusts it trusts everyone.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peerlab_core::auth::Role;
use peerlab_core::domain::{CountryCode, MunicipalityId};
use serde_json::json;

use super::AuthError;
use crate::config::{IssuerConfig, KeyConfig};

/// `iss` of development tokens.
pub const DEV_ISSUER: &str = "peerlab-dev";
/// `aud` of development tokens.
pub const DEV_AUDIENCE: &str = "peerlab";
/// `kid` of the development key.
pub const DEV_KID: &str = "peerlab-dev-1";
/// The development HS256 secret. Public: never trust it in production.
pub const DEV_SECRET: &str = "peerlab-development-secret-do-not-use-in-production";

impl IssuerConfig {
    /// The development issuer: HS256 with [`DEV_SECRET`], every country, every role.
    pub fn development() -> IssuerConfig {
        IssuerConfig {
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
            algorithms: vec!["HS256".into()],
            keys: vec![KeyConfig { kid: DEV_KID.into(), pem_file: None, secret: Some(DEV_SECRET.into()) }],
            jwks_file: None,
            countries: vec!["*".into()],
            roles: Role::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
            development: true,
        }
    }
}

/// What a development token says.
#[derive(Clone, Debug)]
pub struct MintClaims {
    /// `sub`: who the token is for.
    pub subject: String,
    /// `role`.
    pub role: Role,
    /// `country` (none for a coordinator).
    pub country: Option<CountryCode>,
    /// `municipality` (staff only).
    pub municipality: Option<MunicipalityId>,
    /// How long the token is valid from now.
    pub ttl: Duration,
}

/// Sign an HS256 token with a development issuer's secret. Fails for any
/// issuer that is not a development issuer pinning HS256 with a secret.
///
/// ```
/// use std::time::Duration;
/// use peerlab_core::auth::Role;
/// use peerlab_core::domain::CountryCode;
/// use peerlab_service::auth::{MintClaims, Verifier, mint};
/// use peerlab_service::config::{AuthConfig, IssuerConfig};
///
/// let issuer = IssuerConfig::development();
/// let claims = MintClaims {
///     subject: "ana".into(),
///     role: Role::Observer,
///     country: Some(CountryCode::parse("MK").unwrap()),
///     municipality: None,
///     ttl: Duration::from_secs(300),
/// };
/// let token = mint(&issuer, &claims).unwrap();
/// let verifier = Verifier::from_config(&AuthConfig { issuers: vec![issuer], ..AuthConfig::default() }).unwrap();
/// let principal = verifier.verify(Some(&format!("Bearer {token}"))).unwrap();
/// assert_eq!(principal.role(), Role::Observer);
/// ```
pub fn mint(issuer: &IssuerConfig, claims: &MintClaims) -> Result<String, AuthError> {
    if !issuer.development || !issuer.algorithms.iter().any(|a| a == "HS256") {
        return Err(AuthError::NotDevelopmentIssuer);
    }
    let (kid, secret) = issuer
        .keys
        .iter()
        .find_map(|k| k.secret.as_ref().map(|s| (&k.kid, s)))
        .ok_or(AuthError::NotDevelopmentIssuer)?;
    let now = chrono::Utc::now().timestamp();
    let ttl = i64::try_from(claims.ttl.as_secs()).unwrap_or(i64::MAX);
    let mut body = json!({
        "iss": issuer.issuer,
        "sub": claims.subject,
        "aud": issuer.audience,
        "iat": now,
        "nbf": now,
        "exp": now.saturating_add(ttl),
        "role": claims.role.as_str(),
    });
    if let Some(country) = claims.country {
        body["country"] = country.as_str().into();
    }
    if let Some(municipality) = claims.municipality {
        body["municipality"] = municipality.get().into();
    }
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    jsonwebtoken::encode(&header, &body, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| AuthError::Signing(e.to_string()))
}
