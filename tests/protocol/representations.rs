//! RDF representations and content negotiation (server-representation-turtle-jsonld,
//! server-content-type-*, de-facto N-Triples), and JSON-LD remote contexts.

use crate::harness::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const FOAF_NAME: &str = "http://xmlns.com/foaf/0.1/name";

#[tokio::test]
async fn server_representation_turtle_jsonld_from_turtle() {
    let root = pod();
    let url = format!("{root}card");
    put_turtle(&url, &format!("<#me> <{FOAF_NAME}> \"Alice\".")).await;
    let res = get_accept(&url, "application/ld+json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/ld+json");
    let json: serde_json::Value = res.json().await.unwrap();
    let text = json.to_string();
    assert!(
        text.contains(&format!("{url}#me")) && text.contains(FOAF_NAME) && text.contains("Alice"),
        "{text}"
    );
}

#[tokio::test]
async fn server_representation_turtle_jsonld_from_jsonld() {
    let root = pod();
    let url = format!("{root}from-jsonld");
    let body = format!(r#"{{"@id": "{url}#it", "{FOAF_NAME}": "Bob"}}"#);
    assert_eq!(put(&url, "application/ld+json", body).await.status(), 201);
    let res = get_accept(&url, "text/turtle").await;
    assert_eq!(header(&res, "content-type"), "text/turtle");
    let triples = ntriples(&text(res).await, &url);
    assert_eq!(triples, vec![format!("<{url}#it> <{FOAF_NAME}> \"Bob\"")]);
}

#[tokio::test]
async fn server_representation_ntriples_written_and_served() {
    let root = pod();
    let url = format!("{root}nt");
    let body = format!("<{url}#a> <{FOAF_NAME}> \"A\" .\n");
    assert_eq!(
        put(&url, "application/n-triples", body.clone())
            .await
            .status(),
        201
    );
    let res = get_accept(&url, "application/n-triples").await;
    assert_eq!(header(&res, "content-type"), "application/n-triples");
    assert_eq!(text(res).await.trim(), body.trim());
}

#[tokio::test]
async fn server_representation_post_rdf_served_as_jsonld() {
    let root = pod();
    let res = client()
        .post(&root)
        .header("content-type", TURTLE)
        .body("<#x> <http://ex.org/p> 1.")
        .send()
        .await
        .unwrap();
    let location = header(&res, "location");
    let got = get_accept(&location, "application/ld+json").await;
    assert_eq!(got.status(), 200);
    assert!(got
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .to_string()
        .contains("http://ex.org/p"));
}

#[tokio::test]
async fn server_conneg_default_is_turtle() {
    let root = pod();
    let url = format!("{root}d");
    put_turtle(&url, "<#a> <#b> <#c>.").await;
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(header(&res, "content-type"), "text/turtle");
    let res = get_accept(&url, "*/*").await;
    assert_eq!(header(&res, "content-type"), "text/turtle");
}

#[tokio::test]
async fn server_conneg_honours_q_values() {
    let root = pod();
    let url = format!("{root}q");
    put_turtle(&url, "<#a> <#b> <#c>.").await;
    let res = get_accept(&url, "text/turtle;q=0.4, application/ld+json;q=0.9").await;
    assert_eq!(header(&res, "content-type"), "application/ld+json");
    let res = get_accept(&url, "text/turtle;q=0, */*;q=0.1").await;
    assert_ne!(header(&res, "content-type"), "text/turtle");
}

#[tokio::test]
async fn server_conneg_browser_accept_gets_turtle() {
    let root = pod();
    let url = format!("{root}b");
    put_turtle(&url, "").await;
    let res = get_accept(
        &url,
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "text/turtle");
}

#[tokio::test]
async fn server_conneg_rdf_not_acceptable_is_406() {
    let root = pod();
    let url = format!("{root}n");
    put_turtle(&url, "").await;
    let detail = assert_problem(get_accept(&url, "image/png").await, 406).await;
    assert!(detail.contains("text/turtle"), "{detail}");
}

#[tokio::test]
async fn server_conneg_binary_not_acceptable_is_406() {
    let root = pod();
    let url = format!("{root}img.png");
    put(&url, "image/png", vec![1u8, 2, 3]).await;
    assert_problem(get_accept(&url, "text/turtle").await, 406).await;
    assert_eq!(get_accept(&url, "image/*").await.status(), 200);
}

#[tokio::test]
async fn server_conneg_container_in_every_rdf_format() {
    let root = pod();
    put_turtle(&format!("{root}c/x"), "").await;
    let c = format!("{root}c/");
    for (accept, needle) in [
        ("text/turtle", "contains"),
        ("application/ld+json", "http://www.w3.org/ns/ldp#contains"),
        (
            "application/n-triples",
            "<http://www.w3.org/ns/ldp#contains>",
        ),
    ] {
        let res = get_accept(&c, accept).await;
        assert_eq!(header(&res, "content-type"), accept);
        assert!(text(res).await.contains(needle), "{accept}");
    }
}

#[tokio::test]
async fn server_vary_accept_on_rdf_responses() {
    let root = pod();
    let url = format!("{root}v");
    put_turtle(&url, "").await;
    assert!(header(&get(&url).await, "vary").contains("Accept"));
}

#[tokio::test]
async fn server_rdf_representations_have_distinct_strong_etags() {
    let root = pod();
    let url = format!("{root}e");
    put_turtle(&url, "<#a> <#b> 1.").await;
    let turtle = header(&get_accept(&url, "text/turtle").await, "etag");
    let jsonld = header(&get_accept(&url, "application/ld+json").await, "etag");
    assert!(turtle.starts_with('"') && jsonld.starts_with('"'));
    assert_ne!(turtle, jsonld);
}

#[tokio::test]
async fn server_relative_iris_resolve_against_the_resource() {
    let root = pod();
    let url = format!("{root}rel/doc");
    put_turtle(&url, "<#me> <knows> <../other>.").await;
    let triples = ntriples(&text(get(&url).await).await, &url);
    assert_eq!(
        triples,
        vec![format!("<{url}#me> <{root}rel/knows> <{root}other>")]
    );
}

#[tokio::test]
async fn server_content_type_params_are_accepted() {
    let root = pod();
    let url = format!("{root}charset");
    let res = put(&url, "text/turtle; charset=utf-8", "<#a> <#b> \"é\".").await;
    assert_eq!(res.status(), 201);
    assert!(text(get(&url).await).await.contains('é'));
}

#[tokio::test]
async fn server_binary_round_trips_bytes_and_media_type() {
    let root = pod();
    let url = format!("{root}blob.bin");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    assert_eq!(
        put(&url, "application/octet-stream", bytes.clone())
            .await
            .status(),
        201
    );
    let res = get(&url).await;
    assert_eq!(header(&res, "content-type"), "application/octet-stream");
    assert_eq!(header(&res, "content-length"), "100000");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn server_non_rdf_text_is_stored_verbatim() {
    let root = pod();
    let url = format!("{root}page.html");
    let html = "<html><body>not RDF</body></html>";
    put(&url, "text/html", html).await;
    let res = get(&url).await;
    assert!(has_link(
        &res,
        "http://www.w3.org/ns/ldp#NonRDFSource",
        "type"
    ));
    assert_eq!(text(res).await, html);
}

#[tokio::test]
async fn server_large_rdf_documents_round_trip() {
    // Larger than the inline limit, so the document lives in a blob.
    let root = pod();
    let url = format!("{root}big.ttl");
    let body: String = (0..8000)
        .map(|i| {
            format!("<#s{i}> <http://ex.org/p> \"value number {i} with some padding text\".\n")
        })
        .collect();
    assert_eq!(put(&url, TURTLE, body).await.status(), 201);
    let triples = ntriples(&text(get(&url).await).await, &url);
    assert_eq!(triples.len(), 8000);
    let res = patch(
        &url,
        "application/sparql-update",
        "INSERT DATA { <#extra> <http://ex.org/p> 1 }",
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(ntriples(&text(get(&url).await).await, &url).len(), 8001);
}

/// A loopback HTTP server that serves one JSON-LD context and counts requests.
async fn context_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ctx.jsonld", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = format!(r#"{{"@context": {{"name": "{FOAF_NAME}"}}}}"#);
            let res = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(res.as_bytes()).await;
        }
    });
    (url, hits)
}

#[tokio::test]
async fn server_jsonld_remote_context_is_refused_by_default() {
    let (ctx, hits) = context_server().await;
    let root = pod();
    let body = format!(r##"{{"@context": "{ctx}", "@id": "#me", "name": "Eve"}}"##);
    let detail = assert_problem(
        put(&format!("{root}j"), "application/ld+json", body).await,
        400,
    )
    .await;
    assert!(
        detail.contains("allow list") || detail.contains("context"),
        "{detail}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the server must not fetch an unlisted context"
    );
}

#[tokio::test]
async fn server_jsonld_allow_listed_context_is_fetched_once_and_cached() {
    let (ctx, hits) = context_server().await;
    let server = Server::start(&["--jsonld-context-allow", &ctx]);
    let root = server.pod();
    for i in 0..3 {
        let url = format!("{root}j{i}");
        let body = format!(r##"{{"@context": "{ctx}", "@id": "#me", "name": "Eve {i}"}}"##);
        assert_eq!(put(&url, "application/ld+json", body).await.status(), 201);
        let triples = ntriples(&text(get(&url).await).await, &url);
        assert_eq!(
            triples,
            vec![format!("<{url}#me> <{FOAF_NAME}> \"Eve {i}\"")]
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn server_jsonld_unreachable_allow_listed_context_is_400_not_500() {
    let server = Server::start(&[
        "--jsonld-context-allow",
        "http://127.0.0.1:9/nothing.jsonld",
    ]);
    let root = server.pod();
    let body = r##"{"@context": "http://127.0.0.1:9/nothing.jsonld", "@id": "#me", "name": "x"}"##;
    assert_problem(
        put(&format!("{root}j"), "application/ld+json", body).await,
        400,
    )
    .await;
}
