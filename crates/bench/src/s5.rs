//! S5: ExportChallenges of a whole table: rows per second against
//! `sqlite3 -csv` of the same table, and the server's peak resident memory
//! over its idle level.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::TryStreamExt;
use peerlab_client::{Client, pb};

use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, proc, tokens};

const S: &str = "S5";
const MIB: f64 = 1024.0 * 1024.0;

/// Rows `sqlite3 -csv` writes for the whole table, and how long it takes.
fn sqlite3_csv(path: &std::path::Path) -> anyhow::Result<(u64, Duration)> {
    let t = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg("-csv")
        .arg(path)
        .arg("SELECT * FROM challenges")
        .stdout(Stdio::piped())
        .spawn()
        .context("running sqlite3 (apt-get install -y sqlite3)")?;
    let mut out = child.stdout.take().context("no stdout")?;
    let mut buf = vec![0_u8; 1 << 16];
    let mut lines = 0_u64;
    loop {
        let n = out.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("sqlite3 failed: {status}");
    }
    Ok((lines, t.elapsed()))
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let n: u64 = if ctx.quick { 100_000 } else { 1_000_000 };
    let db = ctx.dataset(n).await?;
    let path = db.sqlite_path().context("S5 runs on SQLite")?.to_owned();
    let dir = ctx.subdir("s5")?;

    let server = Server::peerlab(&ctx.bins, &dir, &PeerlabSpec::new(db.url()))?;
    let pid = server.pid();
    let client = Client::builder(server.endpoint()).bearer(tokens::coordinator()?).connect().await?;
    // Warm the server up (connection, caches) with one page of the same rows.
    let warm = client
        .list_challenges(pb::ListChallengesRequest {
            parent: "municipalities/-".into(),
            page_size: 500,
            show_archived: true,
            ..Default::default()
        })
        .await?
        .challenges;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = proc::rss(pid)?;
    let reset = proc::reset_peak_rss(pid);
    let peak = Arc::new(AtomicU64::new(idle));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = std::thread::spawn({
        let (peak, done) = (peak.clone(), done.clone());
        move || {
            while !done.load(Ordering::Relaxed) {
                if let Ok(rss) = proc::rss(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    let cpu0 = server.cpu_seconds()?;
    let t = Instant::now();
    let request = pb::ExportChallengesRequest { filter: String::new(), show_archived: true };
    let rows = client.export_challenges(request).try_fold(0_u64, |n, _| async move { Ok(n + 1) }).await?;
    let export = t.elapsed();
    let cpu = server.cpu_seconds()? - cpu0;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let mut peak = peak.load(Ordering::Relaxed);
    if reset {
        peak = peak.max(proc::peak_rss(pid)?);
    }
    server.stop()?;
    if rows != n {
        bail!("the export returned {rows} challenges of {n}");
    }
    let (lines, csv) = sqlite3_csv(&path)?;
    if lines != n {
        bail!("sqlite3 -csv wrote {lines} lines for {n} challenges");
    }

    let rate = rows as f64 / export.as_secs_f64();
    let ceiling = lines as f64 / csv.as_secs_f64();
    let items = if n >= 1_000_000 { format!("{}M", n / 1_000_000) } else { format!("{}k", n / 1000) };
    ctx.push(
        Row::against(S, format!("ExportChallenges, {items} rows vs sqlite3 -csv"), rate, "rows/s", ceiling)
            .target(Target::RatioAtLeast(0.5)),
    );
    let over = peak.saturating_sub(idle) as f64 / MIB;
    ctx.push(
        Row::against(S, "peak RSS over idle during the export", over, "MiB", 64.0).target(Target::RatioAtMost(1.0)),
    );
    ctx.push(Row::info(S, "idle RSS before the export", idle as f64 / MIB, "MiB"));
    ctx.push(Row::info(S, "server CPU per exported row", cpu / rows as f64 * 1e6, "µs"));
    ctx.note(
        S,
        format!(
            "{items} challenges (10% archived, all exported with show_archived) with their themes, SQLite; coordinator; \
             the client counts rows as they arrive; sqlite3 -csv \"SELECT * FROM challenges\" piped into the bench, \
             which counts lines; peak RSS from /proc VmHWM (reset before the export: {reset}) and 10 ms samples of \
             VmRSS; warm-up: one ListChallenges page of {} rows",
            warm.len()
        ),
    );
    Ok(())
}
