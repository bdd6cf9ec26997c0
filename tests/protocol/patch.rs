//! PATCH with N3 Patch (Solid Protocol § 5.3.1, `text/n3`) and SPARQL Update
//! (`application/sparql-update`, what `@inrupt/solid-client` sends), RFC 5789.

use crate::harness::*;

const N3: &str = "text/n3";
const SPARQL: &str = "application/sparql-update";
const EX: &str = "http://example.org/ns#";
const LDP: &str = "http://www.w3.org/ns/ldp#";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";

/// An N3 Patch document: `body` with the `solid:` and `ex:` prefixes declared.
fn n3(body: &str) -> String {
    format!("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n@prefix ex: <{EX}>.\n{body}")
}

/// A SPARQL Update with the `ex:` prefix declared.
fn sparql(body: &str) -> String {
    format!("PREFIX ex: <{EX}>\n{body}")
}

/// Creates the Turtle document `name` (with `ex:` declared) and returns its URL.
async fn doc(root: &str, name: &str, turtle: &str) -> String {
    let url = format!("{root}{name}");
    put_turtle(&url, &format!("@prefix ex: <{EX}>.\n{turtle}")).await;
    url
}

/// The N-Triples line `<url#s> <ex:p> o`, with `o` already in N-Triples form.
fn t(url: &str, s: &str, p: &str, o: &str) -> String {
    format!("<{url}#{s}> <{EX}{p}> {o}")
}

/// The document's triples, sorted, so whole documents compare with `assert_eq!`.
async fn triples(url: &str) -> Vec<String> {
    let res = get(url).await;
    assert_eq!(res.status(), 200, "GET {url}");
    let mut all = ntriples(&text(res).await, url);
    all.sort();
    all
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// Everything a refused PATCH must leave alone: status, validators and the exact bytes.
#[derive(Debug, PartialEq)]
struct Snapshot {
    status: u16,
    etag: String,
    last_modified: String,
    body: Vec<u8>,
}

async fn snapshot(url: &str) -> Snapshot {
    let res = get(url).await;
    Snapshot {
        status: res.status().as_u16(),
        etag: header(&res, "etag"),
        last_modified: header(&res, "last-modified"),
        body: res.bytes().await.expect("body").to_vec(),
    }
}

/// Sends each patch, expects the problem `status` for every one, and checks the document is
/// byte-for-byte what it was.
async fn assert_refused(url: &str, content_type: &str, bodies: &[String], status: u16) {
    let before = snapshot(url).await;
    assert_eq!(before.status, 200, "GET {url}");
    for body in bodies {
        let res = patch(url, content_type, body).await;
        let got = res.status().as_u16();
        assert_eq!(got, status, "PATCH {content_type}:\n{body}");
        assert_problem(res, status).await;
    }
    assert_eq!(snapshot(url).await, before, "a refused PATCH changed {url}");
}

fn lists(value: &str, media_type: &str) -> bool {
    value.split(',').any(|m| m.trim() == media_type)
}

// --- N3 Patch -------------------------------------------------------------------------------

#[tokio::test]
async fn server_patch_n3_accept() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:email \"a@example.org\" }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    let etag = header(&res, "etag");
    assert!(!etag.is_empty(), "PATCH answers with the new ETag");
    assert_eq!(header(&get(&url).await, "etag"), etag);
    assert_eq!(
        triples(&url).await,
        sorted(vec![
            t(&url, "a", "name", "\"Alice\""),
            t(&url, "a", "email", "\"a@example.org\""),
        ])
    );
}

#[tokio::test]
async fn server_patch_n3_accept_media_type_parameters() {
    let root = pod();
    let url = doc(&root, "doc", "").await;
    let res = patch(
        &url,
        "text/N3; charset=utf-8",
        &n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:name \"Zoë\" }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(triples(&url).await, vec![t(&url, "a", "name", "\"Zoë\"")]);
}

#[tokio::test]
async fn server_patch_n3_advertise() {
    let root = pod();
    let url = doc(&root, "doc", "").await;
    let responses = [
        ("GET document", get(&url).await),
        (
            "HEAD document",
            client().head(&url).send().await.expect("HEAD"),
        ),
        ("OPTIONS document", options(&url).await),
        ("GET container", get(&root).await),
        ("OPTIONS missing", options(&format!("{root}not-yet")).await),
    ];
    for (what, res) in responses {
        let accept_patch = header(&res, "accept-patch");
        assert!(lists(&accept_patch, N3), "{what}: {accept_patch:?}");
        assert!(lists(&accept_patch, SPARQL), "{what}: {accept_patch:?}");
        assert!(lists(&header(&res, "allow"), "PATCH"), "{what}");
    }
}

#[tokio::test]
async fn server_patch_n3_single() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let two = n3(
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:n \"1\" }.\n\
         _:q a solid:InsertDeletePatch; solid:inserts { <#a> ex:n \"2\" }.",
    );
    assert_refused(&url, N3, &[two], 422).await;
}

#[tokio::test]
async fn server_patch_n3_type() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let untyped = n3("_:p solid:inserts { <#a> ex:n \"1\" }.");
    let other_type = n3("_:p a solid:Patch; solid:inserts { <#a> ex:n \"1\" }.");
    assert_refused(&url, N3, &[untyped, other_type], 422).await;
}

#[tokio::test]
async fn server_patch_n3_deletes() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\", \"Bob\".").await;
    let two = n3("_:p a solid:InsertDeletePatch;\n\
                  solid:deletes { <#a> ex:name \"Alice\" };\n\
                  solid:deletes { <#a> ex:name \"Bob\" }.");
    assert_refused(&url, N3, &[two], 422).await;
}

#[tokio::test]
async fn server_patch_n3_inserts() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let two = n3("_:p a solid:InsertDeletePatch;\n\
                  solid:inserts { <#a> ex:n \"1\" }, { <#a> ex:n \"2\" }.");
    assert_refused(&url, N3, &[two], 422).await;
}

#[tokio::test]
async fn server_patch_n3_where() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let two = n3("_:p a solid:InsertDeletePatch;\n\
                  solid:where { ?x ex:name ?n };\n\
                  solid:where { ?x ex:name \"Alice\" };\n\
                  solid:inserts { ?x ex:seen \"yes\" }.");
    assert_refused(&url, N3, &[two], 422).await;
}

#[tokio::test]
async fn server_patch_n3_formulae() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let nested = n3("_:p a solid:InsertDeletePatch;\n\
                     solid:inserts { <#a> ex:says { <#b> ex:n \"1\" } }.");
    let not_a_formula = n3("_:p a solid:InsertDeletePatch; solid:inserts <#a>.");
    let literal = n3("_:p a solid:InsertDeletePatch; solid:deletes \"<#a> ex:name 'Alice'\".");
    assert_refused(&url, N3, &[nested, not_a_formula, literal], 422).await;
}

#[tokio::test]
async fn server_patch_n3_formulae_absent_are_empty() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    // Only a condition: no insertions, no deletions; it matches once, so it succeeds.
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:where { <#a> ex:name ?n }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(triples(&url).await, vec![t(&url, "a", "name", "\"Alice\"")]);
}

#[tokio::test]
async fn server_patch_n3_variables() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let insert_without_where =
        n3("_:p a solid:InsertDeletePatch; solid:inserts { ?x ex:n \"1\" }.");
    let delete_unbound = n3("_:p a solid:InsertDeletePatch;\n\
                             solid:where { ?x ex:name ?n };\n\
                             solid:deletes { ?y ex:name ?n }.");
    let insert_unbound = n3("_:p a solid:InsertDeletePatch;\n\
                             solid:where { ?x ex:name ?n };\n\
                             solid:inserts { ?x ex:nick ?nick }.");
    assert_refused(
        &url,
        N3,
        &[insert_without_where, delete_unbound, insert_unbound],
        422,
    )
    .await;
}

#[tokio::test]
async fn server_patch_n3_blank_nodes_in_inserts() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let labelled = n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:knows _:b }.");
    let anonymous = n3("_:p a solid:InsertDeletePatch; solid:inserts { [] ex:name \"Someone\" }.");
    assert_refused(&url, N3, &[labelled, anonymous], 422).await;
}

#[tokio::test]
async fn server_patch_n3_blank_nodes_in_deletes() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:knows [ ex:name \"Bob\" ].").await;
    let labelled = n3("_:p a solid:InsertDeletePatch; solid:deletes { <#a> ex:knows _:b }.");
    let anonymous = n3("_:p a solid:InsertDeletePatch; solid:deletes { [] ex:name \"Bob\" }.");
    assert_refused(&url, N3, &[labelled, anonymous], 422).await;
}

#[tokio::test]
async fn server_patch_n3_semantics_no_mapping() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let no_match = n3("_:p a solid:InsertDeletePatch;\n\
                       solid:where { ?x ex:email ?e };\n\
                       solid:inserts { ?x ex:verified \"yes\" }.");
    assert_refused(&url, N3, &[no_match], 409).await;
}

#[tokio::test]
async fn server_patch_n3_semantics_multiple_mappings() {
    let root = pod();
    let url = doc(
        &root,
        "doc",
        "<#a> ex:name \"Alice\". <#b> ex:name \"Bob\".",
    )
    .await;
    let two_matches = n3("_:p a solid:InsertDeletePatch;\n\
                          solid:where { ?x ex:name ?n };\n\
                          solid:inserts { ?x ex:seen \"yes\" }.");
    assert_refused(&url, N3, &[two_matches], 409).await;
}

#[tokio::test]
async fn server_patch_n3_semantics_where_blank_nodes_are_existential() {
    let root = pod();
    let url = doc(
        &root,
        "doc",
        "<#a> ex:knows <#b>, <#c>. <#d> ex:name \"D\".",
    )
    .await;
    // The blank node matches two terms, but the only variable has one value: one mapping.
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch;\n\
             solid:where { ?x ex:knows _:someone };\n\
             solid:inserts { ?x ex:sociable \"yes\" }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert!(triples(&url)
        .await
        .contains(&t(&url, "a", "sociable", "\"yes\"")));
    // Whereas two values for the variable are still two mappings.
    let two = n3("_:p a solid:InsertDeletePatch;\n\
                  solid:where { ?x ?p [] };\n\
                  solid:inserts { ?x ex:seen \"yes\" }.");
    assert_refused(&url, N3, &[two], 409).await;
}

#[tokio::test]
async fn server_patch_n3_semantics_deletions_non_empty_all_triples() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\"; ex:age 42.").await;
    // One of the two triples to delete is there, the other is not: nothing may happen.
    let partly_absent = n3("_:p a solid:InsertDeletePatch;\n\
                            solid:deletes { <#a> ex:name \"Alice\". <#a> ex:age 43 };\n\
                            solid:inserts { <#a> ex:name \"Alicia\" }.");
    assert_refused(&url, N3, &[partly_absent], 409).await;
}

#[tokio::test]
async fn server_patch_n3_semantics_creates_missing_document() {
    let root = pod();
    let url = format!("{root}new/doc.ttl");
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:name \"Alice\" }."),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "location"), url);
    let etag = header(&res, "etag");
    let got = get(&url).await;
    assert_eq!(got.status(), 200);
    assert_eq!(header(&got, "content-type"), TURTLE);
    assert_eq!(header(&got, "etag"), etag);
    assert_eq!(triples(&url).await, vec![t(&url, "a", "name", "\"Alice\"")]);
}

#[tokio::test]
async fn server_patch_n3_semantics_refused_on_missing_document_creates_nothing() {
    let root = pod();
    let url = format!("{root}never");
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch;\n\
             solid:where { ?x ex:name ?n };\n\
             solid:inserts { ?x ex:seen \"yes\" }."),
    )
    .await;
    assert_problem(res, 409).await;
    assert_eq!(get(&url).await.status(), 404);
    assert!(!text(get(&root).await).await.contains("never"));
}

#[tokio::test]
async fn server_patch_n3_where_deletes_and_inserts_rewrite_a_value() {
    let root = pod();
    let url = doc(
        &root,
        "counter",
        "<#c> ex:count 1; ex:label \"clicks\". <#d> ex:label \"other\".",
    )
    .await;
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch;\n\
             solid:where { ?c ex:count ?n; ex:label \"clicks\" };\n\
             solid:deletes { ?c ex:count ?n };\n\
             solid:inserts { ?c ex:count 2; ex:previous ?n }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    let one = format!("\"1\"^^<{XSD_INTEGER}>");
    let two = format!("\"2\"^^<{XSD_INTEGER}>");
    assert_eq!(
        triples(&url).await,
        sorted(vec![
            t(&url, "c", "count", &two),
            t(&url, "c", "previous", &one),
            t(&url, "c", "label", "\"clicks\""),
            t(&url, "d", "label", "\"other\""),
        ])
    );
}

#[tokio::test]
async fn server_patch_refused_leaves_document_byte_identical() {
    let root = pod();
    let url = doc(
        &root,
        "doc",
        "<#a> a ex:Person; ex:name \"Alice\"@en; ex:knows <#b>.\n<#b> ex:name \"Bob\".",
    )
    .await;
    // Valid, and its insertion and first deletion would apply, but the second deletion is
    // not in the document: all or nothing.
    let body = n3("_:p a solid:InsertDeletePatch;\n\
                   solid:deletes { <#a> ex:knows <#b>. <#b> ex:name \"Robert\" };\n\
                   solid:inserts { <#a> ex:knows <#c> }.");
    assert_refused(&url, N3, &[body], 409).await;
    let sparql_body = format!(
        "INSERT DATA {{ <{url}#a> <{EX}knows> <{url}#c> }};\n\
         DELETE DATA {{ <{url}#b> <{EX}name> \"Robert\" }}"
    );
    assert_refused(&url, SPARQL, &[sparql_body], 409).await;
}

#[tokio::test]
async fn server_patch_n3_syntax_error_is_400() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let before = snapshot(&url).await;
    let res = patch(
        &url,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:name "),
    )
    .await;
    let detail = assert_problem(res, 400).await;
    assert!(detail.contains("text/n3"), "{detail}");
    assert_eq!(snapshot(&url).await, before);
}

#[tokio::test]
async fn server_patch_non_rdf_resource_is_415() {
    let root = pod();
    let url = format!("{root}notes.txt");
    assert_eq!(put(&url, "text/plain", "hello").await.status(), 201);
    let got = get(&url).await;
    assert!(!lists(&header(&got, "allow"), "PATCH"));
    assert_eq!(header(&got, "accept-patch"), "");
    let before = snapshot(&url).await;
    for (content_type, body) in [
        (
            N3,
            n3("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:n \"1\" }."),
        ),
        (SPARQL, sparql("INSERT DATA { <#a> ex:n \"1\" }")),
    ] {
        assert_problem(patch(&url, content_type, &body).await, 415).await;
    }
    assert_eq!(snapshot(&url).await, before);
    let got = get(&url).await;
    assert_eq!(header(&got, "content-type"), "text/plain");
    assert_eq!(text(got).await, "hello");
}

#[tokio::test]
async fn server_patch_unknown_content_type_is_415() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let before = snapshot(&url).await;
    for (content_type, body) in [
        ("application/json-patch+json", "[]".to_owned()),
        (TURTLE, format!("<#a> <{EX}name> \"Mallory\".")),
    ] {
        let res = patch(&url, content_type, &body).await;
        // RFC 5789 § 2.2: the 415 says which patch formats would have been accepted.
        let accept_patch = header(&res, "accept-patch");
        assert!(lists(&accept_patch, N3), "{content_type}: {accept_patch:?}");
        assert!(
            lists(&accept_patch, SPARQL),
            "{content_type}: {accept_patch:?}"
        );
        assert_problem(res, 415).await;
    }
    assert_eq!(snapshot(&url).await, before);
}

#[tokio::test]
async fn server_content_type_missing_on_patch_is_400() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let before = snapshot(&url).await;
    let res = client()
        .patch(&url)
        .body(n3(
            "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:n \"1\" }.",
        ))
        .send()
        .await
        .expect("PATCH");
    assert_problem(res, 400).await;
    assert_eq!(snapshot(&url).await, before);
}

#[tokio::test]
async fn server_patch_n3_container_own_triples() {
    let root = pod();
    let c = format!("{root}things/");
    put_turtle(&format!("{c}item"), "").await;
    let res = patch(
        &c,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:inserts { <> ex:title \"My things\" }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    let title = format!("<{c}> <{EX}title> \"My things\"");
    let contains_item = format!("<{c}> <{LDP}contains> <{c}item>");
    let listed = ntriples(&text(get(&c).await).await, &c);
    assert!(listed.contains(&title), "{listed:?}");
    assert!(listed.contains(&contains_item), "{listed:?}");

    let res = patch(
        &c,
        N3,
        &n3("_:p a solid:InsertDeletePatch; solid:deletes { <> ex:title \"My things\" }."),
    )
    .await;
    assert_eq!(res.status(), 204);
    let listed = ntriples(&text(get(&c).await).await, &c);
    assert!(!listed.contains(&title), "{listed:?}");
    assert!(listed.contains(&contains_item), "{listed:?}");
}

#[tokio::test]
async fn server_protect_containment_n3_patch() {
    let root = pod();
    let c = format!("{root}box/");
    put_turtle(&format!("{c}x"), "").await;
    let before = snapshot(&c).await;
    let insert = n3(&format!(
        "_:p a solid:InsertDeletePatch; solid:inserts {{ <> <{LDP}contains> <fake> }}."
    ));
    assert_problem(patch(&c, N3, &insert).await, 409).await;
    let delete = n3(&format!(
        "_:p a solid:InsertDeletePatch; solid:deletes {{ <> <{LDP}contains> <x> }}."
    ));
    assert_problem(patch(&c, N3, &delete).await, 409).await;
    assert_eq!(snapshot(&c).await, before);
    assert_eq!(get(&format!("{c}x")).await.status(), 200);
}

// --- SPARQL Update --------------------------------------------------------------------------

#[tokio::test]
async fn sparql_update_insert_data() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let res = patch(
        &url,
        SPARQL,
        &sparql("INSERT DATA { <#a> ex:email \"a@example.org\". <#b> ex:name \"Bob\" }"),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(header(&get(&url).await, "etag"), header(&res, "etag"));
    assert_eq!(
        triples(&url).await,
        sorted(vec![
            t(&url, "a", "name", "\"Alice\""),
            t(&url, "a", "email", "\"a@example.org\""),
            t(&url, "b", "name", "\"Bob\""),
        ])
    );
}

#[tokio::test]
async fn sparql_update_solid_client_delete_then_insert_data() {
    let root = pod();
    let url = doc(
        &root,
        "profile",
        "<#me> ex:name \"Old\"; ex:city \"Paris\".",
    )
    .await;
    // Byte for byte the shape @inrupt/solid-client's saveSolidDatasetAt sends: absolute IRIs,
    // Turtle-ish statements ending in '.', each operation closed by ';', joined by a space.
    let body = format!(
        "DELETE DATA {{<{url}#me> <{EX}name> \"Old\".}}; \
         INSERT DATA {{<{url}#me> <{EX}name> \"New\";\n    <{EX}nick> \"N\".}};"
    );
    let res = patch(&url, SPARQL, &body).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        triples(&url).await,
        sorted(vec![
            t(&url, "me", "name", "\"New\""),
            t(&url, "me", "nick", "\"N\""),
            t(&url, "me", "city", "\"Paris\""),
        ])
    );
}

#[tokio::test]
async fn sparql_update_delete_data_absent_triple_is_409() {
    let root = pod();
    let url = doc(&root, "profile", "<#me> ex:name \"Current\".").await;
    // A client working from a stale copy: what it deletes is no longer there, so its
    // insertion must not happen either.
    let stale = format!(
        "DELETE DATA {{<{url}#me> <{EX}name> \"Stale\".}}; \
         INSERT DATA {{<{url}#me> <{EX}name> \"New\".}};"
    );
    assert_refused(&url, SPARQL, &[stale], 409).await;
    assert_eq!(
        triples(&url).await,
        vec![t(&url, "me", "name", "\"Current\"")]
    );
}

#[tokio::test]
async fn sparql_update_delete_insert_where() {
    let root = pod();
    let url = doc(
        &root,
        "doc",
        "<#a> ex:n 1. <#b> ex:n 2. <#c> ex:label \"x\".",
    )
    .await;
    let res = patch(
        &url,
        SPARQL,
        &sparql("DELETE { ?s ex:n ?o } INSERT { ?s ex:m ?o } WHERE { ?s ex:n ?o }"),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        triples(&url).await,
        sorted(vec![
            t(&url, "a", "m", &format!("\"1\"^^<{XSD_INTEGER}>")),
            t(&url, "b", "m", &format!("\"2\"^^<{XSD_INTEGER}>")),
            t(&url, "c", "label", "\"x\""),
        ])
    );
}

#[tokio::test]
async fn sparql_update_creates_missing_resource() {
    let root = pod();
    let url = format!("{root}made/by-sparql");
    let res = patch(
        &url,
        SPARQL,
        &sparql("INSERT DATA { <#a> ex:name \"Alice\" }"),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "location"), url);
    assert_eq!(header(&get(&url).await, "etag"), header(&res, "etag"));
    assert_eq!(triples(&url).await, vec![t(&url, "a", "name", "\"Alice\"")]);
}

#[tokio::test]
async fn sparql_update_syntax_error_is_400() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let before = snapshot(&url).await;
    let res = patch(&url, SPARQL, &sparql("INSERT DATA { <#a> ex:name ")).await;
    let detail = assert_problem(res, 400).await;
    assert!(detail.contains("application/sparql-update"), "{detail}");
    assert_eq!(snapshot(&url).await, before);
}

#[tokio::test]
async fn sparql_update_unsupported_operations_are_422() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let bodies = [
        "CLEAR DEFAULT",
        "CLEAR ALL",
        "LOAD <http://example.org/elsewhere>",
        "DROP ALL",
        "CREATE GRAPH <http://example.org/g>",
    ]
    .map(String::from);
    assert_refused(&url, SPARQL, &bodies, 422).await;
}

#[tokio::test]
async fn sparql_update_named_graph_is_422() {
    let root = pod();
    let url = doc(&root, "doc", "<#a> ex:name \"Alice\".").await;
    let bodies = [
        sparql("INSERT DATA { GRAPH <http://example.org/g> { <#a> ex:n \"1\" } }"),
        sparql("DELETE DATA { GRAPH <http://example.org/g> { <#a> ex:name \"Alice\" } }"),
        sparql("INSERT { GRAPH <http://example.org/g> { ?s ex:n \"1\" } } WHERE { ?s ex:name ?o }"),
    ];
    assert_refused(&url, SPARQL, &bodies, 422).await;
}
