//! Tracing: a trace a client starts (`traceparent`) continues through the storage service's
//! span, the event's Kafka message header and the notifications consumer's span, all
//! exported over OTLP to a collector (here one in the test, speaking OTLP/HTTP JSON).

use crate::harness::*;
use axum::routing::post;
use podplane_events::{tail, KafkaConfig, TailPositions, RESOURCE_TOPIC};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An OTLP/HTTP receiver: keeps every span it is sent, with its service's name.
struct Collector {
    url: String,
    spans: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Collector {
    async fn start() -> Collector {
        let spans: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let kept = spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    kept.lock().unwrap().extend(spans_of(&request));
                    "{}"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Collector { url, spans }
    }

    /// The process environment that points a service at this collector, flushing quickly.
    fn env(&self) -> Vec<(String, String)> {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Waits for a span of `trace_id` that `wanted` accepts (service name, span).
    async fn wait_for(
        &self,
        trace_id: &str,
        what: &str,
        wanted: impl Fn(&str, &Value) -> bool,
    ) -> (String, Value) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .find(|(service, span)| span["traceId"] == trace_id && wanted(service, span))
                .cloned();
            if let Some(found) = found {
                return found;
            }
            let seen: Vec<String> = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .map(|(service, span)| format!("{service}: {} {}", span["name"], span["traceId"]))
                .collect();
            assert!(
                Instant::now() < deadline,
                "no {what} span in trace {trace_id}; spans seen: {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// (service.name, span) of every span in an OTLP `ExportTraceServiceRequest`.
fn spans_of(request: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for resource_spans in request["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource_spans["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap_or_default()
            .to_owned();
        for scope in resource_spans["scopeSpans"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for span in scope["spans"].as_array().into_iter().flatten() {
                out.push((service.clone(), span.clone()));
            }
        }
    }
    out
}

// OTLP span kinds.
const SERVER: u64 = 2;
const CONSUMER: u64 = 5;

#[tokio::test]
async fn a_client_trace_continues_through_storage_the_event_and_its_consumer() {
    let collector = Collector::start().await;
    let via = Via {
        notifications: 1,
        env: collector.env(),
        ..Via::default()
    };
    let server = Server::start_with(&via, &[]);
    let trace_id = format!("{:032x}", uuid::Uuid::new_v4().as_u128());
    let parent_span = "b7ad6b7169203331";
    let url = format!("{}traced.txt", server.pod());

    // In distributed mode, read the event off the broker as any consumer would.
    let mut tailing = None;
    if let Some(bootstrap) = server.kafka() {
        let kafka = KafkaConfig::plaintext(bootstrap);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (found_tx, found_rx) = tokio::sync::oneshot::channel();
        let object = url.clone();
        tokio::spawn(async move {
            let mut found_tx = Some(found_tx);
            let mut positions = TailPositions::new();
            let _ = tail(
                &kafka,
                RESOURCE_TOPIC,
                &mut positions,
                |envelope| {
                    if String::from_utf8_lossy(&envelope.payload).contains(&object) {
                        if let Some(tx) = found_tx.take() {
                            let _ = tx.send(envelope);
                        }
                    }
                },
                move || {
                    let _ = ready_tx.send(());
                },
                std::future::pending(),
            )
            .await;
        });
        ready_rx.await.expect("tailing the resource topic");
        tailing = Some(found_rx);
    }

    let res = client()
        .put(&url)
        .header("content-type", "text/plain")
        .header("traceparent", format!("00-{trace_id}-{parent_span}-01"))
        .body("traced")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The storage span is the server side of the client's call.
    let storage = if server.is_distributed() {
        "podplane-storage"
    } else {
        "podplane"
    };
    let (_, request) = collector
        .wait_for(&trace_id, "storage request", |service, span| {
            service == storage && span["kind"] == SERVER && span["name"] == "PUT resource"
        })
        .await;
    assert_eq!(request["parentSpanId"], parent_span, "{request:#}");

    // The event carries the trace on the broker.
    if let Some(found) = tailing {
        let envelope = tokio::time::timeout(Duration::from_secs(30), found)
            .await
            .expect("the event on the broker in time")
            .unwrap();
        let traceparent = envelope.traceparent.expect("a traceparent header");
        assert!(
            traceparent.starts_with(&format!("00-{trace_id}-")),
            "{traceparent}"
        );
    }

    // The notifications service's consumer span joins the same trace.
    let consumer = if server.is_distributed() {
        "podplane-notifications"
    } else {
        "podplane"
    };
    let (_, processed) = collector
        .wait_for(&trace_id, "consumer", |service, span| {
            service == consumer && span["kind"] == CONSUMER
        })
        .await;
    assert_eq!(processed["name"], "podplane.resource.v1 process");
    assert_eq!(
        processed["parentSpanId"], request["spanId"],
        "the consumer's parent is the request that wrote: {processed:#}"
    );

    // The consumer's lag is on its /metrics, from librdkafka's statistics (every 5 s): none
    // once it has read everything.
    if let Some(replica) = server.notify_replicas.first() {
        let caught_up = format!(
            "{}{{consumer=\"tail\",topic=\"{RESOURCE_TOPIC}\"}} 0",
            podplane_events::CONSUMER_LAG
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let metrics = crate::requests::get(&format!("http://{replica}/metrics")).await;
            let body = crate::requests::text(metrics).await;
            if body.lines().any(|l| l == caught_up) {
                break;
            }
            assert!(Instant::now() < deadline, "no `{caught_up}` in:\n{body}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
