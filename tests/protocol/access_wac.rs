//! Web Access Control 1.0 (SPEC-CHECKLIST §2.3): `.acl` resources, `acl:accessTo` and
//! `acl:default` inheritance, agents, classes, groups and origins, the operation → mode table,
//! Control for ACLs, and `WAC-Allow`.

use crate::harness::*;
use crate::idp::Agent;
use reqwest::Method;

const TTL: &str = "<#a> <#b> <#c>.";

/// A private WAC pod of the owner with `c/doc.ttl`.
async fn setup() -> (String, String, String) {
    let root = shared().private_pod(&owner().webid, "wac");
    let container = format!("{root}c/");
    let doc = format!("{container}doc.ttl");
    assert_eq!(
        status_as(Some(owner()), Method::PUT, &doc, Some(TTL)).await,
        201
    );
    (root, container, doc)
}

/// Writes the ACL of `resource` as the owner. The owner keeps full control; `extra` adds
/// authorizations (Turtle with `acl:` and `foaf:` prefixes; `<R>` stands for the resource).
async fn set_acl(resource: &str, extra: &str) {
    let body = format!(
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.
         <#owner> a acl:Authorization; acl:agent <{}>; acl:accessTo <R>; acl:default <R>;
             acl:mode acl:Read, acl:Write, acl:Control.
         {extra}",
        owner().webid
    )
    .replace("<R>", &format!("<{resource}>"));
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &format!("{resource}.acl"),
        Some(&body),
    )
    .await;
    assert!(s == 201 || s == 204, "set ACL of {resource}: {s}");
}

fn agent(name: &str) -> Agent {
    idp().agent(name)
}

#[tokio::test]
async fn acl_is_advertised_turtle_and_missing_acl_is_404() {
    let (root, _, doc) = setup().await;
    let res = as_agent(Some(owner()), Method::HEAD, &doc, None).await;
    assert!(
        has_link(&res, &format!("{doc}.acl"), "acl"),
        "{}",
        header(&res, "link")
    );
    let root_acl = as_agent(Some(owner()), Method::GET, &format!("{root}.acl"), None).await;
    assert_eq!(root_acl.status(), 200);
    assert!(header(&root_acl, "content-type").starts_with("text/turtle"));
    assert!(!has_link(
        &root_acl,
        "http://www.w3.org/ns/solid/acp#AccessControlResource",
        "type"
    ));
    let body = text(root_acl).await;
    assert!(
        body.contains("Control") && body.contains(&owner().webid),
        "{body}"
    );
    assert_problem(
        as_agent(Some(owner()), Method::GET, &format!("{doc}.acl"), None).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn access_to_applies_to_the_resource_and_default_to_its_members() {
    let (_, container, doc) = setup().await;
    let bob = agent("bob");
    set_acl(
        &container,
        &format!(
            "<#b> a acl:Authorization; acl:agent <{}>; acl:default <R>; acl:mode acl:Read.",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::GET, &container, None).await,
        403
    );
    // An ACL of its own replaces what the container's defaults said.
    set_acl(&doc, "").await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 403);
}

#[tokio::test]
async fn every_mode_maps_to_its_operations() {
    let (_, container, doc) = setup().await;
    let bob = agent("bob");
    let grant = |modes: &str| {
        format!(
        "<#b> a acl:Authorization; acl:agent <{}>; acl:accessTo <R>; acl:default <R>; acl:mode {modes}.",
        bob.webid
    )
    };
    let new_doc = format!("{container}new.ttl");
    let insert = "INSERT DATA { <#n> <#m> <#o>. }";
    let delete = "DELETE DATA { <#a> <#b> <#c>. }";
    let patch = |body: &'static str| {
        let bob = bob.clone();
        let doc = doc.clone();
        async move {
            bob.request(&client(), Method::PATCH, &doc)
                .header("content-type", "application/sparql-update")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    set_acl(&container, &grant("acl:Read")).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some(TTL)).await,
        403
    );
    assert_eq!(
        status_as(Some(&bob), Method::POST, &container, Some(TTL)).await,
        403
    );
    assert_eq!(patch(insert).await, 403);
    assert_eq!(status_as(Some(&bob), Method::DELETE, &doc, None).await, 403);

    set_acl(&container, &grant("acl:Append")).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 403);
    assert_eq!(
        status_as(Some(&bob), Method::POST, &container, Some(TTL)).await,
        201
    );
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &new_doc, Some(TTL)).await,
        201,
        "create needs Append on the parent"
    );
    assert_eq!(
        patch(insert).await,
        204,
        "an insert-only patch needs Append"
    );
    assert_eq!(patch(delete).await, 403, "deleting triples needs Write");
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some(TTL)).await,
        403,
        "replacing needs Write"
    );

    set_acl(&container, &grant("acl:Read, acl:Write")).await;
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some(TTL)).await,
        204
    );
    assert_eq!(patch(delete).await, 204);
    assert_eq!(
        status_as(Some(&bob), Method::DELETE, &new_doc, None).await,
        204
    );

    // Delete needs Write on the container too: Write on the document alone is not enough.
    set_acl(&container, "").await;
    set_acl(&doc, &grant("acl:Read, acl:Write")).await;
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some(TTL)).await,
        204
    );
    assert_eq!(status_as(Some(&bob), Method::DELETE, &doc, None).await, 403);
}

#[tokio::test]
async fn public_and_authenticated_agent_classes_and_wac_allow() {
    let (_, container, doc) = setup().await;
    set_acl(&container, "<#p> a acl:Authorization; acl:agentClass foaf:Agent; acl:default <R>; acl:mode acl:Read.
         <#a> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent; acl:default <R>; acl:mode acl:Write.").await;
    let res = as_agent(None, Method::GET, &doc, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "wac-allow"), "user=\"read\",public=\"read\"");
    assert_eq!(status_as(None, Method::PUT, &doc, Some(TTL)).await, 401);
    let bob = agent("bob");
    let res = as_agent(Some(&bob), Method::GET, &doc, None).await;
    assert_eq!(
        header(&res, "wac-allow"),
        "user=\"read write append\",public=\"read\""
    );
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some(TTL)).await,
        204
    );
}

#[tokio::test]
async fn agent_groups_local_and_remote() {
    let (root, container, doc) = setup().await;
    let (bob, carol, dave) = (agent("bob"), agent("carol"), agent("dave"));
    let local_group = format!("{root}groups.ttl");
    let group_doc = format!(
        "<#friends> <http://www.w3.org/2006/vcard/ns#hasMember> <{}>.",
        bob.webid
    );
    assert_eq!(
        status_as(Some(owner()), Method::PUT, &local_group, Some(&group_doc)).await,
        201
    );
    let remote = idp().publish(
        &format!("team-{}", std::process::id()),
        &format!(
            "<#team> <http://www.w3.org/2006/vcard/ns#hasMember> <{}>.",
            carol.webid
        ),
    );
    set_acl(&container, &format!(
        "<#g> a acl:Authorization; acl:agentGroup <{local_group}#friends>, <{remote}#team>; acl:default <R>; acl:mode acl:Read.")).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 200);
    assert_eq!(status_as(Some(&carol), Method::GET, &doc, None).await, 200);
    assert_eq!(status_as(Some(&dave), Method::GET, &doc, None).await, 403);
}

#[tokio::test]
async fn origin_restricts_browser_apps() {
    let (_, container, doc) = setup().await;
    let bob = agent("bob");
    set_acl(&container, &format!(
        "<#b> a acl:Authorization; acl:agent <{}>; acl:origin <https://app.example>; acl:default <R>; acl:mode acl:Read.",
        bob.webid)).await;
    let from = |origin: &'static str| {
        let bob = bob.clone();
        let doc = doc.clone();
        async move {
            bob.request(&client(), Method::GET, &doc)
                .header("origin", origin)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(from("https://app.example").await, 200);
    assert_eq!(from("https://evil.example").await, 403);
}

#[tokio::test]
async fn acl_access_needs_control_and_unknown_modes_grant_nothing() {
    let (_, container, doc) = setup().await;
    let bob = agent("bob");
    let acl = format!("{doc}.acl");
    set_acl(&doc, &format!(
        "<#b> a acl:Authorization; acl:agent <{}>; acl:accessTo <R>; acl:mode acl:Read, acl:Write, acl:Everything.", bob.webid)).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &acl, None).await, 403);
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &acl, Some(TTL)).await,
        403
    );
    set_acl(
        &doc,
        &format!(
            "<#b> a acl:Authorization; acl:agent <{}>; acl:accessTo <R>; acl:mode acl:Control.",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &acl, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::GET, &doc, None).await,
        403,
        "Control alone does not grant Read"
    );
    let _ = container;
}
