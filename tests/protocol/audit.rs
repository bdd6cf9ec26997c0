//! Audit: what storage did and refused appears in the pod owner's audit trail, with who asked
//! (WebID, client, identity provider), how it ended and the request's id; only the owner and
//! administrators read it, page by page and filtered; the stored chain shows tampering; and,
//! in distributed mode, neither a broker outage nor a killed audit replica loses or doubles
//! an event.

use crate::harness::*;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

const ADMIN: &str = "auditor";

fn server(extra: &[&str]) -> Server {
    let admin = format!("--admin-webids={}", idp().webid(ADMIN));
    let mut flags = vec![admin.as_str()];
    flags.extend_from_slice(extra);
    let via = Via {
        audit: true,
        provision: true,
        env: vec![("PODPLANE_DATABASE_MAX_CONNECTIONS".into(), "4".into())],
        ..Via::default()
    };
    Server::start_with(&via, &flags)
}

fn events_url(server: &Server, query: &str) -> String {
    format!("{}/.audit/events?{query}", server.audit_base)
}

/// One page of the trail as `agent` reads it: status, items, next link.
async fn page(agent: Option<&Agent>, url: &str) -> (u16, Vec<Value>, Option<String>) {
    let res = send_as(agent, Method::GET, url, None).await;
    let status = res.status().as_u16();
    if status != 200 {
        return (status, Vec::new(), None);
    }
    let link = header(&res, "link");
    let body: Value = res.json().await.expect("a JSON page");
    assert_eq!(body["type"], "OrderedCollectionPage");
    let next = body["next"].as_str().map(str::to_owned);
    if let Some(next) = &next {
        assert_eq!(link, format!("<{next}>; rel=\"next\""));
    }
    let items = body["orderedItems"].as_array().cloned().unwrap_or_default();
    (status, items, next)
}

/// Every event of the trail at `url`, following `next`.
async fn all(agent: &Agent, url: &str) -> Vec<Value> {
    let (mut items, mut next) = (Vec::new(), Some(url.to_owned()));
    while let Some(url) = next {
        let (status, got, n) = page(Some(agent), &url).await;
        assert_eq!(status, 200, "{url}");
        items.extend(got);
        next = n;
    }
    items
}

/// Waits until `pred` holds for the trail at `url` (events arrive through the bus).
async fn until(
    agent: &Agent,
    url: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let items = all(agent, url).await;
        if pred(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never came; got {} events",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn by_request<'a>(items: &'a [Value], id: &str) -> Vec<&'a Value> {
    items.iter().filter(|e| e["identifier"] == id).collect()
}

async fn send_with_id(
    agent: Option<&Agent>,
    method: Method,
    url: &str,
    body: Option<&str>,
    request_id: &str,
) -> u16 {
    let c = client();
    let mut req = match agent {
        Some(a) => a.request(&c, method, url),
        None => c.request(method, url),
    };
    req = req.header("x-request-id", request_id);
    if let Some(body) = body {
        req = req.header("content-type", TURTLE).body(body.to_owned());
    }
    req.send().await.expect("request").status().as_u16()
}

fn pod_name(root: &str) -> String {
    root.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn writes_reads_refusals_and_deletions_appear_in_the_owners_trail() {
    let server = server(&["--audit=all"]);
    let alice = owner();
    let root = server.private_pod(&alice.webid, "acp");
    let pod = pod_name(&root);
    let doc = format!("{root}notes/a.ttl");
    let stranger = idp().agent("audit-stranger");

    assert_eq!(
        send_with_id(Some(alice), Method::PUT, &doc, Some("<#a> <#b> 1 ."), "w-1").await,
        201
    );
    assert_eq!(
        send_with_id(Some(alice), Method::PUT, &doc, Some("<#a> <#b> 2 ."), "u-1").await,
        204
    );
    assert_eq!(
        send_with_id(Some(alice), Method::GET, &doc, None, "r-1").await,
        200
    );
    assert_eq!(
        send_with_id(Some(&stranger), Method::GET, &doc, None, "d-1").await,
        403
    );
    assert_eq!(
        send_with_id(None, Method::GET, &doc, None, "d-2").await,
        401
    );
    assert_eq!(
        send_with_id(Some(alice), Method::DELETE, &doc, None, "x-1").await,
        204
    );

    let trail = events_url(&server, &format!("pod={pod}"));
    let expect = [
        ("w-1", "resource-created", Some(&alice.webid), 201),
        ("u-1", "resource-updated", Some(&alice.webid), 204),
        ("r-1", "resource-read", Some(&alice.webid), 200),
        ("d-1", "access-denied", Some(&stranger.webid), 403),
        ("d-2", "access-denied", None, 401),
        ("x-1", "resource-deleted", Some(&alice.webid), 204),
    ];
    // Changes come through the outbox, reads and refusals through the tap: no order between.
    let items = until(alice, &trail, "every request's event", |items| {
        expect
            .iter()
            .all(|(request, ..)| !by_request(items, request).is_empty())
    })
    .await;
    for (request, name, actor, status) in expect {
        let found = by_request(&items, request);
        assert_eq!(found.len(), 1, "one event of request {request}: {found:?}");
        let e = found[0];
        assert_eq!(e["name"], name, "{e}");
        assert_eq!(e["object"][0]["id"], doc.as_str(), "{e}");
        assert_eq!(e["target"]["id"], root.as_str(), "{e}");
        assert_eq!(e["result"][0]["status"], status, "{e}");
        assert_eq!(e["@context"][0], "https://www.w3.org/ns/activitystreams");
        match actor {
            Some(webid) => {
                assert_eq!(e["actor"][0]["id"], webid.as_str(), "{e}");
                assert_eq!(e["instrument"][0]["id"], "https://app.example/id", "{e}");
                assert_eq!(e["instrument"][1]["id"], idp().issuer.as_str(), "{e}");
            }
            None => assert_eq!(e["actor"], serde_json::json!([]), "{e}"),
        }
    }
    // The pod's provisioning opens its trail.
    assert_eq!(items[0]["name"], "pod-provisioned");
    assert_eq!(items[0]["actor"][0]["id"], alice.webid.as_str());

    // Only the owner and administrators read it.
    assert_eq!(page(Some(&stranger), &trail).await.0, 403);
    assert_eq!(page(None, &trail).await.0, 401);
    assert_eq!(page(Some(alice), &events_url(&server, "")).await.0, 403);
    let admin = idp().agent(ADMIN);
    let everything = all(&admin, &events_url(&server, "limit=1000")).await;
    assert!(everything.len() >= items.len());
    let res = send_as(
        Some(alice),
        Method::GET,
        &events_url(&server, "pod=..%2Fx"),
        None,
    )
    .await;
    assert_problem(res, 400).await;
    let res = send_as(
        Some(alice),
        Method::GET,
        &events_url(&server, &format!("pod={pod}&since=soon")),
        None,
    )
    .await;
    assert_problem(res, 400).await;
    let res = send_as(
        Some(alice),
        Method::GET,
        &events_url(&server, &format!("pod={pod}&limit=0")),
        None,
    )
    .await;
    assert_problem(res, 400).await;
    let res = send_as(
        Some(alice),
        Method::GET,
        &events_url(&server, &format!("pod={pod}&after=x")),
        None,
    )
    .await;
    assert_problem(res, 400).await;
    let res = send_as(
        Some(alice),
        Method::POST,
        &trail,
        Some(("application/json", "{}")),
    )
    .await;
    assert_problem(res, 405).await;
}

#[tokio::test]
async fn the_trail_pages_and_filters() {
    let server = server(&["--audit=all"]);
    let alice = owner();
    let root = server.private_pod(&alice.webid, "wac");
    let pod = pod_name(&root);
    let stranger = idp().agent("audit-filter-stranger");
    for i in 0..7 {
        let url = format!("{root}c/{i}.ttl");
        assert_eq!(
            send_with_id(
                Some(alice),
                Method::PUT,
                &url,
                Some("<#a> <#b> 1 ."),
                &format!("p-{i}")
            )
            .await,
            201
        );
    }
    let other = format!("{root}other.ttl");
    assert_eq!(
        send_with_id(
            Some(alice),
            Method::PUT,
            &other,
            Some("<#a> <#b> 1 ."),
            "o-1"
        )
        .await,
        201
    );
    assert_eq!(
        send_with_id(Some(&stranger), Method::GET, &other, None, "o-2").await,
        403
    );
    assert_eq!(
        send_with_id(Some(alice), Method::GET, &other, None, "o-3").await,
        200
    );

    let trail = events_url(&server, &format!("pod={pod}"));
    let whole = until(alice, &trail, "every event", |items| {
        items.len() >= 11 && !by_request(items, "o-3").is_empty()
    })
    .await;
    // pod-provisioned, 8 writes, a refusal, a read.
    assert_eq!(whole.len(), 11, "{whole:#?}");

    // Pages of 3 hold the same events in the same order, each once.
    let mut paged = Vec::new();
    let mut next = Some(events_url(&server, &format!("pod={pod}&limit=3")));
    let mut pages = 0;
    while let Some(url) = next {
        let (status, items, n) = page(Some(alice), &url).await;
        assert_eq!(status, 200);
        assert!(items.len() <= 3);
        paged.extend(items);
        next = n;
        pages += 1;
    }
    assert_eq!(pages, 4);
    let ids = |v: &[Value]| v.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&whole));

    let count = |q: &str| {
        let url = events_url(&server, &format!("pod={pod}&{q}"));
        async move { all(alice, &url).await }
    };
    let reads = count("type=resource-read").await;
    assert_eq!(by_request(&reads, "o-3").len(), 1);
    assert_eq!(reads.len(), 1);
    let theirs = count(&format!("agent={}", urlencode(&stranger.webid))).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["result"][0]["status"], 403);
    let one = count(&format!("resource={}", urlencode(&other))).await;
    assert_eq!(one.len(), 3);
    let under = count(&format!("resource={}", urlencode(&format!("{root}c/")))).await;
    assert_eq!(under.len(), 7);
    let future = count("since=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let past = count("until=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
    let since = whole[5]["published"].as_str().unwrap();
    let later = count(&format!("since={}", urlencode(since))).await;
    assert!(
        later.len() >= 6 && later.len() < whole.len(),
        "{}",
        later.len()
    );
}

fn urlencode(s: &str) -> String {
    url_escape(s)
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `podplane audit-verify` on this server's audit database: exit status and output.
fn verify(server: &Server) -> (bool, String) {
    let out = std::process::Command::new(BIN)
        .args([
            "audit-verify",
            "--database-url",
            &server.audit_database_url(),
        ])
        .output()
        .expect("run podplane audit-verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn chain_verification_detects_an_edited_or_deleted_event() {
    let server = server(&[]);
    let alice = owner();
    let root = server.private_pod(&alice.webid, "acp");
    let pod = pod_name(&root);
    for i in 0..5 {
        let url = format!("{root}{i}.ttl");
        assert_eq!(
            send_with_id(
                Some(alice),
                Method::PUT,
                &url,
                Some("<#a> <#b> 1 ."),
                &format!("v-{i}")
            )
            .await,
            201
        );
    }
    let trail = events_url(&server, &format!("pod={pod}"));
    until(alice, &trail, "five writes", |items| items.len() == 6).await;
    let (ok, out) = verify(&server);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("{pod}: 6 events, chain intact")),
        "{out}"
    );

    // An edited actor (in the body) is found; so is a deleted event.
    server
        .audit_execute(&format!(
            "UPDATE events SET body = REPLACE(body, 'owner', 'mallory') WHERE pod = '{pod}' AND seq = 3"
        ))
        .await;
    let (ok, out) = verify(&server);
    assert!(
        !ok && out.contains("event 3 does not match its hash"),
        "{out}"
    );
    server
        .audit_execute(&format!(
            "UPDATE events SET body = REPLACE(body, 'mallory', 'owner') WHERE pod = '{pod}' AND seq = 3"
        ))
        .await;
    assert!(verify(&server).0);
    server
        .audit_execute(&format!(
            "DELETE FROM events WHERE pod = '{pod}' AND seq = 4"
        ))
        .await;
    let (ok, out) = verify(&server);
    assert!(!ok && out.contains("event 4 is missing"), "{out}");
}

/// Resource `i` of the fault tests.
fn doc(root: &str, i: usize) -> String {
    format!("{root}f/{i}.ttl")
}

async fn write_all(agent: &Agent, root: &str, n: usize) {
    let c = client();
    let statuses: Vec<u16> = futures_util::stream::iter(0..n)
        .map(|i| {
            let req = agent
                .request(&c, Method::PUT, &doc(root, i))
                .header("content-type", TURTLE)
                .body(format!("<#it> <#n> {i} ."));
            async move { req.send().await.expect("PUT").status().as_u16() }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

/// Every `resource-created` event of `root`'s writes is in the trail exactly once.
async fn exactly_once(server: &Server, agent: &Agent, root: &str, n: usize) {
    let pod = pod_name(root);
    let url = events_url(
        server,
        &format!("pod={pod}&type=resource-created&limit=1000"),
    );
    until(agent, &url, "every write's event", |items| items.len() >= n).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let items = all(agent, &url).await;
    let mut objects: Vec<&str> = items
        .iter()
        .filter_map(|e| e["object"][0]["id"].as_str())
        .collect();
    assert_eq!(objects.len(), n, "one event per write, none twice");
    objects.sort_unstable();
    objects.dedup();
    assert_eq!(objects.len(), n);
    for i in 0..n {
        assert!(
            objects.binary_search(&doc(root, i).as_str()).is_ok(),
            "write {i}"
        );
    }
}

#[tokio::test]
async fn an_audit_replica_killed_mid_batch_loses_and_doubles_nothing() {
    let server = server(&[]);
    let alice = owner();
    let root = server.private_pod(&alice.webid, "acp");
    let writes = tokio::spawn({
        let root = root.clone();
        async move { write_all(owner(), &root, 500).await }
    });
    let url = events_url(
        &server,
        &format!("pod={}&type=resource-created&limit=1000", pod_name(&root)),
    );
    if server.is_distributed() {
        // The replica dies once it has stored some of the writes' events, in the middle of
        // the rest.
        let seen = until(alice, &url, "the first events", |items| items.len() >= 20).await;
        server.kill9_audit();
        assert!(seen.len() < 500, "killed before it had every event");
        writes.await.expect("writes");
        server.spawn_audit();
    } else {
        // Embedded mode: the whole server dies between the outbox and the audit database.
        writes.await.expect("writes");
        server.restart();
    }
    exactly_once(&server, alice, &root, 500).await;
    let (ok, out) = verify(&server);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn the_broker_down_during_500_writes_delays_their_audit_events_and_loses_none() {
    let Some(broker) = crate::faults::Broker::of_this_test().await else {
        return;
    };
    let via = Via {
        audit: true,
        kafka: Some(broker.address.clone()),
        env: vec![("PODPLANE_DATABASE_MAX_CONNECTIONS".into(), "4".into())],
        ..Via::default()
    };
    let server = Server::start_with(&via, &[]);
    let alice = owner();
    let root = server.private_pod(&alice.webid, "acp");
    broker.pause();
    write_all(alice, &root, 500).await;
    broker.resume();
    exactly_once(&server, alice, &root, 500).await;
}
