//! Databases for the scenarios: a SQLite file or a PostgreSQL database of
//! the bench's own, a seeded network (municipalities in seven countries, one
//! working group, workshops), and bulk content inserted with plain SQL
//! whose report aggregates are then rebuilt by the backfills of the reports
//! migration and of the delay histogram's after it, so the reports read
//! exactly what a write-by-write history would have left.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{Store, StoreOptions};
use peerlab_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// The countries of the seeded network.
pub const COUNTRIES: [&str; 7] = ["AL", "BA", "GE", "MD", "MK", "RS", "UA"];

/// A database of the bench's own.
#[derive(Clone, Debug)]
pub enum Db {
    /// A SQLite file (WAL, synchronous FULL, as `peerlab serve` opens it).
    Sqlite(PathBuf),
    /// A database created on a PostgreSQL server, dropped by [`Db::drop_database`].
    Postgres { admin: String, name: String },
}

/// `admin` with its database path replaced by `name`.
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Db {
    /// A fresh SQLite file `dir/name.db`.
    pub fn sqlite(dir: &Path, name: &str) -> anyhow::Result<Db> {
        let path = dir.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
            }
        }
        Ok(Db::Sqlite(path))
    }

    /// A fresh, uniquely named database on the server at `admin`.
    pub async fn postgres(admin: &str, label: &str) -> anyhow::Result<Db> {
        let stamp = chrono::Utc::now().timestamp_micros() % 1_000_000_000;
        let name = format!("peerlab_bench_{}_{label}_{stamp}", std::process::id());
        let conn = Database::connect(admin).await.with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        conn.close().await?;
        Ok(Db::Postgres { admin: admin.to_owned(), name })
    }

    /// The URL `peerlab serve` and the store take.
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Db::Postgres { admin, name } => database_url(admin, name),
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Db::Sqlite(path) => Some(path),
            Db::Postgres { .. } => None,
        }
    }

    /// "SQLite" or "PostgreSQL".
    pub fn label(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Drop a PostgreSQL database (a SQLite file stays in the data directory,
    /// which is removed at the end of the run).
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        let Db::Postgres { admin, name } = self else { return Ok(()) };
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
        conn.close().await?;
        Ok(())
    }

    /// Open (and migrate) the store, durable as `peerlab serve` opens it.
    pub async fn store(&self) -> anyhow::Result<Store> {
        let options = StoreOptions { max_connections: 4, ..StoreOptions::new(self.url()) };
        Store::open(options).await.with_context(|| format!("opening {}", self.label()))
    }
}

/// A network coordinator, for in-process calls to the store.
pub fn coordinator() -> anyhow::Result<Principal> {
    Ok(Principal::new("peerlab-bench", "coordinator", Role::Coordinator, None, None)?)
}

/// The seeded network: one working group whose members are every municipality.
#[derive(Clone, Debug)]
pub struct Network {
    pub group: WorkingGroupId,
    pub members: Vec<(MunicipalityId, CountryCode)>,
}

/// Seed `per_country` municipalities in each of [`COUNTRIES`], one working
/// group of all of them and `workshops` workshops that they all attend,
/// through the store (so with events and aggregates).
pub async fn seed(store: &Store, per_country: usize, workshops: usize) -> anyhow::Result<Network> {
    let co = coordinator()?;
    let mut members = Vec::new();
    for i in 0..per_country {
        for code in COUNTRIES {
            let country = CountryCode::parse(code)?;
            let display_name = Title::parse("display_name", &format!("{code} municipality {i}"))?;
            let m = store.create_municipality(&co, NewMunicipality { display_name, country }, None).await?;
            members.push((m.id, country));
        }
    }
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).context("bad date");
    let group = NewWorkingGroup {
        display_name: Title::parse("display_name", "Digitalisation")?,
        description: Description::parse("description", "The bench's working group.")?,
        themes: vec![Theme::parse("themes", "e-services")?],
        start_date: date(2024, 1, 1)?,
        end_date: date(2026, 12, 31)?,
    };
    let group = store.create_working_group(&co, group, None).await?.id;
    for (m, _) in &members {
        store.create_membership(&co, group, *m, None).await?;
    }
    let phases = [WorkshopPhase::Ideation, WorkshopPhase::Consolidation, WorkshopPhase::Solutions];
    for w in 0..workshops {
        let workshop = NewWorkshop {
            display_name: Title::parse("display_name", &format!("Workshop {}", w + 1))?,
            phase: phases[w % phases.len()],
            date: date(2024, 3, 1)? + chrono::Days::new(30 * w as u64),
            duration_minutes: 180,
            attendees: members.iter().map(|(m, _)| *m).collect(),
        };
        store.create_workshop(&co, group, workshop, None).await?;
    }
    Ok(Network { group, members })
}

/// What bulk content to insert besides `n` challenges with two themes each.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// Archive every tenth challenge.
    pub archived: bool,
    /// Two recommendations for two thirds of the challenges, n/4 initiatives
    /// and n/10 project ideas.
    pub content: bool,
}

async fn exec(conn: &DatabaseConnection, sql: &str) -> anyhow::Result<()> {
    conn.execute(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .with_context(|| format!("bulk SQL failed: {}", sql.chars().take(120).collect::<String>()))?;
    Ok(())
}

/// 2024-01-01T00:00:00Z in microseconds.
const BASE: i64 = 1_704_067_200_000_000;
/// Two years.
const SPAN: i64 = 2 * 365 * 86_400 * 1_000_000;

/// `WITH RECURSIVE q(i)` over `0..n`, for SQLite.
fn series(n: u64) -> String {
    format!("WITH RECURSIVE q(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM q WHERE i < {n} - 1) ")
}

/// Insert `n` challenges (ids 1..=n in a fresh database), their themes and,
/// per `mix`, other content, spread over two years, directly with SQL
/// (SQLite), then rebuild the report aggregates.
pub async fn bulk(store: &Store, net: &Network, n: u64, mix: Mix) -> anyhow::Result<()> {
    let started = Instant::now();
    let conn = store.connection();
    let m = net.members.len();
    let g = net.group.get();
    let step = (SPAN / n.max(1) as i64).max(1);
    exec(conn, "CREATE TABLE bench_members (k INTEGER PRIMARY KEY, id BIGINT NOT NULL UNIQUE, country TEXT NOT NULL)")
        .await?;
    let values: Vec<String> =
        net.members.iter().enumerate().map(|(k, (id, c))| format!("({k}, {}, '{}')", id.get(), c.as_str())).collect();
    exec(conn, &format!("INSERT INTO bench_members (k, id, country) VALUES {}", values.join(", "))).await?;
    let archived = if mix.archived { "i % 10 = 0" } else { "0 = 1" };
    exec(
        conn,
        &format!(
            "{series} INSERT INTO challenges (working_group_id, municipality_id, country, title, description, \
             visibility, status, version, create_time, update_time, archive_time) \
             SELECT {g}, m.id, m.country, 'Challenge ' || i, 'Generated by peerlab-bench: a problem a municipality faces.', \
             'shared', CASE WHEN {archived} THEN 'archived' WHEN i % 3 = 0 THEN 'addressed' ELSE 'open' END, 1, \
             {BASE} + i * {step}, {BASE} + i * {step}, CASE WHEN {archived} THEN {BASE} + i * {step} + 1000 ELSE NULL END \
             FROM q JOIN bench_members m ON m.k = i % {m}",
            series = series(n)
        ),
    )
    .await?;
    for offset in [0, 5] {
        exec(
            conn,
            &format!(
                "INSERT INTO challenge_themes (challenge_id, theme) SELECT id, 'theme-' || ((id + {offset}) % 12) FROM challenges"
            ),
        )
        .await?;
    }
    if mix.content {
        for k in 0..2 {
            exec(
                conn,
                &format!(
                    "INSERT INTO recommendations (working_group_id, municipality_id, country, target_kind, target_id, \
                     target_municipality_id, target_country, kind, body, author_initiative_id, answer_state, answer_note, \
                     answer_time, version, create_time, update_time, archive_time) \
                     SELECT c.working_group_id, a.id, a.country, 'challenge', c.id, c.municipality_id, c.country, \
                     'suggestion', 'Generated by peerlab-bench.', NULL, \
                     CASE c.id % 4 WHEN 0 THEN 'adopted' WHEN 1 THEN 'unanswered' ELSE 'acknowledged' END, '', \
                     CASE c.id % 4 WHEN 1 THEN NULL ELSE c.create_time + 7200000000 END, 1, \
                     c.create_time + (c.id % 97) * 60000000 + {k}, c.create_time + (c.id % 97) * 60000000 + {k}, NULL \
                     FROM challenges c JOIN bench_members t ON t.id = c.municipality_id \
                     JOIN bench_members a ON a.k = (t.k + {k} + 2) % {m} WHERE c.id % 3 <> 2"
                ),
            )
            .await?;
        }
        let items = [
            (
                "initiatives",
                "status",
                n / 4,
                "CASE i % 4 WHEN 0 THEN 'planned' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'implemented' ELSE 'discontinued' END",
            ),
            (
                "project_ideas",
                "stage",
                n / 10,
                "CASE i % 4 WHEN 0 THEN 'idea' WHEN 1 THEN 'consolidated' WHEN 2 THEN 'solution_defined' ELSE 'project_defined' END",
            ),
        ];
        for (table, column, count, value) in items {
            if count == 0 {
                continue;
            }
            let step = (SPAN / count as i64).max(1);
            exec(
                conn,
                &format!(
                    "{series} INSERT INTO {table} (working_group_id, municipality_id, country, title, description, \
                     visibility, {column}, version, create_time, update_time, archive_time) \
                     SELECT {g}, m.id, m.country, 'Item ' || i, 'Generated by peerlab-bench.', 'shared', {value}, 1, \
                     {BASE} + i * {step}, {BASE} + i * {step}, NULL FROM q JOIN bench_members m ON m.k = i % {m}",
                    series = series(count)
                ),
            )
            .await?;
        }
    }
    exec(conn, "DROP TABLE bench_members").await?;
    rebuild_reports(conn).await?;
    exec(conn, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
    eprintln!("  bulk: {n} challenges (mix {mix:?}) in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Recreate the report aggregates from the base tables: revert the reports
/// migration and every one applied after it (the delay histogram) and apply
/// them again; their `up`s backfill the aggregates, the histogram from the
/// rebuilt `report_challenges`.
pub async fn rebuild_reports(conn: &DatabaseConnection) -> anyhow::Result<()> {
    let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let at = names.iter().position(|n| n.ends_with("_reports")).context("no reports migration")?;
    let steps = u32::try_from(names.len() - at)?;
    Migrator::down(conn, Some(steps)).await.context("reverting the reports migration")?;
    Migrator::up(conn, None).await.context("re-applying the reports migration")?;
    Ok(())
}
