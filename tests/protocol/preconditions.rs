//! Validators and conditional requests (RFC 9110 §§ 8.8, 13): strong ETags, Last-Modified,
//! If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since, and create-only PUT
//! (`server-etag`, `server-last-modified-includes`, the ESS behaviours clients rely on).

use crate::harness::*;
use reqwest::Method;
use std::time::{SystemTime, UNIX_EPOCH};

const LONG_AGO: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

/// Sends `method` with the given headers and, when not empty, a body.
async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut req = client().request(method, url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if !body.is_empty() {
        req = req.body(body.to_owned());
    }
    req.send().await.expect("request")
}

/// A strong entity-tag: `"…"` with no `W/` and no inner quote (RFC 9110 § 8.8.3).
fn is_strong(etag: &str) -> bool {
    etag.len() >= 2
        && etag.starts_with('"')
        && etag.ends_with('"')
        && !etag[1..etag.len() - 1].contains('"')
}

/// Unix seconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form a server
/// may send.
fn http_date_secs(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = value.split(' ').collect();
    let [weekday, day, month, year, time, "GMT"] = fields.as_slice() else {
        return None;
    };
    if weekday.len() != 4 || !weekday.ends_with(',') || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days since the epoch of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + m * 60 + s)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Creates a Turtle document and returns its URL and current ETag (from a GET).
async fn document(root: &str, name: &str) -> (String, String) {
    let url = format!("{root}{name}");
    put_turtle(&url, "<#a> <#b> \"one\".").await;
    let etag = header(&get(&url).await, "etag");
    assert!(is_strong(&etag), "{etag:?}");
    (url, etag)
}

async fn body_of(url: &str) -> String {
    text(get(url).await).await
}

#[tokio::test]
async fn server_etag_strong_on_document() {
    let root = pod();
    let url = format!("{root}doc");
    assert_eq!(put(&url, TURTLE, "<#a> <#b> \"one\".").await.status(), 201);
    let got = get(&url).await;
    let etag = header(&got, "etag");
    assert!(is_strong(&etag), "{etag:?}");
    // A read does not change it.
    assert_eq!(header(&get(&url).await, "etag"), etag);
    assert_eq!(
        header(&client().head(&url).send().await.unwrap(), "etag"),
        etag
    );
}

#[tokio::test]
async fn server_etag_strong_on_container() {
    let root = pod();
    put_turtle(&format!("{root}c/x"), "").await;
    for url in [root.clone(), format!("{root}c/")] {
        let etag = header(&get(&url).await, "etag");
        assert!(is_strong(&etag), "{url}: {etag:?}");
        assert_eq!(header(&get(&url).await, "etag"), etag, "{url}");
    }
}

#[tokio::test]
async fn server_etag_strong_on_binary() {
    let root = pod();
    let url = format!("{root}photo.png");
    let created = put(&url, "image/png", vec![0x89u8, b'P', b'N', b'G', 0, 1, 2]).await;
    assert_eq!(created.status(), 201);
    let etag = header(&get(&url).await, "etag");
    assert!(is_strong(&etag), "{etag:?}");
    assert_eq!(header(&created, "etag"), etag);
}

#[tokio::test]
async fn server_etag_changes_on_every_write() {
    let root = pod();
    let (url, first) = document(&root, "doc").await;
    let replaced = put(&url, TURTLE, "<#a> <#b> \"two\".").await;
    assert_eq!(replaced.status(), 204);
    let second = header(&get(&url).await, "etag");
    assert_ne!(first, second);
    let patched = patch(
        &url,
        "application/sparql-update",
        "INSERT DATA { <#a> <#b> \"three\" }",
    )
    .await;
    assert_eq!(patched.status(), 204);
    let third = header(&get(&url).await, "etag");
    assert_ne!(second, third);
    assert_ne!(first, third);
    assert_eq!(header(&patched, "etag"), third);
}

#[tokio::test]
async fn server_last_modified_includes_get_and_head() {
    // The helper itself, on RFC 9110's example date.
    assert_eq!(http_date_secs(LONG_AGO), Some(784_111_777));
    let root = pod();
    let before = now_secs();
    let url = format!("{root}file.txt");
    put(&url, "text/plain", "hi").await;
    put_turtle(&format!("{root}doc"), "").await;
    for url in [url, format!("{root}doc"), root.clone()] {
        let got = get(&url).await;
        let head = client().head(&url).send().await.unwrap();
        let modified = header(&got, "last-modified");
        let secs = http_date_secs(&modified)
            .unwrap_or_else(|| panic!("{url}: Last-Modified {modified:?} is not an IMF-fixdate"));
        assert!(
            (before - 2..=now_secs() + 2).contains(&secs),
            "{url}: {modified}"
        );
        assert_eq!(header(&head, "last-modified"), modified, "{url}");
    }
}

#[tokio::test]
async fn create_only_put_if_none_match_star_existing_is_412() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let before = body_of(&url).await;
    let res = send(
        Method::PUT,
        &url,
        &[
            ("content-type", TURTLE),
            ("if-none-match", "*"),
            ("link", "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\""),
        ],
        "<#a> <#b> \"clobbered\".",
    )
    .await;
    assert_problem(res, 412).await;
    let got = get(&url).await;
    assert_eq!(header(&got, "etag"), etag);
    assert_eq!(text(got).await, before);
}

#[tokio::test]
async fn create_only_put_if_none_match_star_missing_is_201() {
    let root = pod();
    let url = format!("{root}fresh");
    let res = send(
        Method::PUT,
        &url,
        &[
            ("content-type", "text/plain"),
            ("if-none-match", "*"),
            ("link", "<http://www.w3.org/ns/ldp#Resource>; rel=\"type\""),
        ],
        "first",
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "location"), url);
    assert_eq!(body_of(&url).await, "first");
}

#[tokio::test]
async fn if_match_current_etag_put_is_204() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", "text/plain"), ("if-match", &etag)],
        "second",
    )
    .await;
    assert_eq!(res.status(), 204);
    let new = header(&res, "etag");
    assert_ne!(new, etag);
    let got = get(&url).await;
    assert_eq!(header(&got, "etag"), new);
    assert_eq!(text(got).await, "second");
}

#[tokio::test]
async fn if_match_list_containing_current_etag_matches() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let list = format!("\"not-it\", {etag}, \"nor-this\"");
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", "text/plain"), ("if-match", &list)],
        "second",
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(body_of(&url).await, "second");
}

#[tokio::test]
async fn if_match_stale_etag_put_is_412() {
    let root = pod();
    let (url, stale) = document(&root, "doc").await;
    put_turtle(&url, "<#a> <#b> \"two\".").await;
    let current = get(&url).await;
    let etag = header(&current, "etag");
    let before = text(current).await;
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", TURTLE), ("if-match", &stale)],
        "<#a> <#b> \"lost update\".",
    )
    .await;
    assert_problem(res, 412).await;
    let got = get(&url).await;
    assert_eq!(header(&got, "etag"), etag);
    assert_eq!(text(got).await, before);
}

#[tokio::test]
async fn if_match_on_missing_resource_is_412() {
    let root = pod();
    for if_match in ["\"some-etag\"", "*"] {
        let url = format!("{root}absent");
        let res = send(
            Method::PUT,
            &url,
            &[("content-type", "text/plain"), ("if-match", if_match)],
            "x",
        )
        .await;
        assert_problem(res, 412).await;
        assert_eq!(get(&url).await.status(), 404, "If-Match: {if_match}");
    }
}

#[tokio::test]
async fn if_match_weak_etag_never_matches() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let before = body_of(&url).await;
    let weak = format!("W/{etag}");
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", "text/plain"), ("if-match", &weak)],
        "x",
    )
    .await;
    assert_problem(res, 412).await;
    assert_eq!(body_of(&url).await, before);
}

#[tokio::test]
async fn if_none_match_current_etag_on_put_is_412() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let before = body_of(&url).await;
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", "text/plain"), ("if-none-match", &etag)],
        "x",
    )
    .await;
    assert_problem(res, 412).await;
    assert_eq!(body_of(&url).await, before);
}

#[tokio::test]
async fn if_match_stale_etag_on_get_is_412() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    assert_problem(
        send(Method::GET, &url, &[("if-match", "\"stale\"")], "").await,
        412,
    )
    .await;
    let res = send(Method::GET, &url, &[("if-match", &etag)], "").await;
    assert_eq!(res.status(), 200);
    assert!(text(res).await.contains("one"));
}

#[tokio::test]
async fn if_none_match_get_current_etag_is_304() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let full = get(&url).await;
    let (modified, vary) = (header(&full, "last-modified"), header(&full, "vary"));
    assert!(vary.contains("Accept"), "{vary}");
    let res = send(Method::GET, &url, &[("if-none-match", &etag)], "").await;
    assert_eq!(res.status(), 304);
    // RFC 9110 § 15.4.5: the validators and Vary a 200 would have had.
    assert_eq!(header(&res, "etag"), etag);
    assert_eq!(header(&res, "last-modified"), modified);
    assert_eq!(header(&res, "vary"), vary);
    assert_eq!(header(&res, "content-type"), "");
    assert!(res.bytes().await.unwrap().is_empty());
    // `*` matches any current representation, and a weak tag compares weakly.
    for value in ["*".to_owned(), format!("W/{etag}")] {
        let res = send(Method::GET, &url, &[("if-none-match", &value)], "").await;
        assert_eq!(res.status(), 304, "If-None-Match: {value}");
    }
}

#[tokio::test]
async fn if_none_match_get_other_etag_is_200() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let res = send(
        Method::GET,
        &url,
        &[("if-none-match", "\"something-else\", \"and-another\"")],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "etag"), etag);
    assert!(text(res).await.contains("one"));
}

#[tokio::test]
async fn if_none_match_head_current_etag_is_304() {
    let root = pod();
    let url = format!("{root}file.bin");
    put(&url, "application/octet-stream", vec![1u8, 2, 3]).await;
    let etag = header(&get(&url).await, "etag");
    let res = send(Method::HEAD, &url, &[("if-none-match", &etag)], "").await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "etag"), etag);
    let res = send(Method::HEAD, &url, &[("if-none-match", "\"other\"")], "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-length"), "3");
}

#[tokio::test]
async fn if_modified_since_last_modified_is_304() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let modified = header(&get(&url).await, "last-modified");
    let res = send(Method::GET, &url, &[("if-modified-since", &modified)], "").await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "etag"), etag);
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn if_modified_since_old_date_is_200() {
    let root = pod();
    let (url, _) = document(&root, "doc").await;
    let res = send(Method::GET, &url, &[("if-modified-since", LONG_AGO)], "").await;
    assert_eq!(res.status(), 200);
    assert!(text(res).await.contains("one"));
}

#[tokio::test]
async fn if_none_match_takes_precedence_over_if_modified_since() {
    let root = pod();
    let (url, _) = document(&root, "doc").await;
    let modified = header(&get(&url).await, "last-modified");
    // RFC 9110 § 13.2.2: If-Modified-Since is not evaluated when If-None-Match is present.
    let res = send(
        Method::GET,
        &url,
        &[
            ("if-none-match", "\"something-else\""),
            ("if-modified-since", &modified),
        ],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn if_unmodified_since_old_date_is_412() {
    let root = pod();
    let (url, etag) = document(&root, "doc").await;
    let before = body_of(&url).await;
    let res = send(
        Method::PUT,
        &url,
        &[
            ("content-type", "text/plain"),
            ("if-unmodified-since", LONG_AGO),
        ],
        "x",
    )
    .await;
    assert_problem(res, 412).await;
    let got = get(&url).await;
    assert_eq!(header(&got, "etag"), etag);
    assert_eq!(text(got).await, before);
    // Unmodified since its own Last-Modified: the write goes ahead.
    let modified = header(&get(&url).await, "last-modified");
    let res = send(
        Method::PUT,
        &url,
        &[
            ("content-type", "text/plain"),
            ("if-unmodified-since", &modified),
        ],
        "y",
    )
    .await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn if_match_stale_delete_is_412() {
    let root = pod();
    let (url, stale) = document(&root, "doc").await;
    put_turtle(&url, "<#a> <#b> \"two\".").await;
    let res = send(Method::DELETE, &url, &[("if-match", &stale)], "").await;
    assert_problem(res, 412).await;
    assert_eq!(get(&url).await.status(), 200);
    let etag = header(&get(&url).await, "etag");
    let res = send(Method::DELETE, &url, &[("if-match", &etag)], "").await;
    assert_eq!(res.status(), 204);
    assert_eq!(get(&url).await.status(), 404);
}

#[tokio::test]
async fn if_match_stale_patch_is_412() {
    let root = pod();
    let (url, stale) = document(&root, "doc").await;
    put_turtle(&url, "<#a> <#b> \"two\".").await;
    let current = get(&url).await;
    let etag = header(&current, "etag");
    let before = text(current).await;
    let insert = "INSERT DATA { <#a> <#b> \"three\" }";
    let res = send(
        Method::PATCH,
        &url,
        &[
            ("content-type", "application/sparql-update"),
            ("if-match", &stale),
        ],
        insert,
    )
    .await;
    assert_problem(res, 412).await;
    let got = get(&url).await;
    assert_eq!(header(&got, "etag"), etag);
    assert_eq!(text(got).await, before);
    let res = send(
        Method::PATCH,
        &url,
        &[
            ("content-type", "application/sparql-update"),
            ("if-match", &etag),
        ],
        insert,
    )
    .await;
    assert_eq!(res.status(), 204);
    assert!(body_of(&url).await.contains("three"));
}

#[tokio::test]
async fn jsonld_etag_differs_and_validates_a_later_put() {
    let root = pod();
    let (url, turtle_etag) = document(&root, "doc").await;
    let jsonld = get_accept(&url, "application/ld+json").await;
    assert_eq!(header(&jsonld, "content-type"), "application/ld+json");
    let jsonld_etag = header(&jsonld, "etag");
    assert!(is_strong(&jsonld_etag), "{jsonld_etag:?}");
    assert_ne!(
        jsonld_etag, turtle_etag,
        "distinct representations, distinct strong tags"
    );
    // The JSON-LD tag only revalidates the JSON-LD representation.
    let res = send(
        Method::GET,
        &url,
        &[
            ("accept", "application/ld+json"),
            ("if-none-match", &jsonld_etag),
        ],
        "",
    )
    .await;
    assert_eq!(res.status(), 304);
    let res = send(
        Method::GET,
        &url,
        &[("accept", TURTLE), ("if-none-match", &jsonld_etag)],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    // A client that read JSON-LD writes back with that tag: it names the current state.
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", TURTLE), ("if-match", &jsonld_etag)],
        "<#a> <#b> \"two\".",
    )
    .await;
    assert_eq!(res.status(), 204);
    assert!(body_of(&url).await.contains("two"));
    // And once the resource changed, the old JSON-LD tag is stale like any other.
    let res = send(
        Method::PUT,
        &url,
        &[("content-type", TURTLE), ("if-match", &jsonld_etag)],
        "<#a> <#b> \"three\".",
    )
    .await;
    assert_problem(res, 412).await;
    assert!(body_of(&url).await.contains("two"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_if_match_puts_exactly_one_wins() {
    let root = pod();
    let url = format!("{root}race.txt");
    let created = put(&url, "text/plain", "start").await;
    assert_eq!(created.status(), 201);
    let etag = header(&get(&url).await, "etag");
    let writers: Vec<_> = (0..10)
        .map(|i| {
            let (url, etag) = (url.clone(), etag.clone());
            tokio::spawn(async move {
                let res = client()
                    .put(&url)
                    .header("content-type", "text/plain")
                    .header("if-match", &etag)
                    .body(format!("writer {i}"))
                    .send()
                    .await
                    .expect("PUT");
                (i, res.status().as_u16())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for w in writers {
        outcomes.push(w.await.expect("writer task"));
    }
    let winners: Vec<usize> = outcomes
        .iter()
        .filter(|(_, s)| *s == 204)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|(_, s)| *s == 412).count(),
        9,
        "{outcomes:?}"
    );
    assert_eq!(body_of(&url).await, format!("writer {}", winners[0]));
}
