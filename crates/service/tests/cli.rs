//! The `peerlab` binary's token command.

use std::process::Command;

fn peerlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_peerlab"))
        .args(args)
        .env_remove("PEERLAB_CONFIG")
        .env("RUST_LOG", "error")
        .output()
        .expect("run peerlab")
}

#[test]
fn token_refuses_a_configuration_without_a_development_issuer() {
    let out = peerlab(&["token", "--role", "coordinator"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no development issuer"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn token_mints_for_the_demo_issuer() {
    let out = peerlab(&[
        "token",
        "--demo",
        "--role",
        "staff",
        "--country",
        "BA",
        "--municipality",
        "municipalities/4",
        "--ttl",
        "2h",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let bad = peerlab(&["token", "--demo", "--role", "staff", "--country", "Bosnia", "--municipality", "4"]);
    assert!(!bad.status.success());
}
