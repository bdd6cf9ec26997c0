//! Quotas: every write counts its bytes against the pod in its own transaction.

use super::{doc, p};
use podplane_store::*;
use std::sync::Arc;

fn sized(path: &str, bytes: usize, default_quota: Option<u64>) -> WriteRequest {
    WriteRequest {
        content: Content::Inline(vec![b'x'; bytes]),
        size: bytes as u64,
        default_quota,
        ..doc(path, None)
    }
}

async fn used(store: &dyn MetadataStore, pod: &str) -> i64 {
    store.get_pod(pod).await.unwrap().unwrap().used_bytes
}

fn remove(path: &str) -> DeleteRequest {
    DeleteRequest {
        path: p(path),
        auxiliaries: Vec::new(),
        expect: Expect::default(),
        actor: None,
        audit: None,
    }
}

pub async fn usage_is_exact_and_quotas_refuse_whole_writes(store: Arc<dyn MetadataStore>) {
    let s = store.as_ref();
    s.create_pod(NewPod::bare("q")).await.unwrap();
    assert_eq!(used(s, "q").await, 0);
    let limit = Some(100);
    s.write(sized("/q/a", 60, limit)).await.unwrap();
    assert_eq!(used(s, "q").await, 60);

    // Past the quota: refused whole, with the figures; no row, no intermediate container.
    let over = s.write(sized("/q/dir/b", 50, limit)).await;
    assert!(
        matches!(
            over,
            Err(StoreError::QuotaExceeded {
                quota: 100,
                used: 60,
                adding: 50
            })
        ),
        "{over:?}"
    );
    assert!(s.get("/q/dir/b").await.unwrap().is_none());
    assert!(s.get("/q/dir/").await.unwrap().is_none());
    assert_eq!(used(s, "q").await, 60);

    // A replacement counts the difference; shrinking is never refused.
    s.write(sized("/q/a", 100, limit)).await.unwrap();
    assert_eq!(used(s, "q").await, 100);
    s.write(sized("/q/a", 10, Some(1))).await.unwrap();
    assert_eq!(used(s, "q").await, 10);
    s.delete(remove("/q/a")).await.unwrap();
    assert_eq!(used(s, "q").await, 0);

    // A pod's own quota wins over the default, and can be given back.
    s.set_quota("q", Some(20)).await.unwrap();
    assert_eq!(s.get_pod("q").await.unwrap().unwrap().quota_bytes, Some(20));
    let own = s.write(sized("/q/c", 30, limit)).await;
    assert!(
        matches!(own, Err(StoreError::QuotaExceeded { quota: 20, .. })),
        "{own:?}"
    );
    s.set_quota("q", None).await.unwrap();
    s.write(sized("/q/c", 30, limit)).await.unwrap();
    assert!(matches!(
        s.set_quota("no-such-pod", Some(1)).await,
        Err(StoreError::NotFound(_))
    ));
    // No quota at all: anything fits, and is still counted.
    s.write(sized("/q/d", 1000, None)).await.unwrap();
    assert_eq!(used(s, "q").await, 1030);
    s.delete(remove("/q/d")).await.unwrap();
    s.delete(remove("/q/c")).await.unwrap();
    assert_eq!(used(s, "q").await, 0);

    // 16 writers at once, 10 bytes each, 75 bytes allowed: exactly 7 fit.
    let writes = (0..16).map(|i| {
        let store = store.clone();
        async move { store.write(sized(&format!("/q/w{i}"), 10, Some(75))).await }
    });
    let outcomes = futures_util::future::join_all(writes).await;
    let fitted = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(fitted, 7, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| o.is_ok() || matches!(o, Err(StoreError::QuotaExceeded { .. }))));
    assert_eq!(used(s, "q").await, 70);
    let stored = s.children("/q/").await.unwrap().len();
    assert_eq!(stored, 7, "only the writes that fitted left rows");
}
