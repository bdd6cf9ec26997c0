//! Deleting a pod: gone for clients in one transaction, then purged in batches, then its name
//! freed; every step repeatable, and nothing outside the pod touched.

use super::{blob, doc, p};
use podplane_store::*;

fn pod_events(pending: &[(i64, podplane_events::Envelope)]) -> Vec<podplane_events::PodEvent> {
    pending
        .iter()
        .filter_map(|(_, e)| podplane_events::PodEvent::of(e))
        .collect()
}

pub async fn pods_are_deleted_then_purged_in_batches(store: &dyn MetadataStore) {
    // Neighbours whose names sort right around the deleted pod's paths.
    for name in ["gone", "gone-a", "gonea", "gon"] {
        store.create_pod(NewPod::bare(name)).await.unwrap();
        store.write(doc(&format!("/{name}/x"), None)).await.unwrap();
    }
    store.write(doc("/gone/a/b/c", None)).await.unwrap();
    store.register_pending_blob("kpurge01").await.unwrap();
    store.write(blob("/gone/a/pic", "kpurge01")).await.unwrap();
    store
        .write(WriteRequest {
            auxiliary_of: Some(p("/gone/x")),
            ..doc("/gone/x.acl", None)
        })
        .await
        .unwrap();
    // Cached stores remember this row; the purge must not leave it behind.
    assert!(store.get("/gone/x").await.unwrap().is_some());

    let actor = Some("https://admin.test/#me");
    assert_eq!(
        store.delete_pod("gone", actor).await.unwrap(),
        PodDeletion::Deleted
    );
    assert_eq!(
        store.delete_pod("gone", actor).await.unwrap(),
        PodDeletion::AlreadyDeleted
    );
    assert_eq!(
        store.delete_pod("never", actor).await.unwrap(),
        PodDeletion::NoSuchPod
    );
    // Gone for clients at once: no pod, no root, no writes; the name is still taken.
    assert!(store.get_pod("gone").await.unwrap().is_none());
    assert!(!store
        .list_pods()
        .await
        .unwrap()
        .iter()
        .any(|pod| pod.name == "gone"));
    assert!(store.get("/gone/").await.unwrap().is_none());
    assert!(matches!(
        store.write(doc("/gone/new", None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.create_pod(NewPod::bare("gone")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.set_quota("gone", Some(5)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.deleted_pods().await.unwrap(), ["gone"]);
    // A live pod is never purged, nor finished.
    assert!(matches!(
        store.purge_rows("gone-a", 10).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.finish_purge("gone-a").await,
        Err(StoreError::Conflict(_))
    ));

    // Rows left: x, x.acl, a/, a/b/, a/b/c, a/pic (the root went with the deletion).
    let mut rows = 0;
    let mut keys = Vec::new();
    loop {
        assert!(!store.finish_purge("gone").await.unwrap() || rows == 6);
        let batch = store.purge_rows("gone", 2).await.unwrap();
        assert!(batch.rows <= 2);
        if batch.rows == 0 {
            break;
        }
        rows += batch.rows;
        keys.extend(batch.blob_keys);
    }
    assert_eq!(rows, 6);
    assert_eq!(keys, ["kpurge01"]);
    // Its blob is garbage due at once, whatever the grace period.
    let due = store.garbage(now_ms() - 3_600_000, 100).await.unwrap();
    assert!(due.contains(&"kpurge01".to_owned()));
    assert!(store.finish_purge("gone").await.unwrap());
    assert!(store.finish_purge("gone").await.unwrap(), "repeatable");
    assert_eq!(
        store.purge_rows("gone", 2).await.unwrap(),
        PurgedRows::default()
    );
    assert!(store.deleted_pods().await.unwrap().is_empty());
    for name in ["gone-a", "gonea", "gon"] {
        assert!(store.get(&format!("/{name}/x")).await.unwrap().is_some());
        assert!(store.get(&format!("/{name}/")).await.unwrap().is_some());
    }

    let events = pod_events(&store.outbox_pending(100_000).await.unwrap());
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.pod == "gone")
        .map(|e| (e.kind, e.actor.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                podplane_events::PodEventKind::PodDeleted,
                actor.map(str::to_owned)
            ),
            (podplane_events::PodEventKind::PodPurged, None),
        ]
    );
    assert_eq!(events[0].storage, format!("{}/gone/", super::BASE));
    // Its audit trail records the deletion, by whom, in the same transaction.
    let audited: Vec<_> = store
        .outbox_pending(100_000)
        .await
        .unwrap()
        .iter()
        .filter_map(|(_, e)| podplane_events::AuditEvent::of(e))
        .filter(|e| e.pod() == "gone")
        .map(|e| (e.name, e.actor.first().map(|a| a.id.clone())))
        .collect();
    assert_eq!(
        audited,
        [
            (podplane_events::AuditName::PodProvisioned, None),
            (
                podplane_events::AuditName::PodDeleted,
                actor.map(str::to_owned)
            ),
        ]
    );

    // The name is free: a new pod under it starts empty.
    store.create_pod(NewPod::bare("gone")).await.unwrap();
    assert!(store.get("/gone/").await.unwrap().is_some());
    assert!(store.get("/gone/x").await.unwrap().is_none());
    assert!(store.get("/gone/a/b/c").await.unwrap().is_none());
    assert_eq!(store.get_pod("gone").await.unwrap().unwrap().used_bytes, 0);
}
