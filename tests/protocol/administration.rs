//! Administration over HTTP, through the provisioning service: a pod's usage and quota for
//! its owner (`GET /.provision/pods/{name}`), and for administrators named by WebID
//! (`--admin-webids`, authenticated like everyone else) every pod's figures
//! (`GET /.provision/pods`) and quotas (`PUT /.provision/pods/{name}/quota`).

use crate::harness::*;
use reqwest::Method;
use serde_json::Value;

fn pods_url(server: &Server) -> String {
    format!("{}/.provision/pods", server.provision_base)
}

async fn call(
    agent: Option<&Agent>,
    method: Method,
    url: &str,
    json: Option<&str>,
) -> reqwest::Response {
    send_as(agent, method, url, json.map(|j| ("application/json", j))).await
}

async fn figures(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200, "{}", res.url());
    assert_eq!(header(&res, "content-type"), "application/json");
    res.json().await.expect("JSON")
}

#[tokio::test]
async fn owners_see_their_pods_usage_and_administrators_set_quotas() {
    let admin = idp().agent("adm-root");
    let flag = format!("--admin-webids={}", admin.webid);
    let server = Server::start_provisioning(&[&flag, "--pod-quota-bytes=100000"]);
    let (kim, lou) = (idp().agent("adm-kim"), idp().agent("adm-lou"));
    let made = kim
        .request(
            &client(),
            Method::POST,
            &format!("{}/.provision/", server.provision_base),
        )
        .header("slug", format!("kim-{}", std::process::id()))
        .send()
        .await
        .expect("POST");
    assert_eq!(made.status(), 201);
    let storage = header(&made, "location");
    let name = format!("kim-{}", std::process::id());
    let mine = format!("{}/{name}", pods_url(&server));

    // The owner sees the pod's figures: its initial ACR counts, the default quota applies.
    let seen = figures(call(Some(&kim), Method::GET, &mine, None).await).await;
    assert_eq!(seen["storage"], storage.as_str());
    assert_eq!(seen["owner"], kim.webid.as_str());
    let base = seen["usedBytes"].as_u64().expect("usedBytes");
    assert!(
        base > 0,
        "the initial access control document counts: {seen}"
    );
    assert_eq!(seen["quotaBytes"], 100000);
    assert_eq!(seen["ownQuota"], false);
    let file = format!("{storage}data.bin");
    let put = kim
        .request(&client(), Method::PUT, &file)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 3_000])
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status(), 201);
    let seen = figures(call(Some(&kim), Method::GET, &mine, None).await).await;
    assert_eq!(seen["usedBytes"], base + 3_000);

    // Others may not look; nobody may without credentials; an unknown pod is a 404.
    assert_problem(call(Some(&lou), Method::GET, &mine, None).await, 403).await;
    assert_problem(call(None, Method::GET, &mine, None).await, 401).await;
    let unknown = format!("{}/no-such-pod", pods_url(&server));
    assert_problem(call(Some(&admin), Method::GET, &unknown, None).await, 404).await;

    // The administrator sees every pod (also those `pod create` made) and sets quotas.
    let cli_pod = server.private_pod(&lou.webid, "wac");
    let all = figures(call(Some(&admin), Method::GET, &pods_url(&server), None).await).await;
    let listed: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["storage"].as_str())
        .collect();
    assert!(
        listed.contains(&storage.as_str()) && listed.contains(&cli_pod.as_str()),
        "{all}"
    );
    assert_problem(
        call(Some(&kim), Method::GET, &pods_url(&server), None).await,
        403,
    )
    .await;

    let quota = format!("{mine}/quota");
    let small = format!("{{\"bytes\": {}}}", base + 4_000);
    let res = call(Some(&admin), Method::PUT, &quota, Some(&small)).await;
    assert_eq!(res.status(), 204);
    let seen = figures(call(Some(&kim), Method::GET, &mine, None).await).await;
    assert_eq!(
        (seen["quotaBytes"].as_u64(), &seen["ownQuota"]),
        (Some(base + 4_000), &Value::Bool(true))
    );
    let over = kim
        .request(&client(), Method::PUT, &format!("{storage}more.bin"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 2_000])
        .send()
        .await
        .expect("PUT");
    assert_problem(over, 507).await;

    // Only administrators set quotas; bad bodies and unknown pods are problems.
    assert_problem(
        call(Some(&kim), Method::PUT, &quota, Some("{\"bytes\": null}")).await,
        403,
    )
    .await;
    for bad in [
        "",
        "{\"bytes\": -1}",
        "{\"bytes\": \"many\"}",
        "{\"limit\": 5}",
        "[]",
    ] {
        assert_problem(
            call(Some(&admin), Method::PUT, &quota, Some(bad)).await,
            400,
        )
        .await;
    }
    let huge = format!("{{\"bytes\": 1{}}}", " ".repeat(64 * 1024));
    assert_problem(
        call(Some(&admin), Method::PUT, &quota, Some(&huge)).await,
        413,
    )
    .await;
    let unknown_quota = format!("{unknown}/quota");
    assert_problem(
        call(
            Some(&admin),
            Method::PUT,
            &unknown_quota,
            Some("{\"bytes\": 1}"),
        )
        .await,
        404,
    )
    .await;
    let res = call(Some(&admin), Method::PUT, &quota, Some("{\"bytes\": null}")).await;
    assert_eq!(res.status(), 204);
    let seen = figures(call(Some(&kim), Method::GET, &mine, None).await).await;
    assert_eq!(
        (&seen["quotaBytes"], &seen["ownQuota"]),
        (&Value::from(100000), &Value::Bool(false))
    );
}
