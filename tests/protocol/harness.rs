//! Runs the real `podplane` binary on free loopback ports and talks to it over HTTP.
//!
//! `PODPLANE_TEST_MODE` picks the mode the whole suite runs against: `embedded` (default: one
//! `podplane serve` on a fresh data directory) or `distributed` (two `podplane storage`
//! replicas on a fresh PostgreSQL database, a fresh S3 key prefix and the Kafka broker, behind
//! a round-robin TCP proxy in this process; scripts/dev-services.sh provides the services).
//!
//! One shared server serves most tests, each in pods of its own; tests that need special
//! settings or restarts start their own. Servers exit when the test process does (their stdin
//! closes), so no run leaves processes behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_podplane");

pub use crate::fault_proxy::FaultProxy;
pub use crate::idp::{idp, Agent};
pub use crate::requests::*;

/// The services a distributed-mode server uses (from scripts/dev-services.sh's exports).
#[derive(Clone)]
pub struct Infra {
    pub pg_admin_url: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub kafka: String,
}

/// The shared services, in distributed mode.
pub fn infra() -> Option<&'static Infra> {
    static INFRA: OnceLock<Option<Infra>> = OnceLock::new();
    INFRA
        .get_or_init(|| {
            if std::env::var("PODPLANE_TEST_MODE").as_deref() != Ok("distributed") {
                return None;
            }
            let var = |name: &str| {
                std::env::var(name).unwrap_or_else(|_| {
                    panic!("PODPLANE_TEST_MODE=distributed needs {name}: run scripts/dev-services.sh up")
                })
            };
            Some(Infra {
                pg_admin_url: var("PODPLANE_TEST_PG_URL"),
                s3_endpoint: var("PODPLANE_TEST_S3_ENDPOINT"),
                s3_bucket: var("PODPLANE_TEST_S3_BUCKET"),
                kafka: var("PODPLANE_TEST_KAFKA"),
            })
        })
        .as_ref()
}

/// Where a distributed server's connections go instead of the shared services.
#[derive(Default)]
pub struct Via {
    /// A proxy in front of the shared PostgreSQL.
    pub postgres: Option<SocketAddr>,
    /// Another PostgreSQL server altogether (admin URL naming a database), e.g. one the test
    /// restarts.
    pub postgres_admin: Option<String>,
    pub s3: Option<SocketAddr>,
    pub kafka: Option<String>,
    /// Notifications replicas to run beside the storage replicas (distributed mode; embedded
    /// mode always serves notifications).
    pub notifications: usize,
    /// Run the provisioning service (distributed mode: one replica on its own origin;
    /// embedded mode always serves it).
    pub provision: bool,
    /// Run the audit service (distributed mode: one replica on its own origin; embedded
    /// mode always serves it).
    pub audit: bool,
    /// Environment variables for every process (e.g. the `OTEL_*` set).
    pub env: Vec<(String, String)>,
    /// Embedded mode whatever `PODPLANE_TEST_MODE` says (a source or target of another
    /// deployment).
    pub embedded: bool,
}

/// The shared secret between the test's services.
pub const INTERNAL_SECRET: &str = "test-internal-secret";

/// Flags that belong to the notifications service (in distributed mode they go to its
/// processes, not to storage's). Give their values as `--flag=value`.
fn is_notify_flag(flag: &str) -> bool {
    flag.starts_with("--webhook-") || flag.starts_with("--channel-")
}

/// Flags of the provisioning service (distributed mode), and which of them storage also
/// takes (it announces the pod limit in discovery).
fn is_provision_flag(flag: &str) -> bool {
    flag.starts_with("--provision-")
        || flag.starts_with("--max-pods-per-owner")
        || flag.starts_with("--admin-webids")
}

fn is_storage_flag_too(flag: &str) -> bool {
    flag.starts_with("--max-pods-per-owner")
}

/// Flags of the audit service (distributed mode). Storage's own audit flags (`--audit=`,
/// `--audit-queue`) stay with storage.
fn is_audit_flag(flag: &str) -> bool {
    flag.starts_with("--audit-retention") || flag.starts_with("--audit-sinks")
}

/// The shared services' addresses (distributed mode), for putting proxies in front of them.
pub fn postgres_addr() -> SocketAddr {
    let url = &infra().expect("distributed mode").pg_admin_url;
    let host_port = url.rsplit_once('@').map_or(url.as_str(), |(_, h)| h);
    let host_port = host_port.split('/').next().unwrap_or(host_port);
    host_port.parse().expect("PODPLANE_TEST_PG_URL host:port")
}

pub fn s3_addr() -> SocketAddr {
    let endpoint = &infra().expect("distributed mode").s3_endpoint;
    endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("S3 endpoint host:port")
}

/// Where one server keeps its state.
enum Backing {
    Disk {
        dir: tempfile::TempDir,
    },
    Distributed {
        database_url: String,
        s3_prefix: String,
        s3_endpoint: String,
        kafka: String,
    },
}

pub struct Server {
    pub base: String,
    /// What clients talk to: the server itself, or the proxy in front of the replicas.
    pub addr: SocketAddr,
    /// The processes' own addresses (one in embedded mode, two replicas in distributed mode).
    pub replicas: Vec<SocketAddr>,
    backing: Backing,
    children: Mutex<Vec<Child>>,
    extra: Vec<String>,
    /// Base URL of the notifications service (the server's own in embedded mode; a proxy
    /// over the notifications replicas in distributed mode).
    pub notify_base: String,
    /// The notifications replicas' own addresses (distributed mode).
    pub notify_replicas: Vec<SocketAddr>,
    notify_children: Mutex<Vec<Child>>,
    notify_database: Option<String>,
    /// Base URL of the provisioning service (the server's own in embedded mode; one replica
    /// on its own origin in distributed mode).
    pub provision_base: String,
    provision_replica: Option<SocketAddr>,
    provision_children: Mutex<Vec<Child>>,
    /// The provisioning database (distributed mode: always made, `pod create` records
    /// owners there).
    provision_database: Option<String>,
    /// Base URL of the audit service (the server's own in embedded mode; one replica on its
    /// own origin in distributed mode).
    pub audit_base: String,
    audit_replica: Option<SocketAddr>,
    audit_children: Mutex<Vec<Child>>,
    audit_database: Option<String>,
    env: Vec<(String, String)>,
}

pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr")
}

pub fn psql(admin_url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(admin_url)
        .arg("-qc")
        .arg(sql)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// Starts a server (embedded or distributed, per `PODPLANE_TEST_MODE`) on fresh state with
    /// extra flags for every process.
    pub fn start(extra: &[&str]) -> Server {
        Server::start_with(&Via::default(), extra)
    }

    /// A server with the notifications service: in distributed mode, two notifications
    /// replicas behind their own proxy (their own origin, as ESS's `notification.{d}`).
    pub fn start_notifying(extra: &[&str]) -> Server {
        let via = Via {
            notifications: 2,
            ..Via::default()
        };
        Server::start_with(&via, extra)
    }

    /// A server with the provisioning service (in distributed mode, one replica on its own
    /// origin, as ESS's `provision.{d}`).
    pub fn start_provisioning(extra: &[&str]) -> Server {
        let via = Via {
            provision: true,
            ..Via::default()
        };
        Server::start_with(&via, extra)
    }

    /// A server that keeps the production default of never fetching from loopback or
    /// private addresses (so it cannot reach the suite's identity provider).
    pub fn start_plain(extra: &[&str]) -> Server {
        let mut flags = vec!["--no-private-fetch-for-tests"];
        flags.extend_from_slice(extra);
        Server::start_with(&Via::default(), &flags)
    }

    /// A distributed-mode server whose connections to PostgreSQL, S3 or Kafka go where `via`
    /// says (fault-injecting proxies, a broker of the test's own). `None` in embedded mode,
    /// after saying loudly that the calling test is skipped.
    pub fn start_distributed(via: &Via, extra: &[&str]) -> Option<Server> {
        if infra().is_none() {
            eprintln!("SKIPPED: this test needs distributed mode (PODPLANE_TEST_MODE=distributed)");
            return None;
        }
        Some(Server::start_with(via, extra))
    }

    pub fn start_with(via: &Via, extra: &[&str]) -> Server {
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let shared = if via.embedded { None } else { infra() };
        let (backing, replicas) = match shared {
            None => (
                Backing::Disk {
                    dir: tempfile::tempdir().expect("tempdir"),
                },
                vec![free_addr()],
            ),
            Some(infra) => {
                let db = format!("podplane_t_{}_{n}", std::process::id());
                let admin = via
                    .postgres_admin
                    .clone()
                    .unwrap_or_else(|| infra.pg_admin_url.clone());
                psql(&admin, &format!("CREATE DATABASE {db}"));
                let server = match (&via.postgres, admin.rsplit_once('/')) {
                    (_, None) => panic!("PODPLANE_TEST_PG_URL must name a database"),
                    (Some(proxy), Some((server, _))) => match server.rsplit_once('@') {
                        Some((credentials, _)) => format!("{credentials}@{proxy}"),
                        None => format!("postgres://{proxy}"),
                    },
                    (None, Some((server, _))) => server.to_owned(),
                };
                let backing = Backing::Distributed {
                    database_url: format!("{server}/{db}"),
                    s3_prefix: format!("t-{}-{n}-{}/", std::process::id(), now_nanos()),
                    s3_endpoint: via
                        .s3
                        .map_or_else(|| infra.s3_endpoint.clone(), |a| format!("http://{a}")),
                    kafka: via.kafka.clone().unwrap_or_else(|| infra.kafka.clone()),
                };
                (backing, vec![free_addr(), free_addr()])
            }
        };
        let addr = if replicas.len() == 1 {
            replicas[0]
        } else {
            FaultProxy::over(replicas.clone()).addr
        };
        let base = format!("http://{addr}");
        let (notify_base, notify_replicas, notify_database) = match &backing {
            Backing::Distributed { database_url, .. } if via.notifications > 0 => {
                let replicas: Vec<SocketAddr> =
                    (0..via.notifications).map(|_| free_addr()).collect();
                let addr = FaultProxy::over(replicas.clone()).addr;
                let db = format!("{database_url}_n");
                let (server, name) = db.rsplit_once('/').expect("database URL");
                let admin = format!("{server}/postgres");
                let admin = via.postgres_admin.clone().unwrap_or(admin);
                psql(&admin, &format!("CREATE DATABASE {name}"));
                (format!("http://{addr}"), replicas, Some(db))
            }
            _ => (base.clone(), Vec::new(), None),
        };
        let provision_database = match &backing {
            Backing::Distributed { database_url, .. } => {
                let db = format!("{database_url}_p");
                let (server, name) = db.rsplit_once('/').expect("database URL");
                let admin = via
                    .postgres_admin
                    .clone()
                    .unwrap_or(format!("{server}/postgres"));
                psql(&admin, &format!("CREATE DATABASE {name}"));
                Some(db)
            }
            Backing::Disk { .. } => None,
        };
        let (provision_base, provision_replica) = match &backing {
            Backing::Distributed { .. } if via.provision => {
                let listen = free_addr();
                (format!("http://{listen}"), Some(listen))
            }
            _ => (base.clone(), None),
        };
        let (audit_base, audit_replica, audit_database) = match &backing {
            Backing::Distributed { database_url, .. } if via.audit => {
                let db = format!("{database_url}_a");
                let (server, name) = db.rsplit_once('/').expect("database URL");
                let admin = via
                    .postgres_admin
                    .clone()
                    .unwrap_or(format!("{server}/postgres"));
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let listen = free_addr();
                (format!("http://{listen}"), Some(listen), Some(db))
            }
            _ => (base.clone(), None, None),
        };
        let server = Server {
            audit_base,
            audit_replica,
            audit_children: Mutex::new(Vec::new()),
            audit_database,
            base,
            addr,
            replicas,
            backing,
            children: Mutex::new(Vec::new()),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            env: via.env.clone(),
            notify_base,
            notify_replicas,
            notify_children: Mutex::new(Vec::new()),
            notify_database,
            provision_base,
            provision_replica,
            provision_children: Mutex::new(Vec::new()),
            provision_database,
        };
        server.spawn();
        server
    }

    /// The broker the services use (distributed mode).
    pub fn kafka(&self) -> Option<&str> {
        match &self.backing {
            Backing::Distributed { kafka, .. } => Some(kafka),
            Backing::Disk { .. } => None,
        }
    }

    pub fn is_distributed(&self) -> bool {
        matches!(self.backing, Backing::Distributed { .. })
    }

    fn command(&self, listen: SocketAddr) -> Command {
        let mut cmd = Command::new(BIN);
        match &self.backing {
            Backing::Disk { dir } => {
                cmd.arg("serve").arg("--data-dir").arg(dir.path());
            }
            Backing::Distributed {
                database_url,
                s3_prefix,
                s3_endpoint,
                kafka,
            } => {
                let infra = infra().expect("distributed mode");
                cmd.arg("storage").args(["--database-url", database_url]);
                // One replica names its blob store by URL, the other with the shorthand
                // flags: both must mean the same place.
                if self.replicas.first() == Some(&listen) {
                    let url = format!("s3://{}/{s3_prefix}", infra.s3_bucket);
                    cmd.args(["--blob-url", &url]);
                } else {
                    cmd.args(["--s3-bucket", &infra.s3_bucket, "--s3-prefix", s3_prefix]);
                }
                // A group of this server's own: the suite's servers share one broker.
                let group = format!(
                    "podplane-s-{}",
                    database_url.rsplit('/').next().unwrap_or("")
                );
                cmd.args(["--s3-endpoint", s3_endpoint, "--s3-path-style"])
                    .args(["--kafka-bootstrap-servers", kafka])
                    .args(["--kafka-consumer-group", &group]);
                if self.notify_database.is_some() {
                    cmd.args(["--notifications-base-url", &self.notify_base]);
                }
                if self.provision_replica.is_some() {
                    cmd.args(["--provision-base-url", &self.provision_base]);
                }
                let peers = self.notify_database.is_some()
                    || self.provision_replica.is_some()
                    || self.audit_replica.is_some();
                if peers {
                    cmd.args(["--internal-secret", INTERNAL_SECRET]);
                }
            }
        }
        cmd.arg("--listen").arg(listen.to_string()).args([
            "--base-url",
            &self.base,
            "--exit-on-stdin-eof",
        ]);
        // The suite's identity provider is on loopback.
        let plain = self
            .extra
            .iter()
            .any(|e| e == "--no-private-fetch-for-tests");
        if !plain {
            cmd.arg("--allow-private-fetch");
        }
        let distributed = self.is_distributed();
        cmd.args(self.extra.iter().filter(|e| {
            let elsewhere = is_notify_flag(e)
                || is_audit_flag(e)
                || (is_provision_flag(e) && !is_storage_flag_too(e));
            *e != "--no-private-fetch-for-tests" && !(distributed && elsewhere)
        }))
        .env("PODPLANE_LOG", "warn")
        .envs(self.env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        cmd
    }

    /// A notifications replica (distributed mode).
    fn notify_command(&self, listen: SocketAddr) -> Command {
        let Backing::Distributed { kafka, .. } = &self.backing else {
            unreachable!("notifications replicas run in distributed mode only")
        };
        let db = self
            .notify_database
            .as_deref()
            .expect("notifications database");
        let group = format!("podplane-n-{}", db.rsplit('/').next().unwrap_or(db));
        let mut cmd = self.service_command("notifications", db, listen, &self.notify_base);
        cmd.args(["--kafka-bootstrap-servers", kafka])
            .args(["--kafka-consumer-group", &group])
            .args(self.extra.iter().filter(|e| is_notify_flag(e)));
        cmd
    }

    /// The provisioning replica (distributed mode).
    fn provision_command(&self, listen: SocketAddr) -> Command {
        let db = self
            .provision_database
            .as_deref()
            .expect("provisioning database");
        let mut cmd = self.service_command("provision", db, listen, &self.provision_base);
        cmd.args(self.extra.iter().filter(|e| is_provision_flag(e)));
        cmd
    }

    /// The audit replica (distributed mode), in a consumer group of this server's own.
    fn audit_command(&self, listen: SocketAddr) -> Command {
        let Backing::Distributed { kafka, .. } = &self.backing else {
            unreachable!("the audit replica runs in distributed mode only")
        };
        let db = self.audit_database.as_deref().expect("audit database");
        let group = format!("podplane-a-{}", db.rsplit('/').next().unwrap_or(db));
        let mut cmd = self.service_command("audit", db, listen, &self.audit_base);
        cmd.args(["--kafka-bootstrap-servers", kafka])
            .args(["--kafka-consumer-group", &group])
            .args(
                self.extra
                    .iter()
                    .filter(|e| is_audit_flag(e) || e.starts_with("--admin-webids")),
            );
        cmd
    }

    /// Starts the audit replica (distributed mode; nothing in embedded mode).
    pub fn spawn_audit(&self) {
        if let Some(listen) = self.audit_replica {
            let child = self.audit_command(listen).spawn().expect("spawn audit");
            self.audit_children.lock().unwrap().push(child);
            wait_ready(listen);
        }
    }

    /// SIGKILL to the audit replica (distributed mode).
    pub fn kill9_audit(&self) {
        for mut c in self.audit_children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The audit database's URL: the data directory's SQLite file, or the replica's
    /// PostgreSQL database.
    pub fn audit_database_url(&self) -> String {
        match &self.backing {
            Backing::Disk { dir } => {
                format!("sqlite://{}", dir.path().join("audit.sqlite").display())
            }
            Backing::Distributed { .. } => self.audit_database.clone().expect("audit database"),
        }
    }

    /// A service beside storage (distributed mode): its database, its address and base URL,
    /// and the way to storage's internal endpoints.
    fn service_command(&self, service: &str, db: &str, listen: SocketAddr, base: &str) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg(service)
            .args(["--database-url", db])
            .args(["--listen", &listen.to_string(), "--base-url", base])
            .args([
                "--storage-base-url",
                &self.base,
                "--storage-url",
                &self.base,
            ])
            .args(["--internal-secret", INTERNAL_SECRET])
            .args(["--allow-private-fetch", "--exit-on-stdin-eof"])
            .env("PODPLANE_LOG", "warn")
            .envs(self.env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    }

    fn spawn(&self) {
        self.spawn_storage();
        let mut children = self.notify_children.lock().unwrap();
        for listen in &self.notify_replicas {
            children.push(
                self.notify_command(*listen)
                    .spawn()
                    .expect("spawn notifications"),
            );
        }
        drop(children);
        for listen in &self.notify_replicas {
            wait_ready(*listen);
        }
        if let Some(listen) = self.provision_replica {
            let child = self
                .provision_command(listen)
                .spawn()
                .expect("spawn provision");
            self.provision_children.lock().unwrap().push(child);
            wait_ready(listen);
        }
        self.spawn_audit();
    }

    /// SIGKILL to one notifications replica (distributed mode): its connections and its
    /// share of the webhook consumer group go with it.
    pub fn kill9_notifications(&self, index: usize) {
        let mut children = self.notify_children.lock().unwrap();
        if index < children.len() {
            let mut c = children.remove(index);
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn pids(&self) -> Vec<u32> {
        self.children
            .lock()
            .unwrap()
            .iter()
            .map(Child::id)
            .collect()
    }

    /// The storage replicas (in embedded mode: the one server).
    fn spawn_storage(&self) {
        let mut children = self.children.lock().unwrap();
        for listen in &self.replicas {
            children.push(self.command(*listen).spawn().expect("spawn podplane"));
        }
        drop(children);
        for listen in &self.replicas {
            wait_ready(*listen);
        }
    }

    /// SIGKILL to the storage replicas only (distributed mode): the other services stay up
    /// and find storage gone.
    pub fn kill9_storage(&self) {
        for mut c in self.children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the storage replicas again after [`Server::kill9_storage`].
    pub fn restart_storage(&self) {
        self.kill9_storage();
        self.spawn_storage();
    }

    /// SIGKILL to every process, no chance to clean up: what a crash looks like.
    pub fn kill9(&self) {
        for mut c in self.children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for mut c in self.notify_children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        for mut c in self.provision_children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.kill9_audit();
    }

    /// Starts the same server again (same ports, same state) after a crash.
    pub fn restart(&self) {
        self.kill9();
        self.spawn();
    }

    /// A pod with a unique name whose access control lets anyone do anything: where the
    /// protocol tests run, so they can speak plain HTTP. Access control is still evaluated
    /// on every request; it just says yes. Returns the root URL (with trailing slash).
    pub fn pod(&self) -> String {
        let root = self.private_pod(&owner().webid, "acp");
        let acr = format!("{root}.acl");
        let body = OPEN_ACR.replace("{root}", &root);
        let agent = owner().clone();
        // Called from sync and async tests alike: do the one request on a thread of its own.
        let status = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                agent
                    .request(&client(), reqwest::Method::PUT, &acr)
                    .header("content-type", TURTLE)
                    .body(body)
                    .send()
                    .await
                    .expect("PUT open ACR")
                    .status()
            })
        })
        .join()
        .expect("open pod");
        assert!(status.is_success(), "opening the pod's ACR: {status}");
        root
    }

    /// A pod as `pod create` makes it: only `owner` has access. `access` is acp or wac.
    pub fn private_pod(&self, owner: &str, access: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.pod_command(&["create", &name, "--owner", owner, "--access", access]);
        format!("{}/{name}/", self.base)
    }

    /// Runs `podplane pod <args>` against this server's stores, as an operator would;
    /// returns its standard output (the command must succeed).
    pub fn pod_command(&self, args: &[&str]) -> String {
        let mut cmd = self.pod_process(args);
        let out = cmd.output().expect("run podplane pod");
        assert!(
            out.status.success(),
            "podplane pod {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `podplane pod <args>` against this server's stores, not yet started: for a test that
    /// feeds it, watches it or kills it.
    pub fn pod_process(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("pod").args(args).args(["--base-url", &self.base]);
        match &self.backing {
            Backing::Disk { dir } => {
                cmd.arg("--data-dir").arg(dir.path());
            }
            Backing::Distributed {
                database_url,
                s3_prefix,
                s3_endpoint,
                ..
            } => {
                let bucket = &infra().expect("distributed mode").s3_bucket;
                cmd.args(["--database-url", database_url])
                    .args(["--provision-database-url", &format!("{database_url}_p")])
                    .args(["--blob-url", &format!("s3://{bucket}/{s3_prefix}")])
                    .args(["--s3-endpoint", s3_endpoint, "--s3-path-style"]);
            }
        }
        cmd
    }

    /// Peak resident set size of the largest server process so far, in bytes (Linux VmHWM).
    pub fn peak_rss(&self) -> u64 {
        self.pids()
            .into_iter()
            .map(|pid| {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .expect("read /proc status");
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    .map(|kb| kb * 1024)
                    .expect("VmHWM in /proc status")
            })
            .max()
            .unwrap_or(0)
    }

    /// One number from the storage database (SQLite in the data directory, or the server's
    /// PostgreSQL database), as `sql` (standard SQL, a single `COUNT`) computes it.
    pub async fn storage_count(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        match &self.backing {
            Backing::Disk { dir } => {
                let url = format!(
                    "sqlite://{}?mode=ro",
                    dir.path().join("metadata.sqlite").display()
                );
                let mut c = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("open SQLite");
                sqlx::query_scalar(sql)
                    .fetch_one(&mut c)
                    .await
                    .expect("count")
            }
            Backing::Distributed { database_url, .. } => {
                // The whole suite may hold every connection the server allows for a moment.
                let mut attempts = 0;
                let mut c = loop {
                    match sqlx::PgConnection::connect(database_url).await {
                        Ok(c) => break c,
                        Err(e) if attempts < 100 => {
                            attempts += 1;
                            eprintln!("connecting to count rows: {e}; retrying");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("connecting to count rows: {e}"),
                    }
                };
                sqlx::query_scalar(sql)
                    .fetch_one(&mut c)
                    .await
                    .expect("count")
            }
        }
    }

    /// Runs `sql` on the storage database with `binds` ($1, $2, …), as an operator (or an
    /// earlier version) with access to it would.
    pub async fn storage_execute(&self, sql: &str, binds: &[&str]) {
        sqlx::any::install_default_drivers();
        let url = match &self.backing {
            Backing::Disk { dir } => {
                format!("sqlite://{}", dir.path().join("metadata.sqlite").display())
            }
            Backing::Distributed { database_url, .. } => database_url.clone(),
        };
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("open the storage database");
        let query = binds
            .iter()
            .fold(sqlx::query(sql), |q, b| q.bind(b.to_string()));
        query.execute(&mut c).await.expect("storage SQL");
    }

    /// Starts the same server again (same ports, same state) under another public base URL,
    /// with `extra` flags added: a server moved to a new domain.
    pub fn restart_under(&mut self, base: &str, extra: &[&str]) {
        self.kill9();
        let old = std::mem::replace(&mut self.base, base.to_owned());
        for service in [
            &mut self.notify_base,
            &mut self.provision_base,
            &mut self.audit_base,
        ] {
            if *service == old {
                *service = base.to_owned();
            }
        }
        self.extra.extend(extra.iter().map(|s| s.to_string()));
        self.spawn();
    }

    /// Runs `sql` on the audit database, as an intruder with access to it would.
    pub async fn audit_execute(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.audit_database_url())
            .await
            .expect("open the audit database");
        sqlx::query(sql).execute(&mut c).await.expect("tamper");
    }

    /// Number of stored blobs (files on disk, or objects under the server's S3 prefix).
    pub fn blob_files(&self) -> usize {
        match &self.backing {
            Backing::Disk { dir } => count_files(&dir.path().join("blobs")),
            Backing::Distributed { s3_prefix, .. } => count_objects(s3_prefix),
        }
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ =
                s.write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("podplane did not become ready at {addr}");
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Lists the S3 prefix on a thread of its own (tests call this from inside a runtime).
pub fn count_objects(prefix: &str) -> usize {
    let infra = infra().expect("distributed mode").clone();
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await;
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .endpoint_url(&infra.s3_endpoint)
                    .force_path_style(true)
                    .build(),
            );
            let listed = s3
                .list_objects_v2()
                .bucket(&infra.s3_bucket)
                .prefix(&prefix)
                .send()
                .await
                .expect("list S3");
            listed.contents().len()
        })
    })
    .join()
    .expect("S3 listing thread")
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if let (Backing::Distributed { database_url, .. }, Some(infra)) = (&self.backing, infra()) {
            // Databases on a test's own PostgreSQL go away with it.
            let shared_server = infra
                .pg_admin_url
                .rsplit_once('/')
                .map(|(server, _)| server);
            if let Some((server, db)) = database_url.rsplit_once('/') {
                if Some(server) == shared_server {
                    // The server's own database and its services' (`_n`, `_p`, `_a`).
                    let services = [format!("{db}_n"), format!("{db}_p"), format!("{db}_a")];
                    for db in std::iter::once(db.to_owned()).chain(services) {
                        psql(
                            &infra.pg_admin_url,
                            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                        );
                    }
                }
            }
        }
    }
}

/// The server most tests share. Statics are never dropped, so a distributed run first drops
/// the databases earlier runs' shared servers left behind.
pub fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(|| {
        if let Some(infra) = infra() {
            let out = Command::new("psql")
                .arg(&infra.pg_admin_url)
                .args([
                    "-Atc",
                    "SELECT datname FROM pg_database WHERE datname LIKE 'podplane_t_%'",
                ])
                .output()
                .expect("run psql");
            let mine = format!("podplane_t_{}_", std::process::id());
            for db in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|d| !d.starts_with(&mine))
            {
                psql(
                    &infra.pg_admin_url,
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                );
            }
        }
        Server::start(&[])
    })
}

/// The agent that owns every pod the harness creates.
pub fn owner() -> &'static Agent {
    static OWNER: OnceLock<Agent> = OnceLock::new();
    OWNER.get_or_init(|| idp().agent("owner"))
}

/// An ACR granting everyone every mode on the pod root and everything below it, its own
/// ACRs included.
const OPEN_ACR: &str = "@prefix acp: <http://www.w3.org/ns/solid/acp#>.
@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<> acp:resource <{root}>; acp:accessControl <#open>; acp:memberAccessControl <#open>.
<#open> acp:apply <#anyone-anything>; acp:access <#anyone-anything>.
<#anyone-anything> acp:allow acl:Read, acl:Write, acl:Append, acl:Control; acp:anyOf <#anyone>.
<#anyone> acp:agent acp:PublicAgent.
";

/// A fresh pod on the shared server.
pub fn pod() -> String {
    shared().pod()
}
