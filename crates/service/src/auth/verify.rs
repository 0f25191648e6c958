//! Checking one `authorization` header value against the trust store.

use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::{CountryCode, MunicipalityId};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::cache::TokenCache;
use super::issuer::IssuerPolicy;
use super::trust::{AuthSetupError, TrustStore, key_fits};
use super::{AuthError, bounded};
use crate::config::AuthConfig;

/// Far above any real token; stops a huge header before it is hashed or decoded.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Verifies bearer tokens into principals. Cheap to clone: clones share the
/// trust store and the cache of verified tokens.
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    trust: TrustStore,
    cache: TokenCache,
    leeway: u64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("trust", &self.trust).field("leeway", &self.leeway).finish_non_exhaustive()
    }
}

/// The claims peerlab reads; `aud` and `nbf` are checked by `jsonwebtoken`.
/// `exp` is a strict integer: a string or fractional `exp` is rejected.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    role: String,
    country: Option<String>,
    municipality: Option<Value>,
}

/// The header fields needed to pick a key, read without trusting them.
/// Parsed here rather than by `jsonwebtoken::decode_header` so that an
/// algorithm it cannot represent (`none`) is reported as not allowed.
#[derive(Deserialize)]
struct UnverifiedHeader {
    alg: String,
    kid: Option<String>,
}

impl Verifier {
    /// A verifier over `trust`, with the leeway and cache size of its configuration.
    pub fn new(trust: TrustStore) -> Verifier {
        let (leeway, cache) = (trust.config().leeway_seconds, TokenCache::new(trust.config().token_cache_size));
        Verifier { inner: Arc::new(Inner { trust, cache, leeway }) }
    }

    /// Build the trust store from `config` and a verifier over it.
    pub fn from_config(config: &AuthConfig) -> Result<Verifier, AuthSetupError> {
        Ok(Verifier::new(TrustStore::from_config(config)?))
    }

    /// The trust store; call [`TrustStore::reload`] on SIGHUP. Tokens verified
    /// before a reload are checked again afterwards.
    pub fn trust_store(&self) -> &TrustStore {
        &self.inner.trust
    }

    /// Verify the value of an `authorization` header (`Bearer <JWT>`).
    pub fn verify(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let token = bearer_token(authorization)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        let generation = self.inner.trust.generation();
        if let Some(principal) = self.inner.cache.get(&digest, now, generation) {
            return Ok(principal);
        }
        let (principal, exp) = self.verify_token(token)?;
        self.inner.cache.insert(digest, principal.clone(), exp, now, generation);
        Ok(principal)
    }

    fn verify_token(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let (header, iss) = peek(token)?;
        let trust = &self.inner.trust;
        let policy = trust.policy(&iss).ok_or_else(|| AuthError::UnknownIssuer(bounded(&iss)))?;
        let alg = Algorithm::from_str(&header.alg)
            .ok()
            .filter(|alg| policy.algorithms.contains(alg))
            .ok_or_else(|| AuthError::AlgorithmNotAllowed(bounded(&header.alg)))?;
        let kid = header.kid.ok_or_else(|| AuthError::UnknownKey("(no kid)".into()))?;
        let key = trust.key(&policy.issuer, &kid).ok_or_else(|| AuthError::UnknownKey(bounded(&kid)))?;
        if !key_fits(&key, alg) {
            return Err(AuthError::AlgorithmNotAllowed(bounded(&header.alg)));
        }
        let mut validation = Validation::new(alg);
        validation.set_audience(&[&policy.audience]);
        validation.set_issuer(&[&policy.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.inner.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| jwt_error(e.kind(), &header.alg))?
            .claims;
        let exp = claims.exp;
        Ok((principal(policy, claims)?, exp))
    }

    #[cfg(test)]
    pub(crate) fn cache(&self) -> &TokenCache {
        &self.inner.cache
    }
}

fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(AuthError::MissingToken)?;
    let not_bearer = AuthError::Malformed("expected `Bearer <token>`");
    let (scheme, token) = value.split_once(' ').ok_or(not_bearer.clone())?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(not_bearer);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("token too long"));
    }
    Ok(token)
}

/// The header and the `iss` claim, without checking anything: only used to
/// choose which issuer's rules and keys the token is then checked against.
fn peek(token: &str) -> Result<(UnverifiedHeader, String), AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("a JWT has three dot-separated parts"));
    };
    let header: UnverifiedHeader = serde_json::from_value(segment(header)?)
        .map_err(|_| AuthError::Malformed("the header needs a string alg and kid"))?;
    let iss = match segment(payload)?.get("iss") {
        Some(Value::String(iss)) => iss.clone(),
        _ => {
            return Err(AuthError::BadClaims("the token needs an iss claim naming its issuer".into()));
        }
    };
    Ok((header, iss))
}

fn segment(part: &str) -> Result<Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| AuthError::Malformed("a part is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed("a part is not JSON"))
}

fn jwt_error(kind: &ErrorKind, alg: &str) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::AudienceInvalid,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => AuthError::AudienceInvalid,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::BadClaims(format!("missing {claim} claim")),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::BadClaims(format!("malformed {claim} claim")),
        ErrorKind::InvalidIssuer => AuthError::BadClaims("iss does not name the issuer".into()),
        ErrorKind::InvalidSubject => AuthError::BadClaims("unexpected sub".into()),
        // serde_json's message names the claim and the expected type, never the token.
        ErrorKind::Json(e) => AuthError::BadClaims(e.to_string().chars().take(200).collect()),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::InvalidKeyFormat => AuthError::AlgorithmNotAllowed(bounded(alg)),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            AuthError::Malformed("not a well-formed JWT")
        }
        // Key-parsing and provider errors: the signature could not be verified.
        _ => AuthError::InvalidSignature,
    }
}

/// Check what the issuer may grant and build the principal.
fn principal(policy: &IssuerPolicy, claims: Claims) -> Result<Principal, AuthError> {
    let bad = |e: peerlab_core::Error| AuthError::BadClaims(e.to_string());
    if claims.sub.trim().is_empty() {
        return Err(AuthError::BadClaims("sub must not be empty".into()));
    }
    let role = Role::parse(&claims.role).map_err(bad)?;
    if !policy.roles.contains(&role) {
        return Err(AuthError::RoleNotGranted(role.to_string()));
    }
    let country = claims.country.as_deref().map(CountryCode::parse).transpose().map_err(bad)?;
    if let Some(country) = country
        && !policy.grants_country(country)
    {
        return Err(AuthError::CountryNotGranted(country.to_string()));
    }
    let municipality = claims.municipality.as_ref().map(municipality).transpose()?;
    Principal::new(claims.iss, claims.sub, role, country, municipality).map_err(bad)
}

/// `7`, `"7"` or `"municipalities/7"`.
fn municipality(claim: &Value) -> Result<MunicipalityId, AuthError> {
    let parsed = match claim {
        Value::Number(n) => match n.as_i64() {
            Some(n) => MunicipalityId::parse("municipality", n),
            None => {
                return Err(AuthError::BadClaims("municipality must be a positive integer id".into()));
            }
        },
        Value::String(s) => MunicipalityId::parse_str("municipality", s.strip_prefix("municipalities/").unwrap_or(s)),
        _ => {
            return Err(AuthError::BadClaims("municipality must be an id or a municipalities/{id} name".into()));
        }
    };
    parsed.map_err(|e| AuthError::BadClaims(e.to_string()))
}
