//! The notifications database behaves the same on both engines: one contract, run over
//! SQLite and PostgreSQL.

use podplane_auth::ReplayCache;
use podplane_notifications::store::{Channel, ChannelStore, DeliveryStatus};
use podplane_solid::access::Requester;
use podplane_solid::notify::{ChannelType, Subscription};

fn channel(id: &str, kind: ChannelType, topic: &str, end_at: i64) -> Channel {
    Channel {
        id: id.to_owned(),
        subscription: Subscription {
            channel_type: kind,
            topic: topic.to_owned(),
            send_to: (kind == ChannelType::Webhook).then(|| "https://hook.example/".to_owned()),
            state: Some("\"s1\"".to_owned()),
            start_at: Some(5),
            end_at: Some(end_at),
            rate_ms: None,
        },
        owner: Requester {
            webid: Some("https://id.example/me".into()),
            client_id: Some("https://app.example/id".into()),
            issuer: Some("https://idp.example/".into()),
            origin: None,
        },
        end_at,
        created_at: 1,
    }
}

async fn run_contract(store: ChannelStore) {
    let ws = channel("c1", ChannelType::WebSocket, "https://x/p/a", 1_000);
    store.create(&ws, Some("hash1")).await.unwrap();
    let hook = channel("c2", ChannelType::Webhook, "https://x/p/a", 2_000);
    store.create(&hook, None).await.unwrap();
    store
        .create(
            &channel("c3", ChannelType::Webhook, "https://x/p/", 3_000),
            None,
        )
        .await
        .unwrap();

    assert_eq!(store.get("c1").await.unwrap(), Some(ws.clone()));
    assert_eq!(
        store.by_receive_hash("hash1").await.unwrap(),
        Some(ws.clone())
    );
    assert_eq!(store.by_receive_hash("nope").await.unwrap(), None);
    let on = store
        .on_topics(
            ChannelType::Webhook,
            &["https://x/p/a", "https://x/p/"],
            1_500,
        )
        .await
        .unwrap();
    let ids: Vec<&str> = on.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c2", "c3"]);
    assert!(
        store
            .on_topics(ChannelType::Webhook, &["https://x/p/a"], 2_000)
            .await
            .unwrap()
            .is_empty(),
        "an ended channel gets nothing"
    );
    assert_eq!(
        store.owned_by("https://id.example/me").await.unwrap().len(),
        3
    );
    let mut live = store
        .live(&["c1".into(), "c2".into(), "gone".into()], 1_500)
        .await
        .unwrap();
    live.sort();
    assert_eq!(live, ["c2"]);

    // Deliveries: claimed once, settled, listed when failed.
    assert_eq!(
        store.claim_delivery("c2", "e1", "{}", 10).await.unwrap(),
        DeliveryStatus::Pending
    );
    assert_eq!(
        store.claim_delivery("c2", "e1", "{}", 11).await.unwrap(),
        DeliveryStatus::Pending
    );
    store
        .finish_delivery("c2", "e1", DeliveryStatus::Delivered, 1, None, 12)
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery("c2", "e1", "{}", 13).await.unwrap(),
        DeliveryStatus::Delivered
    );
    store
        .claim_delivery("c2", "e2", "{\"n\":2}", 14)
        .await
        .unwrap();
    store
        .finish_delivery("c2", "e2", DeliveryStatus::Failed, 4, Some("503"), 15)
        .await
        .unwrap();
    let failures = store.failures("c2").await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].event_id, "e2");
    assert_eq!(failures[0].attempts, 4);
    assert_eq!(failures[0].last_error.as_deref(), Some("503"));

    // Proof ids: the first use only.
    assert!(store.first_use("jti-1", 100).await.unwrap());
    assert!(!store.first_use("jti-1", 100).await.unwrap());

    // One signing key for every replica: the first stored wins.
    let first = store.signing_key("k1", "pk1", 1).await.unwrap();
    let second = store.signing_key("k2", "pk2", 2).await.unwrap();
    assert_eq!(first, ("k1".to_owned(), "pk1".to_owned()));
    assert_eq!(second, first);

    // Deleting and purging.
    assert!(store.delete("c2").await.unwrap());
    assert!(!store.delete("c2").await.unwrap());
    assert!(store.failures("c2").await.unwrap().is_empty());
    assert_eq!(store.purge(1_500).await.unwrap(), 1, "c1 ended");
    assert_eq!(store.get("c1").await.unwrap(), None);
    assert!(store.get("c3").await.unwrap().is_some());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_channel_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("n.sqlite").display()
    );
    run_contract(ChannelStore::open(&url, 1).await.unwrap()).await;
    // Migrations apply once: opening again finds them applied.
    ChannelStore::open(&url, 1).await.unwrap();
}

#[tokio::test]
async fn postgres_channel_store_meets_the_contract() {
    let Some(url) = podplane_store::testing::fresh_postgres_database("podplane_n_contract").await
    else {
        return;
    };
    run_contract(ChannelStore::open(&url, 4).await.unwrap()).await;
}
