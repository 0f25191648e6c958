//! What a token must satisfy to become a principal.

use super::*;

#[test]
fn valid_tokens_of_every_algorithm_become_the_right_principal() {
    let v = verifier();
    let es = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"));
    assert_eq!(verify(&v, &es), Ok(staff_of_7("ba-portal")));

    let mut observer = json!({"iss": "rs-portal", "sub": "milan", "aud": "peerlab", "exp": now() + 60,
        "role": "observer", "country": "rs"});
    let ed = sign(Algorithm::EdDSA, Some("rs-1"), &observer);
    let rs = CountryCode::parse("RS").expect("RS");
    assert_eq!(verify(&v, &ed), Ok(Principal::new("rs-portal", "milan", Role::Observer, Some(rs), None).expect("ok")));

    observer["iss"] = "network".into();
    observer["role"] = "coordinator".into();
    observer["aud"] = json!(["other-service", "peerlab"]);
    let principal = verify(&v, &sign(Algorithm::RS256, Some("net-1"), &observer)).expect("RS256 coordinator");
    assert_eq!((principal.role(), principal.country()), (Role::Coordinator, None));

    let claims = MintClaims {
        subject: "amra".into(),
        role: Role::Staff,
        country: Some(ba()),
        municipality: Some(MunicipalityId::parse("municipality", 7).expect("7")),
        ttl: Duration::from_secs(60),
    };
    let dev = mint(&IssuerConfig::development(), &claims).expect("development token");
    assert_eq!(verify(&v, &dev), Ok(staff_of_7(DEV_ISSUER)));
}

#[test]
fn the_municipality_claim_may_be_a_number_a_numeric_string_or_a_resource_name() {
    let v = verifier();
    for form in [json!(7), json!("7"), json!("municipalities/7")] {
        let mut claims = staff_claims("ba-portal");
        claims["municipality"] = form.clone();
        assert_eq!(verify(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), Ok(staff_of_7("ba-portal")), "{form}");
    }
    for form in [json!(0), json!("municipalities/x"), json!(7.5), json!([7])] {
        let mut claims = staff_claims("ba-portal");
        claims["municipality"] = form.clone();
        assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), "CLAIMS_INVALID", "{form}");
    }
}

#[test]
fn the_authorization_header_must_be_a_bearer_token() {
    let v = verifier();
    let token = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"));
    assert_eq!(v.verify(None).map_err(|e| e.reason()), Err("TOKEN_MISSING"));
    assert_eq!(v.verify(Some("  ")).map_err(|e| e.reason()), Err("TOKEN_MISSING"));
    assert_eq!(v.verify(Some(&format!("Basic {token}"))).map_err(|e| e.reason()), Err("TOKEN_MALFORMED"));
    assert_eq!(v.verify(Some(&token)).map_err(|e| e.reason()), Err("TOKEN_MALFORMED"));
    assert_eq!(v.verify(Some("Bearer ")).map_err(|e| e.reason()), Err("TOKEN_MALFORMED"));
    assert_eq!(v.verify(Some("Bearer a.b")).map_err(|e| e.reason()), Err("TOKEN_MALFORMED"));
    assert_eq!(v.verify(Some(&format!("bEaReR {token}"))), Ok(staff_of_7("ba-portal")));
}

#[test]
fn an_unsigned_token_is_rejected() {
    let v = verifier();
    for header in [json!({"alg": "none", "typ": "JWT", "kid": "ba-1"}), json!({"alg": "none"})] {
        let token = assemble(&header, &staff_claims("ba-portal"), "");
        assert_eq!(rejection(&v, &token), "ALGORITHM_NOT_ALLOWED", "{header}");
    }
}

#[test]
fn an_algorithm_the_issuer_does_not_pin_is_rejected() {
    let v = verifier();
    let eddsa_for_es256_issuer = sign(Algorithm::EdDSA, Some("ba-1"), &staff_claims("ba-portal"));
    assert_eq!(rejection(&v, &eddsa_for_es256_issuer), "ALGORITHM_NOT_ALLOWED");

    // The network's RSA key would verify these signatures; its pin to RS256 refuses them.
    let mut coordinator = staff_claims("network");
    coordinator["role"] = "coordinator".into();
    remove(&mut coordinator, "municipality");
    assert!(verify(&v, &sign(Algorithm::RS256, Some("net-1"), &coordinator)).is_ok());
    for alg in [Algorithm::PS256, Algorithm::RS512] {
        let token = sign(alg, Some("net-1"), &coordinator);
        assert_eq!(rejection(&v, &token), "ALGORITHM_NOT_ALLOWED", "{alg:?}");
    }
}

#[test]
fn hs256_signed_with_the_public_key_as_secret_is_rejected() {
    let public_pem = std::fs::read(testdata("dev-es256-public.pem")).expect("public key");
    let forged = sign_hs256(&public_pem, "ba-1", &staff_claims("ba-portal"));
    assert_eq!(rejection(&verifier(), &forged), "ALGORITHM_NOT_ALLOWED");

    // Even a development issuer pinning both HS256 and ES256 never checks an
    // HS256 token against a public key.
    let mut mixed = IssuerConfig::development();
    mixed.algorithms.push("ES256".into());
    mixed.keys.push(KeyConfig { kid: "es".into(), pem_file: Some(testdata("dev-es256-public.pem")), secret: None });
    let v = Verifier::from_config(&AuthConfig { issuers: vec![mixed], ..AuthConfig::default() }).expect("loads");
    let mut claims = staff_claims(DEV_ISSUER);
    let es = sign(Algorithm::ES256, Some("es"), &claims);
    assert!(verify(&v, &es).is_ok());
    claims["sub"] = "mallory".into();
    assert_eq!(rejection(&v, &sign_hs256(&public_pem, "es", &claims)), "ALGORITHM_NOT_ALLOWED");
}

#[test]
fn the_key_must_be_named_and_known() {
    let v = verifier();
    let claims = staff_claims("ba-portal");
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-9"), &claims)), "KEY_UNKNOWN");
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, None, &claims)), "KEY_UNKNOWN");
    // Another issuer's kid does not count.
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("net-1"), &claims)), "KEY_UNKNOWN");
    let long_kid = "k".repeat(5000);
    let err = verify(&v, &sign(Algorithm::ES256, Some(&long_kid), &claims)).expect_err("unknown");
    assert!(err.to_string().len() < 200, "kid is echoed unbounded: {} bytes", err.to_string().len());
}

#[test]
fn a_tampered_token_fails_its_signature() {
    let v = verifier();
    let token = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"));
    let mut claims = staff_claims("ba-portal");
    claims["role"] = "country_admin".into();
    remove(&mut claims, "municipality");
    let signature = token.rsplit('.').next().expect("signature");
    let tampered = assemble(&json!({"alg": "ES256", "typ": "JWT", "kid": "ba-1"}), &claims, signature);
    assert_eq!(rejection(&v, &tampered), "SIGNATURE_INVALID");
}

#[test]
fn time_claims_are_enforced_with_the_configured_leeway() {
    let v = verifier();
    let with = |key: &str, value: Value| {
        let mut claims = staff_claims("ba-portal");
        claims[key] = value;
        sign(Algorithm::ES256, Some("ba-1"), &claims)
    };
    assert_eq!(rejection(&v, &with("exp", json!(now() - 120))), "TOKEN_EXPIRED");
    assert!(verify(&v, &with("exp", json!(now() - 5))).is_ok(), "within the 30 s leeway");
    assert_eq!(rejection(&v, &with("nbf", json!(now() + 600))), "TOKEN_NOT_YET_VALID");
    assert!(verify(&v, &with("nbf", json!(now() + 5))).is_ok(), "within the 30 s leeway");
    assert_eq!(rejection(&v, &with("exp", json!((now() + 300).to_string()))), "CLAIMS_INVALID");
    assert_eq!(rejection(&v, &with("exp", Value::Null)), "CLAIMS_INVALID");
}

#[test]
fn the_audience_must_name_this_service() {
    let v = verifier();
    let mut claims = staff_claims("ba-portal");
    claims["aud"] = "another-service".into();
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), "AUDIENCE_INVALID");
    remove(&mut claims, "aud");
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), "AUDIENCE_INVALID");
}

#[test]
fn the_issuer_must_be_trusted() {
    let v = verifier();
    let token = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal-evil"));
    assert_eq!(rejection(&v, &token), "ISSUER_UNTRUSTED");
    let mut claims = staff_claims("ba-portal");
    remove(&mut claims, "iss");
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), "CLAIMS_INVALID");
}

#[test]
fn an_issuer_grants_only_its_countries_and_roles() {
    let v = verifier();
    let mut claims = staff_claims("ba-portal");
    claims["country"] = "RS".into();
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &claims)), "COUNTRY_NOT_GRANTED");

    let coordinator = json!({"iss": "ba-portal", "sub": "amra", "aud": "peerlab", "exp": now() + 60,
        "role": "coordinator"});
    assert_eq!(rejection(&v, &sign(Algorithm::ES256, Some("ba-1"), &coordinator)), "ROLE_NOT_GRANTED");

    // The network may name any country, even for a coordinator.
    let mut claims = coordinator.clone();
    claims["iss"] = "network".into();
    claims["country"] = "XK".into();
    assert!(verify(&v, &sign(Algorithm::RS256, Some("net-1"), &claims)).is_ok());
    claims["role"] = "staff".into();
    assert_eq!(rejection(&v, &sign(Algorithm::RS256, Some("net-1"), &claims)), "ROLE_NOT_GRANTED");
}

#[test]
fn claims_must_form_a_principal() {
    let v = verifier();
    let token = |edit: fn(&mut Value)| {
        let mut claims = staff_claims("ba-portal");
        edit(&mut claims);
        sign(Algorithm::ES256, Some("ba-1"), &claims)
    };
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 6] = [
        ("staff without municipality", |c| remove(c, "municipality")),
        ("staff without country", |c| remove(c, "country")),
        ("unknown role", |c| c["role"] = "mayor".into()),
        ("no role", |c| remove(c, "role")),
        ("not a country", |c| c["country"] = "Bosnia".into()),
        ("empty subject", |c| c["sub"] = "".into()),
    ];
    for (case, edit) in cases {
        assert_eq!(rejection(&v, &token(edit)), "CLAIMS_INVALID", "{case}");
    }
}

#[test]
fn the_cache_serves_verified_tokens_until_they_expire_or_keys_reload() {
    let v = verifier();
    let token = sign(Algorithm::ES256, Some("ba-1"), &staff_claims("ba-portal"));
    assert_eq!(verify(&v, &token), verify(&v, &token));
    assert_eq!(v.cache().len(), 1);

    // A cache hit is served without verifying: plant an entry for a non-token.
    let digest: [u8; 32] = Sha256::digest(b"planted").into();
    let generation = v.trust_store().generation();
    v.cache().insert(digest, staff_of_7("planted"), now() + 60, now(), generation);
    assert_eq!(verify(&v, "planted"), Ok(staff_of_7("planted")));

    // ...but not once its exp has passed,
    v.cache().insert(digest, staff_of_7("planted"), now() - 1, now() - 10, generation);
    assert_eq!(rejection(&v, "planted"), "TOKEN_MALFORMED");

    // ...nor after the keys were reloaded.
    v.cache().insert(digest, staff_of_7("planted"), now() + 60, now(), generation);
    v.trust_store().reload().expect("reload");
    assert_eq!(rejection(&v, "planted"), "TOKEN_MALFORMED");
    assert_eq!(verify(&v, &token), Ok(staff_of_7("ba-portal")), "real tokens verify again");
}

#[test]
fn only_a_development_issuer_mints() {
    let claims = MintClaims {
        subject: "ana".into(),
        role: Role::Coordinator,
        country: None,
        municipality: None,
        ttl: Duration::from_secs(60),
    };
    let production = issuers().remove(0);
    assert_eq!(mint(&production, &claims).map_err(|e| e.reason()), Err("NOT_DEVELOPMENT_ISSUER"));
    let mut not_development = IssuerConfig::development();
    not_development.development = false;
    assert_eq!(mint(&not_development, &claims).map_err(|e| e.reason()), Err("NOT_DEVELOPMENT_ISSUER"));
    let mut no_secret = IssuerConfig::development();
    no_secret.keys.clear();
    assert_eq!(mint(&no_secret, &claims).map_err(|e| e.reason()), Err("NOT_DEVELOPMENT_ISSUER"));

    // A development token is still checked against what the configuration trusts.
    let token = mint(&IssuerConfig::development(), &claims).expect("mints");
    let v = Verifier::from_config(&AuthConfig { issuers: issuers()[..3].to_vec(), ..AuthConfig::default() })
        .expect("loads");
    assert_eq!(rejection(&v, &token), "ISSUER_UNTRUSTED");
}
