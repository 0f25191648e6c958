//! `peerlab`: serve the network, migrate its database, mint development tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use peerlab_core::auth::Role;
use peerlab_core::domain::{CountryCode, MunicipalityId};
use peerlab_core::store::Store;
use peerlab_service::auth::{MintClaims, mint};
use peerlab_service::config::{Config, IssuerConfig};
use peerlab_service::{Application, demo};
use tracing_subscriber::EnvFilter;

/// The peerlab server.
#[derive(Parser)]
#[command(name = "peerlab", version, about = "A cross-municipality peer-learning network over gRPC")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// TOML configuration file (then PEERLAB_* environment variables apply).
    #[arg(long, env = "PEERLAB_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL, overriding the configuration (sqlite://… or postgres://…).
    #[arg(long)]
    database: Option<String>,
    /// Demo mode: an embedded SQLite file `peerlab-demo.db` (unless --database
    /// is given) and a trusted development issuer.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API (and gRPC-Web) until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on, overriding the configuration.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Mint a token signed with the development key (development issuers only).
    Token {
        #[command(flatten)]
        common: Common,
        /// coordinator, country_admin, staff or observer.
        #[arg(long)]
        role: String,
        /// ISO 3166-1 alpha-2 country (all roles but coordinator).
        #[arg(long)]
        country: Option<String>,
        /// Municipality id or `municipalities/{id}` (staff).
        #[arg(long)]
        municipality: Option<String>,
        /// Lifetime, e.g. 30m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// The token's subject.
        #[arg(long, default_value = "developer")]
        subject: String,
    },
}

fn load(common: &Common) -> anyhow::Result<Config> {
    let mut config = Config::load(common.config.as_deref())?;
    if common.demo {
        if common.database.is_none() && common.config.is_none() {
            config.database.url = "sqlite://peerlab-demo.db?mode=rwc".into();
        }
        if !config.auth.issuers.iter().any(|i| i.development) {
            config.auth.issuers.push(IssuerConfig::development());
        }
    }
    if let Some(url) = &common.database {
        config.database.url = url.clone();
    }
    config.validate()?;
    Ok(config)
}

fn parse_ttl(s: &str) -> anyhow::Result<Duration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| anyhow::anyhow!("--ttl: {s:?} is not like 30m, 1h or 7d"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => anyhow::bail!("--ttl: unit must be s, m, h or d"),
    };
    Ok(Duration::from_secs(secs))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { common, listen } => {
            let mut config = load(&common)?;
            if let Some(addr) = listen {
                config.listen = addr;
            }
            let demo_issuer = config.auth.issuers.iter().find(|i| i.development).cloned();
            let app = Application::build(config).await?;
            if common.demo {
                demo::load(app.store()).await?;
            }
            if let Some(issuer) = demo_issuer.filter(|_| common.demo) {
                demo::print_quick_start(app.store(), &issuer, app.local_addr()).await?;
            }
            let stop = app.shutdown_handle();
            let verifier = app.verifier().clone();
            tokio::spawn(async move {
                peerlab_service::signals::wait(verifier).await;
                stop.trigger();
            });
            app.run_until_stopped().await
        }
        Command::Migrate { common } => {
            let config = load(&common)?;
            let store = Store::connect(peerlab_service::startup::store_options(&config)).await?;
            store.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token { common, role, country, municipality, ttl, subject } => {
            let config = load(&common)?;
            let issuer = config.auth.issuers.iter().find(|i| i.development).ok_or_else(|| {
                anyhow::anyhow!("this configuration trusts no development issuer; `peerlab token` only mints development tokens (try --demo)")
            })?;
            let claims = MintClaims {
                subject,
                role: Role::parse(&role)?,
                country: country.as_deref().map(CountryCode::parse).transpose()?,
                municipality: municipality
                    .as_deref()
                    .map(|m| MunicipalityId::parse_str("--municipality", m.trim_start_matches("municipalities/")))
                    .transpose()?,
                ttl: parse_ttl(&ttl)?,
            };
            println!("{}", mint(issuer, &claims)?);
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
