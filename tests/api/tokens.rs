//! JWT attacks against the real server: every forged or out-of-bounds token
//! is UNAUTHENTICATED with a stable reason, and a good one works.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peerlab_client::pb;
use peerlab_testkit::{Backend, seed};
use serde_json::{Value, json};
use tonic::Code;

use crate::support::{BA_KID, BA_PORTAL, TestApp, spawn_app, testdata};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(m: i64) -> Value {
    json!({ "iss": BA_PORTAL, "sub": "amra", "aud": "peerlab", "exp": now() + 600, "nbf": now() - 10,
            "role": "staff", "country": "BA", "municipality": m })
}

fn unsigned(header: &Value, body: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(body).expect("json"))
    )
}

/// Call ListChallenges with `token`; `Ok` or the status code and reason.
async fn call(app: &TestApp, token: &str) -> Result<(), (Code, Option<String>)> {
    let client = app.client(token).await;
    match client
        .challenges()
        .list_challenges(pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
    {
        Ok(_) => Ok(()),
        Err(s) => {
            let code = s.code();
            Err((code, peerlab_client::Error::from(s).reason()))
        }
    }
}

async fn forged_and_out_of_bounds_tokens_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let mostar = seed::municipality(&app.db.store, "Mostar", "BA").await.get();
    assert_eq!(call(&app, &app.ba_portal_token(&claims(mostar))).await, Ok(()), "a good BA portal token works");

    let with = |patch: Value| {
        let mut c = claims(mostar);
        for (k, v) in patch.as_object().expect("object") {
            if v.is_null() {
                c.as_object_mut().expect("object").remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        app.ba_portal_token(&c)
    };
    let public_pem = std::fs::read(testdata("dev-es256-public.pem")).expect("pem");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(BA_KID.into());
    let hs256_with_public_key =
        jsonwebtoken::encode(&hs, &claims(mostar), &EncodingKey::from_secret(&public_pem)).expect("sign");
    let other_key = {
        let pem = std::fs::read(testdata("dev-rs256-private.pem")).expect("pem");
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(BA_KID.into());
        jsonwebtoken::encode(&h, &claims(mostar), &EncodingKey::from_rsa_pem(&pem).expect("key")).expect("sign")
    };
    let kid = |kid: &str| {
        let pem = std::fs::read(testdata("dev-es256-private.pem")).expect("pem");
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        jsonwebtoken::encode(&h, &claims(mostar), &EncodingKey::from_ec_pem(&pem).expect("key")).expect("sign")
    };
    let string_exp = with(json!({ "exp": (now() + 600).to_string() }));

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            unsigned(&json!({"alg": "none", "typ": "JWT", "kid": BA_KID}), &claims(mostar)),
            "ALGORITHM_NOT_ALLOWED",
        ),
        ("HS256 keyed with the public key", hs256_with_public_key, "ALGORITHM_NOT_ALLOWED"),
        ("RS256 for an ES256 issuer", other_key, "ALGORITHM_NOT_ALLOWED"),
        ("unknown kid", kid("ba-1999"), "KEY_UNKNOWN"),
        ("injected kid", kid("../../../etc/passwd' OR 1=1 --"), "KEY_UNKNOWN"),
        ("expired", with(json!({ "exp": now() - 3600 })), "TOKEN_EXPIRED"),
        ("future nbf", with(json!({ "nbf": now() + 3600 })), "TOKEN_NOT_YET_VALID"),
        ("wrong aud", with(json!({ "aud": "someone-else" })), "AUDIENCE_INVALID"),
        ("missing aud", with(json!({ "aud": null })), "AUDIENCE_INVALID"),
        ("wrong iss", with(json!({ "iss": "rs-portal" })), "ISSUER_UNTRUSTED"),
        ("BA portal speaking for Serbia", with(json!({ "country": "RS" })), "COUNTRY_NOT_GRANTED"),
        (
            "BA portal minting a coordinator",
            with(json!({ "role": "coordinator", "country": null, "municipality": null })),
            "ROLE_NOT_GRANTED",
        ),
        ("missing role", with(json!({ "role": null })), "CLAIMS_INVALID"),
        ("staff without municipality", with(json!({ "municipality": null })), "CLAIMS_INVALID"),
        ("string exp", string_exp, "CLAIMS_INVALID"),
        ("garbage", "a.b.c".into(), "TOKEN_MALFORMED"),
    ];
    for (what, token, reason) in cases {
        match call(&app, &token).await {
            Err((Code::Unauthenticated, got)) => {
                assert_eq!(got.as_deref(), Some(reason), "{what}");
            }
            other => panic!("{what}: expected UNAUTHENTICATED/{reason}, got {other:?}"),
        }
    }
}

peerlab_testkit::on_both_backends!(forged_and_out_of_bounds_tokens_are_rejected);
