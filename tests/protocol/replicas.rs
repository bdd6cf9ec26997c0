//! Stateless replicas share everything: what one acknowledges, the other serves at once, and
//! concurrent conditional writes through different replicas let exactly one win. (In embedded
//! mode there is one process and these run against it.)

use crate::harness::*;

/// `url` as served by replica `i` (round-robin over the server's processes).
fn on(server: &Server, i: usize, url: &str) -> String {
    let replica = server.replicas[i % server.replicas.len()];
    url.replacen(&server.base, &format!("http://{replica}"), 1)
}

#[tokio::test]
async fn a_write_acknowledged_by_one_replica_is_read_by_the_other_at_once() {
    let server = shared();
    let root = server.pod();
    for i in 0..10 {
        let url = format!("{root}shared/doc{i}");
        let res = put(&on(server, i, &url), TURTLE, format!("<#a> <#n> {i}.")).await;
        assert_eq!(res.status(), 201);
        let other = get(&on(server, i + 1, &url)).await;
        assert_eq!(other.status(), 200);
        assert!(text(other).await.contains(&format!(" {i} ")));
        let listing = text(get(&on(server, i + 1, &format!("{root}shared/"))).await).await;
        assert!(listing.contains(&format!("doc{i}")), "{listing}");
    }
    // Same ETag from every replica.
    let url = format!("{root}shared/doc0");
    assert_eq!(
        header(&get(&on(server, 0, &url)).await, "etag"),
        header(&get(&on(server, 1, &url)).await, "etag")
    );
}

#[tokio::test]
async fn concurrent_if_match_writes_through_two_replicas_let_exactly_one_win() {
    let server = shared();
    let root = server.pod();
    let url = format!("{root}contested/file.bin");
    let etag = header(&put(&url, "application/octet-stream", "base").await, "etag");
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (target, etag) = (on(server, i, &url), etag.clone());
        tasks.push(tokio::spawn(async move {
            let res = client()
                .put(&target)
                .header("content-type", "application/octet-stream")
                .header("if-match", etag)
                .body(format!("writer {i}"))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), i)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (status, i) = t.await.unwrap();
        match status {
            204 => winners.push(i),
            412 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(
        text(get(&url).await).await,
        format!("writer {}", winners[0])
    );
    let listing = ntriples(&text(get(&format!("{root}contested/")).await).await, &root);
    let members: Vec<_> = listing
        .iter()
        .filter(|t| t.contains("ldp#contains"))
        .collect();
    assert_eq!(members.len(), 1, "{members:?}");
}

#[tokio::test]
async fn concurrent_creates_through_two_replicas_keep_containment_exact() {
    let server = shared();
    let root = server.pod();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = on(server, i, &format!("{root}fan/out/{i}"));
        tasks.push(tokio::spawn(async move {
            put(&url, TURTLE, "").await.status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let c = format!("{root}fan/out/");
    let listing = ntriples(&text(get(&c).await).await, &root);
    assert_eq!(
        listing
            .iter()
            .filter(|t| t.starts_with(&format!("<{c}> <http://www.w3.org/ns/ldp#contains>")))
            .count(),
        20
    );
    let parent = ntriples(&text(get(&format!("{root}fan/")).await).await, &root);
    assert_eq!(
        parent.iter().filter(|t| t.contains("ldp#contains")).count(),
        1
    );
}
