//! A broker that comes back without the producer's state (restarted, or a partition leader
//! lost): the idempotent producer fails fatally once, and the bus must replace it so the
//! outbox drains, rather than refuse every event from then on.

mod common;

use common::*;
use podplane_events::*;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[tokio::test]
async fn publishing_recovers_after_the_broker_lost_the_producers_state() {
    if !enabled("Kafka restart test") {
        return;
    }
    let port = free_port();
    let broker = Processes(vec![nisshi(port, port)]);
    let kafka = KafkaConfig {
        partitions: 1,
        ..KafkaConfig::plaintext(format!("127.0.0.1:{port}"))
    };
    let topic = format!("podplane.restart.{}", Uuid::new_v4().simple());
    let envelope = |n: u8| Envelope {
        id: Uuid::new_v4(),
        topic: topic.clone(),
        key: "k".into(),
        payload: vec![n],
        traceparent: None,
    };
    ensure_topics(&kafka, &[&topic]).await.unwrap();
    let bus = KafkaBus::connect(&kafka).unwrap();
    for n in 0..3 {
        bus.publish(&envelope(n)).await.unwrap();
    }

    // A new broker on the same address, knowing nothing of this producer.
    drop(broker);
    let _broker = Processes(vec![nisshi(port, port)]);
    ensure_topics(&kafka, &[&topic]).await.unwrap();

    // What the outbox relay does: retry until the event is accepted.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut failures = Vec::new();
    loop {
        match bus.publish(&envelope(9)).await {
            Ok(()) => break,
            Err(e) => failures.push(e.to_string()),
        }
        assert!(
            Instant::now() < deadline,
            "publishing never recovered: {failures:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
