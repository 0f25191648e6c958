//! `spawn_app`: a real peerlab server on a random loopback port over a fresh
//! database, plus tokens for every kind of caller.

use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peerlab_client::Client;
use peerlab_core::auth::Role;
use peerlab_core::domain::{CountryCode, MunicipalityId};
use peerlab_service::auth::{MintClaims, mint};
use peerlab_service::config::{Config, IssuerConfig, KeyConfig};
use peerlab_service::{Application, Shutdown};
use peerlab_testkit::{Backend, TestDb};

/// The Bosnian partner portal's issuer in tests: ES256, BA only, no coordinator.
pub const BA_PORTAL: &str = "ba-portal";
/// Its key id.
pub const BA_KID: &str = "ba-2026";

pub fn testdata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/service/src/auth/testdata").join(file)
}

/// A running server.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub db: TestDb,
    pub dev: IssuerConfig,
    shutdown: Shutdown,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Start a server on `backend` with the development issuer and a BA portal issuer.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], letting the test adjust the configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let mut config = Config { listen: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")), ..Config::default() };
    config.database.url = db.url.clone();
    config.database.max_connections = 8;
    config.server.rate_limit_per_country_per_second = 0;
    config.server.shutdown_grace_ms = 3_000;
    let dev = IssuerConfig::development();
    config.auth.issuers = vec![
        dev.clone(),
        IssuerConfig {
            issuer: BA_PORTAL.into(),
            audience: "peerlab".into(),
            algorithms: vec!["ES256".into()],
            keys: vec![KeyConfig {
                kid: BA_KID.into(),
                pem_file: Some(testdata("dev-es256-public.pem")),
                secret: None,
            }],
            jwks_file: None,
            countries: vec!["BA".into()],
            roles: vec!["country_admin".into(), "staff".into(), "observer".into()],
            development: false,
        },
    ];
    adjust(&mut config);
    let app = Application::build(config).await.unwrap_or_else(|e| panic!("build: {e:#}"));
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp { addr, db, dev, shutdown, server: Some(server) }
}

impl TestApp {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A development token.
    pub fn token(&self, role: Role, country: Option<&str>, municipality: Option<MunicipalityId>) -> String {
        let claims = MintClaims {
            subject: format!("{}-{}", role.as_str(), municipality.map(|m| m.get()).unwrap_or_default()),
            role,
            country: country.map(|c| CountryCode::parse(c).unwrap_or_else(|e| panic!("{e}"))),
            municipality,
            ttl: Duration::from_secs(600),
        };
        mint(&self.dev, &claims).unwrap_or_else(|e| panic!("mint: {e}"))
    }

    pub fn coordinator_token(&self) -> String {
        self.token(Role::Coordinator, None, None)
    }

    pub fn staff_token(&self, country: &str, m: MunicipalityId) -> String {
        self.token(Role::Staff, Some(country), Some(m))
    }

    /// A client with `token`.
    pub async fn client(&self, token: &str) -> Client {
        Client::builder(self.endpoint()).bearer(token).connect().await.unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// A client without a token.
    pub async fn anonymous(&self) -> Client {
        Client::builder(self.endpoint()).connect().await.unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// Sign `claims` with the BA portal's ES256 key.
    pub fn ba_portal_token(&self, claims: &serde_json::Value) -> String {
        let pem = std::fs::read(testdata("dev-es256-private.pem")).unwrap_or_else(|e| panic!("{e}"));
        let key = EncodingKey::from_ec_pem(&pem).unwrap_or_else(|e| panic!("{e}"));
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(BA_KID.into());
        jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Shut down gracefully and wait for the server to end.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    /// Start a graceful shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Wait (at most `limit`) for the server to end; whether it ended in time.
    pub async fn server_ended_within(&mut self, limit: Duration) -> bool {
        match self.server.take() {
            Some(server) => tokio::time::timeout(limit, server).await.is_ok(),
            None => true,
        }
    }

    /// Shut the server down gracefully, keeping its database.
    pub async fn stop_server(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }

    /// Start a server again on the same address and database (a restart).
    pub async fn restart_server(&mut self) {
        let mut config = Config { listen: self.addr, ..Config::default() };
        config.database.url = self.db.url.clone();
        config.auth.issuers = vec![self.dev.clone()];
        config.server.rate_limit_per_country_per_second = 0;
        let app = Application::build(config).await.unwrap_or_else(|e| panic!("rebuild: {e:#}"));
        self.shutdown = app.shutdown_handle();
        self.server = Some(tokio::spawn(app.run_until_stopped()));
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
