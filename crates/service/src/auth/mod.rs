//! Turning `authorization: Bearer <JWT>` into a verified
//! [`Principal`](peerlab_core::auth::Principal).
//!
//! The [`TrustStore`] holds what the configuration trusts: per issuer its
//! keys by `kid`, its pinned algorithms, its audience, and the countries and
//! roles it may grant. The [`Verifier`] checks a token against it — the
//! token's own header never widens what is accepted — and remembers verified
//! tokens until they expire. [`mint`] signs tokens for the development
//! issuer only.

mod cache;
mod dev;
mod issuer;
mod trust;
mod verify;

#[cfg(test)]
mod tests;

pub use dev::{DEV_AUDIENCE, DEV_ISSUER, DEV_KID, DEV_SECRET, MintClaims, mint};
pub use trust::{AuthSetupError, TrustStore};
pub use verify::Verifier;

/// Why a token was not accepted. Messages never contain the token, and
/// values taken from an unverified token are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` header.
    #[error("no bearer token")]
    MissingToken,
    /// The header is not `Bearer <JWT>`, or the JWT is not well formed.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The token's issuer is not trusted.
    #[error("untrusted issuer {0}")]
    UnknownIssuer(String),
    /// The token's `alg` is not one pinned for its issuer, or does not fit the key.
    #[error("algorithm {0} is not allowed for this issuer")]
    AlgorithmNotAllowed(String),
    /// The token names no key (`kid`), or one its issuer does not have.
    #[error("unknown key {0}")]
    UnknownKey(String),
    /// The signature does not verify with the issuer's key.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `aud` is missing or does not name this service.
    #[error("token audience does not match")]
    AudienceInvalid,
    /// A claim is missing or malformed, or the claims do not form a principal.
    #[error("invalid claims: {0}")]
    BadClaims(String),
    /// The issuer may not speak for the token's country.
    #[error("issuer may not grant country {0}")]
    CountryNotGranted(String),
    /// The issuer may not grant the token's role.
    #[error("issuer may not grant role {0}")]
    RoleNotGranted(String),
    /// Minting was asked of an issuer that is not a development issuer with a secret.
    #[error("only a development issuer with a secret can mint tokens")]
    NotDevelopmentIssuer,
    /// Signing a development token failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl AuthError {
    /// A stable, machine-readable reason, e.g. for `google.rpc.ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "TOKEN_MISSING",
            AuthError::Malformed(_) => "TOKEN_MALFORMED",
            AuthError::UnknownIssuer(_) => "ISSUER_UNTRUSTED",
            AuthError::AlgorithmNotAllowed(_) => "ALGORITHM_NOT_ALLOWED",
            AuthError::UnknownKey(_) => "KEY_UNKNOWN",
            AuthError::InvalidSignature => "SIGNATURE_INVALID",
            AuthError::Expired => "TOKEN_EXPIRED",
            AuthError::NotYetValid => "TOKEN_NOT_YET_VALID",
            AuthError::AudienceInvalid => "AUDIENCE_INVALID",
            AuthError::BadClaims(_) => "CLAIMS_INVALID",
            AuthError::CountryNotGranted(_) => "COUNTRY_NOT_GRANTED",
            AuthError::RoleNotGranted(_) => "ROLE_NOT_GRANTED",
            AuthError::NotDevelopmentIssuer => "NOT_DEVELOPMENT_ISSUER",
            AuthError::Signing(_) => "SIGNING_FAILED",
        }
    }
}

/// `value` quoted and cut to a length safe to put in an error or a log line:
/// it comes from a token whose signature has not been checked yet.
pub(crate) fn bounded(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}
