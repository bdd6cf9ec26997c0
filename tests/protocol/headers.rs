//! Solid Protocol response headers: type links, storage description and owner links
//! (`server-storage-description`, `server-storage-link-owner`), `Allow` and `Accept-*`
//! (`server-allow-methods`, `server-accept-headers`), HEAD and OPTIONS, Content-Type
//! (`server-content-type-includes`), problem bodies, request ids and discovery.

use crate::harness::*;

const LDP: &str = "http://www.w3.org/ns/ldp#";
const PIM_STORAGE: &str = "http://www.w3.org/ns/pim/space#Storage";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const STORAGE_DESCRIPTION: &str = "http://www.w3.org/ns/solid/terms#storageDescription";
const OWNER: &str = "http://www.w3.org/ns/solid/terms#owner";
const DISCOVERY_DOCUMENT: &str = "http://www.w3.org/ns/solid/terms#DiscoveryDocument";

/// A pod holding a document, a binary and a (non-root) container.
struct Fixture {
    root: String,
    doc: String,
    bin: String,
    container: String,
}

async fn fixture() -> Fixture {
    fixture_in(pod()).await
}

async fn fixture_in(root: String) -> Fixture {
    let f = Fixture {
        doc: format!("{root}c/doc.ttl"),
        bin: format!("{root}c/pic.png"),
        container: format!("{root}c/"),
        root,
    };
    put_turtle(&f.doc, "<#a> <#b> <#c>.").await;
    let res = put(
        &f.bin,
        "image/png",
        vec![0x89u8, b'P', b'N', b'G', 0, 1, 2, 3],
    )
    .await;
    assert_eq!(res.status(), 201);
    f
}

fn ldp(term: &str) -> String {
    format!("{LDP}{term}")
}

/// The comma-separated items of a header, trimmed.
fn items(res: &reqwest::Response, name: &str) -> Vec<String> {
    header(res, name)
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The methods of the `Allow` header, sorted.
fn allow(res: &reqwest::Response) -> Vec<String> {
    let mut m = items(res, "allow");
    m.sort();
    m
}

fn sorted(methods: &[&str]) -> Vec<String> {
    let mut m: Vec<String> = methods.iter().map(|s| s.to_string()).collect();
    m.sort();
    m
}

/// All `rel="type"` targets of the Link header.
fn type_links(res: &reqwest::Response) -> Vec<String> {
    header(res, "link")
        .split(", ")
        .filter_map(|l| l.strip_suffix("; rel=\"type\""))
        .map(|t| t.trim_matches(|c| c == '<' || c == '>').to_owned())
        .collect()
}

async fn head(url: &str) -> reqwest::Response {
    client().head(url).send().await.expect("HEAD")
}

/// HEAD answers exactly as GET would (with the same Accept), without the body.
async fn assert_head_matches_get(url: &str, accept: &str) {
    let g = get_accept(url, accept).await;
    let h = client()
        .head(url)
        .header("accept", accept)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(g.status(), 200, "{url}");
    assert_eq!(h.status(), g.status(), "{url}");
    for name in [
        "content-type",
        "content-length",
        "etag",
        "last-modified",
        "link",
        "allow",
        "accept-patch",
        "accept-post",
        "accept-put",
        "accept-ranges",
        "vary",
    ] {
        assert_eq!(header(&h, name), header(&g, name), "{name} of {url}");
    }
    for name in [
        "content-type",
        "content-length",
        "etag",
        "last-modified",
        "link",
        "allow",
    ] {
        assert!(!header(&g, name).is_empty(), "{name} of {url}");
    }
    let length: usize = header(&g, "content-length").parse().unwrap();
    assert_eq!(g.bytes().await.unwrap().len(), length);
    assert!(h.bytes().await.unwrap().is_empty(), "HEAD body of {url}");
}

#[tokio::test]
async fn link_type_document_is_rdf_source() {
    let f = fixture().await;
    let res = get(&f.doc).await;
    assert_eq!(res.status(), 200);
    let mut types = type_links(&res);
    types.sort();
    assert_eq!(types, vec![ldp("RDFSource"), ldp("Resource")]);
}

#[tokio::test]
async fn link_type_binary_is_non_rdf_source() {
    let f = fixture().await;
    let res = get(&f.bin).await;
    assert_eq!(res.status(), 200);
    let mut types = type_links(&res);
    types.sort();
    assert_eq!(types, vec![ldp("NonRDFSource"), ldp("Resource")]);
}

#[tokio::test]
async fn link_type_container_is_basic_container() {
    let f = fixture().await;
    let res = get(&f.container).await;
    assert_eq!(res.status(), 200);
    let types = type_links(&res);
    for t in ["Resource", "Container", "BasicContainer"] {
        assert!(types.contains(&ldp(t)), "{t}: {types:?}");
    }
    assert!(!types.contains(&ldp("NonRDFSource")), "{types:?}");
    assert!(!types.contains(&PIM_STORAGE.to_owned()), "{types:?}");
}

#[tokio::test]
async fn server_storage_description_link_on_get_head_options() {
    let f = fixture().await;
    let description = format!("{}.well-known/solid", f.root);
    for url in [&f.root, &f.container, &f.doc, &f.bin] {
        for res in [get(url).await, head(url).await, options(url).await] {
            assert!(res.status().is_success(), "{url}: {}", res.status());
            assert!(
                has_link(&res, &description, STORAGE_DESCRIPTION),
                "{url}: {}",
                header(&res, "link")
            );
        }
    }
    // OPTIONS on a resource that could be created here points there too.
    let res = options(&format!("{}not/yet", f.root)).await;
    assert!(has_link(&res, &description, STORAGE_DESCRIPTION));
}

#[tokio::test]
async fn server_storage_description_resource_states_storage() {
    let root = pod();
    let link_target = header(&get(&root).await, "link")
        .split(", ")
        .find_map(|l| l.strip_suffix(&format!("; rel=\"{STORAGE_DESCRIPTION}\"")))
        .map(|t| t.trim_matches(|c| c == '<' || c == '>').to_owned())
        .expect("storage description link");
    let res = get(&link_target).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "text/turtle");
    let triples = ntriples(&text(res).await, &link_target);
    assert!(
        triples.contains(&format!("<{root}> <{RDF_TYPE}> <{PIM_STORAGE}>")),
        "{triples:?}"
    );
    let h = head(&link_target).await;
    assert_eq!(h.status(), 200);
    assert_eq!(header(&h, "content-type"), "text/turtle");
}

#[tokio::test]
async fn storage_description_as_jsonld() {
    let root = pod();
    let url = format!("{root}.well-known/solid");
    let res = get_accept(&url, "application/ld+json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/ld+json");
    let doc: serde_json::Value = res.json().await.expect("JSON-LD");
    assert!(
        jsonld_nodes(&doc)
            .iter()
            .any(|n| n["@id"] == root.as_str() && jsonld_typed(n, PIM_STORAGE)),
        "{doc}"
    );
    let res = get_accept(&url, "application/n-triples").await;
    assert_eq!(header(&res, "content-type"), "application/n-triples");
    let triples = ntriples(&text(res).await, &url);
    assert!(triples.contains(&format!("<{root}> <{RDF_TYPE}> <{PIM_STORAGE}>")));
    assert_problem(get_accept(&url, "image/png").await, 406).await;
}

#[tokio::test]
async fn storage_description_is_read_only() {
    let root = pod();
    let url = format!("{root}.well-known/solid");
    let before = text(get(&url).await).await;
    let res = put(&url, TURTLE, "<> a <http://ex/Other>.").await;
    assert_eq!(sorted(&["GET", "HEAD", "OPTIONS"]), allow(&res));
    assert_problem(res, 405).await;
    let res = patch(
        &url,
        "application/sparql-update",
        "INSERT DATA { <#a> <#b> 1 }",
    )
    .await;
    assert_problem(res, 405).await;
    assert_problem(delete(&url).await, 405).await;
    let res = client()
        .post(&url)
        .header("content-type", TURTLE)
        .body("")
        .send()
        .await
        .unwrap();
    assert_problem(res, 405).await;
    assert_eq!(text(get(&url).await).await, before);
    let res = options(&url).await;
    assert_eq!(res.status(), 204);
    assert_eq!(allow(&res), sorted(&["GET", "HEAD", "OPTIONS"]));
    // No pod, no description.
    let missing = format!("{}/no-such-pod-here/.well-known/solid", shared().base);
    assert_problem(get(&missing).await, 404).await;
}

#[tokio::test]
async fn server_storage_link_owner_on_root() {
    let root = pod();
    let webid = &owner().webid;
    for res in [get(&root).await, head(&root).await] {
        assert_eq!(res.status(), 200);
        assert!(has_link(&res, webid, OWNER), "{}", header(&res, "link"));
    }
}

#[tokio::test]
async fn owner_link_only_on_root() {
    let f = fixture_in(pod()).await;
    for url in [&f.container, &f.doc, &f.bin] {
        let res = get(url).await;
        assert!(!header(&res, "link").contains(OWNER), "{url}");
    }
}

#[tokio::test]
async fn server_allow_methods_container() {
    let f = fixture().await;
    let res = get(&f.container).await;
    assert_eq!(
        allow(&res),
        sorted(&["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
    );
    // The storage root: the same without DELETE.
    assert_eq!(
        allow(&get(&f.root).await),
        sorted(&["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"])
    );
}

#[tokio::test]
async fn server_allow_methods_document() {
    let f = fixture().await;
    assert_eq!(
        allow(&get(&f.doc).await),
        sorted(&["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
    );
}

#[tokio::test]
async fn server_allow_methods_binary() {
    let f = fixture().await;
    assert_eq!(
        allow(&get(&f.bin).await),
        sorted(&["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
    );
}

#[tokio::test]
async fn server_accept_headers() {
    let f = fixture().await;
    for url in [&f.root, &f.container, &f.doc] {
        let res = get(url).await;
        let patch = items(&res, "accept-patch");
        for t in ["text/n3", "application/sparql-update"] {
            assert!(patch.contains(&t.to_owned()), "{url}: {patch:?}");
        }
    }
    for url in [&f.root, &f.container] {
        let post = items(&get(url).await, "accept-post");
        for t in ["text/turtle", "application/ld+json", "*/*"] {
            assert!(post.contains(&t.to_owned()), "{url}: {post:?}");
        }
    }
    for url in [&f.doc, &f.bin] {
        let res = get(url).await;
        assert!(res.headers().get("accept-post").is_none(), "{url}");
    }
    // A binary cannot be patched, so it advertises no patch formats.
    assert!(get(&f.bin).await.headers().get("accept-patch").is_none());
    for url in [&f.root, &f.container, &f.doc, &f.bin] {
        let put = items(&get(url).await, "accept-put");
        for t in [
            "text/turtle",
            "application/ld+json",
            "application/n-triples",
        ] {
            assert!(put.contains(&t.to_owned()), "{url}: {put:?}");
        }
    }
    // Documents can be replaced by content of any type.
    for url in [&f.doc, &f.bin] {
        assert!(items(&get(url).await, "accept-put").contains(&"*/*".to_owned()));
    }
}

#[tokio::test]
async fn accept_put_on_container_lists_only_rdf() {
    let f = fixture().await;
    for url in [&f.root, &f.container] {
        let res = get(url).await;
        let mut put = items(&res, "accept-put");
        put.sort();
        assert_eq!(
            put,
            [
                "application/ld+json",
                "application/n-triples",
                "text/turtle"
            ],
            "{url}"
        );
        assert_eq!(
            header(&options(url).await, "accept-put"),
            header(&res, "accept-put")
        );
    }
    // What it leaves out is really refused.
    let res = put(&f.container, "text/plain", "not rdf").await;
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn head_matches_get_for_document() {
    let f = fixture().await;
    assert_head_matches_get(&f.doc, "text/turtle").await;
    // Each representation: its own type, length and ETag, the same on HEAD.
    assert_head_matches_get(&f.doc, "application/ld+json").await;
    assert_head_matches_get(&f.doc, "application/n-triples").await;
    assert_eq!(
        header(
            &get_accept(&f.doc, "application/ld+json").await,
            "content-type"
        ),
        "application/ld+json"
    );
}

#[tokio::test]
async fn head_matches_get_for_container() {
    let f = fixture().await;
    assert_head_matches_get(&f.container, "*/*").await;
    assert_head_matches_get(&f.root, "*/*").await;
    assert_head_matches_get(&f.container, "application/ld+json").await;
}

#[tokio::test]
async fn head_matches_get_for_binary() {
    let f = fixture().await;
    assert_head_matches_get(&f.bin, "*/*").await;
    assert_eq!(header(&head(&f.bin).await, "content-type"), "image/png");
}

#[tokio::test]
async fn head_of_missing_resource_is_404_without_body() {
    let root = pod();
    let url = format!("{root}missing");
    let g = get(&url).await;
    let h = head(&url).await;
    assert_eq!((g.status().as_u16(), h.status().as_u16()), (404, 404));
    assert_eq!(header(&h, "content-type"), header(&g, "content-type"));
    assert!(h.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn options_answers_204_with_allow_and_accept_headers() {
    let f = fixture().await;
    let cases: [(&str, &[&str], bool, bool); 4] = [
        (
            &f.container,
            &["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
            true,
            true,
        ),
        (
            &f.doc,
            &["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"],
            true,
            false,
        ),
        (
            &f.bin,
            &["GET", "HEAD", "OPTIONS", "PUT", "DELETE"],
            false,
            false,
        ),
        (
            &f.root,
            &["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"],
            true,
            true,
        ),
    ];
    for (url, methods, patchable, postable) in cases {
        let res = options(url).await;
        assert_eq!(res.status(), 204, "{url}");
        assert_eq!(allow(&res), sorted(methods), "{url}");
        assert!(!header(&res, "accept-put").is_empty(), "{url}");
        assert_eq!(
            res.headers().contains_key("accept-patch"),
            patchable,
            "{url}"
        );
        assert_eq!(res.headers().contains_key("accept-post"), postable, "{url}");
        assert!(res.bytes().await.unwrap().is_empty(), "{url}");
    }
}

#[tokio::test]
async fn options_on_missing_resource_describes_what_could_be_created() {
    let root = pod();
    let res = options(&format!("{root}new/doc")).await;
    assert_eq!(res.status(), 204);
    assert!(allow(&res).contains(&"PUT".to_owned()));
    assert!(!header(&res, "accept-put").is_empty());
    let res = options(&format!("{root}new/")).await;
    assert_eq!(res.status(), 204);
    assert!(allow(&res).contains(&"POST".to_owned()));
    assert!(!header(&res, "accept-post").is_empty());
    // OPTIONS creates nothing.
    assert_eq!(get(&format!("{root}new/")).await.status(), 404);
}

#[tokio::test]
async fn server_content_type_includes() {
    let f = fixture().await;
    let base = &shared().base;
    put_turtle(&format!("{}a", f.root), "").await;
    let requests = vec![
        client().get(&f.doc),
        client().get(&f.doc).header("accept", "application/ld+json"),
        client()
            .get(&f.doc)
            .header("accept", "application/n-triples"),
        client().get(&f.bin),
        client().get(&f.bin).header("range", "bytes=0-1,4-5"),
        client().get(&f.container),
        client().get(&f.root),
        client().get(format!("{}missing", f.root)),
        client().get(&f.bin).header("accept", "text/turtle"),
        client().get(format!("{}a%2Fb", f.root)),
        client().delete(&f.root),
        client()
            .put(format!("{}a/", f.root))
            .header("content-type", TURTLE),
        client()
            .put(&f.doc)
            .header("content-type", TURTLE)
            .header("if-match", "\"nope\""),
        client().get(format!("{base}/.well-known/solid")),
        client().get(format!("{}.well-known/solid", f.root)),
        client().get(format!("{base}/health/live")),
        client().get(format!("{base}/health/ready")),
        client().get(format!("{base}/")),
    ];
    let mut bodies = 0;
    for req in requests {
        let res = req.send().await.unwrap();
        let what = format!("{} {}", res.status(), res.url());
        let content_type = header(&res, "content-type");
        let body = res.bytes().await.unwrap();
        if !body.is_empty() {
            bodies += 1;
            assert!(!content_type.is_empty(), "no Content-Type on {what}");
        }
    }
    assert_eq!(bodies, 18, "every request above answers with content");
}

#[tokio::test]
async fn problem_bodies_are_rfc9457() {
    let f = fixture().await;
    put_turtle(&format!("{}a", f.root), "").await;
    let cases = vec![
        (client().get(format!("{}missing", f.root)), 404, "Not Found"),
        (client().get(format!("{}a%2Fb", f.root)), 400, "Bad Request"),
        (client().delete(&f.root), 405, "Method Not Allowed"),
        (
            client()
                .put(format!("{}a/", f.root))
                .header("content-type", TURTLE),
            409,
            "Conflict",
        ),
        (
            client()
                .put(&f.doc)
                .header("content-type", TURTLE)
                .header("if-match", "\"nope\""),
            412,
            "Precondition Failed",
        ),
        (
            client().get(&f.bin).header("accept", "text/turtle"),
            406,
            "Not Acceptable",
        ),
        (
            client()
                .put(format!("{}box/", f.root))
                .header("content-type", "text/plain")
                .body("not rdf"),
            415,
            "Unsupported Media Type",
        ),
        (
            client().get(&f.bin).header("range", "bytes=100-200"),
            416,
            "Range Not Satisfiable",
        ),
    ];
    for (req, status, title) in cases {
        let res = req.send().await.unwrap();
        let url = res.url().to_string();
        assert_eq!(res.status().as_u16(), status, "{url}");
        assert_eq!(header(&res, "content-type"), "application/problem+json");
        let body: serde_json::Value = res.json().await.expect("problem JSON");
        // No `type`: absent means about:blank (RFC 9457 §3.1.1), which Inrupt's client
        // recognises only when it is left out.
        assert!(body.get("type").is_none(), "{url}: {body}");
        assert_eq!(body["title"], title, "{url}");
        assert_eq!(body["status"], status, "{url}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(!detail.is_empty(), "{url}: {body}");
    }
}

#[tokio::test]
async fn request_id_on_every_response() {
    let f = fixture().await;
    let base = &shared().base;
    let mut seen = Vec::new();
    for res in [
        get(&f.doc).await,
        get(&format!("{}missing", f.root)).await,
        options(&f.container).await,
        head(&f.bin).await,
        get(&format!("{base}/health/live")).await,
        get(&format!("{base}/.well-known/solid")).await,
        put(&format!("{}new.txt", f.root), "text/plain", "x").await,
    ] {
        let id = header(&res, "x-request-id");
        assert!(!id.is_empty(), "{} {}", res.status(), res.url());
        assert!(!seen.contains(&id), "request ids repeat: {id}");
        seen.push(id);
    }
}

#[tokio::test]
async fn request_id_is_echoed() {
    let f = fixture().await;
    for (url, id) in [
        (f.doc.clone(), "trace-abc-123"),
        (format!("{}missing", f.root), "trace-def-456"),
    ] {
        let res = client()
            .get(&url)
            .header("x-request-id", id)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&res, "x-request-id"), id, "{url}");
    }
    let res = client()
        .request(reqwest::Method::OPTIONS, &f.doc)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PUT")
        .header("x-request-id", "preflight-789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(header(&res, "x-request-id"), "preflight-789");
}

#[tokio::test]
async fn well_known_solid_is_a_discovery_document() {
    let url = format!("{}/.well-known/solid", shared().base);
    let res = get(&url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "text/turtle");
    let body = text(res).await;
    let triples = ntriples(&body, &url);
    let typed = triples
        .iter()
        .find(|t| t.ends_with(&format!(" <{RDF_TYPE}> <{DISCOVERY_DOCUMENT}>")))
        .unwrap_or_else(|| panic!("no solid:DiscoveryDocument in {triples:?}"));
    assert!(typed.starts_with("_:"), "a blank node: {typed}");
    // The same document every time, so HEAD can describe what GET sends.
    let g = get(&url).await;
    let h = head(&url).await;
    assert_eq!(h.status(), 200);
    assert_eq!(header(&h, "content-type"), "text/turtle");
    assert_eq!(header(&h, "content-length"), header(&g, "content-length"));
    assert!(h.bytes().await.unwrap().is_empty());
    assert_eq!(text(g).await, body);
}

/// The top-level node objects of a JSON-LD document (an array, a `@graph`, or one node).
fn jsonld_nodes(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    match doc {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(o) => o
            .get("@graph")
            .and_then(|g| g.as_array().cloned())
            .unwrap_or_else(|| vec![doc.clone()]),
        _ => Vec::new(),
    }
}

/// Whether a JSON-LD node (expanded or compacted) is typed `iri`.
fn jsonld_typed(node: &serde_json::Value, iri: &str) -> bool {
    let has = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s == iri,
        serde_json::Value::Array(a) => a
            .iter()
            .any(|x| x == iri || x.get("@id").is_some_and(|id| id == iri)),
        other => other.get("@id").is_some_and(|id| id == iri),
    };
    node.get("@type").is_some_and(has) || node.get(RDF_TYPE).is_some_and(has)
}

#[tokio::test]
async fn well_known_solid_as_jsonld() {
    let url = format!("{}/.well-known/solid", shared().base);
    let res = get_accept(&url, "application/ld+json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/ld+json");
    let doc: serde_json::Value = res.json().await.expect("JSON-LD");
    assert!(
        jsonld_nodes(&doc)
            .iter()
            .any(|n| jsonld_typed(n, DISCOVERY_DOCUMENT)),
        "{doc}"
    );
}

#[tokio::test]
async fn health_endpoints_answer() {
    let base = &shared().base;
    for path in ["/health/live", "/health/ready"] {
        let res = get(&format!("{base}{path}")).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(!text(res).await.is_empty());
    }
}

#[tokio::test]
async fn server_http_2_is_spoken_over_cleartext() {
    // server-http-2 (SHOULD): HTTP/2 with prior knowledge (h2c), as a proxy or gateway in
    // front of podplane would speak it.
    let root = pod();
    let url = format!("{root}h2/doc");
    put_turtle(&url, "<#a> <#b> 1.").await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = h2.get(&url).send().await.unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert_eq!(res.status(), 200);
    assert!(has_link(&res, "http://www.w3.org/ns/ldp#RDFSource", "type"));
    assert!(text(res).await.contains("<http://"));
}

#[tokio::test]
async fn metrics_endpoint_counts_requests_in_prometheus_format() {
    let server = shared();
    let root = server.pod();
    // Talk to one process directly: each replica counts its own requests.
    let replica = format!("http://{}", server.replicas[0]);
    let url = format!("{root}metered").replacen(&server.base, &replica, 1);
    put(&url, "text/plain", "x").await;
    assert_eq!(get(&url).await.status(), 200);
    let res = get(&format!("{replica}/metrics")).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("text/plain"));
    let body = text(res).await;
    let line = body
        .lines()
        .find(|l| {
            l.starts_with("podplane_http_requests_total{")
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no GET 200 counter in:\n{body}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{line}");
    assert!(
        body.contains("podplane_http_request_duration_seconds_bucket"),
        "{body}"
    );
    // State figures, sampled from the first seconds on: the database pool and the outbox.
    for gauge in [
        "podplane_db_pool_connections{service=\"storage\",state=\"idle\"}",
        "podplane_db_pool_connections{service=\"storage\",state=\"in_use\"}",
        "podplane_outbox_pending ",
        "podplane_outbox_oldest_age_seconds ",
    ] {
        assert!(body.contains(gauge), "no {gauge} in:\n{body}");
    }
}
