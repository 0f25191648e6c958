//! `echo-server --listen ADDR`: the S1 ceiling (see `peerlab_bench::echo`).

use std::net::SocketAddr;

use clap::Parser;
use peerlab_service::config::ServerConfig;

/// A bare tonic echo of GetChallenge with peerlab's server settings.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    peerlab_bench::echo::serve(listener, &ServerConfig::default()).await
}
