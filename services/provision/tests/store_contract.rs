//! The provisioning database behaves the same on both engines: one contract, run over SQLite
//! and PostgreSQL. Above all, the per-owner limit holds under concurrent reservations.

use podplane_auth::ReplayCache;
use podplane_provision::store::{Deletion, PodRecord, PodState, ProvisionStore, Started};
use podplane_provision::ProvisionError;

fn pod(name: &str, owner: &str, created_at: i64) -> PodRecord {
    PodRecord {
        name: name.to_owned(),
        owner: owner.to_owned(),
        access: "acp".to_owned(),
        state: PodState::Creating,
        created_at,
    }
}

const ANN: &str = "https://id.example/ann#me";
const BEN: &str = "https://id.example/ben#me";

async fn run_contract(store: ProvisionStore) {
    // Reserved, then confirmed: listed for its owner only.
    store.reserve(&pod("a1", ANN, 1), Some(2)).await.unwrap();
    assert_eq!(
        store.get("a1").await.unwrap().unwrap().state,
        PodState::Creating
    );
    assert!(
        store.owned_by(ANN).await.unwrap().is_empty(),
        "not listed before storage confirms"
    );
    store.activate("a1").await.unwrap();
    let listed = store.owned_by(ANN).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, PodState::Active);
    assert!(store.owned_by(BEN).await.unwrap().is_empty());

    // A taken name is refused and counts nothing.
    let taken = store.reserve(&pod("a1", BEN, 2), Some(2)).await;
    assert!(
        matches!(taken, Err(ProvisionError::NameTaken(_))),
        "{taken:?}"
    );
    assert_eq!(store.count(BEN).await.unwrap(), 0);

    // The limit: a second pod fits, a third does not; no limit for the operator.
    store.reserve(&pod("a2", ANN, 3), Some(2)).await.unwrap();
    let over = store.reserve(&pod("a3", ANN, 4), Some(2)).await;
    assert!(
        matches!(over, Err(ProvisionError::LimitReached(_))),
        "{over:?}"
    );
    assert!(
        store.get("a3").await.unwrap().is_none(),
        "nothing of a refused reservation"
    );
    store.reserve(&pod("a3", ANN, 5), None).await.unwrap();
    assert_eq!(store.count(ANN).await.unwrap(), 3);

    // Unconfirmed reservations are found by age; released ones free their name and count.
    let stale: Vec<String> = store
        .unconfirmed(10, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(stale, ["a2", "a3"]);
    assert!(store.unconfirmed(4, 100).await.unwrap().len() == 1);
    store.release("a3").await.unwrap();
    store.release("a1").await.unwrap();
    assert!(store.get("a3").await.unwrap().is_none());
    assert!(
        store.get("a1").await.unwrap().is_some(),
        "an active pod is never released"
    );
    assert_eq!(store.count(ANN).await.unwrap(), 2);

    // Sixteen reservations at once for an owner allowed five: exactly five pass.
    let attempts = (0..16).map(|i| {
        let store = store.clone();
        async move {
            store
                .reserve(&pod(&format!("c{i}"), BEN, 10 + i), Some(5))
                .await
        }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let passed = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(passed, 5, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| o.is_ok() || matches!(o, Err(ProvisionError::LimitReached(_)))));
    assert_eq!(store.count(BEN).await.unwrap(), 5);

    // Two deletions of one pod at once: one record, which both answer with.
    store.reserve(&pod("del", ANN, 10), None).await.unwrap();
    store.activate("del").await.unwrap();
    let asked = |id: &str| Deletion {
        id: id.to_owned(),
        pod: "del".into(),
        owner: ANN.into(),
        requested_by: ANN.into(),
        requested_at: 11,
        purged_at: None,
    };
    let (one, two) = (asked("d-1"), asked("d-2"));
    let (a, b) = tokio::join!(
        store.start_deletion("del", &one),
        store.start_deletion("del", &two)
    );
    let id = |s: Started| match s {
        Started::Deletion(d) => d.id,
        other => panic!("{other:?}"),
    };
    let (a, b) = (id(a.unwrap()), id(b.unwrap()));
    assert_eq!(a, b, "one deletion record");
    let other = if a == "d-1" { "d-2" } else { "d-1" };
    assert!(store.deletion(other).await.unwrap().is_none());
    assert!(store.deletion(&a).await.unwrap().is_some());

    // DPoP proof ids: first use only, and forgotten once expired.
    assert!(store.first_use("jti-1", 100).await.unwrap());
    assert!(!store.first_use("jti-1", 100).await.unwrap());
    store.purge_proofs(200).await.unwrap();
    assert!(store.first_use("jti-1", 300).await.unwrap());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_provision_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.sqlite").display()
    );
    run_contract(ProvisionStore::open(&url, 1).await.unwrap()).await;
    // Migrations apply once: opening again finds them applied.
    ProvisionStore::open(&url, 1).await.unwrap();
}

#[tokio::test]
async fn postgres_provision_store_meets_the_contract() {
    let Some(url) = podplane_store::testing::fresh_postgres_database("podplane_p_contract").await
    else {
        return;
    };
    run_contract(ProvisionStore::open(&url, 8).await.unwrap()).await;
}
