//! The audit database behaves the same on both engines: one contract, run over SQLite and
//! PostgreSQL. Every event is kept once, in its pod's chain, even when replicas store the same
//! events at once; pages and filters select what they say; retention keeps chains verifiable.

use podplane_audit::chain::Broken;
use podplane_audit::store::{Filter, Incoming};
use podplane_audit::AuditStore;
use podplane_events::{AuditEvent, AuditName, Audited, Emitter, Subject};

const ALICE: &str = "https://id.example/alice#me";
const BOB: &str = "https://id.example/bob#me";

fn event(pod: &str, resource: &str, name: AuditName, who: Option<&str>, ms: i64) -> Incoming {
    let iri = format!("https://pods.example/{pod}/{resource}");
    let storage = format!("https://pods.example/{pod}/");
    let e = AuditEvent::new(
        &Emitter {
            name: "podplane-storage",
            base_url: "https://pods.example",
        },
        name,
        &Subject {
            iri: &iri,
            pod,
            storage: &storage,
        },
        &Audited {
            webid: who.map(str::to_owned),
            ..Audited::default()
        },
        200,
        ms,
    );
    Incoming::parse(&serde_json::to_vec(&e).unwrap()).expect("an audit event")
}

fn filter(pod: &str) -> Filter {
    Filter {
        pod: Some(pod.into()),
        limit: 100,
        ..Filter::default()
    }
}

async fn run_contract(store: AuditStore) {
    // Stored in order, chained; a redelivered event is skipped.
    let a: Vec<Incoming> = (0..5)
        .map(|i| {
            event(
                "alice",
                &format!("{i}.ttl"),
                AuditName::ResourceCreated,
                Some(ALICE),
                1_000 + i,
            )
        })
        .collect();
    let stored = store.record(&a[..3], 10).await.unwrap();
    assert_eq!(stored.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let again = store.record(&a, 11).await.unwrap();
    assert_eq!(
        again.iter().map(|s| s.seq).collect::<Vec<_>>(),
        [4, 5],
        "only the new two"
    );
    assert_eq!(store.record(&a, 12).await.unwrap(), []);
    assert_eq!(store.verify("alice").await.unwrap(), Some(Ok(5)));
    assert_eq!(store.verify("nobody").await.unwrap(), None);

    // Replicas storing the same events at once: each kept once, the chain whole.
    let b: Vec<Incoming> = (0..40)
        .map(|i| {
            event(
                "bob",
                &format!("{i}.ttl"),
                AuditName::ResourceRead,
                Some(BOB),
                2_000 + i,
            )
        })
        .collect();
    let (x, y, z) = tokio::join!(
        store.record(&b[..30], 20),
        store.record(&b[10..], 20),
        store.record(&b, 20)
    );
    let kept = x.unwrap().len() + y.unwrap().len() + z.unwrap().len();
    assert_eq!(kept, 40);
    assert_eq!(store.verify("bob").await.unwrap(), Some(Ok(40)));

    // Filters and pages.
    let mut more = vec![
        event("alice", "x.ttl", AuditName::AccessDenied, Some(BOB), 3_000),
        event("alice", "x.ttl", AuditName::AccessDenied, None, 3_001),
        event(
            "alice",
            "sub/y.ttl",
            AuditName::ResourceRead,
            Some(ALICE),
            3_002,
        ),
    ];
    store.record(&more, 30).await.unwrap();
    let page = |f: Filter| {
        let store = store.clone();
        async move { store.page(&f).await.unwrap() }
    };
    assert_eq!(page(filter("alice")).await.bodies.len(), 8);
    let denied = page(Filter {
        name: Some("access-denied".into()),
        ..filter("alice")
    })
    .await;
    assert_eq!(denied.bodies.len(), 2);
    let by_bob = page(Filter {
        agent: Some(BOB.into()),
        ..filter("alice")
    })
    .await;
    assert_eq!(by_bob.bodies.len(), 1);
    let under = page(Filter {
        resource: Some("https://pods.example/alice/sub/".into()),
        ..filter("alice")
    })
    .await;
    assert_eq!(under.bodies.len(), 1);
    let one = page(Filter {
        resource: Some("https://pods.example/alice/x.ttl".into()),
        ..filter("alice")
    })
    .await;
    assert_eq!(one.bodies.len(), 2);
    let window = page(Filter {
        since_ms: Some(1_002),
        until_ms: Some(3_001),
        ..filter("alice")
    })
    .await;
    assert_eq!(window.bodies.len(), 4);
    // Pages of 3 over everything, oldest first, each event once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let p = page(Filter {
            limit: 3,
            after: after.clone(),
            ..Filter::default()
        })
        .await;
        seen.extend(p.bodies);
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 48);
    let ids: Vec<String> = seen
        .iter()
        .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()["id"].to_string())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 48);

    // Retention removes the oldest events and the chains still verify from the cut.
    more.push(event(
        "alice",
        "late.ttl",
        AuditName::ResourceUpdated,
        Some(ALICE),
        4_000,
    ));
    store.record(&more[3..], 100).await.unwrap();
    let removed = store.prune(3_500).await.unwrap();
    assert_eq!(removed, 48, "everything published before 3 500");
    assert_eq!(store.verify("alice").await.unwrap(), Some(Ok(1)));
    assert_eq!(store.verify("bob").await.unwrap(), Some(Ok(0)));
    assert_eq!(store.prune(3_500).await.unwrap(), 0);

    // Tampering shows.
    store
        .tamper("UPDATE events SET actor = 'https://id.example/mallory#me' WHERE pod = 'alice'")
        .await
        .unwrap();
    assert_eq!(
        store.verify("alice").await.unwrap(),
        Some(Err(Broken::ColumnsEdited { seq: 9 }))
    );

    store.ping().await.unwrap();
    assert!(store.first_use("jti-1", 100).await.unwrap());
    assert!(!store.first_use("jti-1", 100).await.unwrap());
}

#[tokio::test]
async fn sqlite_audit_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("a.sqlite").display()
    );
    run_contract(AuditStore::open(&url, 1).await.unwrap()).await;
    AuditStore::open(&url, 1).await.unwrap();
}

#[tokio::test]
async fn postgres_audit_store_meets_the_contract() {
    let Some(url) = podplane_store::testing::fresh_postgres_database("podplane_a_contract").await
    else {
        return;
    };
    run_contract(AuditStore::open(&url, 8).await.unwrap()).await;
}
