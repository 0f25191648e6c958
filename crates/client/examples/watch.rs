//! Follow the event log: print every event after an id, then keep polling.
//!
//! ```text
//! PEERLAB_TOKEN=... cargo run -p peerlab-client --example watch -- 40
//! ```
//!
//! Uses the live `WatchEvents` stream when the server offers it, and falls
//! back to polling `ListEvents` with `id > last` while it does not. Either
//! way the last id seen is the cursor, so nothing is skipped or repeated.

use std::time::Duration;

use futures::TryStreamExt;
use peerlab_client::{Client, Error, pb};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let endpoint = std::env::var("PEERLAB_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:50051".into());
    let token = std::env::var("PEERLAB_TOKEN").unwrap_or_default();
    let client = Client::builder(endpoint).bearer(token).connect().await?;
    let mut last: i64 = std::env::args().nth(1).and_then(|id| id.parse().ok()).unwrap_or(0);

    let live = client.watch_events(pb::WatchEventsRequest { after_id: last, ..Default::default() });
    let mut live = std::pin::pin!(live);
    loop {
        match live.try_next().await {
            Ok(Some(event)) => {
                last = event.id;
                print(&event);
            }
            Ok(None) => return Ok(()),
            Err(e) if e.code() == tonic::Code::Unimplemented => break,
            Err(e) => return Err(e),
        }
    }

    eprintln!("(the server has no live feed yet: polling the event log every 2 s)");
    loop {
        let request = pb::ListEventsRequest { filter: format!("id > {last}"), page_size: 500, ..Default::default() };
        let mut events = std::pin::pin!(client.events_stream(request));
        while let Some(event) = events.try_next().await? {
            last = event.id;
            print(&event);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn print(event: &pb::Event) {
    let time = event.create_time.map(|t| t.to_string()).unwrap_or_default();
    println!("{:>6}  {time}  {:<24} {}", event.id, event.kind, event.resource);
}
