//! Stateless replicas share everything: what one acknowledges, the other serves at once, and
//! concurrent conditional writes through different replicas let exactly one win. (In embedded
//! mode there is one process and these run against it.)

use crate::harness::*;

/// `url` as served by replica `i` (round-robin over the server's processes).
fn on(server: &Server, i: usize, url: &str) -> String {
    let replica = server.replicas[i % server.replicas.len()];
    url.replacen(&server.base, &format!("http://{replica}"), 1)
}

/// Sends the 32 requests `writer` makes at once, writer `i` through replica `i`, and returns
/// the one writer answered with a status in `won` and every other's (status, writer). Each
/// loser must get 412, or a status `also_lost` accepts for it.
async fn race(
    server: &Server,
    writer: impl Fn(usize, String) -> reqwest::RequestBuilder,
    won: &[u16],
    also_lost: impl Fn(u16, usize) -> bool,
    url: &str,
) -> (usize, Vec<(u16, usize)>) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let request = writer(i, on(server, i, url));
            tokio::spawn(async move { (request.send().await.unwrap().status().as_u16(), i) })
        })
        .collect();
    let mut winners = Vec::new();
    let mut lost = Vec::new();
    for t in tasks {
        let (status, i) = t.await.unwrap();
        match status {
            s if won.contains(&s) => winners.push(i),
            s if s == 412 || also_lost(s, i) => lost.push((s, i)),
            other => panic!("writer {i}: unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    (winners[0], lost)
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
    let writer = |i: usize, target: String| {
        client()
            .put(target)
            .header("content-type", "application/octet-stream")
            .header("if-match", &etag)
            .body(format!("writer {i}"))
    };
    let (winner, _) = race(server, writer, &[204], |_, _| false, &url).await;
    assert_eq!(text(get(&url).await).await, format!("writer {winner}"));
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
    let writer = |i: usize, target: String| {
        let request = match i % 3 {
            0 => client()
                .put(target)
                .header("content-type", TURTLE)
                .body(format!("<#s> <#p> {} .", 100 + i)),
            1 => client()
                .patch(target)
                .header("content-type", "text/n3")
                .body(format!(
                    "@prefix solid: <http://www.w3.org/ns/solid/terms#>. \
                     _:x a solid:InsertDeletePatch; solid:inserts {{ <#s> <#q> {} . }}.",
                    100 + i
                )),
            _ => client().delete(target),
        };
        request.header("if-match", &etag)
    };
    // RFC 9110 §13.2.1: a DELETE that finds nothing is a 404 whatever its conditions.
    let deleted_already = |status, i| status == 404 && i % 3 == 2;
    let (winner, lost) = race(server, writer, &[200, 204], deleted_already, &url).await;
    let gone: Vec<_> = lost.iter().filter(|(s, _)| *s == 404).collect();
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
    let writer = |i: usize, target: String| {
        client()
            .put(target)
            .header("content-type", "text/plain")
            .header("if-none-match", "*")
            .body(format!("creator {i}"))
    };
    let (winner, _) = race(server, writer, &[201], |_, _| false, &url).await;
    assert_eq!(text(get(&url).await).await, format!("creator {winner}"));
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
