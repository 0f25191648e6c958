//! The demo network loaded by `peerlab serve --demo`.

use std::net::SocketAddr;

use peerlab_core::store::Store;

use crate::config::IssuerConfig;

/// Load the demo network once (idempotent).
pub async fn load(_store: &Store) -> anyhow::Result<()> {
    Ok(())
}

/// Print ready-to-paste commands with development tokens.
pub async fn print_quick_start(_store: &Store, _issuer: &IssuerConfig, _addr: SocketAddr) -> anyhow::Result<()> {
    Ok(())
}
