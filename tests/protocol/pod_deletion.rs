//! Deleting a pod through the provisioning API: 202 and a status resource, a 404 at once for
//! everyone, then every row and blob of the pod gone (counted in the storage database and the
//! blob store of either mode), the name held until the purge is done, and a purge cut short by
//! SIGKILL finished after a restart.

use crate::harness::*;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A server with the provisioning service whose processes hold few database connections:
/// the suite runs these tests beside many others on one PostgreSQL.
fn server(extra: &[&str]) -> Server {
    let via = Via {
        provision: true,
        env: vec![("PODPLANE_DATABASE_MAX_CONNECTIONS".into(), "4".into())],
        ..Via::default()
    };
    Server::start_with(&via, extra)
}

/// Resources the deleted pod holds: documents in nested containers, small binaries and a few
/// large ones (all binaries are blobs).
const RESOURCES: usize = 1_000;
const LARGE_BLOB: usize = 1024 * 1024;

/// What resource `i` of a filled pod is: its path under the root and its bytes.
fn resource(i: usize) -> (String, &'static str, Vec<u8>) {
    match i {
        i if i % 100 == 0 => (
            format!("large/{i}.bin"),
            "application/octet-stream",
            vec![7u8; LARGE_BLOB],
        ),
        i if i % 5 == 0 => (
            format!("bin/{}/{i}.bin", i % 3),
            "application/octet-stream",
            vec![1u8; 2048],
        ),
        i => (
            format!("docs/{}/{}/{i}.ttl", i % 7, i % 2),
            TURTLE,
            format!("<#it> <#n> {i} .").into_bytes(),
        ),
    }
}

/// `send` again while the server answers 503 (busy while the whole suite runs), after the
/// `Retry-After` it gives, as a well-behaved client does.
async fn retrying<F, Fut>(mut send: F) -> reqwest::Response
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    for _ in 0..20 {
        let res = send().await;
        if res.status() != 503 {
            return res;
        }
        let wait = header(&res, "retry-after").parse().unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    send().await
}

/// Stores resource `i` under `root` as a well-behaved client does: a 503 (the server busy,
/// as it is while the whole suite runs) is tried again after its `Retry-After`.
async fn put_resource(owner: &Agent, client: &reqwest::Client, root: &str, i: usize) -> u16 {
    let (path, ct, body) = resource(i);
    let url = format!("{root}{path}");
    let res = retrying(|| {
        let req = owner.request(client, Method::PUT, &url);
        let req = req.header("content-type", ct).body(body.clone());
        async move { req.send().await.expect("PUT") }
    })
    .await;
    res.status().as_u16()
}

/// Fills `root` with the first `n` resources, as `owner`, 8 requests at a time.
async fn fill(owner: &Agent, root: &str, n: usize) {
    let client = client();
    let puts = futures_util::stream::iter(0..n)
        .map(|i| put_resource(owner, &client, root, i))
        .buffer_unordered(8);
    let statuses: Vec<_> = puts.collect().await;
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every resource stored: {:?}",
        statuses.iter().find(|s| **s != 201)
    );
}

/// Rows of pod `name` left in the storage database: resources and the pod itself.
async fn rows_of(server: &Server, name: &str) -> (i64, i64) {
    let resources = server
        .storage_count(&format!(
            "SELECT COUNT(*) FROM resources WHERE path LIKE '/{name}/%'"
        ))
        .await;
    let pods = server
        .storage_count(&format!("SELECT COUNT(*) FROM pods WHERE name = '{name}'"))
        .await;
    (resources, pods)
}

async fn provision(server: &Server, agent: &Agent, slug: &str) -> reqwest::Response {
    let url = format!("{}/.provision/", server.provision_base);
    retrying(|| async {
        let req = agent.request(&client(), Method::POST, &url);
        req.header("slug", slug)
            .send()
            .await
            .expect("POST provision")
    })
    .await
}

/// `agent` deletes the pod at `url` (through the provisioning API).
async fn delete(agent: &Agent, url: &str) -> reqwest::Response {
    retrying(|| send_as(Some(agent), Method::DELETE, url, None)).await
}

fn pod_url(server: &Server, name: &str) -> String {
    format!("{}/.provision/pods/{name}", server.provision_base)
}

async fn json(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status, "{}", res.url());
    assert_eq!(header(&res, "content-type"), "application/json");
    res.json().await.expect("JSON body")
}

/// Follows a deletion's status resource until it says `purged`.
async fn until_purged(agent: &Agent, status_url: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let res = retrying(|| send_as(Some(agent), Method::GET, status_url, None)).await;
        let status = json(res, 200).await;
        if status["state"] == "purged" {
            return status;
        }
        assert_eq!(status["state"], "purging", "{status}");
        assert!(Instant::now() < deadline, "never purged: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the blob store holds `n` blobs (garbage collection may finish what a killed
/// purge left).
async fn until_blobs(server: &Server, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while server.blob_files() != n {
        assert!(
            Instant::now() < deadline,
            "{} blobs left, expected {n}",
            server.blob_files()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_deleted_pod_is_a_404_at_once_and_then_every_row_and_blob_of_it_goes() {
    let admin = idp().agent("del-admin");
    let flag = format!("--admin-webids={}", admin.webid);
    let server = &server(&[&flag]);
    let (owner, other) = (idp().agent("del-owner"), idp().agent("del-other"));
    let name = format!("del-{}", std::process::id());
    let made = provision(server, &owner, &name).await;
    assert_eq!(made.status(), 201);
    let root = header(&made, "location");
    fill(&owner, &root, RESOURCES).await;
    // A neighbour whose name sorts right after, which must keep everything.
    let kept = format!("{name}-kept");
    let kept_root = header(&provision(server, &owner, &kept).await, "location");
    fill(&owner, &kept_root, 6).await;
    let kept_blobs = 2; // resources 0 (large) and 5 (small binary)
    let (rows, pods) = rows_of(server, &name).await;
    assert!(
        rows > RESOURCES as i64,
        "{rows} rows: resources and containers"
    );
    assert_eq!(pods, 1);
    let blobs = RESOURCES / 5;
    assert_eq!(server.blob_files(), blobs + kept_blobs);

    // Only the owner and administrators may delete it; nobody anonymously.
    let target = pod_url(server, &name);
    assert_problem(
        send_as(Some(&other), Method::DELETE, &target, None).await,
        403,
    )
    .await;
    assert_problem(send_as(None, Method::DELETE, &target, None).await, 401).await;
    let missing = pod_url(server, "no-such-pod");
    assert_problem(
        send_as(Some(&admin), Method::DELETE, &missing, None).await,
        404,
    )
    .await;

    let res = delete(&owner, &target).await;
    let status_url = header(&res, "location");
    let status = json(res, 202).await;
    assert_eq!(status["id"], status_url.as_str());
    assert_eq!(status["storage"], root.as_str());
    assert_eq!(status["owner"], owner.webid.as_str());
    assert_eq!(status["requestedBy"], owner.webid.as_str());
    assert_eq!(status["state"], "purging");

    // The name stays taken until the purge is done (checked first: the provisioning service
    // learns the purge is done only when someone looks).
    assert_problem(provision(server, &owner, &name).await, 409).await;
    // A 404 at once, for the owner and everyone else, whatever the method.
    let doc = format!("{root}{}", resource(1).0);
    for agent in [Some(&owner), None] {
        for (method, url) in [
            (Method::GET, &doc),
            (Method::GET, &root),
            (Method::HEAD, &doc),
            (Method::DELETE, &doc),
        ] {
            let res = retrying(|| send_as(agent, method.clone(), url, None)).await;
            assert_eq!(res.status(), 404, "{method} {url}");
        }
        let body = Some((TURTLE, "<#a> <#b> 1 ."));
        let put = retrying(|| send_as(agent, Method::PUT, &doc, body)).await;
        assert_problem(put, 404).await;
    }
    // Asking again (here an administrator) is the same deletion: 202 while it is purged, 200
    // if it just finished.
    let again = delete(&admin, &target).await;
    assert_eq!(header(&again, "location"), status_url);
    assert!(
        matches!(again.status().as_u16(), 200 | 202),
        "{}",
        again.status()
    );
    // The deletion is the owner's and the administrators' to follow.
    assert_problem(
        send_as(Some(&other), Method::GET, &status_url, None).await,
        403,
    )
    .await;
    assert_problem(send_as(None, Method::GET, &status_url, None).await, 401).await;
    let unknown = format!("{}/.provision/deletions/nope", server.provision_base);
    assert_problem(
        send_as(Some(&admin), Method::GET, &unknown, None).await,
        404,
    )
    .await;

    let done = until_purged(&owner, &status_url, Duration::from_secs(60)).await;
    assert!(done["purgedMs"].as_i64() >= done["requestedMs"].as_i64());
    assert_eq!(
        rows_of(server, &name).await,
        (0, 0),
        "every row of the pod gone"
    );
    until_blobs(server, kept_blobs, Duration::from_secs(10)).await;
    let (kept_rows, _) = rows_of(server, &kept).await;
    assert!(kept_rows >= 6, "the neighbour kept its {kept_rows} rows");
    let kept_doc = format!("{kept_root}{}", resource(1).0);
    assert_eq!(
        status_as(Some(&owner), Method::GET, &kept_doc, None).await,
        200
    );

    // The name is free again, for a pod that starts empty.
    let reborn = provision(server, &other, &name).await;
    assert_eq!(reborn.status(), 201);
    assert_eq!(status_as(Some(&other), Method::GET, &doc, None).await, 404);
    assert_eq!(status_as(Some(&other), Method::GET, &root, None).await, 200);
}

/// The replica purging a pod is killed with SIGKILL midway; the purge resumes when it comes
/// back (distributed: the consumer group hands the uncommitted event to the restarted
/// replicas; embedded: the start-up sweep) and nothing of the pod is left.
#[tokio::test]
async fn a_purge_cut_short_by_sigkill_finishes_after_a_restart() {
    let server = &server(&[
        "--purge-batch-rows=3",
        "--gc-interval-secs=1",
        "--provision-settle-secs=1",
    ]);
    let owner = idp().agent("del-kill");
    let name = format!("killed-{}", std::process::id());
    let root = header(&provision(server, &owner, &name).await, "location");
    fill(&owner, &root, 600).await;
    let (before, _) = rows_of(server, &name).await;

    let target = pod_url(server, &name);
    let res = delete(&owner, &target).await;
    let status_url = header(&res, "location");
    assert_eq!(res.status(), 202);
    // Kill as soon as the purge has visibly started.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (left, _) = rows_of(server, &name).await;
        if left < before {
            break;
        }
        assert!(Instant::now() < deadline, "the purge never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9();
    let (left, pods) = rows_of(server, &name).await;
    assert!(
        left > 0 && pods == 1,
        "killed midway: {left} of {before} rows left"
    );

    server.restart();
    assert_eq!(status_as(Some(&owner), Method::GET, &root, None).await, 404);
    until_purged(&owner, &status_url, Duration::from_secs(90)).await;
    assert_eq!(rows_of(server, &name).await, (0, 0));
    until_blobs(server, 0, Duration::from_secs(20)).await;
}

/// `podplane pod delete` takes the same path: the pod is a 404 at once and, with `--wait`,
/// the command returns once the server has purged it.
#[tokio::test]
async fn pod_delete_on_the_command_line_takes_the_same_path() {
    let server = &server(&["--gc-interval-secs=1"]);
    let owner = idp().agent("del-cli");
    let name = format!("cli-del-{}", std::process::id());
    let root = header(&provision(server, &owner, &name).await, "location");
    fill(&owner, &root, 12).await;
    let out = server.pod_command(&["delete", &name, "--wait"]);
    assert!(out.contains("purged"), "{out}");
    assert_eq!(status_as(Some(&owner), Method::GET, &root, None).await, 404);
    assert_eq!(rows_of(server, &name).await, (0, 0));
    until_blobs(server, 0, Duration::from_secs(10)).await;
    assert_eq!(provision(server, &owner, &name).await.status(), 201);
}

/// Storage's internal pod endpoints answer only the shared secret (in embedded mode they do
/// not exist), and bad orders get problems: a body too large, one that is not JSON, a pod
/// that does not exist.
#[tokio::test]
async fn internal_pod_orders_need_the_secret_and_bad_ones_get_problems() {
    let server = &server(&[]);
    let url = format!("{}/.internal/pods/nobody", server.base);
    let anonymous = client().delete(&url).send().await.expect("DELETE");
    assert_problem(anonymous, 404).await;
    let wrong = client().delete(&url).bearer_auth("guess").send().await;
    assert_problem(wrong.expect("DELETE"), 404).await;
    if !server.is_distributed() {
        return;
    }
    let order = |body: Vec<u8>| {
        client()
            .delete(&url)
            .bearer_auth(INTERNAL_SECRET)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let huge = format!("{{\"actor\": \"{}\"}}", "a".repeat(200 * 1024));
    assert_problem(order(huge.into_bytes()).await.expect("DELETE"), 413).await;
    assert_problem(order(b"{".to_vec()).await.expect("DELETE"), 400).await;
    let unknown = order(b"{\"actor\": \"https://x.test/#me\"}".to_vec()).await;
    assert_problem(unknown.expect("DELETE"), 404).await;
}
