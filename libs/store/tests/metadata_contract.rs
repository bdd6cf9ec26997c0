//! The behaviour every MetadataStore engine must have. Each engine runs the same contract;
//! SQLite here, PostgreSQL once it exists.

use podplane_solid::path::ResourcePath;
use podplane_store::*;
use std::sync::Arc;

#[path = "metadata_contract/audit.rs"]
mod audit;
#[path = "metadata_contract/moving.rs"]
mod moving;
#[path = "metadata_contract/pod_deletion.rs"]
mod pod_deletion;
#[path = "metadata_contract/quotas.rs"]
mod quotas;

const BASE: &str = "http://pods.test";

fn p(s: &str) -> ResourcePath {
    ResourcePath::parse(s).unwrap()
}

fn doc(path: &str, unchanged: Option<Option<String>>) -> WriteRequest {
    WriteRequest {
        path: p(path),
        kind: Kind::Rdf,
        content_type: "text/turtle".into(),
        content: Content::Inline(b"<a> <b> <c> .".to_vec()),
        size: 13,
        expect: Expect {
            unchanged,
            ..Expect::default()
        },
        create_ancestors: true,
        auxiliary_of: None,
        actor: Some("https://id.test/me".into()),
        audit: None,
        default_quota: None,
    }
}

fn blob(path: &str, key: &str) -> WriteRequest {
    WriteRequest {
        kind: Kind::Binary,
        content_type: "image/png".into(),
        content: Content::Blob(key.into()),
        size: 3,
        ..doc(path, None)
    }
}

async fn events(store: &dyn MetadataStore) -> Vec<serde_json::Value> {
    store
        .outbox_pending(10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| serde_json::from_slice(&e.payload).unwrap())
        .collect()
}

async fn write_creates_then_updates(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("a")).await.unwrap();
    // A miss first (the cached store remembers it), then the write must be seen.
    assert!(store.get("/a/x").await.unwrap().is_none());
    assert!(store.get("/a/x.acl").await.unwrap().is_none());
    let (first, created) = store.write(doc("/a/x", None)).await.unwrap();
    assert!(created);
    let (second, created) = store.write(doc("/a/x", None)).await.unwrap();
    assert!(!created);
    assert_ne!(first.etag, second.etag);
    let got = store.get("/a/x").await.unwrap().unwrap();
    assert_eq!(got.etag, second.etag);
    let acl = WriteRequest {
        auxiliary_of: Some(p("/a/x")),
        ..doc("/a/x.acl", None)
    };
    // Remembered as missing through a batch read too, and then seen once written.
    let y = ["/a/y".to_owned(), "/a/x".to_owned()];
    assert_eq!(store.get_many(&y).await.unwrap().len(), 1);
    store.write(acl).await.unwrap();
    assert!(store.get("/a/x.acl").await.unwrap().is_some());
    store.write(doc("/a/y", None)).await.unwrap();
    let both = store.get_many(&y).await.unwrap();
    let mut found: Vec<&str> = both.iter().map(|r| r.path.as_str()).collect();
    found.sort_unstable();
    assert_eq!(found, ["/a/x", "/a/y"]);
    assert_eq!(got.content, Content::Inline(b"<a> <b> <c> .".to_vec()));

    // The creator is whoever created the resource (and its new ancestors), whoever updates it.
    let by = |actor: &str| WriteRequest {
        actor: Some(actor.to_owned()),
        ..doc("/a/made/by", None)
    };
    let (made, _) = store.write(by("https://c.example/#me")).await.unwrap();
    assert_eq!(made.creator.as_deref(), Some("https://c.example/#me"));
    let (updated, _) = store.write(by("https://u.example/#me")).await.unwrap();
    assert_eq!(updated.creator.as_deref(), Some("https://c.example/#me"));
    let stored = store.get("/a/made/by").await.unwrap().unwrap();
    assert_eq!(stored.creator.as_deref(), Some("https://c.example/#me"));
    let parent = store.get("/a/made/").await.unwrap().unwrap();
    assert_eq!(parent.creator.as_deref(), Some("https://c.example/#me"));
}

async fn compare_and_swap(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("b")).await.unwrap();
    let (r, _) = store.write(doc("/b/x", Some(None))).await.unwrap();
    assert!(matches!(
        store.write(doc("/b/x", Some(None))).await,
        Err(StoreError::Changed)
    ));
    assert!(matches!(
        store
            .write(doc("/b/x", Some(Some("\"stale\"".into()))))
            .await,
        Err(StoreError::Changed)
    ));
    store.write(doc("/b/x", Some(Some(r.etag)))).await.unwrap();
}

async fn conditions_are_checked_at_commit(store: &dyn MetadataStore) {
    use podplane_solid::preconditions::WriteConditions;
    store.create_pod(NewPod::bare("b2")).await.unwrap();
    let with = |allowed: Allowed, conditions: WriteConditions| WriteRequest {
        expect: Expect {
            allowed,
            conditions,
            unchanged: None,
        },
        ..doc("/b2/x", None)
    };
    let any = WriteConditions::default();
    let only_replace = Allowed {
        create: false,
        replace: true,
    };
    let only_create = Allowed {
        create: true,
        replace: false,
    };
    assert!(matches!(
        store.write(with(only_replace, any.clone())).await,
        Err(StoreError::Refused { exists: false })
    ));
    let (r, created) = store.write(with(only_create, any.clone())).await.unwrap();
    assert!(created);
    assert!(matches!(
        store.write(with(only_create, any.clone())).await,
        Err(StoreError::Refused { exists: true })
    ));
    let if_match = |tag: &str| WriteConditions {
        if_match: Some(tag.to_owned()),
        ..WriteConditions::default()
    };
    assert!(matches!(
        store.write(with(Allowed::ALL, if_match("\"stale\""))).await,
        Err(StoreError::PreconditionFailed)
    ));
    let create_only = WriteConditions {
        if_none_match: Some("*".into()),
        ..WriteConditions::default()
    };
    assert!(matches!(
        store.write(with(Allowed::ALL, create_only)).await,
        Err(StoreError::PreconditionFailed)
    ));
    let (r2, _) = store
        .write(with(Allowed::ALL, if_match(&r.etag)))
        .await
        .unwrap();
    // The old tag no longer matches: the check sees the row as committed.
    assert!(matches!(
        store.write(with(Allowed::ALL, if_match(&r.etag))).await,
        Err(StoreError::PreconditionFailed)
    ));
    let delete = |allowed: Allowed, conditions: WriteConditions| DeleteRequest {
        path: p("/b2/x"),
        auxiliaries: vec![],
        expect: Expect {
            allowed,
            conditions,
            unchanged: None,
        },
        actor: None,
        audit: None,
    };
    assert!(matches!(
        store.delete(delete(only_create, any.clone())).await,
        Err(StoreError::Refused { exists: true })
    ));
    assert!(matches!(
        store.delete(delete(Allowed::ALL, if_match(&r.etag))).await,
        Err(StoreError::PreconditionFailed)
    ));
    store
        .delete(delete(Allowed::ALL, if_match(&r2.etag)))
        .await
        .unwrap();
    assert!(store.get("/b2/x").await.unwrap().is_none());
}

async fn intermediate_containers_and_events(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("c")).await.unwrap();
    let before = events(store).await.len();
    store.write(doc("/c/d/e/f", None)).await.unwrap();
    for c in ["/c/d/", "/c/d/e/"] {
        assert_eq!(
            store.get(c).await.unwrap().unwrap().kind,
            Kind::Container,
            "{c}"
        );
    }
    let children: Vec<String> = store
        .children("/c/d/")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(children, vec!["/c/d/e/".to_owned()]);
    let new: Vec<(String, String)> = events(store).await[before..]
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |t: &str, o: &str| (t.to_owned(), format!("{BASE}{o}"));
    assert_eq!(
        new,
        vec![
            expect("Create", "/c/d/"),
            expect("Add", "/c/d/"),
            expect("Create", "/c/d/e/"),
            expect("Add", "/c/d/e/"),
            expect("Create", "/c/d/e/f"),
            expect("Add", "/c/d/e/f"),
        ]
    );
}

async fn slash_twins_conflict(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("d")).await.unwrap();
    store.write(doc("/d/x", None)).await.unwrap();
    assert!(matches!(
        store.write(doc("/d/x/", None)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.write(doc("/d/x/y", None)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.get("/d/x/").await.unwrap().is_none());
}

async fn missing_pod_is_not_found(store: &dyn MetadataStore) {
    assert!(matches!(
        store.write(doc("/nopod/x", None)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn delete_rules(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("e")).await.unwrap();
    store.write(doc("/e/c/x", None)).await.unwrap();
    let req = |path: &str| DeleteRequest {
        path: p(path),
        auxiliaries: vec![],
        expect: Expect::default(),
        actor: None,
        audit: None,
    };
    assert!(matches!(
        store.delete(req("/e/c/")).await,
        Err(StoreError::Conflict(_))
    ));
    let stale = DeleteRequest {
        path: p("/e/c/x"),
        auxiliaries: vec![],
        expect: Expect {
            unchanged: Some(Some("\"nope\"".into())),
            ..Expect::default()
        },
        actor: None,
        audit: None,
    };
    assert!(matches!(
        store.delete(stale).await,
        Err(StoreError::Changed)
    ));
    store.delete(req("/e/c/x")).await.unwrap();
    store.delete(req("/e/c/")).await.unwrap();
    assert!(matches!(
        store.delete(req("/e/c/")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.children("/e/").await.unwrap().is_empty());
}

async fn superseded_and_orphaned_blobs_become_garbage(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("f")).await.unwrap();
    for key in ["k0000001", "k0000002", "k0000003"] {
        store.register_pending_blob(key).await.unwrap();
    }
    store.write(blob("/f/x", "k0000001")).await.unwrap();
    store.write(blob("/f/x", "k0000002")).await.unwrap();
    // Nothing is garbage inside the grace period.
    assert!(store.garbage(0, 100).await.unwrap().is_empty());
    let far_future = now_ms() + 60_000;
    let mut garbage = store.garbage(far_future, 100).await.unwrap();
    garbage.sort();
    // k1 was superseded, k3 was never committed; k2 is live and never listed.
    assert_eq!(garbage, vec!["k0000001".to_owned(), "k0000003".to_owned()]);
    store.forget_garbage(&garbage).await.unwrap();
    assert!(store.garbage(far_future, 100).await.unwrap().is_empty());
    store
        .delete(DeleteRequest {
            path: p("/f/x"),
            auxiliaries: vec![],
            expect: Expect::default(),
            actor: None,
            audit: None,
        })
        .await
        .unwrap();
    assert_eq!(
        store.garbage(far_future, 100).await.unwrap(),
        vec!["k0000002".to_owned()]
    );
}

async fn an_expired_upload_can_no_longer_be_committed(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("f2")).await.unwrap();
    store.register_pending_blob("k0000009").await.unwrap();
    // GC expires the upload before its write commits: the blob is about to be deleted, so
    // the write must fail rather than leave a row pointing at nothing.
    let garbage = store.garbage(now_ms() + 60_000, 100).await.unwrap();
    assert!(garbage.contains(&"k0000009".to_owned()), "{garbage:?}");
    assert!(matches!(
        store.write(blob("/f2/late", "k0000009")).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(store.get("/f2/late").await.unwrap().is_none());
    store.forget_garbage(&garbage).await.unwrap();
}

async fn outbox_is_drained_in_order(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("g")).await.unwrap();
    store.write(doc("/g/1", None)).await.unwrap();
    let batch = store.outbox_batch(10_000).await.unwrap().expect("lease");
    let ids: Vec<i64> = batch.events().iter().map(|(id, _)| *id).collect();
    assert!(!ids.is_empty());
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(store.outbox_pending(10_000).await.unwrap().len(), ids.len());
    let backlog = store.outbox_backlog().await.unwrap();
    assert_eq!(backlog.pending, ids.len() as i64);
    assert!(backlog.oldest_created_ms.is_some_and(|ms| ms > 0));
    // Only a prefix went out: the rest stays for the next batch, in order.
    batch.complete(&ids[..1]).await.unwrap();
    let rest: Vec<i64> = store
        .outbox_pending(10_000)
        .await
        .unwrap()
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(rest, ids[1..].to_vec());
    let batch = store.outbox_batch(10_000).await.unwrap().expect("lease");
    let again: Vec<i64> = batch.events().iter().map(|(id, _)| *id).collect();
    batch.complete(&again).await.unwrap();
    assert!(store.outbox_pending(10_000).await.unwrap().is_empty());
    assert_eq!(
        store.outbox_backlog().await.unwrap(),
        OutboxBacklog::default(),
        "nothing unsent, no age"
    );
    assert!(store.pool_stats().size >= 1);
}

async fn pods(store: &dyn MetadataStore) {
    let acl = b"<#owner> a <http://www.w3.org/ns/auth/acl#Authorization>.";
    let pod = store
        .create_pod(NewPod {
            name: "h",
            owner: Some("https://id.test/h#me"),
            access: AccessKind::Wac,
            acl: Some(acl),
        })
        .await
        .unwrap();
    assert_eq!(pod.owner.as_deref(), Some("https://id.test/h#me"));
    assert_eq!(pod.access, AccessKind::Wac);
    let stored = store.get_pod("h").await.unwrap().unwrap();
    assert_eq!((stored.access, stored.owner), (AccessKind::Wac, pod.owner));
    // The root's access control document is created with the pod, outside containment.
    let doc = store.get("/h/.acl").await.unwrap().expect("root ACL");
    assert_eq!(doc.content, Content::Inline(acl.to_vec()));
    assert!(store.children("/h/").await.unwrap().is_empty());
    let both = store
        .get_many(&["/h/.acl".into(), "/h/missing.acl".into(), "/h/".into()])
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    assert!(matches!(
        store.create_pod(NewPod::bare("h")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_pod("h").await.unwrap().unwrap().name, "h");
    assert!(store.get_pod("zz").await.unwrap().is_none());
    assert_eq!(
        store.get("/h/").await.unwrap().unwrap().kind,
        Kind::Container
    );
}

async fn proof_ids_are_claimed_once(store: &dyn MetadataStore) {
    let now = 1_700_000_000_000;
    assert!(store.claim_proof("jkt:1", now + 60_000).await.unwrap());
    assert!(!store.claim_proof("jkt:1", now + 60_000).await.unwrap());
    assert!(store.claim_proof("jkt:2", now - 1).await.unwrap());
    assert_eq!(store.purge_proofs(now).await.unwrap(), 1);
    assert!(!store.claim_proof("jkt:1", now + 60_000).await.unwrap());
}

async fn auxiliary_resources_follow_their_subject(store: &dyn MetadataStore) {
    store.create_pod(NewPod::bare("i")).await.unwrap();
    let orphan = WriteRequest {
        auxiliary_of: Some(p("/i/x")),
        ..doc("/i/x.meta", None)
    };
    assert!(matches!(
        store.write(orphan).await,
        Err(StoreError::NotFound(_))
    ));
    store.write(doc("/i/x", None)).await.unwrap();
    let before = store.get("/i/").await.unwrap().unwrap().etag;
    store
        .write(WriteRequest {
            auxiliary_of: Some(p("/i/x")),
            ..doc("/i/x.meta", None)
        })
        .await
        .unwrap();
    // Not a member, and the container did not change.
    let members: Vec<String> = store
        .children("/i/")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(members, vec!["/i/x".to_owned()]);
    assert_eq!(store.get("/i/").await.unwrap().unwrap().etag, before);
    store
        .delete(DeleteRequest {
            path: p("/i/x"),
            auxiliaries: vec![p("/i/x.meta")],
            expect: Expect::default(),
            actor: None,
            audit: None,
        })
        .await
        .unwrap();
    assert!(store.get("/i/x.meta").await.unwrap().is_none());
}

/// Concurrent writes (which SQLite commits in groups) each stand or fall alone: a write that
/// fails leaves the others of its transaction committed.
async fn concurrent_writes_each_stand_or_fall_alone(store: Arc<dyn MetadataStore>) {
    store.create_pod(NewPod::bare("k")).await.unwrap();
    let mut distinct = Vec::new();
    let mut same = Vec::new();
    for i in 0..32 {
        let s = store.clone();
        distinct.push(tokio::spawn(async move {
            s.write(doc(&format!("/k/d{i}"), Some(None))).await
        }));
        let s = store.clone();
        same.push(tokio::spawn(async move {
            s.write(doc("/k/same", Some(None))).await
        }));
    }
    for t in distinct {
        t.await.unwrap().unwrap();
    }
    let mut won = 0;
    for t in same {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Changed) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.children("/k/").await.unwrap().len(), 33);
    let created = events(store.as_ref())
        .await
        .into_iter()
        .filter(|e| {
            e["type"] == "Create" && e["object"].as_str().is_some_and(|o| o.contains("/k/"))
        })
        .count();
    // The pod root, the 32 documents and the one winner: no event of a failed write.
    assert_eq!(created, 34);
}

async fn run_contract(store: Arc<dyn MetadataStore>) {
    concurrent_writes_each_stand_or_fall_alone(store.clone()).await;
    quotas::usage_is_exact_and_quotas_refuse_whole_writes(store.clone()).await;
    let s = store.as_ref();
    write_creates_then_updates(s).await;
    compare_and_swap(s).await;
    conditions_are_checked_at_commit(s).await;
    intermediate_containers_and_events(s).await;
    slash_twins_conflict(s).await;
    missing_pod_is_not_found(s).await;
    delete_rules(s).await;
    superseded_and_orphaned_blobs_become_garbage(s).await;
    an_expired_upload_can_no_longer_be_committed(s).await;
    outbox_is_drained_in_order(s).await;
    pods(s).await;
    auxiliary_resources_follow_their_subject(s).await;
    proof_ids_are_claimed_once(s).await;
    pod_deletion::pods_are_deleted_then_purged_in_batches(s).await;
    audit::audited_changes_queue_their_event_in_the_same_transaction(s).await;
    moving::pods_are_walked_in_order_and_rewritten_in_place(s).await;
    moving::pods_are_imported_whole_or_not_at_all(s).await;
}

#[tokio::test]
async fn sqlite_metadata_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("m.sqlite"), BASE)
        .await
        .unwrap();
    run_contract(Arc::new(store)).await;
    let file = dir.path().join("m.sqlite");
    let before = SqliteMetadataStore::open(&file, BASE).await.unwrap();
    let after = SqliteMetadataStore::open(&file, "https://moved.test")
        .await
        .unwrap();
    moving::queued_events_name_the_base_they_are_published_under(&before, &after).await;
}

#[tokio::test]
async fn cached_sqlite_metadata_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetadataStore::open(&dir.path().join("m.sqlite"), BASE)
        .await
        .unwrap();
    run_contract(Arc::new(CachedMetadataStore::new(
        Arc::new(store),
        1024 * 1024,
    )))
    .await;
}

#[tokio::test]
async fn postgres_metadata_store_meets_the_contract() {
    let Some(url) = podplane_store::testing::fresh_postgres_database("podplane_contract").await
    else {
        return;
    };
    let store = PgMetadataStore::connect(&PgSettings::new(&url), BASE).unwrap();
    store.migrate().await.unwrap();
    run_contract(Arc::new(store)).await;
    let before = PgMetadataStore::connect(&PgSettings::new(&url), BASE).unwrap();
    let after = PgMetadataStore::connect(&PgSettings::new(&url), "https://moved.test").unwrap();
    moving::queued_events_name_the_base_they_are_published_under(&before, &after).await;

    // Replicas share the outbox: one relay lease at a time, released at completion.
    let second = PgMetadataStore::connect(&PgSettings::new(&url), BASE).unwrap();
    let store = PgMetadataStore::connect(&PgSettings::new(&url), BASE).unwrap();
    let lease = store
        .outbox_batch(10)
        .await
        .unwrap()
        .expect("first relay gets the lease");
    assert!(
        second.outbox_batch(10).await.unwrap().is_none(),
        "second relay must wait"
    );
    lease.complete(&[]).await.unwrap();
    assert!(second.outbox_batch(10).await.unwrap().is_some());
    drop((store, second));
    podplane_store::testing::drop_postgres_database(&url).await;
}
