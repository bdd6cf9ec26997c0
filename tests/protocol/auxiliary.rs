//! Auxiliary resources: description resources linked with `rel="describedby"`
//! (server-link-auxiliary-type, server-description-resource-max,
//! server-put-patch-auxiliary-resource, server-delete-remove-auxiliary-resource).

use crate::harness::*;

fn describedby(res: &reqwest::Response) -> Vec<String> {
    header(res, "link")
        .split(", <")
        .filter(|l| l.contains("rel=\"describedby\""))
        .map(|l| {
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn server_link_auxiliary_type_describedby_on_documents_and_containers() {
    let root = pod();
    let doc = format!("{root}c/doc");
    put_turtle(&doc, "").await;
    assert_eq!(describedby(&get(&doc).await), vec![format!("{doc}.meta")]);
    assert_eq!(
        describedby(&get(&format!("{root}c/")).await),
        vec![format!("{root}c/.meta")]
    );
    let res = client().head(&doc).send().await.unwrap();
    assert_eq!(describedby(&res), vec![format!("{doc}.meta")]);
}

#[tokio::test]
async fn server_description_resource_max_one_link() {
    let root = pod();
    put(&format!("{root}f.bin"), "image/png", vec![1u8]).await;
    assert_eq!(describedby(&get(&format!("{root}f.bin")).await).len(), 1);
}

#[tokio::test]
async fn server_put_patch_auxiliary_resource_put_then_get() {
    let root = pod();
    let doc = format!("{root}photo.png");
    put(&doc, "image/png", vec![1u8, 2]).await;
    let meta = format!("{doc}.meta");
    let res = put(
        &meta,
        TURTLE,
        format!("<{doc}> <http://purl.org/dc/terms/title> \"Sunset\"."),
    )
    .await;
    assert_eq!(res.status(), 201);
    let triples = ntriples(&text(get(&meta).await).await, &meta);
    assert_eq!(
        triples,
        vec![format!(
            "<{doc}> <http://purl.org/dc/terms/title> \"Sunset\""
        )]
    );
    // A description has no description of its own.
    assert!(describedby(&get(&meta).await).is_empty());
}

#[tokio::test]
async fn server_put_patch_auxiliary_resource_patch() {
    let root = pod();
    let doc = format!("{root}d");
    put_turtle(&doc, "").await;
    let meta = format!("{doc}.meta");
    let res = patch(
        &meta,
        "application/sparql-update",
        "INSERT DATA { <d> <http://ex.org/p> 1 }",
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = patch(
        &meta,
        "application/sparql-update",
        "INSERT DATA { <d> <http://ex.org/p> 2 }",
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(ntriples(&text(get(&meta).await).await, &meta).len(), 2);
}

#[tokio::test]
async fn auxiliary_resources_are_not_container_members() {
    let root = pod();
    let doc = format!("{root}box/d");
    put_turtle(&doc, "").await;
    let etag = header(&get(&format!("{root}box/")).await, "etag");
    put_turtle(&format!("{doc}.meta"), "<d> <http://ex.org/p> 1.").await;
    let listing = text(get(&format!("{root}box/")).await).await;
    assert!(!listing.contains("d.meta"), "{listing}");
    assert_eq!(header(&get(&format!("{root}box/")).await, "etag"), etag);
}

#[tokio::test]
async fn server_delete_remove_auxiliary_resource() {
    let root = pod();
    let doc = format!("{root}gone");
    put_turtle(&doc, "").await;
    put_turtle(&format!("{doc}.meta"), "<gone> <http://ex.org/p> 1.").await;
    assert_eq!(delete(&doc).await.status(), 204);
    assert_eq!(get(&format!("{doc}.meta")).await.status(), 404);
    // Re-creating the subject does not resurrect the old description.
    put_turtle(&doc, "").await;
    assert_eq!(get(&format!("{doc}.meta")).await.status(), 404);
}

#[tokio::test]
async fn container_description_goes_with_the_container() {
    let root = pod();
    let c = format!("{root}album/");
    put_turtle(&format!("{c}x"), "").await;
    put_turtle(
        &format!("{c}.meta"),
        "<> <http://purl.org/dc/terms/title> \"Album\".",
    )
    .await;
    // The description does not make the container non-empty.
    assert_eq!(delete(&format!("{c}x")).await.status(), 204);
    assert_eq!(delete(&c).await.status(), 204);
    assert_eq!(get(&format!("{c}.meta")).await.status(), 404);
}

#[tokio::test]
async fn description_needs_an_existing_subject() {
    let root = pod();
    assert_problem(put(&format!("{root}nobody.meta"), TURTLE, "").await, 404).await;
    let res = patch(
        &format!("{root}nobody.meta"),
        "application/sparql-update",
        "INSERT DATA { <a> <b> 1 }",
    )
    .await;
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn description_holds_rdf_only() {
    let server = Server::start(&[]);
    let root = server.pod();
    put_turtle(&format!("{root}d"), "").await;
    assert_problem(put(&format!("{root}d.meta"), "text/plain", "hi").await, 415).await;
    // The refused body left no blob behind.
    assert_eq!(server.blob_files(), 0);
}

#[tokio::test]
async fn description_of_a_missing_description_is_404() {
    let root = pod();
    put_turtle(&format!("{root}d"), "").await;
    assert_problem(get(&format!("{root}d.meta")).await, 404).await;
}

#[tokio::test]
async fn post_slug_with_auxiliary_suffix_gets_an_ordinary_name() {
    let root = pod();
    let res = client()
        .post(&root)
        .header("content-type", "text/plain")
        .header("slug", "notes.meta")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = header(&res, "location");
    assert!(!location.ends_with(".meta"), "{location}");
    assert_eq!(text(get(&location).await).await, "x");
}
