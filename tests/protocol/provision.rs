//! Pods over HTTP: ESS's provisioning API (`POST {provision}/`, `GET {provision}/list`), the
//! per-owner limit, discovery, and `podplane pod create` sharing the API's record. In
//! distributed mode the provisioning service is its own process on its own origin, and pods
//! are made by the storage replicas over their internal endpoint.

use crate::harness::*;
use reqwest::Method;

/// A provisioning server of the test's own (default limit: 10 pods per owner). Not one shared
/// by the whole run: in distributed mode it holds database connections, which the suite's
/// other servers need.
fn provisioning() -> Server {
    Server::start_provisioning(&[])
}

fn endpoint(server: &Server) -> String {
    format!("{}/.provision/", server.provision_base)
}

/// `agent` asks for a pod (with a `Slug`, if given).
async fn provision(server: &Server, agent: &Agent, slug: Option<&str>) -> reqwest::Response {
    let mut req = agent.request(&client(), Method::POST, &endpoint(server));
    if let Some(slug) = slug {
        req = req.header("slug", slug);
    }
    req.send().await.expect("POST provision")
}

/// The pod root a successful provisioning answered, checked against its `Location`.
async fn storage_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 201, "provisioning answered {}", res.status());
    assert_eq!(header(&res, "content-type"), "application/json");
    let location = header(&res, "location");
    let body: serde_json::Value = res.json().await.expect("JSON body");
    let storage = body["storage"].as_str().expect("storage").to_owned();
    assert_eq!(location, storage, "Location names the pod root");
    storage
}

async fn list(server: &Server, agent: &Agent) -> Vec<String> {
    let url = format!("{}list", endpoint(server));
    let res = agent.request(&client(), Method::GET, &url).send().await;
    let res = res.expect("GET list");
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/json");
    res.json().await.expect("JSON array")
}

#[tokio::test]
async fn ess_provisioning_gives_the_caller_a_pod_only_they_can_use() {
    let server = &provisioning();
    let alice = idp().agent("prov-alice");
    let storage = storage_of(provision(server, &alice, None).await).await;
    assert!(
        storage.starts_with(&format!("{}/", server.base)) && storage.ends_with('/'),
        "{storage} is a pod root on the storage"
    );

    let note = format!("{storage}notes/first.ttl");
    let put = as_agent(Some(&alice), Method::PUT, &note, Some("<#a> <#b> 1 .")).await;
    assert_eq!(put.status(), 201, "the owner writes into the new pod");
    assert_eq!(status_as(Some(&alice), Method::GET, &note, None).await, 200);
    let mallory = idp().agent("prov-mallory");
    assert_eq!(
        status_as(Some(&mallory), Method::GET, &note, None).await,
        403
    );
    assert_eq!(status_as(None, Method::GET, &storage, None).await, 401);

    // As ESS: an ACP pod whose root's access control resource names the owner.
    let root = as_agent(Some(&alice), Method::GET, &storage, None).await;
    let acr = format!("{storage}.acl");
    assert!(has_link(&root, &acr, "acl"), "{}", header(&root, "link"));
    let acr = text(as_agent(Some(&alice), Method::GET, &acr, None).await).await;
    assert!(acr.contains(&alice.webid), "{acr}");
    assert!(acr.contains("AccessControlResource"), "{acr}");
}

#[tokio::test]
async fn ess_provisioning_lists_only_the_callers_pods() {
    let server = &provisioning();
    let (ann, ben) = (idp().agent("prov-ann"), idp().agent("prov-ben"));
    let first = storage_of(provision(server, &ann, None).await).await;
    let second = storage_of(provision(server, &ann, None).await).await;
    let bens = storage_of(provision(server, &ben, None).await).await;
    assert_ne!(first, second, "each request gets a new pod");
    assert_eq!(list(server, &ann).await, [first, second]);
    assert_eq!(list(server, &ben).await, [bens]);
    assert!(list(server, &idp().agent("prov-nobody")).await.is_empty());
    let anonymous = client()
        .get(format!("{}list", endpoint(server)))
        .send()
        .await
        .expect("GET list");
    assert_problem(anonymous, 401).await;
}

/// 8 requests at once for an owner allowed 3: exactly 3 pods, and 403 problems for the rest;
/// the limit is per owner. Pods made with `--provision-access=wac` use WAC.
#[tokio::test]
async fn the_per_owner_pod_limit_is_a_403_problem_even_under_concurrent_requests() {
    let server = Server::start_provisioning(&["--max-pods-per-owner=3", "--provision-access=wac"]);
    let carol = idp().agent("prov-carol");
    let attempts = (0..8).map(|_| provision(&server, &carol, None));
    let answers = futures_util::future::join_all(attempts).await;
    let mut made = Vec::new();
    for res in answers {
        if res.status() == 201 {
            made.push(storage_of(res).await);
        } else {
            let detail = assert_problem(res, 403).await;
            assert!(detail.contains("3"), "{detail}");
        }
    }
    assert_eq!(made.len(), 3, "{made:?}");
    made.sort();
    let mut listed = list(&server, &carol).await;
    listed.sort();
    assert_eq!(listed, made);
    let dave = idp().agent("prov-dave");
    let daves = storage_of(provision(&server, &dave, None).await).await;

    let acl = as_agent(Some(&dave), Method::GET, &format!("{daves}.acl"), None).await;
    let acl = text(acl).await;
    assert!(
        acl.contains("Authorization") && acl.contains(&dave.webid),
        "{acl}"
    );
}

#[tokio::test]
async fn discovery_names_the_provisioning_endpoint_and_the_pod_limit() {
    let server = Server::start_provisioning(&["--max-pods-per-owner=4"]);
    let url = format!("{}/.well-known/solid", server.base);
    let res = get_accept(&url, TURTLE).await;
    assert_eq!(res.status(), 200);
    let triples = ntriples(&text(res).await, &url).join("\n");
    let provision = format!(
        "<http://www.w3.org/ns/solid/terms#provision> <{}>",
        endpoint(&server)
    );
    assert!(triples.contains(&provision), "{triples}");
    let limit = "<http://www.w3.org/ns/solid/terms#maxPodsPerOwner> \
                 \"4\"^^<http://www.w3.org/2001/XMLSchema#int>";
    assert!(triples.contains(limit), "{triples}");
}

#[tokio::test]
async fn a_slug_names_the_pod_and_a_taken_name_is_a_409_problem() {
    let server = &provisioning();
    let erin = idp().agent("prov-erin");
    let slug = format!("Erin's Pod {}", std::process::id());
    let storage = storage_of(provision(server, &erin, Some(&slug)).await).await;
    let name = format!("erin-s-pod-{}", std::process::id());
    assert_eq!(storage, format!("{}/{name}/", server.base));

    let frank = idp().agent("prov-frank");
    assert_problem(provision(server, &frank, Some(&slug)).await, 409).await;
    assert_problem(provision(server, &erin, Some(&name)).await, 409).await;
    let detail = assert_problem(provision(server, &erin, Some("---")).await, 400).await;
    assert!(detail.contains("Slug"), "{detail}");
    assert_problem(provision(server, &erin, Some("health")).await, 400).await;
    let twice = erin
        .request(&client(), Method::POST, &endpoint(server))
        .header("slug", "one")
        .header("slug", "two")
        .send()
        .await
        .expect("POST");
    assert_problem(twice, 400).await;
    assert_eq!(list(server, &erin).await, [storage]);
}

#[tokio::test]
async fn provisioning_refuses_anonymous_forged_and_misdirected_requests_with_problems() {
    let server = &provisioning();
    let anonymous = client().post(endpoint(server)).send().await.expect("POST");
    assert_eq!(
        header(&anonymous, "www-authenticate").split(' ').next(),
        Some("DPoP")
    );
    assert_problem(anonymous, 401).await;
    let forged = client()
        .post(endpoint(server))
        .header("authorization", "DPoP not-a-token")
        .header("dpop", "not-a-proof")
        .send()
        .await
        .expect("POST");
    assert_problem(forged, 401).await;
    let gina = idp().agent("prov-gina");
    // A proof made for another URL does not provision.
    let misdirected = client()
        .post(endpoint(server))
        .header("authorization", format!("DPoP {}", gina.token))
        .header(
            "dpop",
            gina.proof("POST", &format!("{}list", endpoint(server))),
        )
        .send()
        .await
        .expect("POST");
    assert_problem(misdirected, 401).await;
    assert!(list(server, &gina).await.is_empty(), "nothing was made");

    let wrong = gina.request(&client(), Method::GET, &endpoint(server));
    assert_problem(wrong.send().await.expect("GET"), 405).await;
    let wrong = gina.request(
        &client(),
        Method::DELETE,
        &format!("{}list", endpoint(server)),
    );
    assert_problem(wrong.send().await.expect("DELETE"), 405).await;
}

/// `podplane pod create` goes through the provisioning service's record: the pod is listed
/// for its owner, and its name cannot be provisioned again.
#[tokio::test]
async fn pod_create_and_the_provisioning_api_share_one_record() {
    let server = &provisioning();
    let hugo = idp().agent("prov-hugo");
    let made = server.private_pod(&hugo.webid, "acp");
    assert_eq!(list(server, &hugo).await, std::slice::from_ref(&made));
    let name = made
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("pod name")
        .to_owned();
    assert_problem(provision(server, &hugo, Some(&name)).await, 409).await;
    let other = idp().agent("prov-ines");
    assert_problem(provision(server, &other, Some(&name)).await, 409).await;
}

/// Storage down while a pod is provisioned: the client gets a 503 problem, and the reservation
/// is not lost or left counting against the owner for nothing: once storage is back, the
/// provisioning service orders the pod again and it appears in the owner's list.
#[tokio::test]
async fn a_pod_ordered_while_storage_was_down_is_made_once_storage_returns() {
    let via = Via {
        provision: true,
        ..Via::default()
    };
    let Some(server) = Server::start_distributed(&via, &["--provision-settle-secs=1"]) else {
        return;
    };
    let judy = idp().agent("prov-judy");
    server.kill9_storage();
    let slug = format!("judy-{}", std::process::id());
    let refused = provision(&server, &judy, Some(&slug)).await;
    assert_eq!(header(&refused, "retry-after"), "1");
    assert_problem(refused, 503).await;
    assert!(
        list(&server, &judy).await.is_empty(),
        "not listed before storage made it"
    );

    server.restart_storage();
    let storage = format!("{}/{slug}/", server.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while list(&server, &judy).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the reservation was never settled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(list(&server, &judy).await, std::slice::from_ref(&storage));
    let note = format!("{storage}after-outage.ttl");
    let put = as_agent(Some(&judy), Method::PUT, &note, Some("<#a> <#b> 2 .")).await;
    assert_eq!(put.status(), 201, "the settled pod is the owner's");
}
