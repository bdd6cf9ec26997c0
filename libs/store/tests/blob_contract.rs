//! The behaviour every BlobStore must have, run over the disk store and over S3 (a real
//! S3-compatible server on loopback, from scripts/dev-services.sh).

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use podplane_store::*;

fn body(chunks: Vec<Result<Bytes, std::io::Error>>) -> ByteStream {
    stream::iter(chunks).boxed()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn read_all(s: ByteStream) -> Vec<u8> {
    s.map(|c| c.unwrap().to_vec()).concat().await
}

fn key() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

async fn small_put_get_range_delete(store: &dyn BlobStore) {
    let k = key();
    let n = store
        .put(
            &k,
            body(vec![Ok(Bytes::from("hello ")), Ok(Bytes::from("world"))]),
            100,
        )
        .await
        .unwrap();
    assert_eq!(n, 11);
    assert_eq!(
        read_all(store.get(&k, None).await.unwrap()).await,
        b"hello world"
    );
    assert_eq!(
        read_all(store.get(&k, Some(6..=10)).await.unwrap()).await,
        b"world"
    );
    store.delete(&k).await.unwrap();
    store.delete(&k).await.unwrap();
    assert!(matches!(
        store.get(&k, None).await,
        Err(StoreError::Corrupt(_))
    ));
}

async fn empty_blob(store: &dyn BlobStore) {
    let k = key();
    assert_eq!(store.put(&k, body(vec![]), 10).await.unwrap(), 0);
    assert!(read_all(store.get(&k, None).await.unwrap())
        .await
        .is_empty());
}

/// Larger than a multipart part (8 MiB), in odd-sized chunks, read back whole and by range.
async fn large_streamed_body(store: &dyn BlobStore) {
    let k = key();
    let data = pattern(19 * 1024 * 1024 + 123);
    let chunks: Vec<_> = data
        .chunks(100_003)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let n = store.put(&k, body(chunks), u64::MAX).await.unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(read_all(store.get(&k, None).await.unwrap()).await, data);
    let r = 8 * 1024 * 1024 - 10..=8 * 1024 * 1024 + 10;
    let expected = data[*r.start() as usize..=*r.end() as usize].to_vec();
    assert_eq!(
        read_all(store.get(&k, Some(r)).await.unwrap()).await,
        expected
    );
}

async fn failed_body_leaves_nothing(store: &dyn BlobStore) {
    for size in [1000usize, 10 * 1024 * 1024] {
        let k = key();
        let chunks = vec![
            Ok(Bytes::from(pattern(size))),
            Err(std::io::Error::other("client went away")),
        ];
        assert!(matches!(
            store.put(&k, body(chunks), u64::MAX).await,
            Err(StoreError::BodyFailed(_))
        ));
        assert!(store.get(&k, None).await.is_err(), "{size}");
    }
}

async fn oversized_body_leaves_nothing(store: &dyn BlobStore) {
    for (size, limit) in [(100usize, 50u64), (12 * 1024 * 1024, 9 * 1024 * 1024)] {
        let k = key();
        let chunks: Vec<_> = pattern(size)
            .chunks(1 << 20)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        assert!(matches!(
            store.put(&k, body(chunks), limit).await,
            Err(StoreError::TooLarge { .. })
        ));
        assert!(store.get(&k, None).await.is_err(), "{size}");
    }
}

async fn run_contract(store: &dyn BlobStore) {
    small_put_get_range_delete(store).await;
    empty_blob(store).await;
    large_streamed_body(store).await;
    failed_body_leaves_nothing(store).await;
    oversized_body_leaves_nothing(store).await;
}

#[tokio::test]
async fn disk_blob_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    run_contract(&DiskBlobStore::open(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn s3_blob_store_meets_the_contract() {
    let endpoint = match std::env::var("PODPLANE_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PODPLANE_TEST_S3_ENDPOINT is not set: the S3 tests cannot run")
        }
        _ => {
            eprintln!(
                "SKIPPED: S3 blob contract (set PODPLANE_TEST_S3_ENDPOINT or run scripts/test.sh)"
            );
            return;
        }
    };
    let mut settings = S3Settings::new(
        &std::env::var("PODPLANE_TEST_S3_BUCKET").unwrap_or_else(|_| "podplane".into()),
    );
    settings.endpoint = Some(endpoint);
    settings.path_style = true;
    settings.prefix = format!("contract-{}/", uuid::Uuid::new_v4().simple());
    let store = S3BlobStore::connect(&settings).await;
    store.check().await.expect("bucket reachable");
    run_contract(&store).await;
}
