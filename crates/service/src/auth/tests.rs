//! Tokens signed with the test-only keys in `testdata/`, checked end to end.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::{CountryCode, MunicipalityId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::*;
use crate::config::{AuthConfig, IssuerConfig, KeyConfig};

mod setup;
mod tokens;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/auth/testdata").join(name)
}

fn private_key(alg: Algorithm) -> EncodingKey {
    let pem = |name: &str| std::fs::read(testdata(name)).expect("test key is readable");
    match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem("dev-es256-private.pem")),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem("dev-ed25519-private.pem")),
        Algorithm::RS256 | Algorithm::RS512 | Algorithm::PS256 => {
            EncodingKey::from_rsa_pem(&pem("dev-rs256-private.pem"))
        }
        other => panic!("no test key for {other:?}"),
    }
    .expect("test key parses")
}

/// `claims` without `key`.
fn remove(claims: &mut Value, key: &str) {
    claims.as_object_mut().expect("claims are an object").remove(key);
}

fn issuer(name: &str, alg: &str, kid: &str, public_pem: &str, countries: &[&str], roles: &[&str]) -> IssuerConfig {
    IssuerConfig {
        issuer: name.into(),
        audience: "peerlab".into(),
        algorithms: vec![alg.into()],
        keys: vec![KeyConfig { kid: kid.into(), pem_file: Some(testdata(public_pem)), secret: None }],
        jwks_file: None,
        countries: countries.iter().map(|c| (*c).to_owned()).collect(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        development: false,
    }
}

/// The BA portal (ES256, BA only, no coordinators), the RS portal (EdDSA, RS
/// only), the network secretariat (RS256, everything) and the development issuer.
fn issuers() -> Vec<IssuerConfig> {
    let local = ["country_admin", "staff", "observer"];
    vec![
        issuer("ba-portal", "ES256", "ba-1", "dev-es256-public.pem", &["BA"], &local),
        issuer("rs-portal", "EdDSA", "rs-1", "dev-ed25519-public.pem", &["RS"], &local),
        issuer("network", "RS256", "net-1", "dev-rs256-public.pem", &["*"], &["coordinator", "observer"]),
        IssuerConfig::development(),
    ]
}

fn verifier() -> Verifier {
    Verifier::from_config(&AuthConfig { issuers: issuers(), ..AuthConfig::default() }).expect("test trust store loads")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims of a BA staff member of municipality 7, valid for five minutes.
fn staff_claims(iss: &str) -> Value {
    json!({
        "iss": iss, "sub": "amra", "aud": "peerlab", "iat": now(), "exp": now() + 300,
        "role": "staff", "country": "BA", "municipality": 7,
    })
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &private_key(alg)).expect("test token signs")
}

fn sign_hs256(secret: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("test token signs")
}

/// `base64url(header).base64url(payload).signature` from raw JSON.
fn assemble(header: &Value, claims: &Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));
    format!("{}.{}.{signature}", part(header), part(claims))
}

fn verify(verifier: &Verifier, token: &str) -> Result<Principal, AuthError> {
    verifier.verify(Some(&format!("Bearer {token}")))
}

/// The reason `token` is rejected; also checks that the message leaks no part of it.
fn rejection(verifier: &Verifier, token: &str) -> &'static str {
    let err = verify(verifier, token).expect_err("token must be rejected");
    let message = err.to_string();
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!message.contains(part), "message {message:?} leaks the token");
    }
    err.reason()
}

fn ba() -> CountryCode {
    CountryCode::parse("BA").expect("BA")
}

fn staff_of_7(iss: &str) -> Principal {
    let mostar = MunicipalityId::parse("municipality", 7).expect("7");
    Principal::new(iss, "amra", Role::Staff, Some(ba()), Some(mostar)).expect("staff principal")
}
