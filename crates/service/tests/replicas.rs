//! Two `peerlab serve` processes on one PostgreSQL database: a write made
//! through either reaches the WatchEvents subscribers of both, through
//! LISTEN/NOTIFY (well before the hub's periodic re-read would find it).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peerlab_client::{Client, pb};
use peerlab_core::auth::Role;
use peerlab_service::auth::{DEV_AUDIENCE, DEV_ISSUER, DEV_KID, DEV_SECRET, MintClaims, mint};
use peerlab_service::config::IssuerConfig;
use peerlab_testkit::{Backend, TestDb};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Longer than any cross-replica delivery may take, shorter than the hub's 5 s re-read.
const DELIVERY: Duration = Duration::from_secs(2);

/// A `peerlab serve` child process, killed when dropped.
struct Replica {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

fn config(addr: SocketAddr, url: &str) -> String {
    format!(
        "listen = \"{addr}\"\n\
         [database]\nurl = {url:?}\nmax_connections = 4\n\
         [server]\nrate_limit_per_country_per_second = 0\nshutdown_grace_ms = 1000\n\
         [[auth.issuers]]\nissuer = \"{DEV_ISSUER}\"\naudience = \"{DEV_AUDIENCE}\"\nalgorithms = [\"HS256\"]\n\
         countries = [\"*\"]\nroles = [\"coordinator\"]\ndevelopment = true\n\
         keys = [{{ kid = \"{DEV_KID}\", secret = \"{DEV_SECRET}\" }}]\n"
    )
}

impl Replica {
    fn start(dir: &Path, name: &str, url: &str) -> Replica {
        let addr = free_port();
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, config(addr, url)).expect("write config");
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_peerlab"));
        command.arg("serve").arg("--config").arg(&file).env("RUST_LOG", "warn,peerlab_core=debug");
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PEERLAB_")) {
            command.env_remove(key);
        }
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = command.stdout(Stdio::null()).stderr(stderr).spawn().expect("start peerlab serve");
        Replica { child, addr, log }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Wait until the health service reports SERVING (bounded).
    async fn ready(&mut self) {
        for _ in 0..150 {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!(
                    "peerlab serve exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let endpoint = tonic::transport::Endpoint::from_shared(self.endpoint()).expect("endpoint");
            if let Ok(channel) = endpoint.connect().await {
                let check = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await;
                if check.is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} never became ready: {}", self.addr, std::fs::read_to_string(&self.log).unwrap_or_default());
    }
}

async fn next_event(stream: &mut tonic::Streaming<pb::WatchEventsResponse>) -> pb::Event {
    use pb::watch_events_response::Message;
    loop {
        let message = tokio::time::timeout(DELIVERY, stream.message()).await;
        match message.expect("an event in time").expect("stream open").and_then(|m| m.message) {
            Some(Message::Event(e)) => return e,
            Some(Message::Heartbeat(_)) => {}
            None => panic!("the stream ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_reaches_subscribers_of_the_other() {
    if !Backend::Postgres.enabled() {
        eprintln!("SKIPPED: replicas share a PostgreSQL database");
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut replicas = [Replica::start(dir.path(), "a", &db.url), Replica::start(dir.path(), "b", &db.url)];
    for r in &mut replicas {
        r.ready().await;
    }
    let claims = MintClaims {
        subject: "coordinator".into(),
        role: Role::Coordinator,
        country: None,
        municipality: None,
        ttl: Duration::from_secs(600),
    };
    let token = mint(&IssuerConfig::development(), &claims).expect("token");
    let mut clients = Vec::new();
    let mut streams = Vec::new();
    for r in &replicas {
        let client = Client::builder(r.endpoint()).bearer(&token).connect().await.expect("connect");
        streams.push(client.feed().watch_events(pb::WatchEventsRequest::default()).await.expect("watch").into_inner());
        clients.push(client);
    }

    let mut latencies = Vec::new();
    for i in 0..10 {
        let (via, other) = (i % 2, 1 - i % 2);
        let started = Instant::now();
        let town = pb::Municipality { display_name: format!("Town {i}"), country: "BA".into(), ..Default::default() };
        let req = pb::CreateMunicipalityRequest { municipality: Some(town), request_id: String::new() };
        let created = clients[via].municipalities().create_municipality(req).await.expect("create").into_inner();
        let elsewhere = next_event(&mut streams[other]).await;
        latencies.push(started.elapsed());
        let here = next_event(&mut streams[via]).await;
        assert_eq!(elsewhere.resource, created.name, "replica {other} received the write made on {via}");
        assert_eq!(here, elsewhere, "both replicas deliver the same event");
    }
    latencies.sort();
    eprintln!(
        "cross-replica delivery (write started → event on the other replica): min {:?} median {:?} max {:?}",
        latencies[0], latencies[5], latencies[9]
    );
}
