//! Bad input (`server-http`, `server-content-type-missing`, `server-method-not-allowed`): every
//! malformed request gets an RFC 9457 problem with the right status, never a panic or a
//! half-written resource, and the server keeps serving afterwards.
//!
//! Paths go over raw TCP: reqwest and `url` collapse `..` and `%2e%2e` before sending.

use crate::harness::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 response: status, header block and body.
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

impl RawResponse {
    fn parse(text: String) -> Self {
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        RawResponse {
            status: raw_status(&text),
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// Every value of a header, joined with ", " (names compare case-insensitively).
    fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The path of an absolute URL (`http://host/p/` → `/p/`).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").expect("absolute URL").1;
    rest[rest.find('/').expect("path")..].to_owned()
}

/// Sends one request exactly as written; the connection closes after the response.
async fn send_raw(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    RawResponse::parse(raw(addr, &bytes).await)
}

/// Asserts a raw response is an RFC 9457 problem with `status`; returns its detail.
fn assert_raw_problem(res: &RawResponse, status: u16) -> String {
    assert_eq!(
        res.status, status,
        "response:\n{}\n\n{}",
        res.head, res.body
    );
    assert_eq!(res.header("content-type"), "application/problem+json");
    let body: serde_json::Value = serde_json::from_str(&res.body).expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string(), "problem title");
    body["detail"].as_str().unwrap_or_default().to_owned()
}

/// GET on each target (raw), expecting a `status` problem whose detail contains `why`.
async fn assert_paths_refused(root: &str, targets: &[String], status: u16, why: &str) {
    for target in targets {
        let res = send_raw(shared().addr, "GET", target, &[], b"").await;
        let detail = assert_raw_problem(&res, status);
        assert!(detail.contains(why), "{target}: {detail}");
    }
    assert_healthy(root).await;
}

/// The server still answers normally: the pod root reads as 200.
async fn assert_healthy(root: &str) {
    assert_eq!(
        get(root).await.status(),
        200,
        "server unhealthy after bad input"
    );
}

/// A server with small body limits: 1000 bytes of content, 500 bytes of RDF.
fn limited() -> Server {
    Server::start(&["--max-body-bytes", "1000", "--max-rdf-bytes", "500"])
}

/// A body of `chunks` chunks of `size` bytes sent with chunked transfer coding (no length).
fn chunked_body(chunks: usize, size: usize, byte: u8) -> reqwest::Body {
    let parts: Vec<Result<bytes::Bytes, std::io::Error>> = (0..chunks)
        .map(|_| Ok(bytes::Bytes::from(vec![byte; size])))
        .collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(parts))
}

/// Announces 1000 bytes, sends 10, then closes the write half: an upload cut off midway.
/// Returns the server's answer.
async fn truncated_put(addr: SocketAddr, path: &str) -> RawResponse {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(b"0123456789").await.expect("write body");
    s.shutdown().await.expect("shutdown");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    RawResponse::parse(String::from_utf8_lossy(&buf).into_owned())
}

/// Waits (briefly) for the server's blob count to settle at `expected`.
async fn assert_blob_files(server: &Server, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.blob_files() != expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.blob_files(), expected, "blob files on disk");
}

#[tokio::test]
async fn dot_segments_are_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = [
        format!("{p}a/../b"),
        format!("{p}a/./b"),
        format!("{p}.."),
        format!("{p}a/.."),
        format!("{p}../{}", p.trim_matches('/')),
    ];
    assert_paths_refused(&root, &targets, 400, "dot segments").await;
}

#[tokio::test]
async fn encoded_dot_segments_are_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = [
        format!("{p}a/%2e%2e/b"),
        format!("{p}a/%2E%2E/b"),
        format!("{p}a/.%2e/b"),
        format!("{p}a/%2e/b"),
    ];
    assert_paths_refused(&root, &targets, 400, "dot segments").await;
}

#[tokio::test]
async fn dot_segment_put_writes_nothing() {
    let root = pod();
    let p = path_of(&root);
    for target in [format!("{p}a/../b"), format!("{p}a/%2e%2e/b")] {
        let res = send_raw(
            shared().addr,
            "PUT",
            &target,
            &[("Content-Type", "text/plain")],
            b"escaped",
        )
        .await;
        assert_raw_problem(&res, 400);
    }
    assert_eq!(get(&format!("{root}b")).await.status(), 404);
    assert_eq!(get(&format!("{root}a/")).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn encoded_slash_is_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = [format!("{p}a%2Fb"), format!("{p}a%2fb"), format!("{p}%2F")];
    assert_paths_refused(&root, &targets, 400, "encoded slashes").await;
    let res = send_raw(
        shared().addr,
        "PUT",
        &format!("{p}a%2Fb"),
        &[("Content-Type", "text/plain")],
        b"x",
    )
    .await;
    assert_raw_problem(&res, 400);
    assert_eq!(get(&format!("{root}a/b")).await.status(), 404);
    assert_eq!(get(&format!("{root}a/")).await.status(), 404);
}

#[tokio::test]
async fn encoded_backslash_is_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = [
        format!("{p}a%5Cb"),
        format!("{p}a%5cb"),
        format!("{p}%5C.."),
    ];
    assert_paths_refused(&root, &targets, 400, "backslashes").await;
}

#[tokio::test]
async fn control_characters_are_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = ["%00", "%0A", "%0d", "%1F", "%7F", "x%00.ttl"].map(|c| format!("{p}a{c}"));
    assert_paths_refused(&root, &targets, 400, "control characters").await;
}

#[tokio::test]
async fn invalid_utf8_in_path_is_refused() {
    let root = pod();
    let p = path_of(&root);
    let targets = ["%FF", "%C3", "%C0%AF", "%ED%A0%80"].map(|c| format!("{p}a{c}"));
    assert_paths_refused(&root, &targets, 400, "not valid UTF-8").await;
}

#[tokio::test]
async fn empty_segments_are_refused() {
    let root = pod();
    let p = path_of(&root);
    let name = p.trim_matches('/');
    let targets = [
        format!("{p}a//b"),
        format!("{p}/x"),
        format!("/{p}"),
        format!("{p}a//"),
        format!("/{name}//"),
    ];
    assert_paths_refused(&root, &targets, 400, "empty path segment").await;
}

#[tokio::test]
async fn segment_over_255_bytes_is_uri_too_long() {
    let root = pod();
    // 255 bytes is the limit and still fine.
    let ok = format!("{root}{}", "n".repeat(255));
    assert_eq!(put(&ok, "text/plain", "fits").await.status(), 201);
    assert_eq!(text(get(&ok).await).await, "fits");

    let long = format!("{root}{}", "n".repeat(256));
    let detail = assert_problem(put(&long, "text/plain", "too long").await, 414).await;
    assert!(detail.contains("256") && detail.contains("255"), "{detail}");
    // The limit counts decoded bytes: 128 × "é" is 256 bytes.
    let wide = format!("{root}{}", "%C3%A9".repeat(128));
    assert_problem(get(&wide).await, 414).await;
    assert_eq!(get(&long).await.status(), 414);
    assert_healthy(&root).await;
}

/// A path of exactly `len` bytes inside the pod at `root`, made of segments of at most 200.
fn path_of_length(root: &str, len: usize) -> String {
    let mut path = path_of(root);
    while len - path.len() > 201 {
        path.push_str(&"s".repeat(200));
        path.push('/');
    }
    let rest = len - path.len();
    path.push_str(&"d".repeat(rest));
    assert_eq!(path.len(), len);
    path
}

#[tokio::test]
async fn path_over_900_bytes_is_uri_too_long() {
    let root = pod();
    let base = &shared().base;
    let ok = format!("{base}{}", path_of_length(&root, 900));
    assert_eq!(put(&ok, "text/plain", "fits").await.status(), 201);
    assert_eq!(text(get(&ok).await).await, "fits");

    let long = format!("{base}{}", path_of_length(&root, 901));
    let detail = assert_problem(put(&long, "text/plain", "too long").await, 414).await;
    assert!(detail.contains("901") && detail.contains("900"), "{detail}");
    assert_problem(get(&long).await, 414).await;
    let res = send_raw(shared().addr, "GET", &path_of(&long), &[], b"").await;
    assert_raw_problem(&res, 414);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn content_without_content_type_is_bad_request() {
    let root = pod();
    let url = format!("{root}untyped");
    let res = client().put(&url).body("some bytes").send().await.unwrap();
    let detail = assert_problem(res, 400).await;
    assert!(detail.contains("Content-Type"), "{detail}");
    assert_eq!(get(&url).await.status(), 404);

    let res = client()
        .post(&root)
        .body("some bytes")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    let res = client()
        .patch(&url)
        .body("INSERT DATA { <#a> <#b> 1 }")
        .send()
        .await
        .unwrap();
    let detail = assert_problem(res, 400).await;
    assert!(detail.contains("Content-Type"), "{detail}");
    assert_eq!(get(&url).await.status(), 404);
    // Nothing was added to the pod root either.
    let listing = ntriples(&text(get(&root).await).await, &root);
    assert!(
        !listing.iter().any(|t| t.contains("ldp#contains")),
        "{listing:?}"
    );
}

#[tokio::test]
async fn malformed_content_type_is_bad_request() {
    let root = pod();
    let url = format!("{root}doc");
    for bad in [
        "text",
        "text/",
        "/turtle",
        "text/turtle;;=",
        "not a media type",
    ] {
        let res = put(&url, bad, "<#a> <#b> <#c>.").await;
        let detail = assert_problem(res, 400).await;
        assert!(detail.contains("malformed Content-Type"), "{bad}: {detail}");
    }
    // Bytes outside ASCII (obs-text) in the header.
    let res = send_raw(
        shared().addr,
        "PUT",
        &path_of(&url),
        &[("Content-Type", "text/t\u{fc}rtle")],
        b"<#a> <#b> <#c>.",
    )
    .await;
    let detail = assert_raw_problem(&res, 400);
    assert!(detail.contains("Content-Type"), "{detail}");
    assert_eq!(get(&url).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn binary_over_limit_with_length_is_413() {
    let server = limited();
    let root = server.pod();
    let url = format!("{root}big.bin");
    let res = put(&url, "application/octet-stream", vec![7u8; 1001]).await;
    let detail = assert_problem(res, 413).await;
    assert!(detail.contains("1000"), "{detail}");
    assert_eq!(get(&url).await.status(), 404);
    // Exactly at the limit is fine.
    let res = put(&url, "application/octet-stream", vec![7u8; 1000]).await;
    assert_eq!(res.status(), 201);
    assert_eq!(get(&url).await.bytes().await.unwrap().len(), 1000);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn binary_over_limit_chunked_is_413_and_stores_nothing() {
    let server = limited();
    let root = server.pod();
    let url = format!("{root}stream.bin");
    let res = put(&url, "application/octet-stream", chunked_body(3, 400, b'x')).await;
    let detail = assert_problem(res, 413).await;
    assert!(detail.contains("1000"), "{detail}");
    assert_eq!(get(&url).await.status(), 404);
    assert_blob_files(&server, 0).await;
    // Chunked and within the limit works, so the 413 was about size.
    let res = put(&url, "application/octet-stream", chunked_body(2, 500, b'y')).await;
    assert_eq!(res.status(), 201);
    assert_eq!(text(get(&url).await).await, "y".repeat(1000));
    assert_blob_files(&server, 1).await;
    assert_healthy(&root).await;
}

#[tokio::test]
async fn chunked_overflow_keeps_existing_content() {
    let server = limited();
    let root = server.pod();
    let url = format!("{root}keep.txt");
    assert_eq!(put(&url, "text/plain", "original").await.status(), 201);
    let res = put(&url, "text/plain", chunked_body(5, 300, b'z')).await;
    assert_problem(res, 413).await;
    assert_eq!(text(get(&url).await).await, "original");
    assert_blob_files(&server, 1).await;
    assert_healthy(&root).await;
}

/// Turtle of at least `len` bytes.
fn turtle_of(len: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!("<#s{i}> <#p> \"value number {i}\" .\n"));
        i += 1;
    }
    out
}

#[tokio::test]
async fn rdf_over_rdf_limit_is_413() {
    let server = limited();
    let root = server.pod();
    let url = format!("{root}big.ttl");
    let body = turtle_of(600);
    // Under the content limit but over the RDF limit.
    assert!(body.len() < 1000);
    let detail = assert_problem(put(&url, TURTLE, body.clone()).await, 413).await;
    assert!(detail.contains("500"), "{detail}");
    let res = put(
        &url,
        TURTLE,
        reqwest::Body::wrap_stream(futures_util::stream::iter(
            body.as_bytes()
                .chunks(100)
                .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )),
    )
    .await;
    assert_problem(res, 413).await;
    assert_eq!(get(&url).await.status(), 404);
    // The same size as plain bytes is within the content limit.
    assert_eq!(put(&url, "text/plain", body).await.status(), 201);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn patch_over_rdf_limit_is_413() {
    let server = limited();
    let root = server.pod();
    let url = format!("{root}doc.ttl");
    let res = put(&url, TURTLE, "<#a> <#b> <#c> .").await;
    assert_eq!(res.status(), 201);
    let before = text(get(&url).await).await;
    let update = format!("INSERT DATA {{ {} }}", turtle_of(600));
    let detail = assert_problem(patch(&url, "application/sparql-update", &update).await, 413).await;
    assert!(detail.contains("500"), "{detail}");
    assert_eq!(text(get(&url).await).await, before);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn truncated_upload_keeps_old_content() {
    let server = Server::start(&[]);
    let root = server.pod();
    let url = format!("{root}file.txt");
    assert_eq!(put(&url, "text/plain", "old content").await.status(), 201);
    assert_eq!(server.blob_files(), 1);
    let cut = truncated_put(server.addr, &path_of(&url)).await;
    let detail = assert_raw_problem(&cut, 400);
    assert!(detail.contains("body"), "{detail}");
    let res = get(&url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-length"), "11");
    assert_eq!(text(res).await, "old content");
    assert_blob_files(&server, 1).await;
    assert_healthy(&root).await;
}

#[tokio::test]
async fn truncated_upload_creates_nothing() {
    let server = Server::start(&[]);
    let root = server.pod();
    let url = format!("{root}new.txt");
    let cut = truncated_put(server.addr, &path_of(&url)).await;
    assert_raw_problem(&cut, 400);
    assert_problem(get(&url).await, 404).await;
    assert_blob_files(&server, 0).await;
    let listing = ntriples(&text(get(&root).await).await, &root);
    assert!(
        !listing.iter().any(|t| t.contains("new.txt")),
        "{listing:?}"
    );
    assert_healthy(&root).await;
}

#[tokio::test]
async fn malformed_turtle_is_400_with_parser_message() {
    let root = pod();
    let url = format!("{root}doc.ttl");
    put_turtle(&url, "<#a> <#b> <#c> .").await;
    let before = text(get(&url).await).await;
    let res = put(&url, TURTLE, "<#a> <#b> .").await;
    let detail = assert_problem(res, 400).await;
    // The parser's own words, with the position of the error.
    assert!(
        detail.starts_with("could not parse text/turtle: ") && detail.contains("line 1"),
        "{detail}"
    );
    // Never a half-write: the old document stands.
    assert_eq!(text(get(&url).await).await, before);
    // POST of the same creates nothing.
    let res = client()
        .post(&root)
        .header("content-type", TURTLE)
        .header("slug", "posted")
        .body("@prefix : <#> . :a :b")
        .send()
        .await
        .unwrap();
    let detail = assert_problem(res, 400).await;
    assert!(
        detail.starts_with("could not parse text/turtle: ") && detail.contains("line 1"),
        "{detail}"
    );
    assert_eq!(get(&format!("{root}posted")).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn malformed_jsonld_is_400_with_parser_message() {
    let root = pod();
    let url = format!("{root}doc.jsonld");
    // Broken JSON (the parser says where), and valid JSON that is not JSON-LD.
    for (bad, says) in [
        (r##"{"@id": "#a", "http://ex/p": "##, "line 1"),
        (r#"[1, 2"#, "line 1"),
        (r##"{"@context": 5, "@id": "#a"}"##, "@context"),
    ] {
        let res = put(&url, "application/ld+json", bad).await;
        let detail = assert_problem(res, 400).await;
        assert!(
            detail.starts_with("could not parse application/ld+json: ") && detail.contains(says),
            "{bad}: {detail}"
        );
    }
    assert_eq!(get(&url).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn malformed_ntriples_is_400_with_parser_message() {
    let root = pod();
    let url = format!("{root}doc.nt");
    // Relative IRIs and prefixed names are Turtle, not N-Triples.
    for bad in [
        "<#a> <#b> <#c> .",
        "<http://ex/a> <http://ex/b> ex:c .",
        "<http://ex/a> <http://ex/b> \"x\"",
    ] {
        let res = put(&url, "application/n-triples", bad).await;
        let detail = assert_problem(res, 400).await;
        assert!(
            detail.starts_with("could not parse application/n-triples: ")
                && detail.contains("line 1"),
            "{bad}: {detail}"
        );
    }
    assert_eq!(get(&url).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn invalid_utf8_in_turtle_is_400() {
    let root = pod();
    let url = format!("{root}doc.ttl");
    let body = b"<#a> <#b> \"caf\xC3 \xFF\" .".to_vec();
    let detail = assert_problem(put(&url, TURTLE, body).await, 400).await;
    assert!(
        detail.starts_with("could not parse text/turtle: ") && detail.contains("UTF-8"),
        "{detail}"
    );
    assert_eq!(get(&url).await.status(), 404);
    assert_healthy(&root).await;
}

#[tokio::test]
async fn unknown_method_is_405_with_allow() {
    let root = pod();
    let p = path_of(&root);
    for method in ["FOO", "PROPFIND", "TRACE"] {
        let res = send_raw(shared().addr, method, &p, &[], b"").await;
        assert_raw_problem(&res, 405);
        let allow = res.header("allow");
        for m in ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"] {
            assert!(allow.split(", ").any(|a| a == m), "{method}: {allow}");
        }
        assert!(!allow.contains(method), "{allow}");
    }
    assert_healthy(&root).await;
}
