//! S1: authenticated GetChallenge against a bare tonic echo with the same
//! server settings: server CPU per call (from `/proc/<pid>/stat`),
//! throughput and latency at 1 and 64 calls in flight on one connection.

use std::time::Duration;

use anyhow::bail;
use peerlab_bench::echo;
use peerlab_client::Client;
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::*;
use peerlab_core::model::{NewChallenge, names};

use crate::data::{self, Db};
use crate::load::{self, Outcome};
use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, tokens};

const S: &str = "S1";

/// Rounds per measurement: peerlab and the echo are measured in turns, so a
/// drift of the VM's speed during the run moves both alike.
fn rounds(ctx: &Ctx) -> u32 {
    if ctx.quick { 1 } else { 5 }
}

async fn measure(server: &Server, token: &str, name: &str, in_flight: usize, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let (warmup, window) = if ctx.quick {
        (Duration::from_millis(500), Duration::from_secs(2))
    } else {
        (Duration::from_secs(1), Duration::from_secs(10) / rounds(ctx))
    };
    let client = Client::builder(server.endpoint()).bearer(token).max_attempts(1).connect().await?;
    let first = client.get_challenge(name).await?;
    if first.title != echo::TITLE {
        bail!("{name} has the wrong title: {:?}", first.title);
    }
    let pid = server.pid();
    let name = name.to_owned();
    let outcome = load::closed_loop(
        in_flight,
        warmup,
        window,
        move || crate::proc::cpu_seconds(pid),
        move |_| {
            let (client, name) = (client.clone(), name.clone());
            async move { client.get_challenge(name).await.map(drop).map_err(|e| e.to_string()) }
        },
    )
    .await?;
    if let Some(e) = &outcome.first_error {
        eprintln!("  {} of {} calls failed, e.g. {e}", outcome.errors, outcome.calls + outcome.errors);
    }
    Ok(outcome)
}

fn cpu_per_call_us(o: &Outcome) -> f64 {
    o.probed / o.calls.max(1) as f64 * 1e6
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let dir = ctx.subdir("s1")?;
    let db = Db::sqlite(&dir, "s1")?;
    let store = db.store().await?;
    let net = data::seed(&store, 1, 0).await?;
    // A BA municipality's shared challenge, read by staff of a Serbian peer.
    let (owner, owner_country) = net.members[1];
    let (reader, reader_country) = net.members[5];
    let staff = Principal::new("peerlab-bench", "owner", Role::Staff, Some(owner_country), Some(owner))?;
    let input = NewChallenge {
        working_group: net.group,
        title: Title::parse("title", echo::TITLE)?,
        description: Description::parse("description", echo::DESCRIPTION)?,
        themes: echo::THEMES.iter().map(|t| Theme::parse("themes", t)).collect::<Result<_, _>>()?,
        visibility: Visibility::Shared,
    };
    let challenge = store.create_challenge(&staff, owner, input, None).await?;
    let name = names::challenge(owner, challenge.id);
    store.close().await?;
    let token = tokens::staff("peerlab-bench", reader_country, reader)?;

    let peerlab = Server::peerlab(&ctx.bins, &dir, &PeerlabSpec::new(db.url()))?;
    let echo_server = Server::echo(&ctx.bins, &dir)?;
    let mut ours: Vec<(usize, Outcome)> = Vec::new();
    let mut ceilings: Vec<Outcome> = Vec::new();
    for in_flight in [1, 64] {
        let mut o = measure(&peerlab, &token, &name, in_flight, ctx).await?;
        let mut e = measure(&echo_server, &token, &name, in_flight, ctx).await?;
        for _ in 1..rounds(ctx) {
            o.merge(measure(&peerlab, &token, &name, in_flight, ctx).await?)?;
            e.merge(measure(&echo_server, &token, &name, in_flight, ctx).await?)?;
        }
        ours.push((in_flight, o));
        ceilings.push(e);
    }
    peerlab.stop()?;
    echo_server.stop()?;

    for ((in_flight, o), e) in ours.iter().zip(&ceilings) {
        let at = format!("GetChallenge, {in_flight} in flight");
        ctx.push(
            Row::against(S, format!("{at}: server CPU per call"), cpu_per_call_us(o), "µs", cpu_per_call_us(e))
                .target(Target::RatioAtMost(2.0)),
        );
        ctx.push(Row::against(S, format!("{at}: throughput"), o.rate(), "calls/s", e.rate()));
        ctx.push(Row::against(S, format!("{at}: p50 latency"), o.ms(0.5), "ms", e.ms(0.5)));
        ctx.push(Row::against(S, format!("{at}: p99 latency"), o.ms(0.99), "ms", e.ms(0.99)));
        if o.errors + e.errors > 0 {
            ctx.push(Row::info(S, format!("{at}: failed calls (peerlab, echo)"), (o.errors + e.errors) as f64, ""));
        }
    }
    ctx.note(
        S,
        "staff of a Serbian municipality reads a BA municipality's shared challenge (token verified, cached); \
         SQLite WAL; one HTTP/2 connection; peerlab and the echo measured in alternating windows (5 each in the full run); ceiling: tonic echo of the same message, same Server settings, no \
         auth/tracing/CORS/gRPC-Web layers, no database",
    );
    Ok(())
}
