//! Hostile clients, one test per class of attack: a write keeps the grant it was authorized
//! with (held-back bodies), nested or expanding documents cannot crash or bloat the server,
//! evaluation has a budget, and slow, silent or idle connections are cut. Payloads are
//! generated here; after every attack the server must still answer and be right.

use crate::harness::*;
use crate::idp::Agent;
use reqwest::Method;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn assert_alive(base: &str) {
    let res = client()
        .get(format!("{base}/health/live"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the server still answers");
    assert_eq!(res.status(), 200);
}

fn bob() -> Agent {
    idp().agent("bob")
}

/// A private pod in which bob may create members of `c/` (Append on the container only) but
/// has no access to anything the owner puts there. Returns the container URL.
async fn append_only_container(access: &str) -> String {
    let root = shared().private_pod(&owner().webid, access);
    let container = format!("{root}c/");
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &format!("{container}seed.ttl"),
        Some("<#a> <#b> <#c>."),
    )
    .await;
    assert_eq!(s, 201);
    let me = &owner().webid;
    let bob = bob().webid;
    let acl = if access == "wac" {
        format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>.
             <#owner> a acl:Authorization; acl:agent <{me}>; acl:accessTo <{container}>;
                 acl:default <{container}>; acl:mode acl:Read, acl:Write, acl:Control.
             <#bob> a acl:Authorization; acl:agent <{bob}>; acl:accessTo <{container}>;
                 acl:mode acl:Append."
        )
    } else {
        format!(
            "@prefix acp: <http://www.w3.org/ns/solid/acp#>. @prefix acl: <http://www.w3.org/ns/auth/acl#>.
             <> acp:accessControl <#own>, <#bob>; acp:memberAccessControl <#own>.
             <#own> acp:apply [ acp:allow acl:Read, acl:Write, acl:Control; acp:anyOf [ acp:agent <{me}> ] ].
             <#bob> acp:apply [ acp:allow acl:Append; acp:anyOf [ acp:agent <{bob}> ] ]."
        )
    };
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &format!("{container}.acl"),
        Some(&acl),
    )
    .await;
    assert!(s == 201 || s == 204, "container ACL: {s}");
    container
}

/// Bob starts a write to a free name in `container` and holds its body back; the owner
/// creates that very document; then bob's body arrives. Returns bob's status and the
/// document as the owner reads it afterwards.
async fn held_back_write(
    container: &str,
    method: Method,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let doc = format!("{container}race.ttl");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let (head, tail) = body.split_at(body.len() / 2);
    tx.send(Ok(head.as_bytes().to_vec())).await.unwrap();
    let bob = bob();
    let request = bob
        .request(&client(), method, &doc)
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(stream));
    let pending =
        tokio::spawn(async move { request.send().await.expect("bob's write").status().as_u16() });
    // Bob's headers were authorized while the name was free.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &doc,
        Some("<#owner> <#says> \"mine\"."),
    )
    .await;
    assert_eq!(s, 201, "the owner creates the document meanwhile");
    tx.send(Ok(tail.as_bytes().to_vec())).await.unwrap();
    drop(tx);
    let status = pending.await.unwrap();
    let now = text(as_agent(Some(owner()), Method::GET, &doc, None).await).await;
    (status, now)
}

/// Bob's PUT, authorized as a create, must not overwrite the owner's document.
async fn assert_held_back_put_cannot_overwrite(access: &str) {
    let container = append_only_container(access).await;
    let body = "<#bob> <#says> \"overwritten\".";
    let (status, doc) = held_back_write(&container, Method::PUT, TURTLE, body).await;
    assert_eq!(status, 403, "bob may create, not overwrite ({access})");
    assert!(
        doc.contains("mine") && !doc.contains("overwritten"),
        "{doc}"
    );
}

#[tokio::test]
async fn a_create_authorized_on_a_free_name_cannot_overwrite_what_appeared_meanwhile_wac() {
    assert_held_back_put_cannot_overwrite("wac").await;
}

#[tokio::test]
async fn a_create_authorized_on_a_free_name_cannot_overwrite_what_appeared_meanwhile_acp() {
    assert_held_back_put_cannot_overwrite("acp").await;
}

#[tokio::test]
async fn a_patch_authorized_as_a_create_cannot_append_to_what_appeared_meanwhile_wac() {
    let container = append_only_container("wac").await;
    let patch = "@prefix solid: <http://www.w3.org/ns/solid/terms#>.
        _:p a solid:InsertDeletePatch; solid:inserts { <#bob> <#says> \"appended\" }.";
    let (status, doc) = held_back_write(&container, Method::PATCH, "text/n3", patch).await;
    assert_eq!(status, 403);
    assert!(doc.contains("mine") && !doc.contains("appended"), "{doc}");
}

#[tokio::test]
async fn an_append_only_agent_still_creates_when_nothing_raced() {
    let container = append_only_container("wac").await;
    let doc = format!("{container}bobs.ttl");
    assert_eq!(
        status_as(Some(&bob()), Method::PUT, &doc, Some("<#a> <#b> <#c>.")).await,
        201
    );
}

/// Documents that nest thousands deep: each used to overflow a parser's or evaluator's stack.
fn nested_payloads() -> Vec<(&'static str, &'static str, String)> {
    let n = 3000;
    let chain: String = (0..n)
        .map(|i| format!("?v{i} <#p> ?v{} . ", i + 1))
        .collect();
    vec![
        ("PATCH", "application/sparql-update", format!("INSERT {{ <#a> <#b> 1 }} WHERE {{ {}?s ?p ?o{} }}", "{ ".repeat(1000), " }".repeat(1000))),
        ("PATCH", "application/sparql-update", format!("INSERT {{ <#a> <#b> 1 }} WHERE {{ ?s ?p ?o FILTER({}?o{}) }}", "(".repeat(2000), ")".repeat(2000))),
        ("PATCH", "application/sparql-update", format!("INSERT DATA {{ <#a> <#p> {}1{} }}", "[ <#p> ".repeat(n), " ]".repeat(n))),
        ("PATCH", "application/sparql-update", format!("INSERT DATA {{ <#a> <#p> {}1{} }}", "( ".repeat(n), " )".repeat(n))),
        ("PATCH", "application/sparql-update", format!("INSERT {{ <#a> <#b> 1 }} WHERE {{ {chain} }}")),
        ("PATCH", "text/n3", format!("@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; solid:where {{ {chain} }}; solid:inserts {{ <#a> <#b> 1 }}.")),
        ("PUT", "application/ld+json", format!("{}\"@id\": \"#x\"{}", "{\"http://e/p\": ".repeat(1000), "}".repeat(1000))),
        ("PUT", "application/ld+json", format!("{{\"@id\": \"#x\", \"http://e/p\": {{\"@list\": {}1{}}}}}", "[".repeat(1000), "]".repeat(1000))),
        ("PUT", TURTLE, format!("<#a> <#p> {}1{} .", "[ <#p> ".repeat(n), " ]".repeat(n))),
    ]
}

#[tokio::test]
async fn deeply_nested_documents_are_refused_and_the_server_lives() {
    let pod = pod();
    for (i, (method, media, body)) in nested_payloads().into_iter().enumerate() {
        let url = format!("{pod}nested-{i}.ttl");
        let res = client()
            .request(method.parse().unwrap(), &url)
            .header("content-type", media)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("payload {i} ({media}) killed the server: {e}"));
        let status = res.status().as_u16();
        assert!(
            status == 422 || status == 400,
            "payload {i} ({media}): {status}"
        );
        assert_problem(res, status).await;
        assert_eq!(get(&url).await.status(), 404, "payload {i} stored nothing");
    }
    assert_alive(&shared().base).await;
}

#[tokio::test]
async fn writes_outside_any_pod_are_404_before_the_body_is_read() {
    let base = &shared().base;
    for (i, (method, media, body)) in nested_payloads().into_iter().enumerate() {
        let res = client()
            .request(method.parse().unwrap(), format!("{base}/no-such-pod-{i}/x"))
            .header("content-type", media)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 404).await;
    }
    assert_alive(base).await;
}

/// The answer to a refused write comes before its body; a client that sends the body anyway
/// (as every client does) must still read that answer and keep its connection.
#[tokio::test]
async fn a_body_sent_after_an_early_refusal_is_read_and_the_connection_kept() {
    let base = &shared().base;
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let len = 200_000;
    let head = format!(
        "PUT /no-such-pod/x HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/turtle\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let first = read_response(&mut s).await;
    assert!(first.starts_with("HTTP/1.1 404"), "{first}");
    // Only now does the body go out, then a second request on the same connection.
    s.write_all(&vec![b'#'; len]).await.unwrap();
    let next = format!("GET /health/live HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    s.write_all(next.as_bytes()).await.unwrap();
    let second = read_response(&mut s).await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second:?}");
}

/// Reads one response with a `content-length` from a raw connection (empty if it closes).
async fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while !buf.ends_with(b"\r\n\r\n") {
            if s.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if s.read_exact(&mut body).await.is_ok() {
            buf.extend_from_slice(&body);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn an_anonymous_upload_outside_any_pod_stores_nothing() {
    let server = Server::start(&[]);
    let before = server.blob_files();
    // 30 MiB, chunked, to a path no pod holds: refused on the headers.
    let chunks = futures_util::stream::iter(
        (0..30).map(|_| Ok::<_, std::io::Error>(vec![7u8; 1024 * 1024])),
    );
    let res = client()
        .put(format!("{}/nowhere/big.bin", server.base))
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), 404);
    }
    assert_eq!(server.blob_files(), before, "no byte was stored");
    assert_alive(&server.base).await;
}

#[tokio::test]
async fn expanding_documents_are_refused_with_bounded_memory() {
    // Memory follows the configured expansion limit (16 MiB here; the default is 128 MiB).
    let server = Server::start(&["--max-rdf-expanded-bytes", "16777216"]);
    let pod = server.pod();
    let rss_before = server.peak_rss();
    let long = "x".repeat(50_000);
    // 76 KB that would expand to 150 MB of terms.
    let triples: String = (0..3000).map(|i| format!("p:s{i} p:p {i} .\n")).collect();
    let ttl = format!("@prefix p: <http://e/{long}> .\n{triples}");
    let res = put(&format!("{pod}bomb.ttl"), TURTLE, ttl).await;
    assert_problem(res, 413).await;
    let sparql = format!("PREFIX p: <http://e/{long}>\nINSERT DATA {{ {triples} }}");
    let res = patch(
        &format!("{pod}bomb.ttl"),
        "application/sparql-update",
        &sparql,
    )
    .await;
    assert_problem(res, 413).await;
    // One subject repeated by `,`: the same expansion without any prefix.
    let repeated = format!(
        "<http://e/{long}> <http://e/p> {} .",
        (0..3000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let res = put(&format!("{pod}bomb2.ttl"), TURTLE, repeated).await;
    assert_problem(res, 413).await;
    let ctx = format!(
        r#"{{"@context": {{"p": "http://e/{long}"}}, "@id": "http://e/s", "p": [{}]}}"#,
        (0..3000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let res = put(&format!("{pod}bomb3.json"), "application/ld+json", ctx).await;
    assert_problem(res, 413).await;
    assert_alive(&server.base).await;
    let grown = server.peak_rss().saturating_sub(rss_before);
    assert!(
        grown < 80 * 1024 * 1024,
        "peak RSS grew by {} MiB",
        grown >> 20
    );
}

#[tokio::test]
async fn patch_evaluation_is_budgeted_and_never_stalls_the_server() {
    let pod = pod();
    let doc = format!("{pod}cross.ttl");
    let triples: String = (0..25).map(|i| format!("<#s{i}> <#p> {i}.\n")).collect();
    put_turtle(&doc, &triples).await;
    let cross = "INSERT { ?a <#q> ?b } WHERE { ?a <#p> ?x . ?b <#p> ?y . ?c <#p> ?z . ?d <#p> ?w }";
    let slow = tokio::spawn({
        let doc = doc.clone();
        async move { patch(&doc, "application/sparql-update", cross).await }
    });
    // While it runs, the server answers others.
    for _ in 0..5 {
        assert_alive(&shared().base).await;
    }
    let res = slow.await.unwrap();
    let detail = assert_problem(res, 422).await;
    assert!(
        detail.contains("solutions") || detail.contains("budget"),
        "{detail}"
    );
    let many: String = (0..200).map(|i| format!("?v{i} <#p> ?w{i} . ")).collect();
    let n3 = format!("@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; solid:where {{ {many} }}; solid:inserts {{ <#a> <#b> 1 }}.");
    assert_problem(patch(&doc, "text/n3", &n3).await, 422).await;
    // Nothing changed.
    let body = text(get(&doc).await).await;
    assert!(!body.contains("#q>"), "{body}");
}

#[tokio::test]
async fn patch_time_budget_refuses_slow_evaluations() {
    let server = Server::start(&[
        "--patch-time-budget-ms",
        "1",
        "--max-patch-solutions",
        "100000000",
    ]);
    let pod = server.pod();
    let doc = format!("{pod}slow.ttl");
    let triples: String = (0..40).map(|i| format!("<#s{i}> <#p> {i}.\n")).collect();
    put_turtle(&doc, &triples).await;
    // The filter joins every variable, so it cannot be pushed down: 2.5 M combinations.
    let cross = "DELETE { ?a <#p> ?x } WHERE { ?a <#p> ?x . ?b <#p> ?y . ?c <#p> ?z . ?d <#p> ?w FILTER(?x + ?y + ?z + ?w < 0) }";
    let detail = assert_problem(patch(&doc, "application/sparql-update", cross).await, 422).await;
    assert!(detail.contains("time"), "{detail}");
    assert_alive(&server.base).await;
}

#[tokio::test]
async fn overlapping_ranges_never_amplify() {
    let pod = pod();
    let url = format!("{pod}blob.bin");
    let res = put(&url, "application/octet-stream", vec![1u8; 64 * 1024]).await;
    assert_eq!(res.status(), 201);
    let range = format!("bytes={}", vec!["0-"; 32].join(","));
    let res = client()
        .get(&url)
        .header("range", range)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    let body = res.bytes().await.unwrap();
    assert!(
        body.len() <= 64 * 1024 + 512,
        "{} bytes for a 64 KiB blob",
        body.len()
    );
}

#[tokio::test]
async fn anonymous_options_does_not_tell_a_private_binary_from_nothing() {
    let root = shared().private_pod(&owner().webid, "acp");
    let secret = format!("{root}secret.bin");
    let res = owner()
        .request(&client(), Method::PUT, &secret)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let hidden = options(&secret).await;
    let missing = options(&format!("{root}missing.bin")).await;
    assert_eq!(hidden.status(), missing.status());
    for h in ["allow", "accept-patch", "accept-put", "link"] {
        assert_eq!(
            header(&hidden, h).replace("secret", "missing"),
            header(&missing, h),
            "{h}"
        );
    }
    // Its owner still learns what it is.
    let own = owner()
        .request(&client(), Method::OPTIONS, &secret)
        .send()
        .await
        .unwrap();
    assert!(
        !header(&own, "allow").contains("PATCH"),
        "{}",
        header(&own, "allow")
    );
}

/// A server whose connection limits are small enough to test in seconds, and the address of
/// one of its processes (the connection layer is per process, not behind the test proxy).
fn tight_server() -> (Server, std::net::SocketAddr) {
    let server = Server::start(&[
        "--header-read-timeout-secs",
        "1",
        "--body-idle-timeout-secs",
        "1",
        "--max-connections",
        "16",
    ]);
    let addr = server.replicas[0];
    (server, addr)
}

/// Whether the server closed `s` within `within`, reading and discarding anything it sent.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn slow_silent_and_idle_connections_are_closed() {
    let (server, addr) = tight_server();
    // Header slowloris: a request head that never ends.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-a: ")
        .await
        .unwrap();
    // A connection that never says anything, and one that sends half an HTTP/2 preface.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut preface = TcpStream::connect(addr).await.unwrap();
    preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    // An idle keep-alive connection after one complete exchange.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 256];
    let n = idle.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    for (name, s) in [
        ("slowloris", &mut slow),
        ("silent", &mut silent),
        ("half preface", &mut preface),
        ("idle keep-alive", &mut idle),
    ] {
        assert!(
            closed_within(s, Duration::from_secs(8)).await,
            "{name} connection still open"
        );
    }
    assert_alive(&server.base).await;
}

#[tokio::test]
async fn a_request_body_that_stops_arriving_gets_408() {
    let (server, addr) = tight_server();
    let pod = server.pod();
    let path = pod.trim_start_matches(&server.base).to_owned() + "stalled.bin";
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert_eq!(raw_status(&text), 408, "{text}");
    assert_eq!(
        get(&format!("{pod}stalled.bin")).await.status(),
        404,
        "nothing stored"
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_counted() {
    // Held connections occupy the cap until their head times out: 5 s, so a loaded machine
    // has time to accept the extra one while they still do.
    let server = Server::start(&["--header-read-timeout-secs", "5", "--max-connections", "16"]);
    let addr = server.replicas[0];
    let mut held = Vec::new();
    for _ in 0..16 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // Keep each one busy with an unfinished head (silent ones would be cut as fast).
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    // Refused: closed without a byte of response (a served request would get its 200).
    let mut buf = [0u8; 256];
    let answer = tokio::time::timeout(Duration::from_secs(4), extra.read(&mut buf)).await;
    match answer {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!(
            "the 17th connection was served: {}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(_) => panic!("the 17th connection was neither served nor closed within 4 s"),
    }
    // Once the held ones time out, the server serves again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = client().get(format!("http://{addr}/metrics")).send().await;
        if let Ok(res) = res {
            let metrics = text(res).await;
            let refused = metrics
                .lines()
                .find(|l| l.starts_with("podplane_connections_refused_total"))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            assert!(refused >= 1.0, "{metrics}");
            break;
        }
        assert!(Instant::now() < deadline, "the server never served again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn limit_refusals_are_counted() {
    let pod = pod();
    let deep = format!("<#a> <#p> {}1{} .", "(".repeat(100), ")".repeat(100));
    assert_problem(put(&format!("{pod}deep.ttl"), TURTLE, deep).await, 422).await;
    // Each process counts its own refusals; the request went to one of them.
    let mut counted = false;
    for addr in &shared().replicas {
        let metrics = text(get(&format!("http://{addr}/metrics")).await).await;
        counted |= metrics
            .lines()
            .any(|l| l.starts_with("podplane_limit_refusals_total") && l.contains("complexity"));
    }
    assert!(counted, "no replica counted the refusal");
}
