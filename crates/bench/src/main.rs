//! `peerlab-bench`: the peerlab service against its ceilings, measured in
//! the same run on the same machine, printed as one table (and JSON).
//!
//! ```text
//! cargo run --release -p peerlab-bench -- all [--quick] [--json FILE]
//! cargo run --release -p peerlab-bench -- s1 s3 --quick
//! ```
//!
//! The servers run as child processes (`peerlab serve`, and the echo ceiling
//! of S1), so their CPU time and memory in `/proc/<pid>` are theirs alone;
//! the bench builds them first with the cargo that runs it.

mod data;
mod load;
mod s1;
mod s2;
mod s3;
mod s4;
mod s5;
mod s6;
mod server;
mod table;
mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use peerlab_bench::proc;
use serde::Serialize;

use crate::data::Db;
use crate::server::Binaries;
use crate::table::Row;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Benchmarks of the peerlab service against their ceilings.
#[derive(Parser)]
#[command(name = "peerlab-bench")]
struct Cli {
    /// Which scenarios: all, or any of s1 … s6.
    #[arg(value_enum, required = true)]
    scenarios: Vec<Which>,
    /// Smaller sizes and shorter windows (about 2–3 minutes on 2 cores).
    #[arg(long)]
    quick: bool,
    /// Also write the results, machine and settings as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// PostgreSQL server for S2; the bench creates and drops its own database there.
    #[arg(long, env = "PEERLAB_BENCH_POSTGRES_URL", default_value = DEFAULT_POSTGRES)]
    postgres_url: String,
    /// Skip PostgreSQL.
    #[arg(long)]
    no_postgres: bool,
    /// Where the databases and server logs go, kept afterwards (default: a
    /// fresh directory under the cargo target directory, removed afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the data directory.
    #[arg(long)]
    keep_data: bool,
    /// Do not build the server binaries first (they must exist).
    #[arg(long)]
    no_build: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Which {
    All,
    S1,
    S2,
    S3,
    S4,
    S5,
    S6,
}

/// What every scenario works with, and what it reports.
pub struct Ctx {
    pub quick: bool,
    pub bins: Binaries,
    pub dir: PathBuf,
    pub postgres: Option<String>,
    pub rows: Vec<Row>,
    /// Settings and observations, by scenario, recorded with the results.
    pub notes: BTreeMap<String, Vec<String>>,
    /// Bulk SQLite datasets by number of challenges, shared by S4 and S5.
    datasets: BTreeMap<u64, Db>,
    /// PostgreSQL databases to drop at the end.
    pub created: Vec<Db>,
}

impl Ctx {
    /// Add a row (and show it at once).
    pub fn push(&mut self, row: Row) {
        eprintln!("  {} | {}: {:.4} {}", row.scenario, row.measure, row.value, row.unit);
        self.rows.push(row);
    }

    /// Record a setting or an observation of `scenario`.
    pub fn note(&mut self, scenario: &str, text: impl Into<String>) {
        let text = text.into();
        eprintln!("  {scenario} note: {text}");
        self.notes.entry(scenario.to_owned()).or_default().push(text);
    }

    /// A fresh subdirectory of the data directory.
    pub fn subdir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }

    /// The SQLite dataset of `n` challenges with every kind of content
    /// (built on first use).
    pub async fn dataset(&mut self, n: u64) -> anyhow::Result<Db> {
        if let Some(db) = self.datasets.get(&n) {
            return Ok(db.clone());
        }
        let dir = self.subdir("datasets")?;
        let db = Db::sqlite(&dir, &format!("items-{n}"))?;
        let store = db.store().await?;
        let net = data::seed(&store, 7, 4).await?;
        data::bulk(&store, &net, n, data::Mix { archived: true, content: true }).await?;
        store.close().await?;
        self.datasets.insert(n, db.clone());
        Ok(db)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    quick: bool,
    scenarios: &'a [Which],
    machine: &'a proc::Machine,
    load_average_before: f64,
    load_average_after: f64,
    postgres: Option<&'a str>,
    duration_seconds: f64,
    rows: &'a [Row],
    notes: &'a BTreeMap<String, Vec<String>>,
    failures: &'a [String],
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/peerlab-bench → target/peerlab-bench/run-<pid>
    let target = exe.parent().and_then(Path::parent).context("no target directory")?;
    Ok(target.join("peerlab-bench").join(format!("run-{}", std::process::id())))
}

async fn run_scenario(ctx: &mut Ctx, which: Which) -> anyhow::Result<()> {
    match which {
        Which::All => Ok(()),
        Which::S1 => s1::run(ctx).await,
        Which::S2 => s2::run(ctx).await,
        Which::S3 => s3::run(ctx).await,
        Which::S4 => s4::run(ctx).await,
        Which::S5 => s5::run(ctx).await,
        Which::S6 => s6::run(ctx).await,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut scenarios = cli.scenarios.clone();
    if scenarios.contains(&Which::All) {
        scenarios = vec![Which::S1, Which::S2, Which::S3, Which::S4, Which::S5, Which::S6];
    }
    scenarios.sort();
    scenarios.dedup();
    let bins = Binaries::locate(!cli.no_build)?;
    let dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let machine = proc::Machine::describe(&dir);
    let load_before = proc::load_average();
    eprintln!(
        "peerlab-bench {:?}{} on {} ({} cores), load {load_before:.2}",
        scenarios,
        if cli.quick { " --quick" } else { "" },
        machine.cpu,
        machine.cores
    );
    let postgres = (!cli.no_postgres).then(|| cli.postgres_url.clone());
    let mut ctx = Ctx {
        quick: cli.quick,
        bins,
        dir: dir.clone(),
        postgres,
        rows: Vec::new(),
        notes: BTreeMap::new(),
        datasets: BTreeMap::new(),
        created: Vec::new(),
    };
    let started = Instant::now();
    let mut failures = Vec::new();
    for which in &scenarios {
        eprintln!("== {which:?}");
        let t = Instant::now();
        if let Err(e) = run_scenario(&mut ctx, *which).await {
            eprintln!("{which:?} failed: {e:#}");
            failures.push(format!("{which:?}: {e:#}"));
        }
        eprintln!("   {which:?} took {:.1} s", t.elapsed().as_secs_f64());
    }
    for db in std::mem::take(&mut ctx.created) {
        if let Err(e) = db.drop_database().await {
            eprintln!("warning: could not drop a PostgreSQL database: {e:#}");
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let load_after = proc::load_average();
    println!("{}", table::render(&ctx.rows));
    println!(
        "machine: {} ({} cores, {:.0} GiB), Linux {}, data on {}; load average {load_before:.2} before, {load_after:.2} after; {elapsed:.0} s{}",
        machine.cpu,
        machine.cores,
        machine.memory_gib,
        machine.kernel,
        machine.filesystem,
        if cli.quick { " (--quick)" } else { "" }
    );
    for (scenario, notes) in &ctx.notes {
        for n in notes {
            println!("- {scenario}: {n}");
        }
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    if let Some(path) = &cli.json {
        let report = Report {
            quick: cli.quick,
            scenarios: &scenarios,
            machine: &machine,
            load_average_before: load_before,
            load_average_after: load_after,
            postgres: ctx.postgres.as_deref(),
            duration_seconds: elapsed,
            rows: &ctx.rows,
            notes: &ctx.notes,
            failures: &failures,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if cli.keep_data || cli.data_dir.is_some() {
        eprintln!("data kept in {}", dir.display());
    } else if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("warning: could not remove {}: {e}", dir.display());
    }
    if !failures.is_empty() {
        anyhow::bail!("{} scenario(s) failed", failures.len());
    }
    Ok(())
}
