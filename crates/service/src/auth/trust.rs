//! The trusted issuers and their keys by `kid`; keys can be re-read from disk
//! (on SIGHUP) without a restart.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use super::issuer::IssuerPolicy;
use crate::config::{AuthConfig, ConfigError, IssuerConfig};

/// Why the trust store could not be built or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The auth configuration breaks a rule.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key file could not be read or holds no usable key.
    #[error("{key}: {}: {reason}", path.display())]
    KeyFile {
        /// The configuration key naming the file, e.g. `auth.issuers[0].keys[1].pem_file`.
        key: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Keys by `kid`, per issuer.
type KeyRings = HashMap<String, HashMap<String, DecodingKey>>;

/// What the configuration trusts: per issuer its policy and its keys.
pub struct TrustStore {
    config: AuthConfig,
    policies: HashMap<String, IssuerPolicy>,
    keys: RwLock<Arc<KeyRings>>,
    /// Bumped by every successful reload, so verified-token caches can tell
    /// that a principal was vouched for by keys that may since have been removed.
    generation: AtomicU64,
}

impl TrustStore {
    /// Check `config` and load every issuer's keys; a key that cannot be read
    /// or parsed is an error naming its file.
    pub fn from_config(config: &AuthConfig) -> Result<TrustStore, AuthSetupError> {
        config.validate()?;
        let mut policies = HashMap::new();
        for (i, issuer) in config.issuers.iter().enumerate() {
            let policy = IssuerPolicy::from_config(issuer, &format!("auth.issuers[{i}]"))?;
            if issuer.development {
                tracing::warn!(issuer = %issuer.issuer, "trusting a development issuer; never do this in production");
            }
            policies.insert(issuer.issuer.clone(), policy);
        }
        let keys = load_key_rings(config, &policies)?;
        Ok(TrustStore {
            config: config.clone(),
            policies,
            keys: RwLock::new(Arc::new(keys)),
            generation: AtomicU64::new(0),
        })
    }

    /// Re-read every key file. On failure the keys in use stay as they were
    /// and the error says which file is wrong.
    pub fn reload(&self) -> Result<(), AuthSetupError> {
        let keys = load_key_rings(&self.config, &self.policies)?;
        let count: usize = keys.values().map(HashMap::len).sum();
        // Only swaps an `Arc` under the lock, so a poisoned lock still holds a whole map.
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        self.generation.fetch_add(1, Ordering::SeqCst);
        tracing::info!(keys = count, "reloaded token verification keys");
        Ok(())
    }

    /// The auth configuration the store was built from.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub(crate) fn policy(&self, issuer: &str) -> Option<&IssuerPolicy> {
        self.policies.get(issuer)
    }

    pub(crate) fn key(&self, issuer: &str, kid: &str) -> Option<DecodingKey> {
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner));
        keys.get(issuer)?.get(kid).cloned()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStore").field("issuers", &self.policies.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

fn load_key_rings(config: &AuthConfig, policies: &HashMap<String, IssuerPolicy>) -> Result<KeyRings, AuthSetupError> {
    let mut rings = HashMap::new();
    for (i, issuer) in config.issuers.iter().enumerate() {
        let at = format!("auth.issuers[{i}]");
        let families = policies.get(&issuer.issuer).map(public_families).unwrap_or_default();
        rings.insert(issuer.issuer.clone(), load_key_ring(issuer, &at, &families)?);
    }
    Ok(rings)
}

/// The public-key families of the pinned algorithms; HMAC keys never come from files.
fn public_families(policy: &IssuerPolicy) -> Vec<AlgorithmFamily> {
    let mut families: Vec<AlgorithmFamily> =
        policy.algorithms.iter().map(|a| a.family()).filter(|f| *f != AlgorithmFamily::Hmac).collect();
    families.dedup();
    families
}

fn load_key_ring(
    issuer: &IssuerConfig,
    at: &str,
    families: &[AlgorithmFamily],
) -> Result<HashMap<String, DecodingKey>, AuthSetupError> {
    let mut ring = HashMap::new();
    for (j, key) in issuer.keys.iter().enumerate() {
        let decoding = match (&key.pem_file, &key.secret) {
            (Some(path), None) => load_pem(&format!("{at}.keys[{j}].pem_file"), path, families)?,
            (None, Some(secret)) if issuer.development => DecodingKey::from_secret(secret.as_bytes()),
            _ => {
                let reason = "needs exactly one of pem_file and secret (secret for development issuers only)";
                return Err(ConfigError::Invalid { key: format!("{at}.keys[{j}]"), reason: reason.into() }.into());
            }
        };
        ring.insert(key.kid.clone(), decoding);
    }
    if let Some(path) = &issuer.jwks_file {
        load_jwks(&format!("{at}.jwks_file"), path, families, &mut ring)?;
    }
    Ok(ring)
}

fn key_file_error(key: &str, path: &Path, reason: impl Into<String>) -> AuthSetupError {
    AuthSetupError::KeyFile { key: key.to_owned(), path: path.to_owned(), reason: reason.into() }
}

/// Parse a PEM public key as the first of the issuer's key families it fits.
fn load_pem(key: &str, path: &Path, families: &[AlgorithmFamily]) -> Result<DecodingKey, AuthSetupError> {
    let pem = std::fs::read(path).map_err(|e| key_file_error(key, path, format!("cannot read: {e}")))?;
    families
        .iter()
        .find_map(|family| match family {
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(&pem).ok(),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(&pem).ok(),
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(&pem).ok(),
            AlgorithmFamily::Hmac => None,
        })
        .ok_or_else(|| {
            let wanted: Vec<&str> = families.iter().map(|f| family_name(*f)).collect();
            key_file_error(key, path, format!("not a PEM public key of kind {}", wanted.join(" or ")))
        })
}

fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Ec => "EC P-256 (ES256)",
        AlgorithmFamily::Ed => "Ed25519 (EdDSA)",
        AlgorithmFamily::Rsa => "RSA (RS256)",
        AlgorithmFamily::Hmac => "HMAC",
    }
}

/// Add the usable keys of a JWKS file. Keys for encryption and keys of
/// families the issuer does not pin are skipped (a JWKS published by an
/// identity provider often holds more than we trust); `families` never
/// includes HMAC, so a symmetric key is never taken from a file.
fn load_jwks(
    key: &str,
    path: &Path,
    families: &[AlgorithmFamily],
    ring: &mut HashMap<String, DecodingKey>,
) -> Result<(), AuthSetupError> {
    let bytes = std::fs::read(path).map_err(|e| key_file_error(key, path, format!("cannot read: {e}")))?;
    let set: JwkSet =
        serde_json::from_slice(&bytes).map_err(|e| key_file_error(key, path, format!("not a JWKS: {e}")))?;
    let mut added = 0;
    for jwk in &set.keys {
        let Some(kid) = &jwk.common.key_id else {
            return Err(key_file_error(key, path, "every key needs a kid"));
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let decoding =
            DecodingKey::from_jwk(jwk).map_err(|e| key_file_error(key, path, format!("key {kid:?}: {e}")))?;
        if !families.contains(&decoding.family()) {
            continue;
        }
        if ring.insert(kid.clone(), decoding).is_some() {
            return Err(key_file_error(key, path, format!("kid {kid:?} is also configured elsewhere for this issuer")));
        }
        added += 1;
    }
    if added == 0 {
        return Err(key_file_error(key, path, "holds no public key usable with the issuer's algorithms"));
    }
    Ok(())
}

/// Whether `alg` may be verified with `key`: an HS256 header must never be
/// checked against a public key's bytes used as an HMAC secret.
pub(crate) fn key_fits(key: &DecodingKey, alg: Algorithm) -> bool {
    key.family() == alg.family()
}
