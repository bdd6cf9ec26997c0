//! The Solid Notifications Protocol (SPEC-CHECKLIST §2.6) and ESS's notification gateway:
//! discovery, subscriptions and their refusals, WebSocketChannel2023, StreamingHTTPChannel2023,
//! WebhookChannel2023 (signed, RFC 9421), the startAt/endAt/state/rate features, read access
//! checked on every delivery, and — in distributed mode — delivery across replicas.

use crate::harness::*;
use crate::idp::Agent;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const TTL: &str = "<#a> <#b> <#c>.";

/// One notifying server for this module: webhooks may go to loopback (the test's receiver),
/// deleted channels are swept every second.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::start_notifying(&["--webhook-allow-loopback", "--channel-sweep-secs=1"])
    })
}

fn service(kind: &str) -> String {
    format!("{}/.notifications/{kind}/", server().notify_base)
}

async fn subscribe(agent: Option<&Agent>, kind: &str, body: &Value) -> reqwest::Response {
    let url = service(kind);
    let req = match agent {
        Some(a) => a.request(&client(), Method::POST, &url),
        None => client().post(&url),
    };
    req.header("content-type", "application/ld+json")
        .body(body.to_string())
        .send()
        .await
        .expect("subscribe")
}

/// Subscribes `agent` to `topic` over a WebSocket and connects: the channel and its socket.
async fn websocket(agent: &Agent, topic: &str, features: Value) -> (Value, Socket) {
    let mut body = json!({
        "@context": ["https://www.w3.org/ns/solid/notification/v1"],
        "type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023",
        "topic": topic,
    });
    if let (Some(b), Some(f)) = (body.as_object_mut(), features.as_object()) {
        b.extend(f.clone());
    }
    let res = subscribe(Some(agent), "WebSocketChannel2023", &body).await;
    assert_eq!(res.status(), 200, "{}", text(res).await);
    assert!(header(&res, "content-type").starts_with("application/ld+json"));
    let channel: Value = res.json().await.expect("channel JSON");
    let url = channel["receiveFrom"].as_str().expect("receiveFrom");
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    (channel, socket)
}

/// The next JSON message within `wait`, or `None`.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => return None,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Reads messages until one of `kind` arrives (others are kept in `seen` for the failure).
async fn expect(socket: &mut Socket, kind: &str, object: &str) -> Value {
    let mut seen = Vec::new();
    while let Some(m) = next(socket, Duration::from_secs(10)).await {
        if m["type"] == kind && m["object"] == object {
            return m;
        }
        seen.push(m);
    }
    panic!("no {kind} of {object} within 10 s; got {seen:?}");
}

async fn pod(access: &str) -> String {
    server().private_pod(&owner().webid, access)
}

async fn put_as_owner(url: &str) -> reqwest::Response {
    as_agent(Some(owner()), Method::PUT, url, Some(TTL)).await
}

#[tokio::test]
async fn server_notifications_discovery_lists_subscription_services_and_gateway() {
    let root = pod("acp").await;
    let res = as_agent(
        Some(owner()),
        Method::GET,
        &format!("{root}.well-known/solid"),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = text(res).await;
    assert!(
        body.contains("WebSocketChannel2023") && body.contains("WebhookChannel2023"),
        "{body}"
    );
    assert!(
        body.contains("http://www.w3.org/ns/solid/notifications#subscription")
            || body.contains("subscription"),
        "{body}"
    );
    let well_known = get(&format!("{}/.well-known/solid", server().base)).await;
    let body = text(well_known).await;
    let gateway = format!("{}/.notifications/gateway", server().notify_base);
    assert!(body.contains(&gateway), "{body}");
    let doc = format!("{root}doc.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    let head = as_agent(Some(owner()), Method::HEAD, &doc, None).await;
    assert!(
        has_link(
            &head,
            &format!(
                "{}/.notifications/StreamingHTTPChannel2023{}",
                server().notify_base,
                doc.trim_start_matches(&server().base)
            ),
            "http://www.w3.org/ns/solid/terms#updatesViaStreamingHttp2023"
        ),
        "{}",
        header(&head, "link")
    );
    let described = client()
        .get(service("WebSocketChannel2023"))
        .send()
        .await
        .unwrap();
    let described: Value = described.json().await.unwrap();
    assert_eq!(described["channelType"], "WebSocketChannel2023");
}

#[tokio::test]
async fn server_websocket_channel_sends_create_update_delete_add_remove() {
    let root = pod("acp").await;
    let container = format!("{root}c/");
    let doc = format!("{container}doc.ttl");
    assert_eq!(
        put_as_owner(&format!("{container}first.ttl"))
            .await
            .status(),
        201
    );
    let (channel, mut on_container) = websocket(owner(), &container, json!({})).await;
    assert!(channel["id"]
        .as_str()
        .unwrap()
        .contains("/.notifications/channels/"));
    assert!(channel["endAt"].is_string());
    let (_, mut on_doc) = websocket(owner(), &doc, json!({})).await;

    let created = put_as_owner(&doc).await;
    assert_eq!(created.status(), 201);
    let add = expect(&mut on_container, "Add", &doc).await;
    assert_eq!(add["target"], container.as_str());
    assert!(add["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert!(add["published"].is_string());
    assert_eq!(add["@context"][0], "https://www.w3.org/ns/activitystreams");
    let create = expect(&mut on_doc, "Create", &doc).await;
    assert!(create["state"].is_string());

    assert_eq!(put_as_owner(&doc).await.status(), 204);
    let update = expect(&mut on_doc, "Update", &doc).await;
    assert_ne!(update["state"], create["state"], "state is the new ETag");
    assert_eq!(update["actor"][0], owner().webid.as_str());

    assert_eq!(
        as_agent(Some(owner()), Method::DELETE, &doc, None)
            .await
            .status(),
        204
    );
    expect(&mut on_doc, "Delete", &doc).await;
    let remove = expect(&mut on_container, "Remove", &doc).await;
    assert_eq!(remove["target"], container.as_str());
}

#[tokio::test]
async fn server_subscription_refusals() {
    let root = pod("acp").await;
    let topic = format!("{root}x.ttl");
    let body = json!({"type": "WebSocketChannel2023", "topic": topic});
    // No credentials.
    assert_problem(subscribe(None, "WebSocketChannel2023", &body).await, 401).await;
    // Wrong media type.
    let res = owner()
        .request(&client(), Method::POST, &service("WebSocketChannel2023"))
        .header("content-type", "text/turtle")
        .body(TTL)
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    // Unknown channel type; not JSON; no topic; a topic of another server.
    for bad in [
        json!({"type": "CarrierPigeonChannel", "topic": topic}),
        json!({"type": "WebSocketChannel2023"}),
        json!({"type": "WebSocketChannel2023", "topic": "https://elsewhere.example/x"}),
        json!({"type": "WebSocketChannel2023", "topic": topic, "rate": "soon"}),
    ] {
        assert_problem(
            subscribe(Some(owner()), "WebSocketChannel2023", &bad).await,
            422,
        )
        .await;
    }
    // Someone without Read on the topic.
    let stranger = idp().agent("notify-stranger");
    assert_problem(
        subscribe(Some(&stranger), "WebSocketChannel2023", &body).await,
        403,
    )
    .await;
    // A webhook to a private address that is not allow-listed (loopback is, in this suite).
    let hook =
        json!({"type": "WebhookChannel2023", "topic": topic, "sendTo": "http://10.11.12.13/hook"});
    assert_problem(
        subscribe(Some(owner()), "WebhookChannel2023", &hook).await,
        422,
    )
    .await;
    let hook = json!({"type": "WebhookChannel2023", "topic": topic, "sendTo": "http://169.254.169.254/latest"});
    assert_problem(
        subscribe(Some(owner()), "WebhookChannel2023", &hook).await,
        422,
    )
    .await;
}

#[tokio::test]
async fn server_revoked_read_stops_delivery() {
    let root = pod("wac").await;
    let doc = format!("{root}shared.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    let reader = idp().agent("notify-reader");
    let acl = |extra: &str| {
        format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>.
             <#owner> a acl:Authorization; acl:agent <{}>; acl:accessTo <{doc}>;
                 acl:mode acl:Read, acl:Write, acl:Control.
             {extra}",
            owner().webid
        )
    };
    let grant = acl(&format!(
        "<#reader> a acl:Authorization; acl:agent <{}>; acl:accessTo <{doc}>; acl:mode acl:Read.",
        reader.webid
    ));
    let acl_url = format!("{doc}.acl");
    let s = status_as(Some(owner()), Method::PUT, &acl_url, Some(&grant)).await;
    assert!(s == 201 || s == 204, "{s}");
    let (_, mut socket) = websocket(&reader, &doc, json!({})).await;
    assert_eq!(put_as_owner(&doc).await.status(), 204);
    expect(&mut socket, "Update", &doc).await;

    let s = status_as(Some(owner()), Method::PUT, &acl_url, Some(&acl(""))).await;
    assert_eq!(s, 204);
    assert_eq!(put_as_owner(&doc).await.status(), 204);
    let after = next(&mut socket, Duration::from_secs(2)).await;
    assert!(
        after.is_none(),
        "a reader whose Read was revoked still hears: {after:?}"
    );
}

#[tokio::test]
async fn server_channel_end_and_unsubscribe() {
    let root = pod("acp").await;
    let doc = format!("{root}e.ttl");
    // An endAt one second away: afterwards its receiveFrom URL no longer opens.
    let end = rfc3339_in(Duration::from_millis(1500));
    let body = json!({"type": "WebSocketChannel2023", "topic": doc, "endAt": end});
    let res = subscribe(Some(owner()), "WebSocketChannel2023", &body).await;
    assert_eq!(res.status(), 200);
    let channel: Value = res.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let url = channel["receiveFrom"].as_str().unwrap();
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert!(
                matches!(res.status().as_u16(), 404 | 410),
                "{}",
                res.status()
            )
        }
        other => panic!(
            "an ended channel's receiveFrom opened: {:?}",
            other.map(|_| ())
        ),
    }
    // A guessed receiveFrom URL opens nothing.
    let guessed = url.rsplit_once('/').unwrap().0.to_owned() + "/0000";
    assert!(tokio_tungstenite::connect_async(guessed).await.is_err());

    // DELETE of the channel ends it: only its owner may, and the socket closes.
    let (channel, mut socket) = websocket(owner(), &doc, json!({})).await;
    let id = channel["id"].as_str().unwrap();
    let stranger = idp().agent("notify-stranger");
    assert_eq!(
        status_as(Some(&stranger), Method::DELETE, id, None).await,
        403
    );
    assert_eq!(status_as(None, Method::DELETE, id, None).await, 401);
    assert_eq!(
        status_as(Some(owner()), Method::DELETE, id, None).await,
        204
    );
    assert_eq!(status_as(Some(owner()), Method::GET, id, None).await, 404);
    let mut closed = false;
    for _ in 0..50 {
        match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "the socket of a deleted channel stays open");
}

/// A deleted pod's channels end: their sockets close and the channels are gone, as the
/// notifications service reacts to the storage's `pod-deleted` event.
#[tokio::test]
async fn server_channels_of_a_deleted_pod_end() {
    let root = pod("acp").await;
    let doc = format!("{root}gone.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    let (channel, mut socket) = websocket(owner(), &doc, json!({})).await;
    let name = root.trim_end_matches('/').rsplit('/').next().unwrap();
    server().pod_command(&["delete", name]);
    let mut closed = false;
    for _ in 0..100 {
        match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "the socket of a deleted pod's channel stays open");
    // The sweep that closed it removes it next (maybe on another replica).
    let id = channel["id"].as_str().unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = status_as(Some(owner()), Method::GET, id, None).await;
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 404, "the ended channel is removed");
}

/// An `xsd:dateTime` `from_now` ahead.
fn rfc3339_in(from_now: Duration) -> String {
    (time::OffsetDateTime::now_utc() + from_now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn server_features_state_start_at_and_rate() {
    let root = pod("acp").await;
    let doc = format!("{root}f.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    // state: a subscriber with an old state hears the current one at once.
    let (_, mut stale) = websocket(owner(), &doc, json!({"state": "\"long-gone\""})).await;
    let now = expect(&mut stale, "Update", &doc).await;
    assert!(now["state"].is_string());
    // startAt in the future: nothing yet.
    let later = rfc3339_in(Duration::from_secs(3600));
    let (_, mut waiting) = websocket(owner(), &doc, json!({"startAt": later})).await;
    // rate: at most one message per minute.
    let (_, mut slow) = websocket(owner(), &doc, json!({"rate": "PT60S"})).await;
    for _ in 0..3 {
        assert_eq!(put_as_owner(&doc).await.status(), 204);
    }
    // The first message goes out (in distributed mode it may be the Create, whose event
    // can arrive after the subscription); the rest of the minute stays quiet.
    assert!(next(&mut slow, Duration::from_secs(10)).await.is_some());
    assert!(
        next(&mut slow, Duration::from_millis(1500)).await.is_none(),
        "rate exceeded"
    );
    assert!(
        next(&mut waiting, Duration::from_millis(500))
            .await
            .is_none(),
        "startAt ignored"
    );
}

#[tokio::test]
async fn server_streaming_http_channel_streams_changes_to_readers() {
    let root = pod("acp").await;
    let doc = format!("{root}s.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    let head = as_agent(Some(owner()), Method::HEAD, &doc, None).await;
    let link = header(&head, "link");
    let stream_url = link
        .split(',')
        .find(|l| l.contains("updatesViaStreamingHttp2023"))
        .and_then(|l| l.split(['<', '>']).nth(1))
        .expect("streaming link")
        .to_owned();
    assert_eq!(status_as(None, Method::GET, &stream_url, None).await, 401);
    let stranger = idp().agent("notify-stranger");
    assert_eq!(
        status_as(Some(&stranger), Method::GET, &stream_url, None).await,
        403
    );
    let res = owner()
        .request(&client(), Method::GET, &stream_url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("application/ld+json"));
    let mut body = res.bytes_stream();
    // The stream is registered once the head arrived; give a distributed replica a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(put_as_owner(&doc).await.status(), 204);
    // One JSON-LD message per line; in distributed mode the Create of the setup may come
    // first.
    let mut buffer = Vec::new();
    let update = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = body.next().await.expect("stream open").expect("chunk");
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let message: Value = serde_json::from_slice(&line).expect("a JSON line");
                if message["type"] == "Update" {
                    return message;
                }
            }
        }
    })
    .await
    .expect("an Update on the stream");
    assert_eq!(update["object"], doc.as_str());
}

/// One POST a webhook receiver got: its headers and body.
pub type Received = (HashMap<String, String>, Vec<u8>);

/// A webhook receiver on loopback: every POST it gets, answered 200.
pub async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(HashMap<String, String>, Vec<u8>)>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                    }
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let _ = tx.send((headers, body));
                    let _ = reader
                        .get_mut()
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await;
                }
            });
        }
    });
    (url, rx)
}

/// Checks an RFC 9421 signature against the service's JWKS.
async fn verify_signature(url: &str, headers: &HashMap<String, String>, body: &[u8]) {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use sha2::Digest;
    let jwks: Value = client()
        .get(format!("{}/.notifications/jwks", server().notify_base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(key["y"].as_str().unwrap()).unwrap());
    let digest = format!("sha-256=:{}:", STANDARD.encode(sha2::Sha256::digest(body)));
    assert_eq!(headers["content-digest"], digest);
    let params = headers["signature-input"]
        .strip_prefix("podplane=")
        .unwrap();
    assert!(params.contains(&format!("keyid=\"{}\"", key["kid"].as_str().unwrap())));
    let base = format!(
        "\"@method\": POST\n\"@target-uri\": {url}\n\"content-type\": {}\n\"content-digest\": {digest}\n\"@signature-params\": {params}",
        headers["content-type"]
    );
    let sig = headers["signature"]
        .strip_prefix("podplane=:")
        .unwrap()
        .trim_end_matches(':');
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(base.as_bytes(), &STANDARD.decode(sig).unwrap())
        .expect("the webhook signature verifies against the JWKS");
}

#[tokio::test]
async fn server_webhook_channel_posts_signed_notifications() {
    let root = pod("acp").await;
    let doc = format!("{root}w.ttl");
    let (url, mut received) = receiver().await;
    let body = json!({"type": "WebhookChannel2023", "topic": doc, "sendTo": url});
    let res = subscribe(Some(owner()), "WebhookChannel2023", &body).await;
    assert_eq!(res.status(), 200, "{}", text(res).await);
    let channel: Value = res.json().await.unwrap();
    assert_eq!(channel["sendTo"], url.as_str());
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    let (headers, payload) = tokio::time::timeout(Duration::from_secs(15), received.recv())
        .await
        .expect("a webhook POST within 15 s")
        .unwrap();
    let message: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(message["type"], "Create");
    assert_eq!(message["object"], doc.as_str());
    assert!(headers["content-type"].starts_with("application/ld+json"));
    verify_signature(&url, &headers, &payload).await;
    // Once per event: nothing more arrives for it.
    assert!(
        tokio::time::timeout(Duration::from_secs(1), received.recv())
            .await
            .is_err()
    );
}

/// Writes made together reach the webhook of their own container and no other (events that
/// arrive together are looked up and routed together).
#[tokio::test]
async fn server_webhooks_of_concurrent_writes_reach_only_their_channels() {
    let root = pod("acp").await;
    let mut watched = Vec::new();
    for name in ["left", "right"] {
        let container = format!("{root}{name}/");
        assert_eq!(
            put_as_owner(&format!("{container}seed")).await.status(),
            201
        );
        let (url, received) = receiver().await;
        let body = json!({"type": "WebhookChannel2023", "topic": container, "sendTo": url});
        let res = subscribe(Some(owner()), "WebhookChannel2023", &body).await;
        assert_eq!(res.status(), 200, "{}", text(res).await);
        watched.push((container, received));
    }
    let members: Vec<String> = (0..40)
        .map(|i| format!("{}{i}", watched[i % 2].0))
        .collect();
    let writes = futures_util::future::join_all(members.iter().map(|m| put_as_owner(m))).await;
    assert!(writes.iter().all(|r| r.status() == 201));
    for (container, received) in &mut watched {
        let expected: std::collections::BTreeSet<&str> = members
            .iter()
            .map(String::as_str)
            .filter(|m| m.starts_with(container.as_str()))
            .collect();
        let mut adds = std::collections::BTreeSet::new();
        while adds != expected {
            let (_, payload) = tokio::time::timeout(Duration::from_secs(15), received.recv())
                .await
                .unwrap_or_else(|_| panic!("{container}: {} of 20 Adds in 15 s", adds.len()))
                .unwrap();
            let message: Value = serde_json::from_slice(&payload).unwrap();
            // Nothing of the other container's writes (the container's own Create may come).
            assert!(
                message["target"] == container.as_str() || message["object"] == container.as_str(),
                "{container} got {message}"
            );
            if let Some(m) = expected.get(message["object"].as_str().unwrap_or_default()) {
                adds.insert(*m);
            }
        }
    }
}

#[tokio::test]
async fn server_ess_gateway_hands_out_a_websocket() {
    let root = pod("acp").await;
    let container = format!("{root}g/");
    assert_eq!(
        put_as_owner(&format!("{container}a.ttl")).await.status(),
        201
    );
    let gateway = format!("{}/.notifications/gateway", server().notify_base);
    let res = client()
        .post(&gateway)
        .header("content-type", "application/json")
        .body(r#"{"protocols":["ws"],"features":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let negotiated: Value = res.json().await.unwrap();
    assert_eq!(negotiated["protocol"], "ws");
    let endpoint = negotiated["endpoint"].as_str().unwrap();
    let unauthenticated = client()
        .post(endpoint)
        .header("content-type", "application/json")
        .body(json!({"topic": container}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(unauthenticated, 401).await;
    let res = owner()
        .request(&client(), Method::POST, endpoint)
        .header("content-type", "application/json")
        .body(json!({"topic": container}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["subprotocol"], "solid-0.2");
    let mut request = info["endpoint"]
        .as_str()
        .unwrap()
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "solid-0.2".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "solid-0.2"
    );
    let doc = format!("{container}b.ttl");
    assert_eq!(put_as_owner(&doc).await.status(), 201);
    expect(&mut socket, "Add", &doc).await;
    let _ = socket.close(None).await;
}

#[tokio::test]
async fn server_a_write_on_one_storage_replica_reaches_a_socket_on_another_notifications_replica() {
    let server = server();
    if !server.is_distributed() {
        eprintln!("SKIPPED: needs distributed mode");
        return;
    }
    let root = pod("acp").await;
    let doc = format!("{root}r.ttl");
    for (storage, notifications) in [(0, 1), (1, 0)] {
        let (channel, _) = websocket(owner(), &doc, json!({})).await;
        // Connect to one notifications replica directly, write through one storage replica.
        let url = channel["receiveFrom"].as_str().unwrap().replace(
            &server.notify_base.replace("http://", "ws://"),
            &format!("ws://{}", server.notify_replicas[notifications]),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        // The proof names the public URL the replica serves under.
        let direct = doc.replace(
            &server.base,
            &format!("http://{}", server.replicas[storage]),
        );
        let s = client()
            .put(&direct)
            .header("authorization", format!("DPoP {}", owner().token))
            .header("dpop", owner().proof("PUT", &doc))
            .header("content-type", TURTLE)
            .body(TTL)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(s == 201 || s == 204, "{s}");
        let kind = if s == 201 { "Create" } else { "Update" };
        expect(&mut socket, kind, &doc).await;
    }
}

#[tokio::test]
async fn server_bad_notification_requests_get_problems() {
    let root = pod("acp").await;
    let topic = format!("{root}bad.ttl");
    let ws = "WebSocketChannel2023";
    let raw = |body: Vec<u8>, content_type: &'static str| {
        owner()
            .request(&client(), Method::POST, &service(ws))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Not JSON, JSON of the wrong shape, a huge body.
    assert_problem(
        raw(b"{not json".to_vec(), "application/ld+json")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_problem(
        raw(b"[1,2]".to_vec(), "application/ld+json").await.unwrap(),
        422,
    )
    .await;
    let huge = format!(
        r#"{{"type":"{ws}","topic":"{topic}","pad":"{}"}}"#,
        "x".repeat(200_000)
    );
    assert_problem(
        raw(huge.into_bytes(), "application/ld+json").await.unwrap(),
        413,
    )
    .await;
    // A token that does not verify.
    let res = client()
        .post(service(ws))
        .header("content-type", "application/ld+json")
        .header("authorization", "DPoP not-a-token")
        .header("dpop", "nor-a-proof")
        .body(json!({"type": ws, "topic": topic}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
    // Two sets of credentials.
    let res = owner()
        .request(&client(), Method::POST, &service(ws))
        .header("authorization", "DPoP another-token")
        .header("content-type", "application/ld+json")
        .body(json!({"type": ws, "topic": topic}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(res, 400).await;
    // Wrong methods.
    let res = client().put(service(ws)).body("x").send().await.unwrap();
    assert_problem(res, 405).await;
    // The gateway: not JSON; no ws protocol.
    let gateway = format!("{}/.notifications/gateway", server().notify_base);
    let res = client().post(&gateway).body("{").send().await.unwrap();
    assert_problem(res, 400).await;
    let res = client()
        .post(&gateway)
        .body(r#"{"protocols":["sse"]}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 422).await;
    // A receiveFrom URL fetched as plain HTTP.
    let (channel, _socket) = websocket(owner(), &topic, json!({})).await;
    let plain = channel["receiveFrom"]
        .as_str()
        .unwrap()
        .replacen("ws://", "http://", 1);
    assert_problem(client().get(plain).send().await.unwrap(), 426).await;
    // Someone else's channel, and one that does not exist.
    let stranger = idp().agent("notify-stranger");
    let id = channel["id"].as_str().unwrap();
    assert_problem(as_agent(Some(&stranger), Method::GET, id, None).await, 403).await;
    let missing = format!("{}/.notifications/channels/nope", server().notify_base);
    assert_problem(
        as_agent(Some(owner()), Method::GET, &missing, None).await,
        404,
    )
    .await;
}
