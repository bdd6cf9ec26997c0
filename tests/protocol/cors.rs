//! CORS as the Solid Protocol asks (`server-cors`, `server-cors-acao-vary`, `server-cors-aceh`,
//! `server-cors-options`, `server-cors-enumerate`, `server-cors-accept-acah`): Solid apps on
//! any origin can send every request and read every response, errors included.

use crate::harness::*;

const ORIGIN: &str = "https://app.example";

/// Headers a Solid client must be able to read (server-cors-aceh).
const MUST_EXPOSE: [&str; 10] = [
    "ETag",
    "Link",
    "Location",
    "Allow",
    "Accept-Patch",
    "Accept-Post",
    "Accept-Put",
    "WAC-Allow",
    "Content-Range",
    "Last-Modified",
];

/// The comma-separated items of a header, trimmed and lower-cased.
fn items(res: &reqwest::Response, name: &str) -> Vec<String> {
    header(res, name)
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn lists(res: &reqwest::Response, name: &str, item: &str) -> bool {
    items(res, name).contains(&item.to_ascii_lowercase())
}

/// A request builder with an `Origin`.
fn from_origin(method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
    client().request(method, url).header("origin", ORIGIN)
}

/// A CORS preflight for `method` with optional requested headers.
async fn preflight(url: &str, method: &str, headers: Option<&str>) -> reqwest::Response {
    let mut req =
        from_origin(reqwest::Method::OPTIONS, url).header("access-control-request-method", method);
    if let Some(h) = headers {
        req = req.header("access-control-request-headers", h);
    }
    req.send().await.expect("preflight")
}

/// The headers every response to a cross-origin request carries.
fn assert_cors(res: &reqwest::Response) {
    let what = format!("{} {}", res.status(), res.url());
    assert_eq!(
        header(res, "access-control-allow-origin"),
        ORIGIN,
        "ACAO on {what}"
    );
    assert_eq!(
        header(res, "access-control-allow-credentials"),
        "true",
        "ACAC on {what}"
    );
    assert!(lists(res, "vary", "origin"), "Vary on {what}");
    let exposed = header(res, "access-control-expose-headers");
    assert!(!exposed.contains('*'), "ACEH must enumerate: {exposed}");
    for h in MUST_EXPOSE {
        assert!(
            lists(res, "access-control-expose-headers", h),
            "{h} not exposed on {what}: {exposed}"
        );
    }
}

#[tokio::test]
async fn server_cors_acao_vary_echoes_origin() {
    let root = pod();
    put_turtle(&format!("{root}doc"), "<#a> <#b> <#c>.").await;
    for origin in [ORIGIN, "http://localhost:8080", "null"] {
        let res = client()
            .get(format!("{root}doc"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "access-control-allow-origin"), origin);
        assert!(lists(&res, "vary", "origin"), "{}", header(&res, "vary"));
        // Conneg still varies on Accept.
        assert!(lists(&res, "vary", "accept"), "{}", header(&res, "vary"));
    }
}

#[tokio::test]
async fn server_cors_allows_credentials() {
    let root = pod();
    let res = from_origin(reqwest::Method::GET, &root)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    // Credentialed CORS forbids the wildcard origin.
    assert_ne!(header(&res, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn server_cors_aceh_enumerates_used_headers() {
    let root = pod();
    put(
        &format!("{root}file.bin"),
        "application/octet-stream",
        vec![1u8; 64],
    )
    .await;
    for url in [root.clone(), format!("{root}file.bin")] {
        let res = from_origin(reqwest::Method::GET, &url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_cors(&res);
    }
    // A range response exposes Content-Range, and the header it exposes is really there.
    let res = from_origin(reqwest::Method::GET, &format!("{root}file.bin"))
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_cors(&res);
    assert_eq!(header(&res, "content-range"), "bytes 0-9/64");
}

#[tokio::test]
async fn server_cors_exposes_location_on_create() {
    let root = pod();
    let res = from_origin(reqwest::Method::POST, &root)
        .header("content-type", TURTLE)
        .header("slug", "made")
        .body("<#a> <#b> <#c>.")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_cors(&res);
    assert_eq!(header(&res, "location"), format!("{root}made"));
    let res = from_origin(reqwest::Method::PUT, &format!("{root}put.ttl"))
        .header("content-type", TURTLE)
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_cors(&res);
}

#[tokio::test]
async fn server_cors_options_preflight() {
    let root = pod();
    put_turtle(&format!("{root}doc"), "").await;
    let res = preflight(&format!("{root}doc"), "PUT", Some("content-type, if-match")).await;
    assert_eq!(res.status(), 204);
    assert_eq!(header(&res, "access-control-allow-origin"), ORIGIN);
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    assert!(lists(&res, "vary", "origin"));
    let methods = header(&res, "access-control-allow-methods");
    assert!(!methods.contains('*'), "{methods}");
    for m in ["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"] {
        assert!(
            lists(&res, "access-control-allow-methods", m),
            "{m}: {methods}"
        );
    }
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn server_cors_accept_acah() {
    let root = pod();
    // Accept is allowed even when the preflight does not name it.
    for asked in [None, Some("content-type"), Some("x-anything")] {
        let res = preflight(&root, "GET", asked).await;
        assert_eq!(res.status(), 204);
        assert!(
            lists(&res, "access-control-allow-headers", "accept"),
            "{asked:?}: {}",
            header(&res, "access-control-allow-headers")
        );
    }
}

#[tokio::test]
async fn server_cors_enumerate_requested_headers() {
    let root = pod();
    let asked =
        "Content-Type, If-None-Match, Link, Slug, DPoP, Authorization, X-Custom-One, x-custom-two";
    let res = preflight(&root, "POST", Some(asked)).await;
    assert_eq!(res.status(), 204);
    let allowed = header(&res, "access-control-allow-headers");
    assert!(!allowed.contains('*'), "must enumerate: {allowed}");
    for h in asked.split(", ") {
        assert!(
            lists(&res, "access-control-allow-headers", h),
            "{h}: {allowed}"
        );
    }
}

#[tokio::test]
async fn server_cors_on_error_responses() {
    let root = pod();
    // 404
    let res = from_origin(reqwest::Method::GET, &format!("{root}missing"))
        .send()
        .await
        .unwrap();
    assert_cors(&res);
    assert_problem(res, 404).await;
    // 409: a document blocks the container of the same name.
    put_turtle(&format!("{root}a"), "").await;
    let res = from_origin(reqwest::Method::PUT, &format!("{root}a/"))
        .header("content-type", TURTLE)
        .body("")
        .send()
        .await
        .unwrap();
    assert_cors(&res);
    assert_problem(res, 409).await;
    // 412
    let res = from_origin(reqwest::Method::PUT, &format!("{root}a"))
        .header("content-type", TURTLE)
        .header("if-match", "\"not-the-etag\"")
        .body("")
        .send()
        .await
        .unwrap();
    assert_cors(&res);
    assert_problem(res, 412).await;
    // 405: the storage root cannot be deleted.
    let res = from_origin(reqwest::Method::DELETE, &root)
        .send()
        .await
        .unwrap();
    assert_cors(&res);
    assert_problem(res, 405).await;
    // 400: a path that names no resource.
    let res = from_origin(reqwest::Method::GET, &format!("{root}a%2Fb"))
        .send()
        .await
        .unwrap();
    assert_cors(&res);
    assert_problem(res, 400).await;
}

#[tokio::test]
async fn no_cors_headers_without_origin() {
    let root = pod();
    let res = get(&root).await;
    assert_eq!(res.status(), 200);
    for h in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
    ] {
        assert!(res.headers().get(h).is_none(), "{h}: {}", header(&res, h));
    }
    // Still Vary: Origin, so a cache never hands this response to a cross-origin request.
    assert!(lists(&res, "vary", "origin"), "{}", header(&res, "vary"));
    let res = get(&format!("{root}missing")).await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // OPTIONS without Origin is a plain OPTIONS, not a preflight.
    let res = client()
        .request(reqwest::Method::OPTIONS, &root)
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers().get("access-control-allow-methods").is_none());
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn preflight_on_missing_resource_works() {
    let root = pod();
    for url in [
        format!("{root}not/yet/here.ttl"),
        format!("{root}new-container/"),
    ] {
        let res = preflight(&url, "PUT", Some("content-type, link")).await;
        assert_eq!(res.status(), 204, "{url}");
        assert_eq!(header(&res, "access-control-allow-origin"), ORIGIN);
        assert!(lists(&res, "access-control-allow-methods", "PUT"));
        assert!(lists(&res, "access-control-allow-headers", "link"));
        // The preflight created nothing.
        assert_eq!(get(&url).await.status(), 404);
    }
}

#[tokio::test]
async fn server_cors_on_discovery_and_health() {
    let base = &shared().base;
    for url in [
        format!("{base}/.well-known/solid"),
        format!("{}.well-known/solid", pod()),
        format!("{base}/health/ready"),
    ] {
        let res = from_origin(reqwest::Method::GET, &url)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_cors(&res);
        let res = preflight(&url, "GET", Some("accept")).await;
        assert_eq!(res.status(), 204, "{url}");
        assert_eq!(header(&res, "access-control-allow-origin"), ORIGIN);
    }
}

#[tokio::test]
async fn options_with_origin_but_no_request_method_is_not_a_preflight() {
    let root = pod();
    let res = from_origin(reqwest::Method::OPTIONS, &root)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_cors(&res);
    // The resource's own OPTIONS answer, not a preflight's.
    assert!(lists(&res, "allow", "POST"), "{}", header(&res, "allow"));
    assert!(!header(&res, "accept-post").is_empty());
    assert!(res.headers().get("access-control-allow-methods").is_none());
}
