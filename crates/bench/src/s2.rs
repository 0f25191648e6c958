//! S2: durable CreateChallenge at 1 and 16 calls in flight, on SQLite
//! (WAL, synchronous FULL) and PostgreSQL (synchronous_commit on), against
//! the raw single-row commit rate of the same database with the same
//! durability, measured by the bench with its own connections.

use std::sync::Arc;
use std::time::Duration;

use peerlab_client::{Client, pb};
use peerlab_core::domain::MunicipalityId;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, Statement};

use crate::data::{self, Db};
use crate::load::{self, Outcome};
use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, tokens};

const S: &str = "S2";

/// The warm-up and the measured window of each measurement.
fn windows(ctx: &Ctx) -> (Duration, Duration) {
    if ctx.quick {
        (Duration::from_millis(500), Duration::from_secs(2))
    } else {
        (Duration::from_secs(1), Duration::from_secs(4))
    }
}

/// How many windows of the ceiling (raw commits, 1 in flight) and of the
/// target (CreateChallenge, 16 in flight) alternate. A database's commit
/// rate on a shared VM drifts by a third within a minute (the disk's flush
/// time), so the two are measured in turns and each is the sum of its
/// windows, as S1 alternates peerlab and the echo.
fn rounds(ctx: &Ctx) -> usize {
    if ctx.quick { 3 } else { 5 }
}

/// `more` added to the windows in `total`.
fn add(total: &mut Option<Outcome>, more: Outcome) -> anyhow::Result<()> {
    match total {
        Some(t) => t.merge(more),
        None => {
            *total = Some(more);
            Ok(())
        }
    }
}

/// Single-row INSERTs, each its own transaction, from `in_flight`
/// connections opened with the durability `peerlab serve` uses.
async fn raw_commits(db: &Db, in_flight: usize, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let mut options = ConnectOptions::new(db.url());
    options.max_connections(in_flight as u32).min_connections(in_flight as u32).sqlx_logging(false);
    options.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
    });
    let conn = Database::connect(options).await?;
    let backend = conn.get_database_backend();
    let (create, insert) = match backend {
        DatabaseBackend::Postgres => (
            "CREATE TABLE IF NOT EXISTS bench_commits (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, create_time BIGINT NOT NULL)",
            "INSERT INTO bench_commits (body, create_time) VALUES ($1, $2)",
        ),
        _ => (
            "CREATE TABLE IF NOT EXISTS bench_commits (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, create_time BIGINT NOT NULL)",
            "INSERT INTO bench_commits (body, create_time) VALUES (?, ?)",
        ),
    };
    conn.execute_unprepared(create).await?;
    let conn = Arc::new(conn);
    let (warmup, window) = windows(ctx);
    let outcome = load::closed_loop(
        in_flight,
        warmup,
        window,
        || Ok(0.0),
        move |i| {
            let conn = conn.clone();
            async move {
                let values = ["Slow procurement of software".into(), (i as i64).into()];
                conn.execute(Statement::from_sql_and_values(backend, insert, values))
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await?;
    Ok(outcome)
}

/// The themes each created challenge carries.
#[derive(Clone, Copy)]
enum Themes {
    /// The same two on every challenge (the target's measurement, as in
    /// every session so far).
    Two,
    /// 0 to 4 of six, varying from one challenge to the next, as real
    /// posts do: the number of theme rows and report counters a shared
    /// PostgreSQL statement carries then varies too.
    Varied,
}

impl Themes {
    fn of(self, i: u64) -> Vec<String> {
        const POOL: [&str; 6] = ["procurement", "e-services", "mobility", "housing", "energy", "youth"];
        match self {
            Themes::Two => vec![POOL[0].into(), POOL[1].into()],
            // Distinct: (i + k) % 6 for k < 5.
            Themes::Varied => (0..i % 5).map(|k| POOL[((i + k) % 6) as usize].to_owned()).collect(),
        }
    }
}

async fn creates(
    server: &Server,
    token: &str,
    (parent, group): (&str, &str),
    in_flight: usize,
    themes: Themes,
    ctx: &Ctx,
) -> anyhow::Result<Outcome> {
    let client = Client::builder(server.endpoint()).bearer(token).max_attempts(1).connect().await?;
    let pid = server.pid();
    let (parent, group) = (parent.to_owned(), group.to_owned());
    let (warmup, window) = windows(ctx);
    load::closed_loop(
        in_flight,
        warmup,
        window,
        move || crate::proc::cpu_seconds(pid),
        move |i| {
            let (client, parent) = (client.clone(), parent.clone());
            let challenge = pb::Challenge {
                working_group: group.clone(),
                title: format!("Slow procurement of software #{i}"),
                description: "Buying software takes a year; we look for framework agreements that worked elsewhere."
                    .into(),
                themes: themes.of(i),
                ..Default::default()
            };
            // No request id given: the client generates one, as integrators' calls carry.
            async move { client.create_challenge(parent, challenge, None).await.map(drop).map_err(|e| e.to_string()) }
        },
    )
    .await
}

async fn backend(ctx: &mut Ctx, db: Db) -> anyhow::Result<()> {
    let label = db.label();
    let dir = ctx.subdir(&format!("s2-{}", label.to_lowercase()))?;
    let store = db.store().await?;
    let net = data::seed(&store, 1, 0).await?;
    store.close().await?;
    let (m, country): (MunicipalityId, _) = net.members[1];
    let token = tokens::staff("peerlab-bench", country, m)?;
    let raw16 = raw_commits(&db, 16, ctx).await?;
    let server = Server::peerlab(&ctx.bins, &dir, &PeerlabSpec::new(db.url()))?;
    let parent = format!("municipalities/{m}");
    let group = format!("workingGroups/{}", net.group);
    let at = (parent.as_str(), group.as_str());
    let one = creates(&server, &token, at, 1, Themes::Two, ctx).await?;
    let (mut raw1, mut sixteen, mut turns) = (None, None, Vec::new());
    for _ in 0..rounds(ctx) {
        let raw = raw_commits(&db, 1, ctx).await?;
        let created = creates(&server, &token, at, 16, Themes::Two, ctx).await?;
        turns.push(format!("{:.0} vs {:.0} ({:.2}×)", created.rate(), raw.rate(), created.rate() / raw.rate()));
        add(&mut raw1, raw)?;
        add(&mut sixteen, created)?;
    }
    let varied = creates(&server, &token, at, 16, Themes::Varied, ctx).await?;
    let burst = creates(&server, &token, at, 64, Themes::Varied, ctx).await?;
    server.stop()?;
    let (Some(raw1), Some(sixteen)) = (raw1, sixteen) else { anyhow::bail!("no S2 rounds ran") };
    ctx.note(
        S,
        format!(
            "{label}: CreateChallenge at 16 in flight vs raw commits at 1 in flight, windows in turns: {}",
            turns.join(", ")
        ),
    );

    let ceiling = raw1.rate();
    ctx.push(Row::info(S, format!("{label}: raw single-row commits, 1 in flight"), ceiling, "commits/s"));
    ctx.push(Row::against(
        S,
        format!("{label}: raw single-row commits, 16 in flight"),
        raw16.rate(),
        "commits/s",
        ceiling,
    ));
    ctx.push(Row::against(S, format!("{label}: CreateChallenge, 1 in flight"), one.rate(), "calls/s", ceiling));
    ctx.push(
        Row::against(S, format!("{label}: CreateChallenge, 16 in flight"), sixteen.rate(), "calls/s", ceiling)
            .target(Target::RatioAtLeast(1.5)),
    );
    ctx.push(Row::against(
        S,
        format!("{label}: CreateChallenge, 16 in flight, 0–4 themes each"),
        varied.rate(),
        "calls/s",
        ceiling,
    ));
    ctx.push(Row::against(
        S,
        format!("{label}: CreateChallenge, 64 in flight, 0–4 themes each"),
        burst.rate(),
        "calls/s",
        ceiling,
    ));
    for (k, o) in [(1, &one), (16, &sixteen)] {
        ctx.push(Row::info(S, format!("{label}: CreateChallenge, {k} in flight: p50 latency"), o.ms(0.5), "ms"));
        ctx.push(Row::info(S, format!("{label}: CreateChallenge, {k} in flight: p99 latency"), o.ms(0.99), "ms"));
        ctx.push(Row::info(
            S,
            format!("{label}: CreateChallenge, {k} in flight: server CPU per call"),
            o.probed / o.calls.max(1) as f64 * 1e6,
            "µs",
        ));
    }
    for (what, o) in [
        ("raw 1", &raw1),
        ("raw 16", &raw16),
        ("create 1", &one),
        ("create 16", &sixteen),
        ("create 16 varied", &varied),
        ("create 64 varied", &burst),
    ] {
        if let Some(e) = &o.first_error {
            ctx.note(S, format!("{label} {what}: {} failures, e.g. {e}", o.errors));
        }
    }
    Ok(())
}

/// The server's version and the settings that decide commit durability.
async fn postgres_settings(url: &str) -> anyhow::Result<String> {
    let conn = Database::connect(url).await?;
    let mut out = Vec::new();
    for setting in
        ["server_version", "synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "full_page_writes"]
    {
        let row = conn
            .query_one(Statement::from_string(conn.get_database_backend(), format!("SHOW {setting}")))
            .await?
            .ok_or_else(|| anyhow::anyhow!("SHOW {setting} returned nothing"))?;
        out.push(format!("{setting} = {}", row.try_get_by_index::<String>(0)?));
    }
    conn.close().await?;
    Ok(format!("PostgreSQL: {}", out.join(", ")))
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let sqlite = Db::sqlite(&ctx.subdir("s2-sqlite")?, "s2")?;
    backend(ctx, sqlite).await?;
    let Some(admin) = ctx.postgres.clone() else {
        ctx.note(S, "PostgreSQL skipped (--no-postgres)");
        return Ok(());
    };
    let pg = Db::postgres(&admin, "s2").await?;
    ctx.created.push(pg.clone());
    ctx.note(S, postgres_settings(&pg.url()).await?);
    backend(ctx, pg).await?;
    ctx.note(
        S,
        "each CreateChallenge carries a fresh request_id (claimed in the same transaction) and appends its event and \
         report counters; raw = one INSERT of one row per transaction, same file/database, same journal and sync settings; \
         the target's creates carry the same 2 themes each; in the 0–4 themes rows (16 and 64 in flight, one window \
         each, after the rounds) they vary",
    );
    Ok(())
}
