//! The servers under test, each in a child process so that its CPU time and
//! memory in `/proc/<pid>` are its own, not the bench client's: `peerlab
//! serve --config FILE` and the echo ceiling, both built next to the bench.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use peerlab_service::auth::{DEV_AUDIENCE, DEV_ISSUER, DEV_KID, DEV_SECRET};

use crate::proc;

/// Where the server binaries are: the directory of the bench's own executable.
#[derive(Clone, Debug)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Find (and, unless `build` is false, first bring up to date with the
    /// cargo that runs the bench) `peerlab` and `echo-server` next to this
    /// executable.
    pub fn locate(build: bool) -> anyhow::Result<Binaries> {
        let exe = std::env::current_exe().context("locating the bench executable")?;
        let dir = exe.parent().context("the bench executable has no directory")?.to_owned();
        let release = dir.file_name().is_some_and(|d| d == "release");
        if !release {
            eprintln!("warning: the bench is not a release build; numbers will not mean much (use --release)");
        }
        if build {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "-q", "-p", "peerlab-service", "--bin", "peerlab", "-p", "peerlab-bench", "--bin"])
                .arg("echo-server");
            if release {
                cmd.arg("--release");
            }
            eprintln!("building the servers: {cmd:?}");
            let status = cmd.status().context("running cargo build")?;
            if !status.success() {
                bail!("cargo build of the servers failed ({status})");
            }
        }
        for bin in ["peerlab", "echo-server"] {
            if !dir.join(bin).is_file() {
                bail!(
                    "{} is missing: run `cargo build --release -p peerlab-service -p peerlab-bench`",
                    dir.join(bin).display()
                );
            }
        }
        Ok(Binaries { dir })
    }
}

/// How to configure a peerlab server.
#[derive(Clone, Debug)]
pub struct PeerlabSpec {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `database.max_connections`.
    pub max_connections: u32,
    /// `server.feed_stall_timeout_ms` (the default, 30000, when `None`).
    pub feed_stall_timeout_ms: Option<u64>,
}

impl PeerlabSpec {
    /// The defaults of `peerlab serve` for `database_url`.
    pub fn new(database_url: impl Into<String>) -> PeerlabSpec {
        PeerlabSpec { database_url: database_url.into(), max_connections: 16, feed_stall_timeout_ms: None }
    }

    /// The configuration file: defaults, except that the development issuer
    /// is trusted and the per-country rate limit is off (it would cap every
    /// scenario at 200 calls/s).
    fn toml(&self) -> String {
        let stall = self.feed_stall_timeout_ms.map(|ms| format!("feed_stall_timeout_ms = {ms}\n")).unwrap_or_default();
        format!(
            "[database]\nurl = {url:?}\nmax_connections = {max}\nsqlite_synchronous = \"full\"\n\n\
             [server]\nrate_limit_per_country_per_second = 0\n{stall}\n\
             [[auth.issuers]]\nissuer = {DEV_ISSUER:?}\naudience = {DEV_AUDIENCE:?}\nalgorithms = [\"HS256\"]\n\
             countries = [\"*\"]\nroles = [\"coordinator\", \"country_admin\", \"staff\", \"observer\"]\n\
             development = true\nkeys = [{{ kid = {DEV_KID:?}, secret = {DEV_SECRET:?} }}]\n",
            url = self.database_url,
            max = self.max_connections,
        )
    }
}

/// A running server process.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    name: &'static str,
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

impl Server {
    /// Start `peerlab serve` as `spec` says; its log goes to `dir`.
    pub fn peerlab(bins: &Binaries, dir: &Path, spec: &PeerlabSpec) -> anyhow::Result<Server> {
        let config = dir.join("peerlab.toml");
        std::fs::write(&config, spec.toml()).context("writing the server configuration")?;
        let addr = free_port()?;
        let mut cmd = Command::new(bins.dir.join("peerlab"));
        cmd.arg("serve").arg("--config").arg(&config).arg("--listen").arg(addr.to_string());
        Server::spawn("peerlab", cmd, addr, dir)
    }

    /// Start the echo ceiling; its log goes to `dir`.
    pub fn echo(bins: &Binaries, dir: &Path) -> anyhow::Result<Server> {
        let addr = free_port()?;
        let mut cmd = Command::new(bins.dir.join("echo-server"));
        cmd.arg("--listen").arg(addr.to_string());
        Server::spawn("echo-server", cmd, addr, dir)
    }

    fn spawn(name: &'static str, mut cmd: Command, addr: SocketAddr, dir: &Path) -> anyhow::Result<Server> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{name}.log")))?;
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PEERLAB_") {
                cmd.env_remove(key);
            }
        }
        // The servers log at info; a diagnosis can ask for more (the bench's
        // own `PEERLAB_` variables are not passed on, so this one is read here).
        let filter = std::env::var("PEERLAB_BENCH_SERVER_LOG").unwrap_or_else(|_| "info".into());
        cmd.env("RUST_LOG", filter).stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let mut server = Server { child, addr, name };
        server.wait_ready(dir)?;
        Ok(server)
    }

    /// Wait until the listener accepts connections (it is bound after the
    /// database is open and migrated).
    fn wait_ready(&mut self, dir: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited during start-up ({status}); see {}/{}.log", self.name, dir.display(), self.name);
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{} did not listen on {} within 120 s", self.name, self.addr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds the server has used so far.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        proc::cpu_seconds(self.pid())
    }

    /// Ask for a graceful shutdown (SIGTERM) and wait for it; kill the
    /// process if it has not ended after 20 s.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("warning: {} {pid} did not stop within 20 s; killing it", self.name);
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
