//! Quotas: a pod holds at most its quota (`--pod-quota-bytes`, or its own from
//! `podplane pod quota`); a write past it answers 507 with a problem body and stores nothing,
//! counted in the write's own transaction so that concurrent writers cannot pass it together.

use crate::harness::*;
use reqwest::Method;

/// Bytes `pod` uses and its quota, as `podplane pod list` reports them.
fn usage(server: &Server, root: &str) -> (u64, String) {
    let name = name_of(root);
    let listing = server.pod_command(&["list"]);
    let line = listing
        .lines()
        .find(|l| l.split('\t').next() == Some(name))
        .unwrap_or_else(|| panic!("{name} not in {listing}"));
    let fields: Vec<&str> = line.split('\t').collect();
    (fields[3].parse().expect("used bytes"), fields[4].to_owned())
}

fn name_of(root: &str) -> &str {
    root.trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("pod name")
}

#[tokio::test]
async fn a_write_past_the_pods_quota_is_a_507_problem_and_stores_nothing() {
    let server = Server::start(&["--pod-quota-bytes=20000"]);
    let root = server.pod();
    let (base, quota) = usage(&server, &root);
    assert_eq!(quota, "default");
    let first = format!("{root}first.bin");
    let res = put(&first, "application/octet-stream", vec![1u8; 12_000]).await;
    assert_eq!(res.status(), 201);
    let blobs = server.blob_files();
    assert_eq!(usage(&server, &root).0, base + 12_000);

    let second = format!("{root}deeper/second.bin");
    let res = put(&second, "application/octet-stream", vec![2u8; 12_000]).await;
    let detail = assert_problem(res, 507).await;
    assert!(detail.contains("20000"), "{detail}");
    assert_eq!(get(&second).await.status(), 404, "nothing of it was stored");
    assert_eq!(get(&format!("{root}deeper/")).await.status(), 404);
    assert_eq!(server.blob_files(), blobs, "its blob was removed");
    assert_eq!(usage(&server, &root).0, base + 12_000);

    // RDF counts as it is stored; a refused POST creates no member either.
    let doc = format!(
        "@prefix ex: <http://ex.test/>. ex:s ex:p \"{}\".",
        "x".repeat(9_000)
    );
    assert_problem(put(&format!("{root}doc.ttl"), TURTLE, doc).await, 507).await;
    let posted = client()
        .post(&root)
        .header("content-type", "application/octet-stream")
        .body(vec![3u8; 9_000])
        .send()
        .await
        .expect("POST");
    assert_problem(posted, 507).await;
    assert_eq!(server.blob_files(), blobs);

    // A large upload that cannot fit is refused before it streams. (Kept under the 1 MiB a
    // refused body may still send: beyond it the server closes the connection, and the client
    // may see the close before the answer.)
    let large = format!("{root}large.bin");
    let res = put(&large, "application/octet-stream", vec![4u8; 512 * 1024]).await;
    assert_problem(res, 507).await;
    assert_eq!(server.blob_files(), blobs);

    // Replacing counts the difference; deleting frees what the resource held.
    let res = put(&first, "application/octet-stream", vec![5u8; 15_000]).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(usage(&server, &root).0, base + 15_000);
    assert_eq!(delete(&first).await.status(), 204);
    assert_eq!(usage(&server, &root).0, base);
}

/// 16 writers at once into a pod with room for 7 of their bodies: exactly 7 are stored, the
/// others get 507, and the count is exact afterwards. The quota is the pod's own, set by the
/// operator's command over the server's default.
#[tokio::test]
async fn concurrent_writers_cannot_pass_a_pods_own_quota_together() {
    let server = Server::start(&["--pod-quota-bytes=1000000"]);
    let root = server.pod();
    let (base, _) = usage(&server, &root);
    let quota = (base + 7_500).to_string();
    server.pod_command(&["quota", name_of(&root), "--bytes", &quota]);
    assert_eq!(usage(&server, &root).1, quota);

    // A write that waited too long for the pod's lock is a 503 (nothing stored, retry in a
    // second): the writers retry it, as the problem's Retry-After says.
    let writes = (0..16).map(|i| {
        let url = format!("{root}w/{i}.bin");
        async move {
            for _ in 0..20 {
                let status = client()
                    .request(Method::PUT, &url)
                    .header("content-type", "application/octet-stream")
                    .body(vec![7u8; 1_000])
                    .send()
                    .await
                    .expect("PUT")
                    .status()
                    .as_u16();
                if status != 503 {
                    return status;
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            503
        }
    });
    let mut statuses = futures_util::future::join_all(writes).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [[201; 7].as_slice(), &[507; 9]].concat());
    assert_eq!(usage(&server, &root).0, base + 7_000);
    let container = format!("{root}w/");
    let listing = text(get(&container).await).await;
    let members = ntriples(&listing, &container)
        .into_iter()
        .filter(|t| t.contains("http://www.w3.org/ns/ldp#contains"))
        .count();
    assert_eq!(members, 7, "{listing}");

    // Back to the server's default: room again.
    server.pod_command(&["quota", name_of(&root), "--default"]);
    let res = put(
        &format!("{root}w/more.bin"),
        "application/octet-stream",
        vec![8u8; 5_000],
    )
    .await;
    assert_eq!(res.status(), 201);
}
