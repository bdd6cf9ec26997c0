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
    for i in 0..32 {
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

/// PUT, PATCH and DELETE racing on one document with the same `If-Match`: the precondition
/// is checked against the row as it is at commit, so exactly one of them happens.
#[tokio::test]
async fn mixed_if_match_writers_through_two_replicas_let_exactly_one_win() {
    let server = shared();
    let root = server.pod();
    let url = format!("{root}contested/doc");
    assert_eq!(put(&url, TURTLE, "<#s> <#p> 0 .").await.status(), 201);
    let etag = header(&get(&url).await, "etag");
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (target, etag) = (on(server, i, &url), etag.clone());
        tasks.push(tokio::spawn(async move {
            let req = match i % 3 {
                0 => client()
                    .put(&target)
                    .header("content-type", TURTLE)
                    .body(format!("<#s> <#p> {} .", 100 + i)),
                1 => client()
                    .patch(&target)
                    .header("content-type", "text/n3")
                    .body(format!(
                        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. \
                         _:x a solid:InsertDeletePatch; solid:inserts {{ <#s> <#q> {} . }}.",
                        100 + i
                    )),
                _ => client().delete(&target),
            };
            let res = req.header("if-match", etag).send().await.unwrap();
            (res.status().as_u16(), i)
        }));
    }
    let mut winners = Vec::new();
    let mut gone = Vec::new();
    for t in tasks {
        let (status, i) = t.await.unwrap();
        match status {
            200 | 204 => winners.push(i),
            412 => {}
            // RFC 9110 §13.2.1: a DELETE that finds nothing is a 404 whatever its conditions.
            404 if i % 3 == 2 => gone.push(i),
            other => panic!("writer {i}: unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let winner = winners[0];
    assert!(
        gone.is_empty() || winner % 3 == 2,
        "{gone:?} after {winner}"
    );
    let res = get(&url).await;
    match winner % 3 {
        2 => assert_eq!(res.status(), 404),
        _ => {
            let triples = ntriples(&text(res).await, &url);
            let has = |n: usize| triples.iter().any(|t| t.contains(&format!("\"{n}\"^^")));
            assert!(has(100 + winner), "{triples:?}");
            // A PUT replaced the document; a PATCH added to it.
            assert_eq!(has(0), winner % 3 == 1, "{triples:?}");
        }
    }
}

/// `If-None-Match: *` from 32 creators at once through two replicas: one creates, the others
/// are told the resource exists.
#[tokio::test]
async fn concurrent_if_none_match_creates_through_two_replicas_let_exactly_one_win() {
    let server = shared();
    let root = server.pod();
    let url = format!("{root}contested/once");
    let mut tasks = Vec::new();
    for i in 0..32 {
        let target = on(server, i, &url);
        tasks.push(tokio::spawn(async move {
            let res = client()
                .put(&target)
                .header("content-type", "text/plain")
                .header("if-none-match", "*")
                .body(format!("creator {i}"))
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
            201 => winners.push(i),
            412 => {}
            other => panic!("creator {i}: unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(
        text(get(&url).await).await,
        format!("creator {}", winners[0])
    );
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
