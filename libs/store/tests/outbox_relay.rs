//! The outbox relay publishes committed events at least once, in commit order, and keeps them
//! through a bus outage.

use podplane_events::{Envelope, EventBus, EventError};
use podplane_solid::path::ResourcePath;
use podplane_store::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A bus that records what it accepts and can be switched off.
#[derive(Default)]
struct RecordingBus {
    down: AtomicBool,
    seen: Mutex<Vec<Envelope>>,
}

#[async_trait::async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), EventError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(EventError::Unavailable("switched off".into()));
        }
        self.seen.lock().unwrap().push(envelope.clone());
        Ok(())
    }
}

async fn write(store: &SqliteMetadataStore, path: &str) {
    store
        .write(WriteRequest {
            path: ResourcePath::parse(path).unwrap(),
            kind: Kind::Rdf,
            content_type: "text/turtle".into(),
            content: Content::Inline(Vec::new()),
            size: 0,
            expect: Expect::default(),
            create_ancestors: true,
            auxiliary_of: None,
            actor: None,
            audit: None,
            default_quota: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn relay_survives_a_bus_outage_without_loss_or_reordering() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("m.sqlite"), "http://x")
        .await
        .unwrap();
    store.create_pod(NewPod::bare("p")).await.unwrap();
    let bus = RecordingBus::default();

    bus.down.store(true, Ordering::SeqCst);
    for i in 0..50 {
        write(&store, &format!("/p/doc{i}")).await;
    }
    assert!(relay_batch(&store, &bus).await.is_err());
    assert!(bus.seen.lock().unwrap().is_empty());

    bus.down.store(false, Ordering::SeqCst);
    while relay_batch(&store, &bus).await.unwrap() > 0 {}
    let seen = bus.seen.lock().unwrap().clone();
    // Pod root Create and its pod-provisioned audit event + (Create, Add) per document.
    assert_eq!(seen.len(), 2 + 50 * 2);
    let objects: Vec<String> = seen
        .iter()
        .map(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).unwrap())
        .filter(|e| e["type"] == "Create")
        .map(|e| e["object"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = std::iter::once("http://x/p/".to_owned())
        .chain((0..50).map(|i| format!("http://x/p/doc{i}")))
        .collect();
    assert_eq!(objects, expected);
    assert!(store.outbox_pending(10).await.unwrap().is_empty());
    // Nothing is published twice once marked sent.
    assert_eq!(relay_batch(&store, &bus).await.unwrap(), 0);
}
