//! What moving data needs of a store: walking a pod in path order, storing a document another
//! way without a new version (a data migration), remembering a migration's progress, and
//! importing a pod all or nothing.

use super::doc;
use podplane_store::*;

fn imported(path: &str, bytes: &[u8], modified_ms: i64) -> ImportedRow {
    ImportedRow {
        path: path.into(),
        kind: if path.ends_with('/') {
            Kind::Container
        } else {
            Kind::Rdf
        },
        content_type: "text/turtle".into(),
        content: Content::Inline(bytes.to_vec()),
        size: bytes.len() as u64,
        modified_ms,
        creator: Some("https://id.test/me".into()),
    }
}

fn pod(name: &str) -> Pod {
    Pod {
        name: name.into(),
        owner: Some("https://id.test/me".into()),
        access: AccessKind::Wac,
        created_ms: 1_700_000_000_000,
        used_bytes: 0,
        quota_bytes: None,
    }
}

pub async fn pods_are_walked_in_order_and_rewritten_in_place(store: &dyn MetadataStore) {
    for name in ["walk", "walk-a", "walka"] {
        store.create_pod(NewPod::bare(name)).await.unwrap();
        store.write(doc(&format!("/{name}/x"), None)).await.unwrap();
    }
    store.write(doc("/walk/b/c", None)).await.unwrap();
    let mut seen = Vec::new();
    let mut after = "/walk.".to_owned();
    loop {
        let rows = store.scan(&after, "/walk0", 2).await.unwrap();
        let Some(last) = rows.last() else { break };
        after = last.path.clone();
        seen.extend(rows.into_iter().map(|r| r.path));
    }
    assert_eq!(seen, ["/walk/", "/walk/b/", "/walk/b/c", "/walk/x"]);

    let before = store.get("/walk/x").await.unwrap().unwrap();
    let used = store.get_pod("walk").await.unwrap().unwrap().used_bytes;
    let other = b"<x> <y> <z>, <w> .".to_vec();
    let n = other.len() as u64;
    assert!(store
        .rewrite("/walk/x", &before.etag, Content::Inline(other.clone()), n)
        .await
        .unwrap());
    let after_rewrite = store.get("/walk/x").await.unwrap().unwrap();
    assert_eq!(after_rewrite.content, Content::Inline(other));
    assert_eq!(
        (&after_rewrite.etag, after_rewrite.modified_ms),
        (&before.etag, before.modified_ms),
        "the same version, stored another way"
    );
    let grown = store.get_pod("walk").await.unwrap().unwrap().used_bytes;
    assert_eq!(grown - used, n as i64 - before.size as i64);
    // A write came first: the rewrite of the old version is refused.
    let stale = Content::Inline(b"<old> <old> <old> .".to_vec());
    assert!(!store
        .rewrite("/walk/x", "\"nope\"", stale.clone(), 19)
        .await
        .unwrap());
    assert!(!store
        .rewrite("/walk/none", &before.etag, stale, 19)
        .await
        .unwrap());

    assert_eq!(store.setting("progress-test").await.unwrap(), None);
    store.set_setting("progress-test", "one").await.unwrap();
    store.set_setting("progress-test", "two").await.unwrap();
    assert_eq!(
        store.setting("progress-test").await.unwrap().as_deref(),
        Some("two")
    );
}

pub async fn pods_are_imported_whole_or_not_at_all(store: &dyn MetadataStore) {
    let now = now_ms();
    store.begin_import(&pod("arriving")).await.unwrap();
    assert!(
        store.begin_import(&pod("arriving")).await.is_err(),
        "the name is taken"
    );
    assert!(store.create_pod(NewPod::bare("arriving")).await.is_err());
    store
        .import_rows(
            "arriving",
            vec![
                imported("/arriving/a/", b"", 1_700_000_000_001),
                imported("/arriving/a/doc", b"<#a> <#b> <#c> .", 1_700_000_000_002),
                imported("/arriving/.acl", b"<#o> <#p> <../x> .", 1_700_000_000_003),
            ],
        )
        .await
        .unwrap();
    assert!(
        store.get_pod("arriving").await.unwrap().is_none(),
        "not there yet"
    );
    assert!(!store
        .list_pods()
        .await
        .unwrap()
        .iter()
        .any(|p| p.name == "arriving"));
    assert!(store
        .import_rows("arriving", vec![imported("/elsewhere/x", b"", 1)])
        .await
        .is_err());
    assert!(store
        .stalled_imports(now - 60_000)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .stalled_imports(now_ms() + 1)
        .await
        .unwrap()
        .contains(&"arriving".to_owned()));

    let root = imported("/arriving/", b"", 1_700_000_000_004);
    store
        .finish_import("arriving", root, Some("https://id.test/me"))
        .await
        .unwrap();
    let arrived = store
        .get_pod("arriving")
        .await
        .unwrap()
        .expect("the pod is there, whole");
    assert_eq!(arrived.created_ms, 1_700_000_000_000);
    assert_eq!(arrived.used_bytes, 16 + 18);
    let doc = store.get("/arriving/a/doc").await.unwrap().unwrap();
    assert_eq!(doc.modified_ms, 1_700_000_000_002);
    let listed = store.children("/arriving/a/").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(store.get("/arriving/").await.unwrap().is_some());
    assert!(!store
        .stalled_imports(now_ms() + 1)
        .await
        .unwrap()
        .contains(&"arriving".to_owned()));

    // An import abandoned half-way is a deleted pod: purged like any other.
    store.begin_import(&pod("halfway")).await.unwrap();
    store
        .import_rows("halfway", vec![imported("/halfway/x", b"<a> <b> <c> .", 1)])
        .await
        .unwrap();
    assert!(store.abandon_import("halfway").await.unwrap());
    assert!(!store.abandon_import("halfway").await.unwrap());
    assert!(store
        .import_rows("halfway", vec![imported("/halfway/y", b"", 1)])
        .await
        .is_err());
    assert!(store
        .finish_import("halfway", imported("/halfway/", b"", 1), None)
        .await
        .is_err());
    assert!(store
        .deleted_pods()
        .await
        .unwrap()
        .contains(&"halfway".to_owned()));
    let blobs = tempfile::tempdir().unwrap();
    let blobs = DiskBlobStore::open(blobs.path()).await.unwrap();
    purge_pod(store, &blobs, "halfway", 10).await.unwrap();
    assert!(store.get("/halfway/x").await.unwrap().is_none());
    assert!(
        store.begin_import(&pod("halfway")).await.is_ok(),
        "the name is free again"
    );
    assert!(store.abandon_import("halfway").await.unwrap());
}

/// Events wait in the outbox without a base URL: a store opened under another one (a server
/// restarted under a new domain) publishes them under its own. `before` and `after` are the
/// same database opened under `super::BASE` and `https://moved.test`.
pub async fn queued_events_name_the_base_they_are_published_under(
    before: &dyn MetadataStore,
    after: &dyn MetadataStore,
) {
    before.create_pod(NewPod::bare("queued")).await.unwrap();
    before.write(doc("/queued/x", None)).await.unwrap();
    let pending = after.outbox_pending(100_000).await.unwrap();
    let mine: Vec<_> = pending
        .iter()
        .filter(|(_, e)| e.key.contains("/queued/"))
        .collect();
    assert!(!mine.is_empty());
    for (_, e) in mine {
        let payload = String::from_utf8(e.payload.clone()).unwrap();
        assert!(e.key.starts_with("https://moved.test/queued/"), "{}", e.key);
        assert!(
            payload.contains("\"https://moved.test/queued/"),
            "{payload}"
        );
        assert!(
            !payload.contains(super::BASE) && !payload.contains("urn:podplane"),
            "{payload}"
        );
    }
}
