//! Development tokens for the bench's callers, signed with the public
//! development key that the bench's server configuration trusts.

use std::time::Duration;

use anyhow::Context;
use peerlab_core::auth::Role;
use peerlab_core::domain::{CountryCode, MunicipalityId};
use peerlab_service::auth::{MintClaims, mint};
use peerlab_service::config::IssuerConfig;

fn token(
    subject: &str,
    role: Role,
    country: Option<CountryCode>,
    municipality: Option<MunicipalityId>,
) -> anyhow::Result<String> {
    let claims =
        MintClaims { subject: subject.into(), role, country, municipality, ttl: Duration::from_secs(4 * 3600) };
    mint(&IssuerConfig::development(), &claims).context("minting a development token")
}

/// A network coordinator.
pub fn coordinator() -> anyhow::Result<String> {
    token("peerlab-bench", Role::Coordinator, None, None)
}

/// Staff of `municipality` in `country`, known as `subject` (the server
/// limits open event streams per subject).
pub fn staff(subject: &str, country: CountryCode, municipality: MunicipalityId) -> anyhow::Result<String> {
    token(subject, Role::Staff, Some(country), Some(municipality))
}
