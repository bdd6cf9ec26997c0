//! Audited changes queue their audit event in their own transaction: one per committed
//! change (the pod's provisioning included), none for a change that failed or was not
//! audited.

use super::{doc, p};
use podplane_events::{AuditEvent, AuditName, Audited};
use podplane_store::*;

pub async fn audited_changes_queue_their_event_in_the_same_transaction(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("au")).await.unwrap();
    let who = Audited {
        webid: Some("https://id.test/me".into()),
        client_id: Some("https://app.test/id".into()),
        issuer: Some("https://idp.test/".into()),
        request_id: Some("req-1".into()),
    };
    let audited = |path: &str, unchanged| WriteRequest {
        audit: Some(who.clone()),
        ..doc(path, unchanged)
    };
    store.write(audited("/au/a", None)).await.unwrap();
    store.write(audited("/au/a", None)).await.unwrap();
    assert!(matches!(
        store.write(audited("/au/a", Some(None))).await,
        Err(StoreError::Changed)
    ));
    store.write(doc("/au/unaudited", None)).await.unwrap();
    store
        .delete(DeleteRequest {
            path: p("/au/a"),
            auxiliaries: Vec::new(),
            expect: Expect::default(),
            actor: None,
            audit: Some(who.clone()),
        })
        .await
        .unwrap();

    let events: Vec<AuditEvent> = store
        .outbox_pending(100_000)
        .await
        .unwrap()
        .iter()
        .filter_map(|(_, e)| AuditEvent::of(e))
        .filter(|e| e.pod() == "au")
        .collect();
    let seen: Vec<(AuditName, u16)> = events
        .iter()
        .map(|e| (e.name, e.result[0].status))
        .collect();
    assert_eq!(
        seen,
        [
            // The pod itself, provisioned for its owner (none here).
            (AuditName::PodProvisioned, 201),
            (AuditName::ResourceCreated, 201),
            (AuditName::ResourceUpdated, 204),
            (AuditName::ResourceDeleted, 204),
        ]
    );
    assert_eq!(events[0].object[0].id, format!("{}/au/", super::BASE));
    assert!(events[0].actor.is_empty());
    let first = &events[1];
    assert_eq!(first.object[0].id, format!("{}/au/a", super::BASE));
    assert_eq!(first.target.id, format!("{}/au/", super::BASE));
    assert_eq!(first.actor[0].id, "https://id.test/me");
    assert_eq!(first.identifier.as_deref(), Some("req-1"));
    assert_eq!(first.instrument.len(), 2);
    assert_eq!(first.generator.name, STORAGE_SERVICE);
}
