//! S6: the live feed. A writer posts challenges at 200 a second through the
//! API while 1, 100 and 1,000 subscribers follow WatchEvents with the typed
//! client's resuming `watch`; each challenge's title carries its sequence
//! number and send time, so every subscriber can count what it lost or got
//! twice and how long delivery took. A last run adds one subscriber that
//! never reads, to see what it does to the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use peerlab_client::{Client, pb};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::data::{self, Db, Network};
use crate::load;
use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, proc, tokens};

const S: &str = "S6";
/// Events the writer posts per second.
const RATE: u64 = 200;
/// Subscribers sharing one HTTP/2 connection.
const PER_CONNECTION: usize = 20;
/// Creates in flight at most (the server's default calls per connection); a
/// tick finding this many is skipped (and counted).
const MAX_OUTSTANDING: usize = 64;
/// The stall timeout of the server under test (the default is 30 s).
const STALL_MS: u64 = 2000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A latency sample: `us` microseconds, clamped to what a sample holds.
fn micros(us: i64) -> u32 {
    u32::try_from(us.max(0)).unwrap_or(u32::MAX)
}

/// What one subscriber saw. Latencies are kept as raw samples (µs) and put
/// into the run's histograms afterwards: a histogram is about 170 KiB of
/// counters, so two per subscriber held about 330 MiB in the bench process
/// at 1,000 subscribers, against about 31 MiB of samples in a 20 s run.
struct Seen {
    /// From the event's commit (its create time, taken in the write transaction) to receipt.
    latency: Vec<u32>,
    /// From the writer's send to receipt.
    end_to_end: Vec<u32>,
    /// Receipts per sequence number.
    receipts: Vec<u32>,
    distinct: usize,
    out_of_order: u64,
    last_id: i64,
    ready: bool,
    error: Option<String>,
}

enum Title {
    Marker,
    Event { seq: usize, sent: i64 },
}

/// `prefix` is `"feed {run} "`, made once per subscriber rather than per event.
fn parse_title(title: &str, prefix: &str) -> Option<Title> {
    let rest = title.strip_prefix(prefix)?;
    if rest == "marker" {
        return Some(Title::Marker);
    }
    let (seq, sent) = rest.strip_prefix('#')?.split_once(" sent ")?;
    Some(Title::Event { seq: seq.parse().ok()?, sent: sent.parse().ok()? })
}

async fn subscribe(client: Client, request: pb::WatchEventsRequest, run: usize, seen: Arc<Mutex<Seen>>) {
    let mut feed = std::pin::pin!(client.watch(request));
    let prefix = format!("feed {run} ");
    while let Some(item) = feed.next().await {
        let event = match item {
            Ok(event) => event,
            Err(e) => {
                lock(&seen).error = Some(e.to_string());
                return;
            }
        };
        let now = now_micros();
        let mut s = lock(&seen);
        if event.id <= s.last_id {
            s.out_of_order += 1;
        }
        s.last_id = s.last_id.max(event.id);
        let Some(pb::event::Snapshot::ChallengeSnapshot(c)) = &event.snapshot else { continue };
        match parse_title(&c.title, &prefix) {
            Some(Title::Marker) => s.ready = true,
            Some(Title::Event { seq, sent }) => {
                if let Some(n) = s.receipts.get_mut(seq) {
                    *n += 1;
                    if *n == 1 {
                        s.distinct += 1;
                    }
                }
                let committed = event.create_time.map_or(sent, |t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000);
                s.latency.push(micros(now - committed));
                s.end_to_end.push(micros(now - sent));
            }
            None => {}
        }
    }
}

/// The server and who talks to it.
struct Env {
    server: Server,
    net: Network,
    coordinator: Client,
    writer: Client,
    parent: String,
    group: String,
}

impl Env {
    /// The id of the last event in the log (after `from`).
    async fn head(&self, from: i64) -> anyhow::Result<i64> {
        let request = pb::ListEventsRequest { page_size: 500, filter: format!("id > {from}"), ..Default::default() };
        let mut events = std::pin::pin!(self.coordinator.events_stream(request));
        let mut last = from;
        while let Some(e) = events.next().await {
            last = last.max(e?.id);
        }
        Ok(last)
    }

    async fn post(&self, title: String) -> anyhow::Result<()> {
        let challenge = pb::Challenge {
            working_group: self.group.clone(),
            title,
            description: "Posted by the S6 writer of peerlab-bench.".into(),
            ..Default::default()
        };
        self.writer.create_challenge(self.parent.clone(), challenge, None).await?;
        Ok(())
    }
}

/// What one run measured.
struct RunResult {
    subscribers: usize,
    latency: Histogram<u64>,
    end_to_end: Histogram<u64>,
    first_write_error: Option<String>,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    acked: usize,
    failed_writes: u64,
    skipped: u64,
    write_rate: f64,
    drain_ms: f64,
    server_cores: f64,
    bench_cores: f64,
    errors: Vec<String>,
    stalled: Option<String>,
}

/// A subscriber on its own connection that opens WatchEvents from the start
/// of the log and never reads. Its connection has HTTP/2's protocol-default
/// 64 KiB windows (hyper's are 2–5 MiB), so it backs up within the run.
async fn stalled_stream(env: &Env) -> anyhow::Result<tonic::Streaming<pb::WatchEventsResponse>> {
    let channel = tonic::transport::Endpoint::from_shared(env.server.endpoint())?
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await?;
    let (m, c) = env.net.members[1];
    let bearer: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", tokens::staff("stalled-subscriber", c, m)?).parse()?;
    let mut client =
        pb::feed_service_client::FeedServiceClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", bearer.clone());
            Ok(req)
        });
    let request = pb::WatchEventsRequest { after_id: 0, working_group: env.group.clone(), kinds: Vec::new() };
    Ok(client.watch_events(request).await?.into_inner())
}

/// Read what the stalled stream buffered, to its end.
async fn drain_stalled(mut stream: tonic::Streaming<pb::WatchEventsResponse>) -> String {
    let mut messages = 0_u64;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.message()).await {
            Err(_) => return format!("still open after {messages} buffered messages (not ended by the server)"),
            Ok(Ok(Some(_))) => messages += 1,
            Ok(Ok(None)) => return format!("ended without a status after {messages} messages"),
            Ok(Err(status)) => {
                let reason = peerlab_client::Error::from(status.clone()).reason().unwrap_or_default();
                return format!(
                    "ended by the server with {:?} {reason} (\"{}\") after {messages} buffered messages",
                    status.code(),
                    status.message()
                );
            }
        }
    }
}

async fn feed_run(env: &Env, run: usize, subscribers: usize, stall: bool, seconds: u64) -> anyhow::Result<RunResult> {
    let head = env.head(0).await?;
    let total = (RATE * seconds) as usize;
    let mut seen = Vec::with_capacity(subscribers);
    let mut tasks = Vec::with_capacity(subscribers);
    let mut connection: Option<Client> = None;
    for i in 0..subscribers {
        if i % PER_CONNECTION == 0 {
            connection = Some(Client::builder(env.server.endpoint()).connect().await?);
        }
        let (m, c) = env.net.members[i % env.net.members.len()];
        let client =
            connection.as_ref().context("no connection")?.with_bearer(tokens::staff(&format!("subscriber-{i}"), c, m)?);
        let state = Arc::new(Mutex::new(Seen {
            latency: Vec::with_capacity(total),
            end_to_end: Vec::with_capacity(total),
            receipts: vec![0; total],
            distinct: 0,
            out_of_order: 0,
            last_id: head,
            ready: false,
            error: None,
        }));
        let request = pb::WatchEventsRequest { after_id: head, working_group: env.group.clone(), kinds: Vec::new() };
        tasks.push(tokio::spawn(subscribe(client, request, run, state.clone())));
        seen.push(state);
    }
    let stalled = if stall { Some(stalled_stream(env).await?) } else { None };
    // Every subscriber has caught up and follows live events once it has the marker.
    env.post(format!("feed {run} marker")).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !seen.iter().all(|s| lock(s).ready) {
        if Instant::now() > deadline {
            let ready = seen.iter().filter(|s| lock(s).ready).count();
            let error = seen.iter().find_map(|s| lock(s).error.clone());
            anyhow::bail!(
                "only {ready} of {subscribers} subscribers received the marker within 120 s (error: {error:?})"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let pid = env.server.pid();
    let (server0, bench0) = (proc::cpu_seconds(pid)?, proc::cpu_seconds(std::process::id())?);
    let acked = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let outstanding = Arc::new(Semaphore::new(MAX_OUTSTANDING));
    let mut skipped = 0_u64;
    let interval = Duration::from_micros(1_000_000 / RATE);
    let start = Instant::now();
    for seq in 0..total {
        tokio::time::sleep_until(start + interval * seq as u32).await;
        let Ok(permit) = outstanding.clone().try_acquire_owned() else {
            skipped += 1;
            continue;
        };
        let (writer, parent, group) = (env.writer.clone(), env.parent.clone(), env.group.clone());
        let (acked, failed, first_error) = (acked.clone(), failed.clone(), first_error.clone());
        tokio::spawn(async move {
            let challenge = pb::Challenge {
                working_group: group,
                title: format!("feed {run} #{seq} sent {}", now_micros()),
                description: "Posted by the S6 writer of peerlab-bench.".into(),
                ..Default::default()
            };
            match writer.create_challenge(parent, challenge, None).await {
                Ok(_) => lock(&acked).push(seq),
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    lock(&first_error).get_or_insert(e.to_string());
                }
            }
            drop(permit);
        });
    }
    let _all = outstanding.acquire_many(MAX_OUTSTANDING as u32).await?;
    let write_seconds = start.elapsed().as_secs_f64();
    let acked = std::mem::take(&mut *lock(&acked));

    let drain_from = Instant::now();
    let deadline = drain_from + Duration::from_secs(30);
    let all_received = |s: &Mutex<Seen>| {
        let s = lock(s);
        acked.iter().all(|q| s.receipts[*q] > 0)
    };
    while Instant::now() < deadline && !seen.iter().all(|s| all_received(s)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drain_ms = drain_from.elapsed().as_secs_f64() * 1000.0;
    let elapsed = start.elapsed().as_secs_f64();
    let server_cores = (proc::cpu_seconds(pid)? - server0) / elapsed;
    let bench_cores = (proc::cpu_seconds(std::process::id())? - bench0) / elapsed;
    for task in &tasks {
        task.abort();
    }
    let stalled = match stalled {
        Some(stream) => Some(drain_stalled(stream).await),
        None => None,
    };

    let mut result = RunResult {
        subscribers,
        latency: load::histogram(),
        end_to_end: load::histogram(),
        first_write_error: lock(&first_error).clone(),
        lost: 0,
        duplicated: 0,
        out_of_order: 0,
        acked: acked.len(),
        failed_writes: failed.load(Ordering::Relaxed),
        skipped,
        write_rate: acked.len() as f64 / write_seconds,
        drain_ms,
        server_cores,
        bench_cores,
        errors: Vec::new(),
        stalled,
    };
    for s in &seen {
        let s = lock(s);
        for &us in &s.latency {
            load::record(&mut result.latency, Duration::from_micros(u64::from(us)));
        }
        for &us in &s.end_to_end {
            load::record(&mut result.end_to_end, Duration::from_micros(u64::from(us)));
        }
        result.lost += acked.iter().filter(|q| s.receipts[**q] == 0).count() as u64;
        result.duplicated += s.receipts.iter().map(|n| u64::from(n.saturating_sub(1))).sum::<u64>();
        result.out_of_order += s.out_of_order;
        if let Some(e) = &s.error {
            result.errors.push(e.clone());
        }
    }
    Ok(result)
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let seconds = if ctx.quick { 5 } else { 20 };
    let dir = ctx.subdir("s6")?;
    let db = Db::sqlite(&dir, "s6")?;
    let store = db.store().await?;
    let net = data::seed(&store, 7, 0).await?;
    store.close().await?;
    let spec = PeerlabSpec { feed_stall_timeout_ms: Some(STALL_MS), ..PeerlabSpec::new(db.url()) };
    let server = Server::peerlab(&ctx.bins, &dir, &spec)?;
    let (m, c) = net.members[0];
    let env = Env {
        coordinator: Client::builder(server.endpoint()).bearer(tokens::coordinator()?).connect().await?,
        writer: Client::builder(server.endpoint()).bearer(tokens::staff("writer", c, m)?).connect().await?,
        parent: format!("municipalities/{m}"),
        group: format!("workingGroups/{}", net.group),
        server,
        net,
    };
    env.post("feed warm-up".into()).await?;

    let mut results = Vec::new();
    for (run, (subscribers, stall)) in [(1, false), (100, false), (1000, false), (100, true)].into_iter().enumerate() {
        eprintln!("  S6 run {run}: {subscribers} subscribers{}", if stall { " + 1 stalled" } else { "" });
        results.push(feed_run(&env, run, subscribers, stall, seconds).await?);
    }
    let Env { server, .. } = env;
    server.stop()?;

    let base = results.first().map_or(f64::NAN, |r| ms(&r.latency, 0.99));
    let (mut lost, mut duplicated) = (0, 0);
    for r in &results {
        let who = match r.stalled {
            Some(_) => format!("{} subscribers + 1 stalled", r.subscribers),
            None => format!("{} subscriber{}", r.subscribers, if r.subscribers == 1 { "" } else { "s" }),
        };
        ctx.push(Row::info(S, format!("{who}: delivery p50"), ms(&r.latency, 0.5), "ms"));
        let p99 = Row::against(S, format!("{who}: delivery p99 vs 1 subscriber"), ms(&r.latency, 0.99), "ms", base);
        ctx.push(if r.subscribers == 1000 { p99.target(Target::RatioAtMost(5.0)) } else { p99 });
        ctx.push(Row::info(
            S,
            format!("{who}: send-to-receipt p99 (includes the write)"),
            ms(&r.end_to_end, 0.99),
            "ms",
        ));
        ctx.push(Row::info(S, format!("{who}: writer achieved"), r.write_rate, "events/s"));
        ctx.push(Row::info(S, format!("{who}: server CPU (cores busy)"), r.server_cores, "cores"));
        lost += r.lost;
        duplicated += r.duplicated;
        ctx.note(
            S,
            format!(
                "{who}: writer {:.0} events/s ({} acknowledged, {} failed, {} ticks skipped), {} lost, {} duplicated, \
                 {} out of order, drained in {:.0} ms; server {:.2} cores, bench client {:.2} cores; max delivery {:.1} ms, \
                 send-to-receipt p50 {:.1} ms{}{}",
                r.write_rate,
                r.acked,
                r.failed_writes,
                r.skipped,
                r.lost,
                r.duplicated,
                r.out_of_order,
                r.drain_ms,
                r.server_cores,
                r.bench_cores,
                ms(&r.latency, 1.0),
                ms(&r.end_to_end, 0.5),
                r.first_write_error.as_ref().map(|e| format!("; first write error: {e}")).unwrap_or_default(),
                if r.errors.is_empty() { String::new() } else { format!("; subscriber errors: {:?}", r.errors.first()) }
            ),
        );
        if let Some(stalled) = &r.stalled {
            ctx.note(S, format!("the stalled subscriber {stalled}"));
        }
    }
    ctx.push(Row::info(S, "lost events (all runs, all subscribers)", lost as f64, "").target(Target::ValueAtMost(0.0)));
    ctx.push(
        Row::info(S, "duplicated events (all runs, all subscribers)", duplicated as f64, "")
            .target(Target::ValueAtMost(0.0)),
    );
    ctx.note(
        S,
        format!(
            "{seconds} s of writes per run at {RATE}/s (CreateChallenge, SQLite FULL); subscribers are staff of the 49 \
             member municipalities in 7 countries, {PER_CONNECTION} per HTTP/2 connection, watching the group with the \
             client's resuming watch(); delivery = receipt time in the subscriber task minus the event's create time \
             (taken inside the write transaction; same clock), send-to-receipt = from the writer's send; at most \
             {MAX_OUTSTANDING} creates in flight; server feed_stall_timeout_ms = {STALL_MS}; the bench client shares the 2 cores"
        ),
    );
    Ok(())
}
