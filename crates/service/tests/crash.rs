//! `kill -9` under write load, on SQLite (synchronous FULL) and PostgreSQL.
//!
//! Each round starts the real `peerlab serve`, lets 16 writers create
//! challenges with unique request ids, kills the process at a random moment
//! and restarts it. Then every acknowledged create must be there exactly
//! once, and retrying the creates that were cut off must return the original
//! when it had committed, and never write twice. At the end the database must
//! be intact: SQLite's integrity check, one `challenge.created` event per
//! challenge, event ids strictly increasing through the API.

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use peerlab_client::{Client, Date, RetryPolicy, pb};
use peerlab_core::auth::Role;
use peerlab_core::domain::{CountryCode, MunicipalityId};
use peerlab_core::store::{Store, StoreOptions};
use peerlab_service::auth::{DEV_AUDIENCE, DEV_ISSUER, DEV_KID, DEV_SECRET, MintClaims, mint};
use peerlab_service::config::IssuerConfig;
use peerlab_testkit::{Backend, TestDb};
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, QueryResult, Statement};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ROUNDS: usize = 8;
const WRITERS: usize = 16;
/// The whole test on one backend must stay well within this.
const BUDGET: Duration = Duration::from_secs(60);

/// A `peerlab serve` child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start on a fresh loopback port (a killed server's port may linger).
    fn start(config: &Path, log: &Path) -> Server {
        let addr = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
        // The server logs to stdout, errors of its own to stderr: keep both.
        let stdout = OpenOptions::new().create(true).append(true).open(log).expect("log file");
        let stderr = stdout.try_clone().expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_peerlab"));
        command.arg("serve").arg("--config").arg(config).arg("--listen").arg(addr.to_string());
        command.env("RUST_LOG", "warn");
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PEERLAB_")) {
            command.env_remove(key);
        }
        let child = command.stdout(stdout).stderr(stderr).spawn().expect("start peerlab serve");
        Server { child, addr, log: log.to_owned() }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the health service reports SERVING (at most 15 s).
    async fn ready(&mut self) {
        for _ in 0..150 {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("peerlab serve exited with {status}:\n{}", self.log_text());
            }
            if let Ok(endpoint) = tonic::transport::Endpoint::from_shared(self.endpoint())
                && let Ok(channel) = endpoint.connect().await
            {
                let check = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await;
                if check.is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} never became ready:\n{}", self.addr, self.log_text());
    }

    /// SIGKILL, and reap the process.
    fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    async fn client(&self, token: &str) -> Client {
        Client::builder(self.endpoint())
            .bearer(token)
            .timeout(Duration::from_secs(10))
            .retry(RetryPolicy::never())
            .connect()
            .await
            .expect("connect")
    }
}

fn config(url: &str) -> String {
    format!(
        "[database]\nurl = {url:?}\nmax_connections = 8\nsqlite_synchronous = \"full\"\n\
         [server]\nrate_limit_per_country_per_second = 0\nshutdown_grace_ms = 1000\n\
         [[auth.issuers]]\nissuer = \"{DEV_ISSUER}\"\naudience = \"{DEV_AUDIENCE}\"\nalgorithms = [\"HS256\"]\n\
         countries = [\"*\"]\nroles = [\"coordinator\", \"staff\"]\ndevelopment = true\n\
         keys = [{{ kid = \"{DEV_KID}\", secret = \"{DEV_SECRET}\" }}]\n"
    )
}

fn token(role: Role, municipality: Option<MunicipalityId>) -> String {
    let claims = MintClaims {
        subject: format!("crash-{}", role.as_str()),
        role,
        country: municipality.map(|_| CountryCode::parse("BA").expect("country")),
        municipality,
        ttl: Duration::from_secs(600),
    };
    mint(&IssuerConfig::development(), &claims).expect("mint")
}

/// What one creates, keyed by its request id: the title names the request.
fn challenge(group: &str, rid: &str) -> pb::Challenge {
    pb::Challenge {
        working_group: group.to_owned(),
        title: format!("crash {rid}"),
        themes: vec!["reliability".into(), "durability".into()],
        ..Default::default()
    }
}

fn id_of(name: &str) -> i64 {
    name.rsplit('/').next().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("not a resource name: {name}"))
}

async fn query(store: &Store, sql: &str) -> Vec<QueryResult> {
    let db = store.connection();
    db.query_all(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> T {
    row.try_get("", column).unwrap_or_else(|e| panic!("{column}: {e}"))
}

/// Challenge rows by title: (how many, the smallest id).
async fn rows_by_title(store: &Store) -> HashMap<String, (i64, i64)> {
    let rows = query(store, "SELECT title, COUNT(*) AS n, MIN(id) AS id FROM challenges GROUP BY title").await;
    rows.iter().map(|r| (get::<String>(r, "title"), (get::<i64>(r, "n"), get::<i64>(r, "id")))).collect()
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    let rows = query(store, sql).await;
    get(rows.first().unwrap_or_else(|| panic!("{sql}: no row")), "n")
}

/// What one writer saw before the crash.
struct Writes {
    acknowledged: Vec<(String, String)>,
    cut_off: Option<String>,
    failed_before_kill: Option<String>,
}

/// Create challenges until a call fails; a failure before the kill is a bug.
async fn write_until_failure(
    client: Client,
    parent: String,
    group: String,
    prefix: String,
    killed: Arc<AtomicBool>,
) -> Writes {
    let mut acknowledged = Vec::new();
    loop {
        let rid = format!("{prefix}-{}", acknowledged.len());
        match client.create_challenge(parent.clone(), challenge(&group, &rid), Some(rid.clone())).await {
            Ok(created) => acknowledged.push((rid, created.name)),
            Err(e) => {
                let failed_before_kill = (!killed.load(Ordering::SeqCst)).then(|| format!("{rid}: {e}"));
                return Writes { acknowledged, cut_off: Some(rid), failed_before_kill };
            }
        }
    }
}

/// Everything the test knows was acknowledged: request id → name.
#[derive(Default)]
struct Ledger {
    acknowledged: HashMap<String, String>,
}

struct Network {
    backend: Backend,
    parent: String,
    group: String,
    staff: String,
    coordinator: String,
}

async fn seed(server: &Server, backend: Backend) -> Network {
    let coordinator = token(Role::Coordinator, None);
    let client = server.client(&coordinator).await;
    let town = pb::Municipality { display_name: "Crashtown".into(), country: "BA".into(), ..Default::default() };
    let town = client.create_municipality(town, Some("seed-town".into())).await.expect("municipality");
    let group = pb::WorkingGroup {
        display_name: "Reliability".into(),
        start_date: Some(Date { year: 2026, month: 1, day: 1 }),
        end_date: Some(Date { year: 2026, month: 12, day: 31 }),
        ..Default::default()
    };
    let group = client.create_working_group(group, Some("seed-group".into())).await.expect("working group");
    let member = pb::Membership { municipality: town.name.clone(), ..Default::default() };
    client.create_membership(&group.name, member, Some("seed-member".into())).await.expect("membership");
    let id = MunicipalityId::parse_str("municipality", &id_of(&town.name).to_string()).expect("id");
    Network { backend, parent: town.name, group: group.name, staff: token(Role::Staff, Some(id)), coordinator }
}

/// One round: write, kill at a random moment, restart, verify, retry the cut-off creates.
async fn crash_round(
    round: usize,
    server: &mut Server,
    config: &Path,
    db: &TestDb,
    net: &Network,
    ledger: &mut Ledger,
    rng: &mut rand::rngs::StdRng,
) -> usize {
    let killed = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = server.client(&net.staff).await;
        let (parent, group, prefix) = (net.parent.clone(), net.group.clone(), format!("r{round}-w{w}"));
        writers.push(tokio::spawn(write_until_failure(client, parent, group, prefix, killed.clone())));
    }
    let delay = Duration::from_millis(rng.random_range(100..=600));
    tokio::time::sleep(delay).await;
    killed.store(true, Ordering::SeqCst);
    server.kill_9();
    let log = server.log.clone();
    *server = Server::start(config, &log);

    let mut cut_off = Vec::new();
    let mut acknowledged = 0;
    for writer in writers {
        let writes = tokio::time::timeout(Duration::from_secs(15), writer)
            .await
            .expect("writers stop once the server is gone")
            .expect("writer task");
        if let Some(failure) = writes.failed_before_kill {
            panic!("round {round}: a create failed while the server was up: {failure}\n{}", server.log_text());
        }
        acknowledged += writes.acknowledged.len();
        ledger.acknowledged.extend(writes.acknowledged);
        cut_off.extend(writes.cut_off);
    }
    server.ready().await;

    // Every acknowledged create survived, exactly once, under its name.
    let rows = rows_by_title(&db.store).await;
    for (rid, name) in &ledger.acknowledged {
        let title = format!("crash {rid}");
        assert_eq!(rows.get(&title), Some(&(1, id_of(name))), "round {round}: acknowledged {rid} ({name})");
    }
    let client = server.client(&net.staff).await;
    let round_prefix = format!("r{round}-");
    let this_round: Vec<_> = ledger.acknowledged.iter().filter(|(rid, _)| rid.starts_with(&round_prefix)).collect();
    futures::stream::iter(this_round)
        .map(|(rid, name)| {
            let client = client.clone();
            async move {
                let read = client.get_challenge(name.clone()).await.unwrap_or_else(|e| panic!("get {name}: {e}"));
                assert_eq!(read.title, format!("crash {rid}"), "{name}");
            }
        })
        .buffer_unordered(WRITERS)
        .collect::<Vec<()>>()
        .await;

    // Retrying a cut-off create returns the original if it had committed,
    // creates it otherwise, and never writes twice.
    let mut had_committed = 0;
    for rid in &cut_off {
        let before = rows.get(&format!("crash {rid}")).copied();
        let retried = client
            .create_challenge(net.parent.clone(), challenge(&net.group, rid), Some(rid.clone()))
            .await
            .unwrap_or_else(|e| panic!("round {round}: retrying {rid}: {e}"));
        if let Some((_, id)) = before {
            had_committed += 1;
            assert_eq!(id_of(&retried.name), id, "round {round}: the retry of committed {rid} returns the original");
        }
        ledger.acknowledged.insert(rid.clone(), retried.name);
    }
    // An acknowledged create retried after the crash is answered, not repeated.
    for (rid, name) in ledger.acknowledged.iter().filter(|(rid, _)| rid.starts_with(&round_prefix)).take(WRITERS) {
        let again = client
            .create_challenge(net.parent.clone(), challenge(&net.group, rid), Some(rid.clone()))
            .await
            .unwrap_or_else(|e| panic!("replaying {rid}: {e}"));
        assert_eq!(&again.name, name, "replaying acknowledged {rid}");
    }
    let rows = rows_by_title(&db.store).await;
    for rid in &cut_off {
        assert_eq!(rows.get(&format!("crash {rid}")).map(|r| r.0), Some(1), "round {round}: retried {rid}");
    }
    let total = scalar(&db.store, "SELECT COUNT(*) AS n FROM challenges").await;
    assert_eq!(total, ledger.acknowledged.len() as i64, "round {round}: no challenge that nobody asked for");
    eprintln!(
        "{:?} round {round}: killed after {delay:?}; {acknowledged} creates acknowledged, {} cut off ({had_committed} of them had committed)",
        net.backend,
        cut_off.len()
    );
    acknowledged
}

/// One `challenge.created` event per challenge, served in strictly increasing id order.
async fn check_events(server: &Server, db: &TestDb, net: &Network, ledger: &Ledger) {
    let client = server.client(&net.coordinator).await;
    let request =
        pb::ListEventsRequest { page_size: 100, filter: "kind = \"challenge.created\"".into(), ..Default::default() };
    let events: Vec<pb::Event> = client.events_stream(request).try_collect().await.expect("events");
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "event ids strictly increase");
    let resources: Vec<&str> = events.iter().map(|e| e.resource.as_str()).collect();
    let distinct: HashSet<&str> = resources.iter().copied().collect();
    assert_eq!(distinct.len(), resources.len(), "one challenge.created event per challenge");
    let names: HashSet<&str> = ledger.acknowledged.values().map(String::as_str).collect();
    assert_eq!(distinct, names, "the created events are those of the acknowledged challenges");

    let store = &db.store;
    let created = "SELECT COUNT(*) AS n FROM events WHERE kind = 'challenge.created'";
    assert_eq!(scalar(store, created).await, names.len() as i64, "no created event of a rolled-back write");
    let ids = scalar(store, "SELECT COUNT(*) - COUNT(DISTINCT id) AS n FROM events").await;
    assert_eq!(ids, 0, "event ids are unique");
    let dangling = scalar(store, "SELECT COUNT(*) AS n FROM request_ids WHERE resource = ''").await;
    assert_eq!(dangling, 0, "every committed request id names what it created");
}

async fn survive_kill_9(backend: Backend) {
    let started = Instant::now();
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config_file = dir.path().join("peerlab.toml");
    std::fs::write(&config_file, config(&db.url)).expect("write config");
    let log = dir.path().join("peerlab.log");
    let seed_value = std::env::var("PEERLAB_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_122);
    eprintln!("{backend:?}: PEERLAB_CRASH_SEED={seed_value}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed_value);

    let mut server = Server::start(&config_file, &log);
    server.ready().await;
    let net = seed(&server, backend).await;
    let mut ledger = Ledger::default();
    let mut before_kills = 0;
    for round in 0..ROUNDS {
        before_kills += crash_round(round, &mut server, &config_file, &db, &net, &mut ledger, &mut rng).await;
    }
    assert!(before_kills > 0, "no create was acknowledged before any of the kills");
    check_events(&server, &db, &net, &ledger).await;
    server.kill_9();

    if backend == Backend::Sqlite {
        // A fresh connection to the file the killed server left behind.
        let store = Store::connect(StoreOptions::new(db.url.clone())).await.expect("open the file");
        let rows = query(&store, "PRAGMA integrity_check").await;
        let verdict: Vec<String> = rows.iter().map(|r| get::<String>(r, "integrity_check")).collect();
        assert_eq!(verdict, vec!["ok".to_owned()], "PRAGMA integrity_check");
        assert!(query(&store, "PRAGMA foreign_key_check").await.is_empty(), "PRAGMA foreign_key_check");
        store.close().await.expect("close");
    }
    let elapsed = started.elapsed();
    eprintln!("{backend:?}: {ROUNDS} crashes, {} challenges in all, {elapsed:?}", ledger.acknowledged.len());
    assert!(elapsed < BUDGET, "{backend:?} took {elapsed:?}, over the {BUDGET:?} budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_every_acknowledged_write_through_kill_9() {
    survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_every_acknowledged_write_through_kill_9() {
    if Backend::Postgres.enabled() {
        survive_kill_9(Backend::Postgres).await;
    }
}
