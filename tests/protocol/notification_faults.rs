//! Notifications under faults (distributed mode): webhook notifications for writes made while
//! the broker was down all arrive once it is back, none twice; a notifications replica killed
//! with SIGKILL hands webhook delivery to the other without losing any.

use crate::faults::Broker;
use crate::harness::*;
use crate::notifications::{receiver, Received};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// A container `name/` in an open pod of `server` with the owner's webhook subscribed to it:
/// the container's URL and what the webhook receives.
async fn watched(
    server: &Server,
    name: &str,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    let (url, received) = receiver().await;
    (watch(server, name, &url).await, received)
}

/// Creates the container `name/` (with a seed member) and subscribes the owner's webhook at
/// `url` to it; its URL.
async fn watch(server: &Server, name: &str, url: &str) -> String {
    let container = format!("{}{name}/", server.pod());
    let seed = put(&format!("{container}seed"), "text/plain", "0").await;
    assert!(seed.status().is_success(), "{}", seed.status());
    subscribe_webhook(server, &container, url).await;
    container
}

/// Which of `objects` were never notified, by index.
fn missing(seen: &HashMap<String, usize>, objects: &[String]) -> Vec<usize> {
    (0..objects.len())
        .filter(|i| !seen.contains_key(&objects[*i]))
        .collect()
}

/// Subscribes the owner's webhook at `url` to `container`.
async fn subscribe_webhook(server: &Server, container: &str, url: &str) {
    let body = json!({"type": "WebhookChannel2023", "topic": container, "sendTo": url});
    let res = owner()
        .request(
            &client(),
            Method::POST,
            &format!("{}/.notifications/WebhookChannel2023/", server.notify_base),
        )
        .header("content-type", "application/ld+json")
        .body(body.to_string())
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status(), 200, "{}", text(res).await);
}

/// Collects webhook notifications until an Add of every object in `want` arrived (or `wait`
/// passed), then listens `quiet` longer for duplicates. Returns how often each Add's object
/// arrived.
async fn collect_adds(
    received: &mut tokio::sync::mpsc::UnboundedReceiver<Received>,
    want: &[String],
    wait: Duration,
    quiet: Duration,
) -> HashMap<String, usize> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut settle: Option<tokio::time::Instant> = None;
    loop {
        let until = settle.unwrap_or(deadline);
        let Ok(Some((_, body))) = tokio::time::timeout_at(until, received.recv()).await else {
            break;
        };
        let m: Value = serde_json::from_slice(&body).unwrap_or_default();
        if m["type"] == "Add" {
            *seen
                .entry(m["object"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        if settle.is_none() && want.iter().all(|o| seen.contains_key(o)) {
            settle = Some(tokio::time::Instant::now() + quiet);
        }
    }
    seen
}

#[tokio::test]
async fn webhooks_get_every_write_made_while_the_broker_was_down_once() {
    let Some(broker) = Broker::of_this_test().await else {
        return;
    };
    let via = Via {
        kafka: Some(broker.address.clone()),
        notifications: 2,
        ..Via::default()
    };
    let Some(server) = Server::start_distributed(&via, &["--webhook-allow-loopback"]) else {
        return;
    };
    let (container, mut received) = watched(&server, "down").await;

    broker.pause();
    for i in 0..200 {
        let res = put(&format!("{container}{i}"), "text/plain", format!("{i}")).await;
        assert!(res.status().is_success(), "write {i}: {}", res.status());
    }
    broker.resume();

    let members: Vec<String> = (0..200).map(|i| format!("{container}{i}")).collect();
    let seen = collect_adds(
        &mut received,
        &members,
        Duration::from_secs(120),
        Duration::from_secs(3),
    )
    .await;
    let missing = missing(&seen, &members);
    assert!(missing.is_empty(), "never notified: {missing:?}");
    let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "notified more than once: {twice:?}");
}

/// Containers of the kill test. Add events are keyed by their container, so twelve containers
/// spread the writes over the topic's partitions: whichever replica dies held some of them
/// (with one container, a death of the replica that did not hold it would prove nothing).
const KILL_CONTAINERS: usize = 12;

#[tokio::test]
async fn webhook_delivery_survives_a_killed_notifications_replica() {
    let Some(server) = Server::start_distributed(
        &Via {
            notifications: 2,
            ..Via::default()
        },
        &["--webhook-allow-loopback"],
    ) else {
        return;
    };
    let (url, mut received) = receiver().await;
    let mut containers = Vec::with_capacity(KILL_CONTAINERS);
    for c in 0..KILL_CONTAINERS {
        containers.push(watch(&server, &format!("kill{c}"), &url).await);
    }
    let members: Vec<String> = (0..120)
        .map(|i| format!("{}{i}", containers[i % KILL_CONTAINERS]))
        .collect();
    for (i, member) in members.iter().enumerate() {
        if i == 36 {
            server.kill9_notifications(0);
        }
        let res = put(member, "text/plain", format!("{i}")).await;
        assert!(res.status().is_success(), "write {i}: {}", res.status());
    }
    let seen = collect_adds(
        &mut received,
        &members,
        Duration::from_secs(120),
        Duration::from_secs(2),
    )
    .await;
    let missing = missing(&seen, &members);
    assert!(missing.is_empty(), "never notified: {missing:?}");
    // At-least-once: only a delivery in flight when the replica died may be repeated.
    let repeated = seen.values().filter(|n| **n > 1).count();
    assert!(repeated <= 2, "{repeated} notifications repeated");
}
