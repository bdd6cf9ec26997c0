//! Range requests on non-RDF resources (RFC 9110 § 14, `server-range-requests`): single,
//! suffix and open-ended ranges, multipart/byteranges, 416, If-Range.

use crate::harness::*;
use reqwest::Method;

const SIZE: usize = 1000;
const OCTETS: &str = "application/octet-stream";
const LONG_AGO: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

/// 1000 bytes in which every short slice is distinctive, and not valid UTF-8.
fn content() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 + i / 256) as u8).collect()
}

/// Stores [`content`] as a binary resource and returns its URL.
async fn binary(root: &str) -> String {
    let url = format!("{root}data.bin");
    assert_eq!(put(&url, OCTETS, content()).await.status(), 201);
    url
}

async fn send(method: Method, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client().request(method, url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request")
}

async fn get_range(url: &str, range: &str) -> reqwest::Response {
    send(Method::GET, url, &[("range", range)]).await
}

async fn bytes(res: reqwest::Response) -> Vec<u8> {
    res.bytes().await.expect("body").to_vec()
}

/// Asserts a 206 carrying exactly bytes `first..=last`.
async fn assert_single_range(res: reqwest::Response, first: usize, last: usize) {
    assert_eq!(res.status(), 206);
    assert_eq!(
        header(&res, "content-range"),
        format!("bytes {first}-{last}/{SIZE}")
    );
    assert_eq!(
        header(&res, "content-length"),
        (last - first + 1).to_string()
    );
    assert_eq!(header(&res, "content-type"), OCTETS);
    assert_eq!(bytes(res).await, content()[first..=last]);
}

/// Asserts a 200 with the whole representation and no Content-Range.
async fn assert_full(res: reqwest::Response) {
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-range"), "");
    assert_eq!(header(&res, "content-length"), SIZE.to_string());
    assert_eq!(bytes(res).await, content());
}

/// One part of a multipart body: its header fields (lower-cased names) and its content.
type Part = (Vec<(String, String)>, Vec<u8>);

/// The parts of a multipart/byteranges body (RFC 9110 § 14.6, RFC 2046 § 5.1.1).
fn multipart_parts(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut at = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if &body[i..i + d.len()] == d {
            at.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    assert!(at.len() >= 2, "no delimiters for boundary {boundary}");
    // Only CRLF may come before the first delimiter; the last one closes with `--`.
    assert!(
        matches!(&body[..at[0]], b"" | b"\r\n"),
        "preamble before the first part"
    );
    let last = at[at.len() - 1];
    assert!(body[last + d.len()..].starts_with(b"--"), "close delimiter");
    at.windows(2)
        .map(|w| {
            let part = &body[w[0] + d.len()..w[1]];
            let part = part.strip_prefix(b"\r\n").expect("CRLF after delimiter");
            let part = part.strip_suffix(b"\r\n").expect("CRLF before delimiter");
            let split = part
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("blank line after part headers");
            let head = String::from_utf8(part[..split].to_vec()).expect("ASCII headers");
            let fields = head
                .split("\r\n")
                .map(|line| {
                    let (name, value) = line.split_once(':').expect("header field");
                    (name.trim().to_ascii_lowercase(), value.trim().to_owned())
                })
                .collect();
            (fields, part[split + 4..].to_vec())
        })
        .collect()
}

#[tokio::test]
async fn range_single_is_206_with_content_range() {
    let root = pod();
    let url = binary(&root).await;
    let res = get_range(&url, "bytes=10-19").await;
    assert_eq!(header(&res, "accept-ranges"), "bytes");
    assert!(!header(&res, "etag").is_empty());
    assert_single_range(res, 10, 19).await;
    assert_single_range(get_range(&url, "bytes=0-0").await, 0, 0).await;
}

#[tokio::test]
async fn range_suffix_is_the_last_bytes() {
    let root = pod();
    let url = binary(&root).await;
    assert_single_range(get_range(&url, "bytes=-10").await, 990, 999).await;
}

#[tokio::test]
async fn range_suffix_longer_than_representation_selects_all() {
    let root = pod();
    let url = binary(&root).await;
    assert_single_range(get_range(&url, "bytes=-5000").await, 0, 999).await;
}

#[tokio::test]
async fn range_open_ended_runs_to_the_end() {
    let root = pod();
    let url = binary(&root).await;
    assert_single_range(get_range(&url, "bytes=990-").await, 990, 999).await;
}

#[tokio::test]
async fn range_last_position_past_the_end_is_clamped() {
    let root = pod();
    let url = binary(&root).await;
    assert_single_range(get_range(&url, "bytes=995-2000").await, 995, 999).await;
}

#[tokio::test]
async fn range_multiple_is_multipart_byteranges() {
    let root = pod();
    let url = binary(&root).await;
    let res = get_range(&url, "bytes=0-4, 500-509, -3").await;
    assert_eq!(res.status(), 206);
    assert_eq!(header(&res, "content-range"), "", "only parts carry ranges");
    let content_type = header(&res, "content-type");
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"))
        .trim_matches('"')
        .to_owned();
    assert!(!boundary.is_empty());
    let length = header(&res, "content-length");
    let body = bytes(res).await;
    assert_eq!(length, body.len().to_string());
    let parts = multipart_parts(&body, &boundary);
    let expected = [(0, 4), (500, 509), (997, 999)];
    assert_eq!(parts.len(), expected.len());
    for ((fields, data), (first, last)) in parts.iter().zip(expected) {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        assert_eq!(field("content-type"), OCTETS);
        assert_eq!(
            field("content-range"),
            format!("bytes {first}-{last}/{SIZE}")
        );
        assert_eq!(data.as_slice(), &content()[first..=last]);
    }
}

#[tokio::test]
async fn range_unsatisfiable_is_416() {
    let root = pod();
    let url = binary(&root).await;
    for range in [
        "bytes=1000-",
        "bytes=5000-6000",
        "bytes=1000-1001, 2000-",
        "bytes=-0",
    ] {
        let res = get_range(&url, range).await;
        assert_eq!(header(&res, "content-range"), "bytes */1000", "{range}");
        assert_problem(res, 416).await;
    }
}

#[tokio::test]
async fn range_malformed_is_ignored() {
    let root = pod();
    let url = binary(&root).await;
    for range in [
        "bytes=abc",
        "bytes=20-10",
        "bytes=-",
        "bytes=5",
        "items=0-9",
        "0-9",
    ] {
        let res = get_range(&url, range).await;
        assert_eq!(res.status(), 200, "{range}");
        assert_full(res).await;
    }
}

#[tokio::test]
async fn range_on_rdf_document_is_ignored() {
    let root = pod();
    let url = format!("{root}doc");
    put_turtle(&url, "<#a> <#b> \"a value long enough to cut\".").await;
    let whole = text(get(&url).await).await;
    let res = get_range(&url, "bytes=0-3").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-range"), "");
    assert_eq!(text(res).await, whole);
}

#[tokio::test]
async fn if_range_current_etag_is_206() {
    let root = pod();
    let url = binary(&root).await;
    let etag = header(&get(&url).await, "etag");
    let res = send(
        Method::GET,
        &url,
        &[("range", "bytes=100-149"), ("if-range", &etag)],
    )
    .await;
    assert_single_range(res, 100, 149).await;
}

#[tokio::test]
async fn if_range_stale_validator_is_200_full() {
    let root = pod();
    let url = binary(&root).await;
    let stale = header(&get(&url).await, "etag");
    assert_eq!(put(&url, OCTETS, content()).await.status(), 204);
    let current = header(&get(&url).await, "etag");
    assert_ne!(stale, current);
    // A changed resource, a weak tag (never good enough for If-Range) and an old date all
    // mean "send me everything".
    let weak = format!("W/{current}");
    for if_range in [stale.as_str(), weak.as_str(), LONG_AGO] {
        let res = send(
            Method::GET,
            &url,
            &[("range", "bytes=100-149"), ("if-range", if_range)],
        )
        .await;
        assert_eq!(header(&res, "etag"), current, "{if_range}");
        assert_full(res).await;
    }
}

#[tokio::test]
async fn accept_ranges_bytes_on_binary_get() {
    let root = pod();
    let url = binary(&root).await;
    let res = get(&url).await;
    assert_eq!(header(&res, "accept-ranges"), "bytes");
    assert_eq!(header(&res, "content-type"), OCTETS);
    assert_full(res).await;
}

#[tokio::test]
async fn head_with_range_matches_get_without_body() {
    let root = pod();
    let url = binary(&root).await;
    for range in ["bytes=10-19", "bytes=-1", "bytes=1000-"] {
        let got = get_range(&url, range).await;
        let head = send(Method::HEAD, &url, &[("range", range)]).await;
        assert_eq!(head.status(), got.status(), "{range}");
        for name in [
            "content-range",
            "content-length",
            "content-type",
            "accept-ranges",
            "etag",
            "last-modified",
        ] {
            // A HEAD of an error sends no body, so its length is not the GET's.
            if name == "content-length" && !got.status().is_success() {
                continue;
            }
            assert_eq!(header(&head, name), header(&got, name), "{range}: {name}");
        }
        assert!(bytes(head).await.is_empty(), "{range}");
    }
}
