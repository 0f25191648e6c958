//! List every challenge the caller may read, following page tokens.
//!
//! ```text
//! PEERLAB_TOKEN=... cargo run -p peerlab-client --example list_challenges -- 'status = OPEN'
//! ```
//!
//! The endpoint comes from `PEERLAB_ENDPOINT` (default `http://127.0.0.1:50051`),
//! the token from `PEERLAB_TOKEN`, the optional filter from the first argument.

use futures::TryStreamExt;
use peerlab_client::{Client, Error, pb};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let endpoint = std::env::var("PEERLAB_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:50051".into());
    // The provider is asked before every call, so a token refreshed in the
    // environment (or a file, or a vault) is picked up without reconnecting.
    let client = Client::builder(endpoint)
        .token_provider(|| std::env::var("PEERLAB_TOKEN").unwrap_or_default())
        .connect()
        .await?;

    let request = pb::ListChallengesRequest {
        parent: "municipalities/-".into(),
        filter: std::env::args().nth(1).unwrap_or_default(),
        page_size: 100,
        ..Default::default()
    };
    let mut challenges = std::pin::pin!(client.challenges_stream(request));
    let mut count = 0;
    while let Some(challenge) = challenges.try_next().await? {
        count += 1;
        println!("{:<34} {:<3} {}", challenge.name, challenge.country, challenge.title);
    }
    println!("{count} challenges");
    Ok(())
}
