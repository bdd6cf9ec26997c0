//! Notification benchmark: latency from a write's acknowledgement to its WebSocket message at a
//! steady write rate, and how many idle WebSocket subscribers one server holds.
//!
//! Usage: bench_notify latency NOTIFY_BASE CONTAINER_URL IDP_URL RATE SECONDS
//!        bench_notify idle NOTIFY_BASE CONTAINER_URL IDP_URL COUNT HOLD_SECONDS
//! CONTAINER_URL must be writable by anyone (the bench opens its pod); the subscriber is the
//! bench identity provider's owner (IDP_URL/token and /proofs). Prints `key value` lines.

use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn subscribe(client: &reqwest::Client, base: &str, topic: &str, idp: &str) -> String {
    let url = format!("{base}/.notifications/WebSocketChannel2023/");
    let token = client
        .get(format!("{idp}/token"))
        .send()
        .await
        .expect("token");
    let token = token.text().await.expect("token");
    let proof = client
        .get(format!("{idp}/proofs"))
        .query(&[("n", "1"), ("method", "POST"), ("url", url.as_str())])
        .send()
        .await
        .expect("proof")
        .text()
        .await
        .expect("proof");
    let body = serde_json::json!({"type": "WebSocketChannel2023", "topic": topic});
    let res = client
        .post(&url)
        .header("authorization", format!("DPoP {}", token.trim()))
        .header("dpop", proof.trim())
        .header("content-type", "application/ld+json")
        .body(body.to_string())
        .send()
        .await
        .expect("subscribe");
    assert!(res.status().is_success(), "subscribe: {}", res.status());
    let channel: serde_json::Value = res.json().await.expect("channel");
    channel["receiveFrom"]
        .as_str()
        .expect("receiveFrom")
        .to_owned()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn latency(base: &str, container: &str, idp: &str, rate: u64, seconds: u64) {
    let client = reqwest::Client::new();
    let receive_from = subscribe(&client, base, container, idp).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(&receive_from)
        .await
        .expect("connect");
    let acked: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let received: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let reader = {
        let received = received.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = socket.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                    if v["type"] == "Add" {
                        let object = v["object"].as_str().unwrap_or_default().to_owned();
                        received.lock().unwrap().insert(object, Instant::now());
                    }
                }
            }
        })
    };
    let total = rate * seconds;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut writes = Vec::new();
    let run = format!("{}", std::process::id());
    for i in 0..total {
        tick.tick().await;
        let (client, acked) = (client.clone(), acked.clone());
        let url = format!("{container}{run}-{i}");
        writes.push(tokio::spawn(async move {
            let res = client
                .put(&url)
                .header("content-type", "text/plain")
                .body("x")
                .send()
                .await;
            if res.is_ok_and(|r| r.status().is_success()) {
                acked.lock().unwrap().insert(url, Instant::now());
            }
        }));
    }
    for w in writes {
        let _ = w.await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    reader.abort();
    let acked = acked.lock().unwrap().clone();
    let received = received.lock().unwrap().clone();
    let mut ms: Vec<f64> = acked
        .iter()
        .filter_map(|(url, at)| {
            // A message can beat the acknowledgement to the client: that is zero latency.
            received
                .get(url)
                .map(|r| r.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    println!("writes_acknowledged {}", acked.len());
    println!("notifications_received {}", ms.len());
    println!("p50_ms {:.1}", percentile(&ms, 0.50));
    println!("p99_ms {:.1}", percentile(&ms, 0.99));
}

async fn idle(base: &str, container: &str, idp: &str, count: usize, hold: u64) {
    let client = reqwest::Client::new();
    let receive_from = subscribe(&client, base, container, idp).await;
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        match tokio_tungstenite::connect_async(&receive_from).await {
            Ok((s, _)) => sockets.push(s),
            Err(e) => {
                eprintln!("connect failed after {} sockets: {e}", sockets.len());
                break;
            }
        }
    }
    println!("idle_sockets {}", sockets.len());
    // Hold them while the caller reads the server's memory.
    tokio::time::sleep(Duration::from_secs(hold)).await;
    drop(sockets);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "latency" => {
            let rate = arg(5).parse().unwrap_or(500);
            let seconds = arg(6).parse().unwrap_or(10);
            latency(&arg(2), &arg(3), &arg(4), rate, seconds).await
        }
        "idle" => {
            let count = arg(5).parse().unwrap_or(10_000);
            idle(
                &arg(2),
                &arg(3),
                &arg(4),
                count,
                arg(6).parse().unwrap_or(5),
            )
            .await
        }
        _ => eprintln!("usage: bench_notify latency|idle NOTIFY_BASE CONTAINER_URL IDP_URL …"),
    }
}
