//! Pods that move: stored data does not depend on the base URL it was written under. The same
//! data served under another base URL names that base in every document and access control
//! resource, the owner keeps access, and IRIs of other origins are left alone; documents
//! stored by earlier versions (absolute IRIs) are converted once, resumably.

use crate::harness::*;
use reqwest::Method;

const FOAF_KNOWS: &str = "http://xmlns.com/foaf/0.1/knows";
const ELSEWHERE: &str = "https://elsewhere.example/people#them";

/// The same server under another name: `localhost` instead of `127.0.0.1`, same port.
fn moved(base: &str) -> String {
    base.replace("127.0.0.1", "localhost")
}

async fn owner_get(url: &str, accept: &str) -> (u16, String, String) {
    let client = client();
    let res = owner()
        .request(&client, Method::GET, url)
        .header("accept", accept)
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    let etag = header(&res, "etag");
    (status, etag, res.text().await.expect("body"))
}

/// Waits until the conversion of stored documents has finished for base URL `base`.
async fn wait_converted(server: &Server, base: &str) {
    let sql = format!(
        "SELECT COUNT(*) FROM settings WHERE name = 'rdf-relative-iris' \
         AND value LIKE '%\"after\":null%' AND value LIKE '%\"{base}/\"%'"
    );
    for _ in 0..200 {
        let done = server.storage_count(&sql).await;
        if done == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the conversion of stored documents did not finish");
}

#[tokio::test]
async fn documents_and_access_control_follow_a_new_base_url() {
    let mut server = Server::start(&[]);
    let old = server.base.clone();
    let pods = [
        server.private_pod(&owner().webid, "wac"),
        server.private_pod(&owner().webid, "acp"),
    ];
    let mut tags = Vec::new();
    for root in &pods {
        let doc = format!("{root}profile/card");
        // Relative and absolute links into the pod, the server root, and another origin.
        let body = format!(
            "<#me> <{FOAF_KNOWS}> <../notes/n1#it>, <{root}notes/n2>, <{ELSEWHERE}>, <{old}/>."
        );
        let s = status_as(Some(owner()), Method::PUT, &doc, Some(&body)).await;
        assert_eq!(s, 201, "PUT {doc}");
        tags.push(owner_get(&doc, "text/turtle").await.1);
    }

    let new = moved(&old);
    server.restart_under(&new, &[]);
    wait_converted(&server, &new).await;
    for (root, tag) in pods.iter().zip(&tags) {
        let root = root.replace(&old, &new);
        let doc = format!("{root}profile/card");
        let (status, etag, body) = owner_get(&doc, "text/turtle").await;
        assert_eq!(status, 200, "the owner reads {doc}: {body}");
        for iri in [
            format!("{root}profile/card#me"),
            format!("{root}notes/n1#it"),
            format!("{root}notes/n2"),
            format!("{new}/"),
            ELSEWHERE.to_owned(),
        ] {
            assert!(body.contains(&format!("<{iri}>")), "{iri} in {body}");
        }
        assert!(!body.contains(&old), "no old base in {body}");
        assert_ne!(&etag, tag, "another base is another representation");

        let (status, _, jsonld) = owner_get(&doc, "application/ld+json").await;
        assert_eq!(status, 200);
        assert!(jsonld.contains(&format!("{root}notes/n2")), "{jsonld}");
        assert!(!jsonld.contains(&old), "{jsonld}");

        let (status, _, acl) = owner_get(&format!("{root}.acl"), "text/turtle").await;
        assert_eq!(status, 200, "the owner reads the access control: {acl}");
        assert!(acl.contains(&format!("<{root}>")), "{acl}");
        assert!(acl.contains(&owner().webid), "{acl}");
        assert!(!acl.contains(&old), "{acl}");

        let (status, _, listing) = owner_get(&format!("{root}profile/"), "text/turtle").await;
        assert_eq!(status, 200);
        assert!(listing.contains(&format!("<{doc}>")), "{listing}");

        // A tag read under the old base names a representation no longer served.
        let again = "<#me> <http://xmlns.com/foaf/0.1/name> \"moved\".";
        let client = client();
        let stale = owner()
            .request(&client, Method::PUT, &doc)
            .header("content-type", "text/turtle")
            .header("if-match", tag.as_str())
            .body(again)
            .send()
            .await
            .expect("PUT");
        assert_eq!(stale.status(), 412);
        let current = owner()
            .request(&client, Method::PUT, &doc)
            .header("content-type", "text/turtle")
            .header("if-match", etag.as_str())
            .body(again)
            .send()
            .await
            .expect("PUT");
        assert_eq!(current.status(), 204, "the owner still writes {doc}");
        assert_eq!(status_as(None, Method::GET, &doc, None).await, 401);
    }
}

/// How the storage database finds `needle` in a row's inline content.
fn inline_contains(server: &Server, needle: &str) -> String {
    if server.is_distributed() {
        format!("position(convert_to('{needle}', 'UTF8') in inline) > 0")
    } else {
        format!("instr(inline, '{needle}') > 0")
    }
}

#[tokio::test]
async fn documents_stored_with_absolute_iris_are_converted_once_and_resumably() {
    let mut server = Server::start(&[]);
    let old = server.base.clone();
    let root = server.pod();
    let name = root
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let set_inline = if server.is_distributed() {
        "UPDATE resources SET inline = convert_to($1, 'UTF8'), size = length($1) WHERE path = $2"
    } else {
        "UPDATE resources SET inline = CAST($1 AS BLOB), size = length($1) WHERE path = $2"
    };
    for n in 0..3 {
        let doc = format!("{root}legacy{n}");
        let s = status_as(None, Method::PUT, &doc, Some("<#it> <#p> <#o>.")).await;
        assert_eq!(s, 201);
        // As an earlier version stored it: every IRI absolute under the base of the day.
        let legacy = format!("<{doc}#it> <{FOAF_KNOWS}> <{root}other#x>, <{ELSEWHERE}>.\n");
        server
            .storage_execute(set_inline, &[&legacy, &format!("/{name}/legacy{n}")])
            .await;
    }
    // A conversion stopped after legacy0 resumes with legacy1.
    let progress = format!("{{\"roots\":[\"{old}/\"],\"after\":\"/{name}/legacy0\"}}");
    server
        .storage_execute(
            "INSERT INTO settings (name, value) VALUES ('rdf-relative-iris', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&progress],
        )
        .await;
    server.restart();
    wait_converted(&server, &old).await;
    let contains_old = inline_contains(&server, &old);
    let absolute = |n: usize| {
        format!(
            "SELECT COUNT(*) FROM resources WHERE path = '/{name}/legacy{n}' AND {contains_old}"
        )
    };
    assert_eq!(
        server.storage_count(&absolute(0)).await,
        1,
        "before the cursor"
    );
    assert_eq!(server.storage_count(&absolute(1)).await, 0, "converted");
    assert_eq!(server.storage_count(&absolute(2)).await, 0, "converted");
    let (_, _, body) = owner_get(&format!("{root}legacy1"), "text/turtle").await;
    assert!(body.contains(&format!("<{root}other#x>")), "{body}");

    // Done: another start under the same base does not run it again.
    server.restart();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.storage_count(&absolute(0)).await, 1, "ran once");

    // Moved to a new domain, naming the old one: everything is converted from it.
    let new = moved(&old);
    server.restart_under(&new, &["--legacy-base-url", &old]);
    wait_converted(&server, &new).await;
    let root = root.replace(&old, &new);
    for n in 0..3 {
        assert_eq!(server.storage_count(&absolute(n)).await, 0, "legacy{n}");
        let doc = format!("{root}legacy{n}");
        let (status, _, body) = owner_get(&doc, "text/turtle").await;
        assert_eq!(status, 200);
        for iri in [
            format!("{doc}#it"),
            format!("{root}other#x"),
            ELSEWHERE.into(),
        ] {
            assert!(body.contains(&format!("<{iri}>")), "{iri} in {body}");
        }
    }
}
