//! The service's typed configuration, layered: defaults, then a TOML file,
//! then `PEERLAB_*` environment variables with nested keys joined by `__`
//! (`PEERLAB_DATABASE__URL`, `PEERLAB_AUTH__LEEWAY_SECONDS`).
//!
//! Unknown keys are errors that name the key, [`Config::load`] checks every
//! rule with [`Config::validate`], and secrets never appear in `Debug` output.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Why the configuration could not be loaded; each message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file given does not exist.
    #[error("configuration file {} does not exist", .0.display())]
    MissingFile(PathBuf),
    /// A value could not be read: unknown key, wrong type or bad syntax.
    #[error("{0}")]
    Load(String),
    /// A value was read but breaks a rule.
    #[error("{key}: {reason}")]
    Invalid {
        /// Dotted path of the key, e.g. `auth.issuers[1].algorithms`.
        key: String,
        /// The rule it breaks.
        reason: String,
    },
}

pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), reason: reason.into() }
}

/// Everything the `peerlab` server reads at start-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the gRPC (and gRPC-Web) listener binds; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the data lives.
    pub database: DatabaseConfig,
    /// Which token issuers are trusted, and for what.
    pub auth: AuthConfig,
    /// Limits and timeouts of the gRPC server.
    pub server: ServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 50051)),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            server: ServerConfig::default(),
        }
    }
}

/// The database connection.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…` URL; a password in it is never logged.
    pub url: String,
    /// Size of the connection pool.
    pub max_connections: u32,
    /// SQLite `PRAGMA synchronous`: `full` (default), `normal` or `extra`.
    pub sqlite_synchronous: String,
    /// PostgreSQL: how long a connection lives before the pool replaces it,
    /// in seconds (0: for good). Recycling spreads connections across a
    /// fail-over and lets server-side memory go.
    pub connection_lifetime_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://peerlab.db?mode=rwc".into(),
            max_connections: 16,
            sqlite_synchronous: "full".into(),
            connection_lifetime_seconds: 30 * 60,
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("connection_lifetime_seconds", &self.connection_lifetime_seconds)
            .finish()
    }
}

/// `scheme://user:***@host/db?...`: the URL without its password.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{user}:***@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find("password=") {
        Some(at) => format!("{}password=***", &tail[..at]),
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Token verification: the trusted issuers and how strictly to check.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The trusted issuers; a token from any other issuer is rejected.
    pub issuers: Vec<IssuerConfig>,
    /// Allowed clock skew for `exp` and `nbf`, in seconds (at most 60).
    pub leeway_seconds: u64,
    /// How many verified tokens to remember until they expire (0 = none).
    pub token_cache_size: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { issuers: Vec::new(), leeway_seconds: 30, token_cache_size: 10_000 }
    }
}

/// One trusted issuer: its keys, pinned algorithms, audience, and what it may grant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The exact `iss` claim of its tokens.
    pub issuer: String,
    /// The `aud` claim its tokens must carry.
    pub audience: String,
    /// Algorithms its tokens may use: `ES256`, `EdDSA`, `RS256`, or `HS256`
    /// for a development issuer only. The token's `alg` never widens this.
    pub algorithms: Vec<String>,
    /// Verification keys by `kid`.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// A JWKS file with more public keys (each needs a `kid`).
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// ISO 3166-1 alpha-2 codes it may speak for, or `["*"]` for every country.
    pub countries: Vec<String>,
    /// Role claim values it may grant (`coordinator`, `country_admin`, `staff`, `observer`).
    pub roles: Vec<String>,
    /// A development issuer may use HS256 shared secrets; never in production.
    #[serde(default)]
    pub development: bool,
}

/// One verification key of an issuer: a public key PEM file or, for a
/// development issuer, an HS256 secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The `kid` tokens name in their header.
    pub kid: String,
    /// A PEM public key: P-256 for ES256, Ed25519 for EdDSA, RSA for RS256.
    #[serde(default)]
    pub pem_file: Option<PathBuf>,
    /// An HS256 shared secret (development issuers only); never serialized or shown.
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
}

impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("kid", &self.kid)
            .field("pem_file", &self.pem_file)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Limits and timeouts of the gRPC server.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A call taking longer is cancelled with `DEADLINE_EXCEEDED`.
    pub request_timeout_ms: u64,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// Concurrent calls served per connection.
    pub concurrency_per_connection: usize,
    /// Calls per second admitted per caller country (0 = no limit).
    pub rate_limit_per_country_per_second: u32,
    /// Time in-flight calls get to finish on shutdown.
    pub shutdown_grace_ms: u64,
    /// Browser origins allowed to call through gRPC-Web (`https://portal.example`).
    /// Empty means no cross-origin browser access: only same-origin pages and
    /// non-browser clients can call.
    pub cors_allowed_origins: Vec<String>,
    /// WatchEvents sends a heartbeat after this long without a message.
    pub feed_heartbeat_ms: u64,
    /// A WatchEvents client that reads nothing for this long is ended with
    /// `RESOURCE_EXHAUSTED` and the cursor to resume from.
    pub feed_stall_timeout_ms: u64,
    /// Open WatchEvents streams allowed per caller (token subject); more are
    /// refused with `RESOURCE_EXHAUSTED`.
    pub feed_max_streams_per_caller: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            request_timeout_ms: 30_000,
            max_message_bytes: 4 * 1024 * 1024,
            concurrency_per_connection: 64,
            rate_limit_per_country_per_second: 200,
            shutdown_grace_ms: 10_000,
            cors_allowed_origins: Vec::new(),
            feed_heartbeat_ms: 15_000,
            feed_stall_timeout_ms: 30_000,
            feed_max_streams_per_caller: 100,
        }
    }
}

/// `key.path: what is wrong (in file)`, like the messages of [`Config::validate`].
fn describe(error: figment::Error) -> String {
    let origin = match &error.metadata {
        Some(md) => match &md.source {
            Some(source) => format!(" (in {source})"),
            None => format!(" (from {})", md.name),
        },
        None => String::new(),
    };
    let mut key = String::new();
    for segment in &error.path {
        match segment.parse::<usize>() {
            Ok(index) => key.push_str(&format!("[{index}]")),
            Err(_) if key.is_empty() => key.push_str(segment),
            Err(_) => key.push_str(&format!(".{segment}")),
        }
    }
    match key.as_str() {
        "" => format!("{}{origin}", error.kind),
        key => format!("{key}: {}{origin}", error.kind),
    }
}

const SECTIONS: [&str; 4] = ["listen", "database", "auth", "server"];

/// Whether `PEERLAB_<key>` is configuration. Other tools share the prefix
/// (`PEERLAB_ENDPOINT`, `PEERLAB_TOKEN`, `PEERLAB_TEST_POSTGRES_URL`, …), so
/// only names under a section are read; `PEERLAB_DATABASE_URL` still counts,
/// so that a single-underscore typo is reported instead of silently ignored.
fn is_config_env_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECTIONS.iter().any(|s| key == *s || key.starts_with(&format!("{s}_")))
}

impl Config {
    /// Load defaults, then `file` (which must exist if given), then the
    /// environment, and validate the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env = Env::prefixed("PEERLAB_").filter(|k| is_config_env_key(k.as_str())).split("__");
        Self::extract(Self::layers(file)?.merge(env))
    }

    fn layers(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        Ok(figment)
    }

    fn extract(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Load(e.into_iter().map(describe).collect::<Vec<_>>().join("; ")))?;
        config.validate()?;
        Ok(config)
    }

    /// Check the rules serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let db = &self.database;
        if !["sqlite:", "postgres://", "postgresql://"].iter().any(|p| db.url.starts_with(p)) {
            return Err(invalid("database.url", "must be a sqlite: or postgres:// URL"));
        }
        if db.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if !["full", "normal", "extra"].contains(&db.sqlite_synchronous.as_str()) {
            return Err(invalid("database.sqlite_synchronous", "must be one of full, normal, extra"));
        }
        self.auth.validate()?;
        let server = &self.server;
        for (key, value) in [
            ("server.request_timeout_ms", server.request_timeout_ms),
            ("server.max_message_bytes", server.max_message_bytes as u64),
            ("server.concurrency_per_connection", server.concurrency_per_connection as u64),
            ("server.feed_heartbeat_ms", server.feed_heartbeat_ms),
            ("server.feed_stall_timeout_ms", server.feed_stall_timeout_ms),
            ("server.feed_max_streams_per_caller", server.feed_max_streams_per_caller as u64),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        for (i, origin) in server.cors_allowed_origins.iter().enumerate() {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            if rest.is_none_or(|host| host.is_empty() || host.contains('/')) {
                return Err(invalid(
                    format!("server.cors_allowed_origins[{i}]"),
                    "must be an origin such as https://portal.example (no path)",
                ));
            }
        }
        Ok(())
    }
}

impl AuthConfig {
    /// Check the issuers and limits; used by [`Config::validate`] and by the trust store.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.leeway_seconds > 60 {
            return Err(invalid("auth.leeway_seconds", "must be at most 60"));
        }
        for (i, issuer) in self.issuers.iter().enumerate() {
            let at = format!("auth.issuers[{i}]");
            if self.issuers[..i].iter().any(|other| other.issuer == issuer.issuer) {
                return Err(invalid(format!("{at}.issuer"), "is listed twice"));
            }
            issuer.validate(&at)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Load `toml` as the configuration file, without the process environment.
    fn load_toml(toml: &str) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(toml.as_bytes()).expect("write");
        Config::extract(Config::layers(Some(file.path()))?)
    }

    fn error(toml: &str) -> String {
        load_toml(toml).expect_err("must be rejected").to_string()
    }

    const DEV_ISSUER: &str = r#"
        [[auth.issuers]]
        issuer = "peerlab-dev"
        audience = "peerlab"
        algorithms = ["HS256"]
        countries = ["*"]
        roles = ["coordinator", "staff"]
        development = true
        keys = [{ kid = "dev-1", secret = "0123456789abcdef0123456789abcdef" }]
    "#;

    #[test]
    fn defaults_are_valid_and_a_file_overrides_them() {
        let config = Config::extract(Config::layers(None).expect("no file")).expect("defaults");
        assert_eq!(config.listen, "127.0.0.1:50051".parse().expect("addr"));
        assert_eq!(config.auth.leeway_seconds, 30);
        assert_eq!(config.database.connection_lifetime_seconds, 1800);

        let file = format!("listen = \"0.0.0.0:0\"\n[server]\nrequest_timeout_ms = 5\n{DEV_ISSUER}");
        let config = load_toml(&file).expect("valid file");
        assert_eq!(config.server.request_timeout_ms, 5);
        assert_eq!(config.server.max_message_bytes, 4 << 20, "unset keys keep their default");

        assert_eq!(config.auth.issuers[0].keys[0].kid, "dev-1");
    }

    #[test]
    fn the_connection_lifetime_reaches_the_store_options() {
        let lifetime = |toml: &str| crate::startup::store_options(&load_toml(toml).expect("valid")).max_lifetime;
        assert_eq!(lifetime(""), Some(std::time::Duration::from_secs(1800)));
        assert_eq!(lifetime("[database]\nconnection_lifetime_seconds = 90"), Some(std::time::Duration::from_secs(90)));
        assert_eq!(lifetime("[database]\nconnection_lifetime_seconds = 0"), None, "0: connections are never replaced");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = error("[database]\nurll = \"sqlite::memory:\"");
        assert!(err.starts_with("database.urll: unknown field"), "{err}");
        let err = error(&DEV_ISSUER.replace("development = true", "development = true\nsecrett = 1"));
        assert!(err.starts_with("auth.issuers[0].secrett: unknown field"), "{err}");
        let missing = Config::layers(Some(Path::new("/no/such/peerlab.toml")));
        assert!(matches!(missing, Err(ConfigError::MissingFile(_))));
    }

    #[test]
    fn rules_are_checked_and_name_the_key() {
        let err = error(&DEV_ISSUER.replace("development = true", "development = false"));
        assert_eq!(err, "auth.issuers[0].algorithms: HS256 is only allowed for a development issuer");
        assert!(error("[auth]\nleeway_seconds = 61").starts_with("auth.leeway_seconds:"));
        assert!(load_toml("[auth]\nleeway_seconds = 60").is_ok());
        let err = error("[database]\nsqlite_synchronous = \"off\"");
        assert!(err.starts_with("database.sqlite_synchronous:"), "{err}");
        let err = error(&DEV_ISSUER.replace("[\"*\"]", "[\"BA\", \"Serbia\"]"));
        assert!(err.starts_with("auth.issuers[0].countries[1]:"), "{err}");
        let err = error(&DEV_ISSUER.replace("[\"*\"]", "[\"*\", \"BA\"]"));
        assert!(err.starts_with("auth.issuers[0].countries:"), "{err}");
        let err = error(&DEV_ISSUER.replace("\"staff\"", "\"mayor\""));
        assert!(err.starts_with("auth.issuers[0].roles[1]:"), "{err}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let file = format!("[database]\nurl = \"postgres://app:hunter2@db/peerlab\"\n{DEV_ISSUER}");
        let shown = format!("{:?}", load_toml(&file).expect("valid"));
        assert!(!shown.contains("hunter2") && !shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/peerlab"), "{shown}");
        let query = redact_url("postgres://db/x?user=a&password=b");
        assert_eq!(query, "postgres://db/x?user=a&password=***");
    }

    #[test]
    fn only_configuration_sections_are_read_from_the_environment() {
        for key in ["LISTEN", "DATABASE__URL", "auth__leeway_seconds", "DATABASE_URL", "server"] {
            assert!(is_config_env_key(key), "{key}");
        }
        for key in ["TEST_POSTGRES_URL", "ENDPOINT", "TOKEN", "CONFIG", "LOG"] {
            assert!(!is_config_env_key(key), "{key}");
        }
    }
}
