//! CreateChallenge through the store alone, without gRPC: 16 tasks create
//! challenges (two themes and a request id each, as S2's calls carry) on a
//! fresh SQLite file for 8 seconds, and the rate and the process's CPU per
//! create are printed. Run it several times, or alternately with another
//! build, to compare the store's write path with the noise of the machine:
//!
//! `cargo run --release -p peerlab-bench --example store_creates -- 3`
//!
//! S2 measures the same creates through the server; the difference between
//! the two is what the gRPC stack and the bench client cost on the machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::*;
use peerlab_core::model::NewChallenge;
use peerlab_core::store::{RequestId, Store, StoreOptions};
use sea_orm::ConnectionTrait;

const IN_FLIGHT: usize = 16;
const WINDOW: Duration = Duration::from_secs(8);

/// This process's CPU time in seconds (user + system).
fn cpu_seconds() -> anyhow::Result<f64> {
    peerlab_bench::proc::cpu_seconds(std::process::id())
}

async fn one_run(dir: &std::path::Path, run: usize) -> anyhow::Result<(f64, f64)> {
    let url = format!("sqlite://{}/creates-{run}.db?mode=rwc", dir.display());
    let store = Store::open(StoreOptions { max_connections: 4, ..StoreOptions::new(url) }).await?;
    for sql in [
        "INSERT INTO municipalities (display_name, country, version, create_time, update_time) \
         VALUES ('Mostar', 'BA', 1, 0, 0)",
        "INSERT INTO working_groups (display_name, description, themes, start_date, end_date, member_count, \
         version, create_time, update_time) VALUES ('Digitalisation', '', '[]', '2021-09-21', '2021-11-30', 1, 1, 0, 0)",
        "INSERT INTO memberships (working_group_id, municipality_id, country, create_time) VALUES (1, 1, 'BA', 0)",
    ] {
        store.connection().execute_unprepared(sql).await.context("seeding")?;
    }
    let (m, g) = (MunicipalityId::parse("municipality", 1)?, WorkingGroupId::parse("group", 1)?);
    let p = Principal::new("store-creates", "staff", Role::Staff, Some(CountryCode::parse("BA")?), Some(m))?;
    let store = Arc::new(store);
    let deadline = Instant::now() + WINDOW;
    let (cpu0, start) = (cpu_seconds()?, Instant::now());
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|task| {
            let (store, p) = (store.clone(), p.clone());
            tokio::spawn(async move {
                let mut n = 0_u64;
                while Instant::now() < deadline {
                    let input = NewChallenge {
                        working_group: g,
                        title: Title::parse("title", &format!("Slow procurement of software #{task}-{n}"))?,
                        description: Description::parse(
                            "description",
                            "Buying software takes a year; we look for framework agreements that worked elsewhere.",
                        )?,
                        themes: Theme::parse_list("themes", &["procurement".into(), "e-services".into()])?,
                        visibility: Visibility::Shared,
                    };
                    let rid = RequestId::parse(&format!("{task}-{n}"))?;
                    store.create_challenge(&p, m, input, rid.as_ref()).await?;
                    n += 1;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok((total as f64 / seconds, (cpu_seconds()? - cpu0) / total as f64 * 1e6))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).map_or(Ok(1), |n| n.parse()).context("runs")?;
    let dir = tempfile::tempdir()?;
    println!("| run | creates/s | CPU per create |");
    println!("|---|---|---|");
    for run in 1..=runs {
        let (rate, cpu) = one_run(dir.path(), run).await?;
        println!("| {run} | {rate:.0} | {cpu:.0} µs |");
    }
    Ok(())
}
