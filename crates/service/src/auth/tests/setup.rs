//! Building and reloading the trust store from key files.

use jsonwebtoken::jwk::{Jwk, JwkSet};

use super::*;

fn store_error(issuers: Vec<IssuerConfig>) -> String {
    TrustStore::from_config(&AuthConfig { issuers, ..AuthConfig::default() }).expect_err("must not load").to_string()
}

#[test]
fn a_key_file_that_does_not_parse_is_a_start_up_error_naming_it() {
    let private = issuer("ba-portal", "ES256", "ba-1", "dev-es256-private.pem", &["BA"], &["staff"]);
    let message = store_error(vec![private]);
    assert!(message.contains("auth.issuers[0].keys[0].pem_file"), "{message}");
    assert!(message.contains("dev-es256-private.pem"), "{message}");

    let wrong_kind = issuer("ba-portal", "ES256", "ba-1", "dev-rs256-public.pem", &["BA"], &["staff"]);
    assert!(store_error(vec![wrong_kind]).contains("dev-rs256-public.pem"));

    let missing = issuer("ba-portal", "RS256", "ba-1", "no-such-key.pem", &["BA"], &["staff"]);
    assert!(store_error(vec![missing]).contains("cannot read"));
}

#[test]
fn the_trust_store_rechecks_the_configuration() {
    let mut hs256 = issuers().remove(0);
    hs256.algorithms = vec!["HS256".into()];
    let message = store_error(vec![hs256]);
    assert_eq!(message, "auth.issuers[0].algorithms: HS256 is only allowed for a development issuer");

    let mut secret = issuers().remove(0);
    secret.keys[0] = KeyConfig { kid: "ba-1".into(), pem_file: None, secret: Some(DEV_SECRET.into()) };
    assert!(store_error(vec![secret]).starts_with("auth.issuers[0].keys[0].secret:"));
}

#[test]
fn keys_come_from_a_jwks_file_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut jwk = Jwk::from_encoding_key(&private_key(Algorithm::ES256), Algorithm::ES256).expect("jwk");
    jwk.common.key_id = Some("ba-2".into());
    let oct: Jwk =
        serde_json::from_value(json!({"kty": "oct", "kid": "ba-3", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}))
            .expect("oct jwk");
    let jwks = dir.path().join("jwks.json");
    let write =
        |keys: Vec<Jwk>| std::fs::write(&jwks, serde_json::to_vec(&JwkSet { keys }).expect("json")).expect("write");
    write(vec![jwk, oct.clone()]);

    let mut ba = issuers().remove(0);
    ba.jwks_file = Some(jwks.clone());
    let v = Verifier::from_config(&AuthConfig { issuers: vec![ba.clone()], ..AuthConfig::default() }).expect("loads");
    assert_eq!(
        verify(&v, &sign(Algorithm::ES256, Some("ba-2"), &staff_claims("ba-portal"))),
        Ok(staff_of_7("ba-portal"))
    );
    assert_eq!(
        verify(&v, &sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"))),
        Ok(staff_of_7("ba-portal"))
    );
    let mut dev_claims = staff_claims("ba-portal");
    dev_claims["sub"] = "mallory".into();
    let hs = sign_hs256(b"secret-secret-secret-secret", "ba-3", &dev_claims);
    assert_eq!(rejection(&v, &hs), "ALGORITHM_NOT_ALLOWED");

    write(vec![oct]);
    let message = store_error(vec![ba]);
    assert!(message.contains("auth.issuers[0].jwks_file") && message.contains("no public key"), "{message}");
}

#[test]
fn a_failed_reload_keeps_the_keys_in_use_and_a_good_one_replaces_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pem = dir.path().join("ba.pem");
    std::fs::copy(testdata("dev-es256-public.pem"), &pem).expect("copy");
    let mut ba = issuers().remove(0);
    ba.algorithms = vec!["ES256".into(), "EdDSA".into()];
    ba.keys[0].pem_file = Some(pem.clone());
    let config = AuthConfig { issuers: vec![ba], token_cache_size: 0, ..AuthConfig::default() };
    let v = Verifier::from_config(&config).expect("loads");
    let es = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"));
    assert!(verify(&v, &es).is_ok());

    std::fs::write(&pem, "not a key").expect("write");
    let err = v.trust_store().reload().expect_err("garbage must not load");
    assert!(err.to_string().contains("ba.pem"), "{err}");
    assert!(verify(&v, &es).is_ok(), "the old key is still in use");

    std::fs::copy(testdata("dev-ed25519-public.pem"), &pem).expect("copy");
    v.trust_store().reload().expect("reload");
    assert_eq!(rejection(&v, &es), "ALGORITHM_NOT_ALLOWED", "ba-1 is now an Ed25519 key");
    assert!(verify(&v, &sign(Algorithm::EdDSA, Some("ba-1"), &staff_claims("ba-portal"))).is_ok());
}
