//! Distributed mode under failure (issue 3's fault tests): S3 unreachable, PostgreSQL going
//! away under load, Kafka down for the length of 1 000 writes. Replica crashes mid-upload are
//! `durability::crash_mid_upload_keeps_old_content_and_orphan_is_collected`, which runs in
//! both modes. In embedded mode these tests say they are skipped.

use crate::harness::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[tokio::test]
async fn s3_unreachable_is_503_with_metadata_unchanged_and_recovers() {
    let proxy = FaultProxy::start_if(s3_addr_if_distributed());
    let Some(proxy) = proxy else { return };
    let Some(server) = Server::start_distributed(
        &Via {
            s3: Some(proxy.addr),
            ..Via::default()
        },
        &[],
    ) else {
        return;
    };
    let root = server.pod();
    let file = format!("{root}photos/one.bin");
    assert_eq!(
        put(&file, "application/octet-stream", "version 1")
            .await
            .status(),
        201
    );
    let doc = format!("{root}notes/doc");
    put_turtle(&doc, "<#a> <#b> 1.").await;
    let listing_before = text(get(&format!("{root}photos/")).await).await;

    proxy.cut();
    let detail = assert_problem(
        put(
            &format!("{root}photos/two.bin"),
            "application/octet-stream",
            "new",
        )
        .await,
        503,
    )
    .await;
    assert!(detail.contains("unavailable"), "{detail}");
    let res = put(&file, "application/octet-stream", "version 2").await;
    assert!(!header(&res, "retry-after").is_empty());
    assert_problem(res, 503).await;
    assert_problem(get(&file).await, 503).await;
    // Metadata is unchanged: the failed writes left no trace.
    assert_eq!(
        text(get(&format!("{root}photos/")).await).await,
        listing_before
    );
    assert_eq!(get(&format!("{root}photos/two.bin")).await.status(), 404);
    // Small RDF documents live in the database and stay fully usable.
    assert_eq!(put(&doc, TURTLE, "<#a> <#b> 2.").await.status(), 204);
    assert!(text(get(&doc).await).await.contains('2'));

    proxy.restore();
    assert_eq!(text(get(&file).await).await, "version 1");
    assert_eq!(
        put(&file, "application/octet-stream", "version 2")
            .await
            .status(),
        204
    );
    assert_eq!(text(get(&file).await).await, "version 2");
}

fn s3_addr_if_distributed() -> Option<std::net::SocketAddr> {
    std::env::var("PODPLANE_TEST_MODE")
        .is_ok_and(|m| m == "distributed")
        .then(s3_addr)
}

#[tokio::test]
async fn postgres_cut_off_under_load_is_503_never_500_and_recovers() {
    let distributed = std::env::var("PODPLANE_TEST_MODE").is_ok_and(|m| m == "distributed");
    let Some(proxy) = FaultProxy::start_if(distributed.then(postgres_addr)) else {
        eprintln!("SKIPPED: this test needs distributed mode (PODPLANE_TEST_MODE=distributed)");
        return;
    };
    let via = Via {
        postgres: Some(proxy.addr),
        ..Via::default()
    };
    let Some(server) = Server::start_distributed(&via, &[]) else {
        return;
    };
    survive_outage_under_load(&server, async {
        proxy.cut();
        tokio::time::sleep(Duration::from_secs(2)).await;
        proxy.restore();
    })
    .await;
}

#[tokio::test]
async fn postgres_restarted_under_load_is_503_never_500_and_recovers() {
    if std::env::var("PODPLANE_TEST_MODE").as_deref() != Ok("distributed") {
        eprintln!("SKIPPED: this test needs distributed mode (PODPLANE_TEST_MODE=distributed)");
        return;
    }
    // A PostgreSQL of this test's own, so restarting it disturbs no other test.
    let pg = PrivatePostgres::start();
    let via = Via {
        postgres_admin: Some(pg.admin_url()),
        ..Via::default()
    };
    let Some(server) = Server::start_distributed(&via, &[]) else {
        return;
    };
    survive_outage_under_load(&server, async {
        pg.ctl(&["-m", "fast", "stop"]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.ctl(&["start"]);
    })
    .await;
}

/// Runs a PUT/GET load on `server` while `outage` happens, then checks: only 2xx, 404 and
/// 503 (never 500), the outage was seen, everything well after it succeeded (no restart
/// needed), and every acknowledged write holds its last acknowledged content.
async fn survive_outage_under_load(server: &Server, outage: impl std::future::Future<Output = ()>) {
    let root = server.pod();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (root, stop) = (root.clone(), stop.clone());
        tokio::spawn(async move {
            let mut statuses: Vec<(u16, Instant)> = Vec::new();
            let mut acknowledged = HashMap::new();
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let url = format!("{root}load/{}", i % 20);
                let body = format!("<#it> <#n> {i}.");
                let status = match client()
                    .put(&url)
                    .header("content-type", TURTLE)
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                if status == 201 || status == 204 {
                    acknowledged.insert(url.clone(), i);
                }
                statuses.push((status, Instant::now()));
                let status = match client().get(&url).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                statuses.push((status, Instant::now()));
                i += 1;
            }
            (statuses, acknowledged)
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    outage.await;
    let restored_at = Instant::now();
    // Keep the load going well past the end of the outage, however slow the machine is.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (statuses, acknowledged) = load.await.unwrap();

    let count = |code: u16| statuses.iter().filter(|(s, _)| *s == code).count();
    assert_eq!(count(500), 0, "no 500s: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(s, _)| matches!(s, 200 | 201 | 204 | 404 | 503)),
        "{statuses:?}"
    );
    assert!(count(503) > 0, "the outage should have been seen");
    let late: Vec<u16> = statuses
        .iter()
        .filter(|(_, t)| *t > restored_at + Duration::from_secs(4))
        .map(|(s, _)| *s)
        .collect();
    assert!(
        !late.is_empty() && late.iter().all(|s| matches!(s, 200 | 201 | 204)),
        "{late:?}"
    );
    for (url, n) in acknowledged {
        let body = text(get(&url).await).await;
        assert!(
            body.contains(&format!(" {n} ")),
            "{url} should hold {n}: {body}"
        );
    }
}

/// A throw-away PostgreSQL cluster (the machine's binaries, run as the postgres user).
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL binaries in /usr/lib/postgresql")
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|v| v.parse::<u32>().ok()))
            .max()
            .expect("a PostgreSQL version");
        let bin = std::path::PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        run(std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path()));
        let pg = PrivatePostgres { dir, port, bin };
        run(pg
            .as_postgres("initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(pg.data()));
        pg.ctl(&["start"]);
        pg
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("runuser");
        cmd.args(["-u", "postgres", "--"])
            .arg(self.bin.join(program));
        cmd
    }

    fn ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &options])
            .args(args));
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

fn run(cmd: &mut std::process::Command) {
    let out = cmd.output().expect("run a PostgreSQL command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test]
async fn kafka_down_for_1000_writes_loses_no_event() {
    let Some(broker) = Broker::of_this_test().await else {
        return;
    };
    let via = Via {
        kafka: Some(broker.address.clone()),
        ..Via::default()
    };
    let Some(server) = Server::start_distributed(&via, &[]) else {
        return;
    };
    let root = server.pod();

    broker.pause();
    // 100 resources written 10 times each; remember each version's ETag in order.
    let mut versions: HashMap<String, Vec<String>> = HashMap::new();
    for round in 0..10 {
        for r in 0..100 {
            let url = format!("{root}events/{r}.bin");
            let res = put(&url, "application/octet-stream", format!("{round}")).await;
            assert!(
                res.status().is_success(),
                "write {round}/{r}: {}",
                res.status()
            );
            versions.entry(url).or_default().push(header(&res, "etag"));
        }
    }
    // The relay's lag shows on /metrics: the backlog and the age of its oldest event.
    let replica = format!("http://{}", server.replicas[0]);
    let lagging = |pending: f64, age: f64| pending >= 1000.0 && age > 0.0;
    wait_for_backlog(&replica, "1000 events waiting", lagging).await;
    broker.resume();

    // Every write's event arrives, per resource in write order, none lost.
    let seen: std::sync::Arc<std::sync::Mutex<HashMap<String, Vec<String>>>> = Default::default();
    let done = std::sync::Arc::new(tokio::sync::Notify::new());
    let (seen2, done2, expected) = (seen.clone(), done.clone(), versions.clone());
    let group = format!("faults-{}", std::process::id());
    let topics = [podplane_events::RESOURCE_TOPIC];
    let kafka = broker.config();
    let consumer = podplane_events::consume(
        &kafka,
        &group,
        &topics,
        move |envelope| {
            let (seen, done, expected) = (seen2.clone(), done2.clone(), expected.clone());
            async move {
                let event: serde_json::Value =
                    serde_json::from_slice(&envelope.payload).unwrap_or_default();
                let object = event["object"].as_str().unwrap_or_default().to_owned();
                if matches!(event["type"].as_str(), Some("Create" | "Update"))
                    && expected.contains_key(&object)
                {
                    let mut seen = seen.lock().unwrap();
                    seen.entry(object)
                        .or_default()
                        .push(event["state"].as_str().unwrap_or_default().to_owned());
                    if seen.values().map(Vec::len).sum::<usize>() >= 1000 {
                        done.notify_one();
                    }
                }
                Ok(())
            }
        },
        async move { done.notified().await },
    );
    tokio::time::timeout(Duration::from_secs(120), consumer)
        .await
        .expect("all events in time")
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.values().map(Vec::len).sum::<usize>(), 1000);
    assert_eq!(seen, versions);
    let drained = |pending: f64, age: f64| pending == 0.0 && age == 0.0;
    wait_for_backlog(&replica, "the backlog drained", drained).await;
}

/// Polls a replica's outbox gauges until `wanted(pending, oldest age)` holds (they are
/// sampled every 5 s).
async fn wait_for_backlog(replica: &str, what: &str, wanted: impl Fn(f64, f64) -> bool) {
    let gauge = |body: &str, name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = text(get(&format!("{replica}/metrics")).await).await;
        let pending = gauge(&body, "podplane_outbox_pending");
        let age = gauge(&body, "podplane_outbox_oldest_age_seconds");
        if let (Some(pending), Some(age)) = (pending, age) {
            if wanted(pending, age) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: pending {pending:?}, oldest age {age:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A Nisshi broker (from scripts/dev-services.sh's install) on a port of its own.
pub struct Broker {
    pub address: String,
    child: std::process::Child,
}

impl Broker {
    pub fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let nisshi = std::env::var("HOME")
            .map(|h| format!("{h}/.cargo/bin/nisshi"))
            .unwrap_or_else(|_| "nisshi".into());
        let child = std::process::Command::new(nisshi)
            .args(["broker", "--storage-engine", "memory://nisshi/"])
            .args(["--listener-url", &format!("tcp://{address}")])
            .args(["--advertised-listener-url", &format!("tcp://{address}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nisshi (scripts/dev-services.sh up kafka installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(&address).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Broker { address, child }
    }

    /// In distributed mode, a broker of the calling test's own (so stopping it disturbs no
    /// other test) holding podplane's topic; elsewhere `None`, and the test is skipped.
    pub async fn of_this_test() -> Option<Broker> {
        if std::env::var("PODPLANE_TEST_MODE").as_deref() != Ok("distributed") {
            eprintln!("SKIPPED: this test needs distributed mode (PODPLANE_TEST_MODE=distributed)");
            return None;
        }
        let broker = Broker::start();
        podplane_events::ensure_topics(&broker.config(), &[podplane_events::RESOURCE_TOPIC])
            .await
            .unwrap();
        Some(broker)
    }

    /// How a client of this broker is configured (plaintext, 3 partitions).
    pub fn config(&self) -> podplane_events::KafkaConfig {
        podplane_events::KafkaConfig {
            partitions: 3,
            ..podplane_events::KafkaConfig::plaintext(&self.address)
        }
    }

    /// SIGSTOP: the broker stops answering but keeps its state, like a hung or partitioned one.
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
