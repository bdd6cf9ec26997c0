//! The compose stack (`compose.yaml`: two storage replicas, notifications, provision and audit
//! behind HAProxy, PostgreSQL, Garage, Nisshi on SQLite), black-box through the load balancer's
//! published port, with a real DPoP client whose identity provider the services reach inside the stack. Runs only
//! when `scripts/stack.sh up` (with `PODPLANE_STACK_TEST=1`) exported the stack's address;
//! scripts/test.sh does that and sets `PODPLANE_STACK_REQUIRED=1` so it cannot be skipped.
//!
//! One test in phases, because its faults (a replica killed, the broker stopped) would
//! disturb anything running beside it.

use crate::harness::*;
use crate::idp::{Agent, Idp};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Where the services find the test identity provider (docker/compose/test.yaml).
const ISSUER: &str = "http://idp:8000";

struct Stack {
    url: String,
    idp_dir: PathBuf,
}

fn stack() -> Option<Stack> {
    let url = std::env::var("PODPLANE_STACK_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let idp_dir = std::env::var("PODPLANE_STACK_IDP_DIR")
        .ok()
        .filter(|d| !d.is_empty());
    match (url, idp_dir) {
        (Some(url), Some(idp_dir)) => Some(Stack {
            url,
            idp_dir: idp_dir.into(),
        }),
        _ if std::env::var("PODPLANE_STACK_REQUIRED").is_ok_and(|v| v == "1") => {
            panic!("PODPLANE_STACK_REQUIRED=1 but the stack's exports are missing (scripts/stack.sh up)")
        }
        _ => {
            eprintln!("SKIPPED: compose stack test (PODPLANE_STACK_TEST=1 scripts/stack.sh up; see scripts/test.sh)");
            None
        }
    }
}

/// A compose command against the stack, through scripts/stack.sh (it knows which compose
/// program and files the stack was brought up with).
fn compose(args: &[&str]) -> String {
    let out = run_compose(args).expect("run scripts/stack.sh compose");
    assert!(
        out.status.success(),
        "compose {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_compose(args: &[&str]) -> std::io::Result<std::process::Output> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new("bash")
        .arg(root.join("scripts/stack.sh"))
        .arg("compose")
        .args(args)
        .output()
}

/// When the test fails, the services' recent logs go to its output: the stack is taken down
/// right after, and its logs with it.
struct LogsOnFailure;

impl Drop for LogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let services = [
            "kafka",
            "storage-1",
            "storage-2",
            "notifications",
            "provision",
            "audit",
        ];
        let mut args = vec!["logs", "--no-color", "--timestamps", "--tail", "200"];
        args.extend(services);
        match run_compose(&args) {
            Ok(out) => eprintln!(
                "--- the stack's logs ---\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("cannot read the stack's logs: {e}"),
        }
    }
}

async fn compose_async(args: &'static [&'static str]) -> String {
    tokio::task::spawn_blocking(move || compose(args))
        .await
        .expect("compose task")
}

/// Serves the provider's documents from the stack's `idp` service (HAProxy returning files).
fn publish(idp: &Idp, dir: &Path) {
    let mut cfg = String::from(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend idp\n    bind :8000\n",
    );
    for (i, (path, content_type, body)) in idp.documents().into_iter().enumerate() {
        let file = format!("doc-{i}");
        std::fs::write(dir.join(&file), body).expect("write a provider document");
        cfg.push_str(&format!(
            "    http-request return status 200 content-type \"{content_type}\" file /usr/local/etc/haproxy/{file} if {{ path {path} }}\n"
        ));
    }
    cfg.push_str("    http-request return status 404\n");
    std::fs::write(dir.join("haproxy.cfg"), cfg).expect("write the provider's configuration");
    // HAProxy reads returned files at start-up.
    compose(&["restart", "idp"]);
}

async fn put_text(agent: &Agent, url: &str, body: &str) -> Result<u16, String> {
    agent
        .request(&client(), Method::PUT, url)
        .header("content-type", "text/plain")
        .body(body.to_owned())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

async fn read_text(agent: &Agent, url: &str) -> (u16, String) {
    let res = agent
        .request(&client(), Method::GET, url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("GET through the load balancer");
    let status = res.status().as_u16();
    (status, text(res).await)
}

#[tokio::test]
async fn stack_serves_a_dpop_client_and_survives_a_killed_replica_and_a_stopped_broker() {
    let Some(stack) = stack() else {
        return;
    };
    let _logs = LogsOnFailure;
    let idp = Idp::offline(ISSUER);
    let alice = idp.agent("alice");
    let mallory = idp.agent("mallory");
    publish(&idp, &stack.idp_dir);
    let pod = format!("stack{}", std::process::id());
    let created = compose(&[
        "run",
        "--rm",
        "-T",
        "migrate",
        "pod",
        "create",
        &pod,
        "--owner",
        &alice.webid,
    ]);
    assert!(created.contains("created pod"), "{created}");
    let root = format!("{}/{pod}/", stack.url);

    // The owner writes and reads through the load balancer; anonymous clients get a problem.
    let hello = format!("{root}hello.txt");
    assert_eq!(put_text(&alice, &hello, "hi").await, Ok(201));
    assert_eq!(read_text(&alice, &hello).await, (200, "hi".to_owned()));
    assert_problem(client().get(&hello).send().await.unwrap(), 401).await;

    // A storage replica killed during a stream of writes: every acknowledged write is there,
    // and the load balancer sends the rest to the other replica.
    let writer = {
        let alice = alice.clone();
        let root = root.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..200 {
                let url = format!("{root}kill/{i}.txt");
                if let Ok(s) = put_text(&alice, &url, &format!("v{i}")).await {
                    if (200..300).contains(&s) {
                        acknowledged.push((url, format!("v{i}")));
                    }
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    compose_async(&["kill", "storage-1"]).await;
    let acknowledged = writer.await.unwrap();
    compose_async(&["start", "storage-1"]).await;
    assert!(
        acknowledged.len() >= 150,
        "only {} of 200 writes succeeded with one replica left",
        acknowledged.len()
    );
    for (url, body) in &acknowledged {
        assert_eq!(read_text(&alice, url).await, (200, body.clone()), "{url}");
    }

    // A WebSocket channel on a container, through the load balancer.
    let outage = format!("{root}outage/");
    assert_eq!(
        put_text(&alice, &format!("{outage}seed.txt"), "seed").await,
        Ok(201)
    );
    let subscription = json!({
        "@context": ["https://www.w3.org/ns/solid/notification/v1"],
        "type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023",
        "topic": outage,
    });
    let res = alice
        .request(
            &client(),
            Method::POST,
            &format!("{}/.notifications/WebSocketChannel2023/", stack.url),
        )
        .header("content-type", "application/ld+json")
        .body(subscription.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let channel: Value = res.json().await.unwrap();
    let receive_from = channel["receiveFrom"]
        .as_str()
        .expect("receiveFrom")
        .to_owned();
    let (mut socket, _) = tokio_tungstenite::connect_async(receive_from.as_str())
        .await
        .expect("connect the WebSocket through the load balancer");

    // The broker stopped for 30 s: writes still succeed, and their notifications arrive
    // once it is back.
    let stopped = Instant::now();
    compose_async(&["stop", "kafka"]).await;
    let mut expected = Vec::new();
    for i in 0..20 {
        let url = format!("{outage}{i}.txt");
        assert_eq!(
            put_text(&alice, &url, "during the outage").await,
            Ok(201),
            "{url}"
        );
        expected.push(url);
    }
    if let Some(left) = Duration::from_secs(30).checked_sub(stopped.elapsed()) {
        tokio::time::sleep(left).await;
    }
    compose_async(&["start", "kafka"]).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut missing = expected.clone();
    while !missing.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => missing.retain(|url| !t.contains(url.as_str())),
            Ok(Some(Ok(_))) => {}
            other => panic!(
                "{} of 20 notifications missing after the broker returned ({other:?}): {missing:?}",
                missing.len()
            ),
        }
    }

    // The audit trail, through the load balancer: the owner's first write and the anonymous
    // refusal, to the owner only.
    let trail = format!("{}/.audit/events?pod={pod}&limit=1000", stack.url);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body) = read_text(&alice, &trail).await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).expect("a JSON page");
        let items = page["orderedItems"].as_array().cloned().unwrap_or_default();
        let has = |name: &str| {
            items
                .iter()
                .any(|e| e["name"] == name && e["object"][0]["id"] == hello.as_str())
        };
        if has("resource-created") && has("access-denied") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the trail never showed the write and the refusal: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(read_text(&mallory, &trail).await.0, 403);
}
