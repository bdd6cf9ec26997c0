//! Access Control Policy (SPEC-CHECKLIST §2.4): ACRs advertised and typed, policies with
//! allow/deny and allOf/anyOf/noneOf matchers on agent, client and issuer, member access
//! control inheritance, and `acp:access` (or Control) for the ACR itself.

use crate::harness::*;
use crate::idp::Agent;
use reqwest::Method;

const PREFIXES: &str = "@prefix acp: <http://www.w3.org/ns/solid/acp#>.
@prefix acl: <http://www.w3.org/ns/auth/acl#>.
";
const ACR_TYPE: &str = "http://www.w3.org/ns/solid/acp#AccessControlResource";

/// A private ACP pod of the owner with `doc.ttl` and `c/item.ttl`.
async fn setup() -> (String, String, String) {
    let root = shared().private_pod(&owner().webid, "acp");
    let doc = format!("{root}doc.ttl");
    let item = format!("{root}c/item.ttl");
    for url in [&doc, &item] {
        let s = status_as(Some(owner()), Method::PUT, url, Some("<#a> <#b> <#c>.")).await;
        assert_eq!(s, 201, "{url}");
    }
    (root, doc, item)
}

/// Replaces the ACR of `resource` (as the owner) with `policies`, applied to it.
async fn set_acr(resource: &str, link: &str, policies: &str) {
    let body = format!("{PREFIXES}<> {link} <#ac>.\n<#ac> {policies}");
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &format!("{resource}.acl"),
        Some(&body),
    )
    .await;
    assert!(s == 201 || s == 204, "set ACR of {resource}: {s}");
}

fn bob() -> Agent {
    idp().agent("bob")
}

#[tokio::test]
async fn acr_is_advertised_typed_and_implicit_until_written() {
    let (root, doc, _) = setup().await;
    let res = as_agent(Some(owner()), Method::GET, &doc, None).await;
    assert!(
        has_link(&res, &format!("{doc}.acl"), "acl"),
        "{}",
        header(&res, "link")
    );
    assert_eq!(header(&res, "link").matches("rel=\"acl\"").count(), 1);
    // No ACR was written for doc.ttl, yet it has one (Inrupt's libraries rely on it).
    let acr = as_agent(Some(owner()), Method::GET, &format!("{doc}.acl"), None).await;
    assert_eq!(acr.status(), 200);
    assert!(has_link(&acr, ACR_TYPE, "type"), "{}", header(&acr, "link"));
    assert!(header(&acr, "content-type").starts_with("text/turtle"));
    assert!(text(acr).await.contains("acp#resource"));
    // The root's ACR is the one pod creation wrote: the owner's policy.
    let root_acr =
        text(as_agent(Some(owner()), Method::GET, &format!("{root}.acl"), None).await).await;
    assert!(root_acr.contains(&owner().webid), "{root_acr}");
    assert_eq!(
        status_as(Some(owner()), Method::DELETE, &format!("{root}.acl"), None).await,
        405
    );
}

#[tokio::test]
async fn options_on_an_acr_lists_grants_and_attributes() {
    let (_, doc, _) = setup().await;
    let res = options(&format!("{doc}.acl")).await;
    for mode in ["Read", "Append", "Write", "Control"] {
        let target = format!("http://www.w3.org/ns/auth/acl#{mode}");
        assert!(
            has_link(&res, &target, "http://www.w3.org/ns/solid/acp#grant"),
            "{mode}"
        );
    }
    for attr in ["agent", "client", "issuer", "vc"] {
        let target = format!("http://www.w3.org/ns/solid/acp#{attr}");
        assert!(
            has_link(&res, &target, "http://www.w3.org/ns/solid/acp#attribute"),
            "{attr}"
        );
    }
}

#[tokio::test]
async fn agent_policy_grants_exactly_its_modes() {
    let (_, doc, _) = setup().await;
    let bob = bob();
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 403);
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read; acp:anyOf [ acp:agent <{}> ] ].",
            bob.webid
        ),
    )
    .await;
    let res = as_agent(Some(&bob), Method::GET, &doc, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "wac-allow"), "user=\"read\",public=\"\"");
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &doc, Some("<#x> <#y> <#z>.")).await,
        403
    );
    assert_eq!(status_as(Some(&bob), Method::DELETE, &doc, None).await, 403);
    assert_eq!(status_as(None, Method::GET, &doc, None).await, 401);
}

#[tokio::test]
async fn public_and_authenticated_agents() {
    let (root, doc, _) = setup().await;
    set_acr(
        &doc,
        "acp:accessControl",
        "acp:apply [ acp:allow acl:Read; acp:anyOf [ acp:agent acp:PublicAgent ] ].",
    )
    .await;
    let res = as_agent(None, Method::GET, &doc, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "wac-allow"), "user=\"read\",public=\"read\"");
    set_acr(
        &root,
        "acp:accessControl",
        "acp:apply [ acp:allow acl:Append; acp:anyOf [ acp:agent acp:AuthenticatedAgent ] ].",
    )
    .await;
    assert_eq!(
        status_as(None, Method::POST, &root, Some("<#a> <#b> <#c>.")).await,
        401
    );
    assert_eq!(
        status_as(Some(&bob()), Method::POST, &root, Some("<#a> <#b> <#c>.")).await,
        201
    );
}

#[tokio::test]
async fn deny_beats_allow() {
    let (_, doc, _) = setup().await;
    let bob = bob();
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read; acp:anyOf [ acp:agent acp:PublicAgent ] ],
                   [ acp:deny acl:Read; acp:anyOf [ acp:agent <{}> ] ].",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(None, Method::GET, &doc, None).await, 200);
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 403);
}

#[tokio::test]
async fn member_access_control_is_inherited_by_descendants_only() {
    let (root, _, item) = setup().await;
    let bob = bob();
    let container = format!("{root}c/");
    set_acr(
        &container,
        "acp:memberAccessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read; acp:anyOf [ acp:agent <{}> ] ].",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &item, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::GET, &container, None).await,
        403
    );
}

#[tokio::test]
async fn client_and_issuer_matchers() {
    let (_, doc, _) = setup().await;
    let bob = bob();
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read;
            acp:allOf [ acp:agent <{}> ], [ acp:client <https://app.example/id> ];
            acp:noneOf [ acp:issuer <https://evil.example> ] ].",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &doc, None).await, 200);
    let other_app = Agent::new(idp(), &bob.webid, |c| {
        c["client_id"] = serde_json::json!("https://other.example/id")
    });
    assert_eq!(
        status_as(Some(&other_app), Method::GET, &doc, None).await,
        403
    );
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read; acp:allOf [ acp:issuer <{}> ] ].",
            idp().issuer
        ),
    )
    .await;
    assert_eq!(
        status_as(Some(&other_app), Method::GET, &doc, None).await,
        200
    );
    assert_eq!(status_as(None, Method::GET, &doc, None).await, 401);
}

#[tokio::test]
async fn reading_and_writing_an_acr_needs_acp_access_or_control() {
    let (_, doc, _) = setup().await;
    let bob = bob();
    let acr = format!("{doc}.acl");
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Read, acl:Write; acp:anyOf <#bob> ]. <#bob> acp:agent <{}>.",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &acr, None).await, 403);
    set_acr(&doc, "acp:accessControl", &format!(
        "acp:apply [ acp:allow acl:Read; acp:anyOf <#bob> ]; acp:access [ acp:allow acl:Read; acp:anyOf <#bob> ].
         <#bob> acp:agent <{}>.", bob.webid)).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &acr, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &acr, Some("<#a> <#b> <#c>.")).await,
        403
    );
    set_acr(
        &doc,
        "acp:accessControl",
        &format!(
            "acp:apply [ acp:allow acl:Control; acp:anyOf [ acp:agent <{}> ] ].",
            bob.webid
        ),
    )
    .await;
    assert_eq!(status_as(Some(&bob), Method::GET, &acr, None).await, 200);
}

#[tokio::test]
async fn creator_agent_matches_whoever_created_the_resource() {
    let (root, _, _) = setup().await;
    let inbox = format!("{root}inbox/");
    assert_eq!(
        status_as(
            Some(owner()),
            Method::PUT,
            &format!("{inbox}seed.ttl"),
            Some("<#a> <#b> <#c>.")
        )
        .await,
        201
    );
    // Anyone authenticated may add to the inbox; each may read and change only their own.
    set_acr(
        &inbox,
        "acp:accessControl",
        "acp:apply [ acp:allow acl:Append; acp:anyOf [ acp:agent acp:AuthenticatedAgent ] ].
         <> acp:memberAccessControl [ acp:apply [ acp:allow acl:Read, acl:Write;
             acp:anyOf [ acp:agent acp:CreatorAgent ] ] ].",
    )
    .await;
    let (bob, carol) = (bob(), idp().agent("carol"));
    let post = |who: Agent| {
        let inbox = inbox.clone();
        async move {
            let res = as_agent(Some(&who), Method::POST, &inbox, Some("<#a> <#b> <#c>.")).await;
            assert_eq!(res.status(), 201);
            header(&res, "location")
        }
    };
    let bobs = post(bob.clone()).await;
    let carols = post(carol.clone()).await;
    assert_eq!(status_as(Some(&bob), Method::GET, &bobs, None).await, 200);
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &bobs, Some("<#x> <#y> <#z>.")).await,
        204
    );
    assert_eq!(status_as(Some(&bob), Method::GET, &carols, None).await, 403);
    assert_eq!(
        status_as(Some(&carol), Method::GET, &carols, None).await,
        200
    );

    // A container's creator may create in it: the create is decided on the container,
    // whose creator is known.
    let res = bob
        .request(&client(), Method::POST, &inbox)
        .header(
            "link",
            "<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\"",
        )
        .header("slug", "bob")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let in_box = |name: &str| format!("{}{name}", header(&res, "location"));
    let ttl = Some("<#a> <#b> <#c>.");
    assert_eq!(
        status_as(Some(&bob), Method::PUT, &in_box("mine.ttl"), ttl).await,
        201
    );
    assert_eq!(
        status_as(Some(&carol), Method::PUT, &in_box("hers.ttl"), ttl).await,
        403
    );
}

/// ESS: a resource's ACR exists (GET 200) before anyone writes it, and conditional writes
/// treat it the same written or not. `If-None-Match: *` holds (an ACR is only ever replaced,
/// and Inrupt's client re-saves an ACR it rebuilt, e.g. after `universalAccess` wrote it, with
/// that header); `If-Match` is judged against the ETag GET shows.
#[tokio::test]
async fn ess_conditional_writes_to_an_acr_agree_with_what_get_shows() {
    let (root, doc, item) = setup().await;
    let body = |resource: &str| {
        format!(
            "{PREFIXES}<> acp:resource <{resource}>; acp:accessControl <#ac>.\n\
             <#ac> acp:apply <#p>; acp:access <#p>.\n\
             <#p> acp:allow acl:Read, acl:Write, acl:Control; acp:allOf <#m>.\n\
             <#m> acp:agent <{}>.\n",
            owner().webid
        )
    };
    let conditional = |resource: String, name: &'static str, value: String| {
        let body = body(&resource);
        async move {
            owner()
                .request(&client(), Method::PUT, &format!("{resource}.acl"))
                .header("content-type", TURTLE)
                .header(name, value)
                .body(body)
                .send()
                .await
                .expect("PUT")
                .status()
                .as_u16()
        }
    };
    let etag_of_acr = |resource: String| async move {
        let res = as_agent(Some(owner()), Method::GET, &format!("{resource}.acl"), None).await;
        assert_eq!(res.status(), 200);
        header(&res, "etag")
    };

    // Never written: GET's ETag is the one If-Match is judged against.
    let implicit = etag_of_acr(doc.clone()).await;
    assert_eq!(
        conditional(doc.clone(), "if-match", "\"not-it\"".into()).await,
        412
    );
    let saved = conditional(doc.clone(), "if-match", implicit.clone()).await;
    assert!(
        saved == 201 || saved == 204,
        "If-Match with GET's ETag: {saved}"
    );

    // Written: saved again with If-None-Match: * (as the client does), If-Match as usual.
    let written = etag_of_acr(doc.clone()).await;
    assert_ne!(written, implicit);
    assert_eq!(
        conditional(doc.clone(), "if-none-match", "*".into()).await,
        204
    );
    assert_eq!(
        conditional(doc.clone(), "if-match", written).await,
        412,
        "a stale ETag"
    );
    let current = etag_of_acr(doc.clone()).await;
    assert_eq!(conditional(doc.clone(), "if-match", current).await, 204);

    // Never written, saved straight away with If-None-Match: *.
    let saved = conditional(item.clone(), "if-none-match", "*".into()).await;
    assert!(saved == 201 || saved == 204, "{saved}");
    // Not an ACR: If-None-Match: * keeps its meaning.
    let plain = owner()
        .request(&client(), Method::PUT, &format!("{root}doc.ttl"))
        .header("content-type", TURTLE)
        .header("if-none-match", "*")
        .body("<#a> <#b> <#d>.")
        .send()
        .await
        .expect("PUT");
    assert_eq!(plain.status(), 412);
}

/// ESS, as Inrupt's `acp_ess_2` reads it: a resource's ACR shows, as its own, the access
/// controls its ancestors give their members (a container's also as member access
/// controls); they are shown, not stored, so a change at the root shows at once, and a
/// client that saves back what it read stores only its own part.
#[tokio::test]
async fn ess_an_acr_shows_the_access_controls_its_ancestors_give_members() {
    let (root, doc, _) = setup().await;
    let shown = |url: String| async move {
        let res = as_agent(Some(owner()), Method::GET, &url, None).await;
        assert_eq!(res.status(), 200, "{url}");
        let etag = header(&res, "etag");
        (ntriples(&text(res).await, &url), etag)
    };
    let links = |triples: &[String], acr: &str, predicate: &str| -> Vec<String> {
        let prefix = format!("<{acr}> <http://www.w3.org/ns/solid/acp#{predicate}> ");
        let mut found: Vec<String> = triples
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix))
            .map(|o| o.trim_end_matches(" .").to_owned())
            .collect();
        found.sort();
        found
    };
    let owner_access = format!("<{root}.acl#owner-access>");
    let doc_acr = format!("{doc}.acl");
    let (triples, first_tag) = shown(doc_acr.clone()).await;
    assert_eq!(
        links(&triples, &doc_acr, "accessControl"),
        [owner_access.as_str()]
    );
    assert!(links(&triples, &doc_acr, "memberAccessControl").is_empty());
    let c_acr = format!("{root}c/.acl");
    let (triples, _) = shown(c_acr.clone()).await;
    assert_eq!(
        links(&triples, &c_acr, "accessControl"),
        [owner_access.as_str()]
    );
    assert_eq!(
        links(&triples, &c_acr, "memberAccessControl"),
        [owner_access.as_str()]
    );

    // Saved back as read (with a control of its own added): only its own part is stored.
    let body = format!(
        "{PREFIXES}<> acp:resource <{doc}>; acp:accessControl <{root}.acl#owner-access>, <#mine>.\n\
         <#mine> acp:apply <#p>.\n<#p> acp:allow acl:Read; acp:anyOf <#m>.\n<#m> acp:agent <{}>.\n",
        bob().webid
    );
    let saved = status_as(Some(owner()), Method::PUT, &doc_acr, Some(&body)).await;
    assert!(saved == 201 || saved == 204, "{saved}");
    // The root now gives members another access control instead: the document shows that
    // one, so the old link was never stored in it.
    let root_acr = format!(
        "{PREFIXES}<> acp:resource <{root}>; acp:accessControl <#next>; acp:memberAccessControl <#next>.\n\
         <#next> acp:apply <#p>; acp:access <#p>.\n<#p> acp:allow acl:Read, acl:Write, acl:Control; acp:anyOf <#m>.\n\
         <#m> acp:agent <{}>.\n",
        owner().webid
    );
    let s = status_as(
        Some(owner()),
        Method::PUT,
        &format!("{root}.acl"),
        Some(&root_acr),
    )
    .await;
    assert_eq!(s, 204);
    let (triples, tag) = shown(doc_acr.clone()).await;
    let mine = format!("<{doc_acr}#mine>");
    let next = format!("<{root}.acl#next>");
    let mut expected = vec![mine, next];
    expected.sort();
    assert_eq!(links(&triples, &doc_acr, "accessControl"), expected);
    assert_ne!(tag, first_tag, "what is shown changed, so did its tag");
    // What applies is unchanged by the view: the owner through #next, bob through #mine.
    assert_eq!(status_as(Some(owner()), Method::GET, &doc, None).await, 200);
    assert_eq!(status_as(Some(&bob()), Method::GET, &doc, None).await, 200);
    assert_eq!(
        status_as(Some(&bob()), Method::PUT, &doc, Some("<#x> <#y> <#z>.")).await,
        403
    );
    // A patch that names a shown link works, and If-Match takes the tag GET shows.
    let patch = format!(
        "DELETE DATA {{ <{doc_acr}> <http://www.w3.org/ns/solid/acp#accessControl> <{root}.acl#next> }}"
    );
    let res = owner()
        .request(&client(), Method::PATCH, &doc_acr)
        .header("content-type", "application/sparql-update")
        .header("if-match", tag)
        .body(patch)
        .send()
        .await
        .expect("PATCH");
    assert_eq!(res.status(), 204);
    let (triples, _) = shown(doc_acr.clone()).await;
    assert!(
        links(&triples, &doc_acr, "accessControl").contains(&format!("<{root}.acl#next>")),
        "an inherited control cannot be removed from a descendant's ACR: it is the root's"
    );
}
