//! Storage roots, containers, containment and slash semantics (Solid Protocol §§ 4.1, 5.1-5.4).

use crate::harness::*;

const LDP: &str = "http://www.w3.org/ns/ldp#";
const PIM_STORAGE: &str = "http://www.w3.org/ns/pim/space#Storage";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

fn contains(triples: &[String], s: &str, p: &str, o: &str) -> bool {
    triples.contains(&format!("<{s}> <{p}> <{o}>"))
}

#[tokio::test]
async fn server_link_storage_root_is_pim_storage() {
    let root = pod();
    let res = get(&root).await;
    assert_eq!(res.status(), 200);
    assert!(has_link(&res, PIM_STORAGE, "type"));
    assert!(has_link(&res, &format!("{LDP}BasicContainer"), "type"));
    let triples = ntriples(&text(res).await, &root);
    assert!(contains(&triples, &root, RDF_TYPE, PIM_STORAGE));
}

#[tokio::test]
async fn server_link_storage_only_on_storage_root() {
    let root = pod();
    put_turtle(&format!("{root}c/x.ttl"), "").await;
    let res = get(&format!("{root}c/")).await;
    assert!(!has_link(&res, PIM_STORAGE, "type"));
    assert!(has_link(&res, &format!("{LDP}Container"), "type"));
}

#[tokio::test]
async fn server_uri_trailing_slash_distinct_document_blocks_container() {
    let root = pod();
    put_turtle(&format!("{root}a"), "").await;
    let res = put(&format!("{root}a/"), TURTLE, "").await;
    assert_problem(res, 409).await;
}

#[tokio::test]
async fn server_uri_trailing_slash_distinct_container_blocks_document() {
    let root = pod();
    put_turtle(&format!("{root}a/x"), "").await;
    let res = put(&format!("{root}a"), TURTLE, "").await;
    assert_problem(res, 409).await;
}

#[tokio::test]
async fn server_uri_trailing_slash_distinct_patch_blocked_by_twin() {
    let root = pod();
    put_turtle(&format!("{root}a/x"), "").await;
    let res = patch(
        &format!("{root}a"),
        "application/sparql-update",
        "INSERT DATA { <#a> <#b> 1 }",
    )
    .await;
    assert_problem(res, 409).await;
}

#[tokio::test]
async fn server_uri_redirect_differing_to_container() {
    let root = pod();
    put_turtle(&format!("{root}c/x"), "").await;
    let res = get(&format!("{root}c")).await;
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), format!("{root}c/"));
}

#[tokio::test]
async fn server_uri_redirect_differing_to_document() {
    let root = pod();
    put_turtle(&format!("{root}doc"), "").await;
    let res = get(&format!("{root}doc/")).await;
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), format!("{root}doc"));
}

#[tokio::test]
async fn server_put_patch_intermediate_containers_on_put() {
    let root = pod();
    let res = put_turtle(&format!("{root}a/b/c.ttl"), "<#x> <#y> <#z>.").await;
    assert_eq!(res.status(), 201);
    let a = ntriples(&text(get(&format!("{root}a/")).await).await, &root);
    assert!(contains(
        &a,
        &format!("{root}a/"),
        &format!("{LDP}contains"),
        &format!("{root}a/b/")
    ));
    let b = ntriples(&text(get(&format!("{root}a/b/")).await).await, &root);
    assert!(contains(
        &b,
        &format!("{root}a/b/"),
        &format!("{LDP}contains"),
        &format!("{root}a/b/c.ttl")
    ));
    let top = ntriples(&text(get(&root).await).await, &root);
    assert!(contains(
        &top,
        &root,
        &format!("{LDP}contains"),
        &format!("{root}a/")
    ));
}

#[tokio::test]
async fn server_put_patch_intermediate_containers_on_patch() {
    let root = pod();
    let res = patch(
        &format!("{root}p/q/doc"),
        "application/sparql-update",
        "INSERT DATA { <#a> <#b> 1 }",
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(get(&format!("{root}p/q/")).await.status(), 200);
    assert_eq!(get(&format!("{root}p/")).await.status(), 200);
}

#[tokio::test]
async fn server_put_intermediate_container_blocked_by_document() {
    let root = pod();
    put_turtle(&format!("{root}x"), "").await;
    let res = put(&format!("{root}x/y"), TURTLE, "").await;
    assert_problem(res, 409).await;
    // And nothing half-made: x is still the document.
    assert_eq!(get(&format!("{root}x")).await.status(), 200);
    assert_eq!(get(&format!("{root}x/y")).await.status(), 404);
}

#[tokio::test]
async fn server_hierarchical_containment_lists_every_child() {
    let root = pod();
    for name in ["one", "two", "three"] {
        put_turtle(&format!("{root}list/{name}"), "").await;
    }
    put_turtle(&format!("{root}list/sub/inner"), "").await;
    let c = format!("{root}list/");
    let triples = ntriples(&text(get(&c).await).await, &root);
    for child in ["one", "two", "three", "sub/"] {
        assert!(
            contains(
                &triples,
                &c,
                &format!("{LDP}contains"),
                &format!("{c}{child}")
            ),
            "{child}"
        );
    }
    // Grandchildren are not direct members.
    assert!(!contains(
        &triples,
        &c,
        &format!("{LDP}contains"),
        &format!("{c}sub/inner")
    ));
}

#[tokio::test]
async fn server_contained_resource_metadata() {
    let root = pod();
    put(&format!("{root}m/file.txt"), "text/plain", "hello").await;
    put_turtle(&format!("{root}m/sub/x"), "").await;
    let c = format!("{root}m/");
    let triples = ntriples(&text(get(&c).await).await, &root);
    let file = format!("{c}file.txt");
    assert!(contains(
        &triples,
        &file,
        RDF_TYPE,
        &format!("{LDP}Resource")
    ));
    assert!(contains(
        &triples,
        &file,
        RDF_TYPE,
        "http://www.w3.org/ns/iana/media-types/text/plain#Resource"
    ));
    assert!(triples
        .iter()
        .any(|t| t.starts_with(&format!("<{file}> <http://purl.org/dc/terms/modified> "))));
    assert!(triples.contains(&format!(
        "<{file}> <http://www.w3.org/ns/posix/stat#size> \"5\"^^<http://www.w3.org/2001/XMLSchema#integer>"
    )));
    assert!(contains(
        &triples,
        &format!("{c}sub/"),
        RDF_TYPE,
        &format!("{LDP}BasicContainer")
    ));
}

#[tokio::test]
async fn server_container_last_modified_and_etag_change_when_membership_changes() {
    let root = pod();
    put_turtle(&format!("{root}c/a"), "").await;
    let before = header(&get(&format!("{root}c/")).await, "etag");
    put_turtle(&format!("{root}c/b"), "").await;
    let after_add = header(&get(&format!("{root}c/")).await, "etag");
    assert_ne!(before, after_add);
    assert_eq!(delete(&format!("{root}c/b")).await.status(), 204);
    let after_remove = header(&get(&format!("{root}c/")).await, "etag");
    assert_ne!(after_add, after_remove);
}

/// ESS answers a DELETE of the other slash form as it answers a GET: a redirect to the form
/// that exists, and nothing is deleted.
#[tokio::test]
async fn ess_delete_of_the_other_slash_form_redirects_and_deletes_nothing() {
    let root = pod();
    put_turtle(&format!("{root}c/x"), "").await;
    put_turtle(&format!("{root}doc"), "").await;
    let res = delete(&format!("{root}c")).await;
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), format!("{root}c/"));
    let res = delete(&format!("{root}doc/")).await;
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), format!("{root}doc"));
    assert_eq!(get(&format!("{root}doc")).await.status(), 200);
    assert_eq!(get(&format!("{root}c/x")).await.status(), 200);
    // Neither form there: still a 404 problem.
    assert_problem(delete(&format!("{root}nothing")).await, 404).await;
}

#[tokio::test]
async fn server_delete_remove_containment() {
    let root = pod();
    put_turtle(&format!("{root}d/gone"), "").await;
    assert_eq!(delete(&format!("{root}d/gone")).await.status(), 204);
    assert_eq!(get(&format!("{root}d/gone")).await.status(), 404);
    let triples = ntriples(&text(get(&format!("{root}d/")).await).await, &root);
    assert!(!triples.iter().any(|t| t.contains("gone")));
}

#[tokio::test]
async fn server_delete_protect_nonempty_container() {
    let root = pod();
    put_turtle(&format!("{root}full/x"), "").await;
    let detail = assert_problem(delete(&format!("{root}full/")).await, 409).await;
    assert!(detail.contains("not empty"), "{detail}");
    assert_eq!(get(&format!("{root}full/x")).await.status(), 200);
}

#[tokio::test]
async fn server_delete_remove_empty_container() {
    let root = pod();
    put_turtle(&format!("{root}e/x"), "").await;
    assert_eq!(delete(&format!("{root}e/x")).await.status(), 204);
    assert_eq!(delete(&format!("{root}e/")).await.status(), 204);
    assert_eq!(get(&format!("{root}e/")).await.status(), 404);
}

#[tokio::test]
async fn server_delete_protect_root_container() {
    let root = pod();
    let res = delete(&root).await;
    let allow = header(&res, "allow");
    assert!(!allow.contains("DELETE"), "{allow}");
    assert_problem(res, 405).await;
    assert_eq!(get(&root).await.status(), 200);
}

#[tokio::test]
async fn server_disallow_delete_omitted_from_root_allow() {
    let root = pod();
    let allow = header(&get(&root).await, "allow");
    assert!(
        !allow.contains("DELETE") && allow.contains("GET"),
        "{allow}"
    );
}

#[tokio::test]
async fn server_delete_missing_resource_is_404() {
    let root = pod();
    assert_problem(delete(&format!("{root}nothing")).await, 404).await;
}

#[tokio::test]
async fn server_post_container_create_resource_with_location() {
    let root = pod();
    let res = client()
        .post(&root)
        .header("content-type", TURTLE)
        .body("<#a> <#b> 1.")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = header(&res, "location");
    assert!(
        location.starts_with(&root) && location.len() > root.len(),
        "{location}"
    );
    // The Turtle was re-serialised, so no validator comes back (RFC 9110 §9.3.4).
    assert!(header(&res, "etag").is_empty());
    assert_eq!(get(&location).await.status(), 200);
    let triples = ntriples(&text(get(&root).await).await, &root);
    assert!(contains(
        &triples,
        &root,
        &format!("{LDP}contains"),
        &location
    ));
}

#[tokio::test]
async fn server_post_slug_names_the_resource() {
    let root = pod();
    let res = client()
        .post(&root)
        .header("content-type", "text/plain")
        .header("slug", "notes.txt")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "location"), format!("{root}notes.txt"));
}

#[tokio::test]
async fn server_post_slug_taken_gets_fresh_name() {
    let root = pod();
    put(&format!("{root}taken"), "text/plain", "x").await;
    let res = client()
        .post(&root)
        .header("content-type", "text/plain")
        .header("slug", "taken")
        .body("y")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = header(&res, "location");
    assert_ne!(location, format!("{root}taken"));
    assert!(location.starts_with(&format!("{root}taken-")), "{location}");
    assert_eq!(text(get(&format!("{root}taken")).await).await, "x");
}

#[tokio::test]
async fn server_post_slug_cannot_escape_container() {
    let root = pod();
    put_turtle(&format!("{root}box/x"), "").await;
    let res = client()
        .post(format!("{root}box/"))
        .header("content-type", "text/plain")
        .header("slug", "../../escape/..%2F")
        .body("y")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = header(&res, "location");
    assert!(location.starts_with(&format!("{root}box/")), "{location}");
    assert!(!location[root.len() + 4..].contains('/'), "{location}");
}

#[tokio::test]
async fn server_post_basic_container_link_creates_container() {
    let root = pod();
    let res = client()
        .post(&root)
        .header(
            "link",
            "<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\"",
        )
        .header("slug", "folder")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "location"), format!("{root}folder/"));
    let got = get(&format!("{root}folder/")).await;
    assert!(has_link(&got, &format!("{LDP}BasicContainer"), "type"));
}

#[tokio::test]
async fn server_post_uri_assignment_without_slug() {
    let root = pod();
    let a = client()
        .post(&root)
        .header("content-type", "text/plain")
        .body("1")
        .send()
        .await
        .unwrap();
    let b = client()
        .post(&root)
        .header("content-type", "text/plain")
        .body("2")
        .send()
        .await
        .unwrap();
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    assert_ne!(header(&a, "location"), header(&b, "location"));
}

#[tokio::test]
async fn server_post_target_not_found() {
    let root = pod();
    let res = client()
        .post(format!("{root}missing/"))
        .header("content-type", TURTLE)
        .body("")
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn server_post_to_document_is_method_not_allowed() {
    let root = pod();
    put_turtle(&format!("{root}doc"), "").await;
    let res = client()
        .post(format!("{root}doc"))
        .header("content-type", TURTLE)
        .body("")
        .send()
        .await
        .unwrap();
    assert!(!header(&res, "allow").contains("POST"));
    assert_problem(res, 405).await;
}

#[tokio::test]
async fn server_protect_containment_put_container_with_contains() {
    let root = pod();
    put_turtle(&format!("{root}pc/x"), "").await;
    let body = format!("<{root}pc/> <{LDP}contains> <{root}pc/fake>.");
    assert_problem(put(&format!("{root}pc/"), TURTLE, body).await, 409).await;
}

#[tokio::test]
async fn server_protect_containment_patch_inserting_contains() {
    let root = pod();
    put_turtle(&format!("{root}pc/x"), "").await;
    let body = format!("INSERT DATA {{ <{root}pc/> <{LDP}contains> <{root}pc/fake> }}");
    assert_problem(
        patch(&format!("{root}pc/"), "application/sparql-update", &body).await,
        409,
    )
    .await;
}

#[tokio::test]
async fn server_protect_containment_patch_deleting_contains() {
    let root = pod();
    put_turtle(&format!("{root}pc/x"), "").await;
    let body = format!("DELETE DATA {{ <{root}pc/> <{LDP}contains> <{root}pc/x> }}");
    assert_problem(
        patch(&format!("{root}pc/"), "application/sparql-update", &body).await,
        409,
    )
    .await;
    assert_eq!(get(&format!("{root}pc/x")).await.status(), 200);
}

#[tokio::test]
async fn server_protect_contained_resource_metadata() {
    let root = pod();
    put_turtle(&format!("{root}pm/x"), "").await;
    let body = format!("<{root}pm/x> <http://www.w3.org/ns/posix/stat#size> 999.");
    assert_problem(put(&format!("{root}pm/"), TURTLE, body).await, 409).await;
}

#[tokio::test]
async fn server_container_keeps_client_triples_beside_containment() {
    let root = pod();
    let c = format!("{root}described/");
    assert_eq!(
        put(
            &c,
            TURTLE,
            "<> <http://purl.org/dc/terms/title> \"My things\"."
        )
        .await
        .status(),
        201
    );
    put_turtle(&format!("{c}item"), "").await;
    let triples = ntriples(&text(get(&c).await).await, &root);
    assert!(triples.contains(&format!(
        "<{c}> <http://purl.org/dc/terms/title> \"My things\""
    )));
    assert!(contains(
        &triples,
        &c,
        &format!("{LDP}contains"),
        &format!("{c}item")
    ));
}

#[tokio::test]
async fn server_container_put_requires_rdf() {
    let root = pod();
    assert_problem(
        put(&format!("{root}bin/"), "image/png", vec![1u8, 2, 3]).await,
        415,
    )
    .await;
}

#[tokio::test]
async fn server_put_container_type_on_document_path_conflicts() {
    let root = pod();
    let res = client()
        .put(format!("{root}nota"))
        .header("content-type", TURTLE)
        .header(
            "link",
            "<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\"",
        )
        .body("")
        .send()
        .await
        .unwrap();
    assert_problem(res, 409).await;
}

#[tokio::test]
async fn server_put_replaces_existing_document() {
    let root = pod();
    let url = format!("{root}doc");
    assert_eq!(put(&url, "text/plain", "one").await.status(), 201);
    assert_eq!(put(&url, "text/plain", "two").await.status(), 204);
    assert_eq!(text(get(&url).await).await, "two");
}

#[tokio::test]
async fn server_put_can_change_a_document_from_rdf_to_binary() {
    let root = pod();
    let url = format!("{root}morph");
    put_turtle(&url, "<#a> <#b> 1.").await;
    assert_eq!(
        put(&url, "image/png", vec![0x89u8, b'P', b'N', b'G'])
            .await
            .status(),
        204
    );
    let res = get(&url).await;
    assert_eq!(header(&res, "content-type"), "image/png");
    assert!(has_link(&res, &format!("{LDP}NonRDFSource"), "type"));
}

#[tokio::test]
async fn server_root_of_server_is_not_a_resource() {
    let server = shared();
    assert_problem(get(&format!("{}/", server.base)).await, 404).await;
    assert_problem(put(&format!("{}/", server.base), TURTLE, "").await, 405).await;
}

#[tokio::test]
async fn server_storage_nonoverlapping_unknown_pod_is_404() {
    let server = shared();
    let res = put(&format!("{}/no-such-pod-here/x", server.base), TURTLE, "").await;
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn server_names_with_spaces_and_unicode_round_trip() {
    let root = pod();
    for name in ["hello%20world.txt", "caf%C3%A9.txt"] {
        let url = format!("{root}{name}");
        assert_eq!(put(&url, "text/plain", "x").await.status(), 201, "{name}");
        assert_eq!(text(get(&url).await).await, "x");
    }
    let listing = text(get(&root).await).await;
    assert!(
        listing.contains("hello%20world.txt") && listing.contains("caf%C3%A9.txt"),
        "{listing}"
    );
}

#[tokio::test]
async fn server_pods_are_isolated_storages() {
    let a = pod();
    let b = pod();
    put_turtle(&format!("{a}only-in-a"), "").await;
    assert_eq!(get(&format!("{b}only-in-a")).await.status(), 404);
    assert!(!text(get(&b).await).await.contains("only-in-a"));
}

#[tokio::test]
async fn server_container_listing_is_never_stale() {
    // Listings and conversions are cached by ETag; every change must show at once.
    let root = pod();
    let c = format!("{root}fresh/");
    put(&format!("{c}a.txt"), "text/plain", "1").await;
    for accept in ["text/turtle", "application/ld+json"] {
        assert!(!text(get_accept(&c, accept).await).await.contains("b.txt"));
    }
    put(&format!("{c}b.txt"), "text/plain", "22").await;
    for accept in ["text/turtle", "application/ld+json"] {
        assert!(
            text(get_accept(&c, accept).await).await.contains("b.txt"),
            "{accept}"
        );
    }
    put(&format!("{c}a.txt"), "text/plain", "a much longer body").await;
    let triples = ntriples(&text(get(&c).await).await, &root);
    assert!(triples.contains(&format!(
        "<{c}a.txt> <http://www.w3.org/ns/posix/stat#size> \"18\"^^<http://www.w3.org/2001/XMLSchema#integer>"
    )));
    assert_eq!(delete(&format!("{c}b.txt")).await.status(), 204);
    assert!(!text(get(&c).await).await.contains("b.txt"));
}

#[tokio::test]
async fn server_document_reads_are_never_stale() {
    let root = pod();
    let url = format!("{root}doc");
    for i in 0..5 {
        put_turtle(&url, &format!("<#a> <#n> {i}.")).await;
        assert!(
            text(get(&url).await).await.contains(&format!(" {i} ")),
            "turtle {i}"
        );
        let jsonld = text(get_accept(&url, "application/ld+json").await).await;
        assert!(
            jsonld.contains(&format!("\"{i}\"")) || jsonld.contains(&format!(":{i}")),
            "{jsonld}"
        );
    }
}
