//! What `serve --demo` prints: tokens and commands to paste.

use std::net::SocketAddr;
use std::time::Duration;

use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::CountryCode;
use peerlab_core::model::PageRequest;
use peerlab_core::store::Store;

use crate::auth::{MintClaims, mint};
use crate::config::IssuerConfig;

/// Print ready-to-paste `peerlab-cli` and `grpcurl` commands with
/// development tokens for a coordinator, a country admin and a staff member.
pub async fn print_quick_start(store: &Store, issuer: &IssuerConfig, addr: SocketAddr) -> anyhow::Result<()> {
    let ba = CountryCode::parse("BA")?;
    let reader = Principal::new(super::ISSUER, super::LOADER, Role::CountryAdmin, Some(ba), None)?;
    let mostar = store
        .list_municipalities(&reader, &PageRequest { filter: r#"country = "BA""#.into(), ..Default::default() })
        .await?
        .items
        .into_iter()
        .find(|m| m.display_name == "Mostar")
        .map(|m| m.id);
    let day = Duration::from_secs(86_400);
    let token = |subject: &str, role, country, municipality| {
        mint(issuer, &MintClaims { subject: subject.into(), role, country, municipality, ttl: day })
    };
    let coordinator = token("demo-coordinator", Role::Coordinator, None, None)?;
    let admin = token("demo-ba-admin", Role::CountryAdmin, Some(ba), None)?;
    let staff = match mostar {
        Some(m) => token("demo-mostar-staff", Role::Staff, Some(ba), Some(m))?,
        None => String::new(),
    };
    let endpoint = format!("http://{addr}");
    let m = mostar.map(|m| m.get()).unwrap_or(1);
    // A CLI's screen output, not logging: the newcomer copies these lines.
    #[allow(clippy::print_stdout)]
    {
        println!(
            r#"
peerlab demo is ready on {endpoint} (tokens valid for 24 hours)

  export PEERLAB_ENDPOINT={endpoint}
  export COORDINATOR={coordinator}
  export BA_ADMIN={admin}
  export MOSTAR_STAFF={staff}

  # peerlab-cli on your PATH: cargo build -p peerlab-client && export PATH="$PWD/target/debug:$PATH"
  peerlab-cli --token "$COORDINATOR" working-groups list
  peerlab-cli --token "$COORDINATOR" challenges list --filter 'status = OPEN'
  peerlab-cli --token "$MOSTAR_STAFF" challenges list --parent municipalities/{m}
  peerlab-cli --token "$MOSTAR_STAFF" recommendations list --filter 'target_country = "BA"'

  # grpcurl needs no proto files: the server offers reflection
  grpcurl -plaintext {addr} list
  grpcurl -plaintext -H "authorization: Bearer $BA_ADMIN" -d '{{"parent": "municipalities/-", "filter": "country = \"BA\""}}' {addr} peerlab.v1.ChallengeService/ListChallenges
"#
        );
    }
    Ok(())
}
