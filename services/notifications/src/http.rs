//! HTTP surface of the notifications service, all under `/.notifications/`:
//! the subscription services (one per channel type), channels (read, delete, failure list),
//! WebSocket receiveFrom URLs, Streaming HTTP topics, the ESS gateway and the JWKS.
//! A request reads top to bottom: who (DPoP) → what (a validated subscription) → one access
//! decision by the storage service → one store call → response.

use crate::error::{NotifyError, NotifyResult};
use crate::hub::{message_of, Hub};
use crate::store::Channel;
use crate::{now_ms, State};
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, State as AxumState};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use podplane_auth::AuthError;
use podplane_events::{ResourceEvent, ResourceEventKind};
use podplane_solid::access::Requester;
use podplane_solid::notify::{self, ChannelDescription, ChannelType, Subscription};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Largest subscription request body.
const MAX_BODY: usize = 64 * 1024;
/// The WebSocket subprotocol of the ESS gateway (what `@inrupt/solid-client-notifications`
/// asks for and requires echoed).
const GATEWAY_SUBPROTOCOL: &str = "solid-0.2";

pub fn router(state: State) -> Router {
    let routes = Router::new()
        .route(
            "/.notifications/WebSocketChannel2023/",
            get(describe_websocket).post(subscribe_websocket),
        )
        .route(
            "/.notifications/WebhookChannel2023/",
            get(describe_webhook).post(subscribe_webhook),
        )
        .route(
            "/.notifications/channels/{id}",
            get(read_channel).delete(delete_channel),
        )
        .route("/.notifications/channels/{id}/failures", get(failures))
        .route("/.notifications/ws/{token}", get(open_socket))
        .route(
            "/.notifications/StreamingHTTPChannel2023/{*path}",
            get(stream),
        )
        .route("/.notifications/gateway", post(gateway))
        .route("/.notifications/gateway/subscribe", post(gateway_subscribe))
        .route("/.notifications/jwks", get(jwks));
    podplane_telemetry::edge(routes).with_state(state)
}

/// The service on its own (`podplane notifications`): its routes plus health, metrics and
/// request ids, and a problem for every other path.
pub fn standalone_router(state: State) -> Router {
    let ready = state.clone();
    podplane_telemetry::standalone(router(state), move || {
        let state = ready.clone();
        async move {
            let live = state.live_ready.load(std::sync::atomic::Ordering::Acquire);
            match state.channels.ping().await {
                Ok(()) if live => (StatusCode::OK, "ready").into_response(),
                Ok(()) => podplane_telemetry::problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not reading resource events yet",
                ),
                Err(e) => e.into_response(),
            }
        }
    })
}

fn ld_json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut res = (status, value.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(notify::MESSAGE_MEDIA_TYPE),
    );
    res
}

fn json(value: &serde_json::Value) -> Response {
    let mut res = (StatusCode::OK, value.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Who sent the request; `None` without credentials. Bad credentials are a 401.
async fn identify(
    state: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> NotifyResult<Option<Requester>> {
    let url = format!("{}{}", state.config.base_url, uri.path());
    let found = state
        .verifier
        .authenticate_headers(headers, method.as_str(), &url)
        .await;
    match found {
        Ok(None) => Ok(None),
        Ok(Some(a)) => Ok(Some(Requester {
            webid: Some(a.webid),
            client_id: a.client_id,
            issuer: Some(a.issuer),
            origin: None,
        })),
        Err(AuthError::Unavailable(m)) => Err(NotifyError::Unavailable(m)),
        Err(AuthError::Ambiguous(m)) => Err(NotifyError::BadRequest(m)),
        Err(e) => Err(NotifyError::Unauthenticated(e.to_string())),
    }
}

/// Who sent the request (`None`: no credentials); bad credentials are a 401.
struct Caller(Option<Requester>);

/// An authenticated caller; 401 otherwise.
struct Subscriber(Requester);

/// A channel, asked about by its subscriber; 401, 403 or 404 otherwise.
struct Owned(Channel);

impl FromRequestParts<State> for Caller {
    type Rejection = NotifyError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> NotifyResult<Self> {
        identify(state, &parts.method, &parts.uri, &parts.headers)
            .await
            .map(Caller)
    }
}

impl FromRequestParts<State> for Subscriber {
    type Rejection = NotifyError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> NotifyResult<Self> {
        Caller::from_request_parts(parts, state)
            .await?
            .0
            .map(Subscriber)
            .ok_or_else(|| NotifyError::Unauthenticated("this needs an authenticated agent".into()))
    }
}

impl FromRequestParts<State> for Owned {
    type Rejection = NotifyError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> NotifyResult<Self> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| NotifyError::NotFound(e.to_string()))?;
        let Subscriber(who) = Subscriber::from_request_parts(parts, state).await?;
        let channel = state
            .channels
            .get(&id)
            .await?
            .ok_or_else(|| NotifyError::NotFound(format!("no channel {id}")))?;
        if channel.owner.webid != who.webid {
            return Err(NotifyError::Forbidden(
                "only the subscriber may see or end a channel".into(),
            ));
        }
        Ok(Owned(channel))
    }
}

fn require_media_type(headers: &HeaderMap, wanted: &[&str]) -> NotifyResult<()> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = given.split(';').next().unwrap_or_default().trim();
    if wanted.iter().any(|w| essence.eq_ignore_ascii_case(w)) {
        Ok(())
    } else {
        Err(NotifyError::UnsupportedMediaType(format!(
            "send the request as {}, not {given:?}",
            wanted.join(" or ")
        )))
    }
}

async fn read_body(body: Body) -> NotifyResult<Bytes> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        NotifyError::Solid(podplane_solid::SolidError::TooLarge(format!(
            "a subscription request is at most {MAX_BODY} bytes"
        )))
    })
}

/// The path of a topic in the storage, after the subscriber's read access is confirmed;
/// returns the topic's current state too.
async fn check_topic(
    state: &State,
    who: &Requester,
    topic: &str,
) -> NotifyResult<(String, Option<String>)> {
    let path = state.config.topic_path(topic).ok_or_else(|| {
        podplane_solid::SolidError::UnprocessableSubscription(format!(
            "{topic} is not a resource of this storage ({})",
            state.config.storage_base_url
        ))
    })?;
    let view = state.access.view(who, path).await?;
    if !view.readable {
        return Err(NotifyError::Forbidden(format!(
            "{} may not read {topic}",
            who.webid.as_deref().unwrap_or("the public")
        )));
    }
    Ok((path.to_owned(), view.state))
}

fn websocket_base(base_url: &str) -> String {
    match base_url.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => base_url.to_owned(),
    }
}

fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Stores a new channel for `who`; returns it and, for a WebSocket channel, its
/// receiveFrom URL.
async fn open_channel(
    state: &State,
    who: Requester,
    subscription: Subscription,
) -> NotifyResult<(Channel, Option<String>)> {
    let now = now_ms();
    let ttl = i64::try_from(state.config.channel_ttl.as_millis()).unwrap_or(i64::MAX);
    let longest = now.saturating_add(ttl);
    let end_at = subscription.end_at.map_or(longest, |e| e.min(longest));
    let channel = Channel {
        id: uuid::Uuid::new_v4().to_string(),
        subscription,
        owner: who,
        end_at,
        created_at: now,
    };
    let (receive_from, hash) = match channel.subscription.channel_type {
        ChannelType::WebSocket => {
            // 244 random bits: unguessable, and only its hash is stored.
            let secret = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let url = format!(
                "{}/.notifications/ws/{secret}",
                websocket_base(&state.config.base_url)
            );
            (Some(url), Some(hash_secret(&secret)))
        }
        _ => (None, None),
    };
    state.channels.create(&channel, hash.as_deref()).await?;
    Ok((channel, receive_from))
}

fn channel_url(state: &State, id: &str) -> String {
    format!("{}channels/{id}", state.config.services_base())
}

async fn subscribe(
    state: State,
    kind: ChannelType,
    who: Requester,
    headers: HeaderMap,
    body: Body,
) -> NotifyResult<Response> {
    require_media_type(&headers, &[notify::MESSAGE_MEDIA_TYPE])?;
    let body = read_body(body).await?;
    let subscription = notify::parse_subscription(&body, kind, now_ms())?;
    check_topic(&state, &who, &subscription.topic).await?;
    if let Some(target) = &subscription.send_to {
        state.webhooks.vet(target).await.map_err(|e| {
            podplane_solid::SolidError::UnprocessableSubscription(format!(
                "sendTo {target} is refused: {e}"
            ))
        })?;
    }
    let (channel, receive_from) = open_channel(&state, who, subscription).await?;
    let id = channel_url(&state, &channel.id);
    let description = notify::channel_json(&ChannelDescription {
        id: &id,
        subscription: &channel.subscription,
        receive_from: receive_from.as_deref(),
        sender: None,
        end_at: channel.end_at,
    });
    Ok(ld_json(StatusCode::OK, &description))
}

async fn subscribe_websocket(
    AxumState(state): AxumState<State>,
    Subscriber(who): Subscriber,
    headers: HeaderMap,
    body: Body,
) -> NotifyResult<Response> {
    subscribe(state, ChannelType::WebSocket, who, headers, body).await
}

async fn subscribe_webhook(
    AxumState(state): AxumState<State>,
    Subscriber(who): Subscriber,
    headers: HeaderMap,
    body: Body,
) -> NotifyResult<Response> {
    subscribe(state, ChannelType::Webhook, who, headers, body).await
}

fn describe(state: &State, kind: ChannelType) -> Response {
    ld_json(
        StatusCode::OK,
        &serde_json::json!({
            "@context": [notify::NOTIFICATION_CONTEXT],
            "id": format!("{}{}/", state.config.services_base(), kind.name()),
            "channelType": kind.name(),
            "feature": kind.features(),
        }),
    )
}

async fn describe_websocket(AxumState(state): AxumState<State>) -> Response {
    describe(&state, ChannelType::WebSocket)
}

async fn describe_webhook(AxumState(state): AxumState<State>) -> Response {
    describe(&state, ChannelType::Webhook)
}

async fn read_channel(
    AxumState(state): AxumState<State>,
    Owned(c): Owned,
) -> NotifyResult<Response> {
    let url = channel_url(&state, &c.id);
    Ok(ld_json(
        StatusCode::OK,
        &notify::channel_json(&ChannelDescription {
            id: &url,
            subscription: &c.subscription,
            receive_from: None,
            sender: None,
            end_at: c.end_at,
        }),
    ))
}

/// Unsubscribing: the channel ends at once here, and within a sweep everywhere.
async fn delete_channel(
    AxumState(state): AxumState<State>,
    Owned(c): Owned,
) -> NotifyResult<Response> {
    state.channels.delete(&c.id).await?;
    state.hub.close_channel(&c.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn failures(AxumState(state): AxumState<State>, Owned(c): Owned) -> NotifyResult<Response> {
    let list: Vec<serde_json::Value> = state
        .channels
        .failures(&c.id)
        .await?
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "event": format!("urn:uuid:{}", f.event_id),
                "attempts": f.attempts,
                "error": f.last_error,
                "failedAt": notify::format_datetime(f.updated_at),
                "notification": serde_json::from_str::<serde_json::Value>(&f.payload)
                    .unwrap_or_default(),
            })
        })
        .collect();
    Ok(json(
        &serde_json::json!({ "channel": channel_url(&state, &c.id), "failures": list }),
    ))
}

async fn jwks(AxumState(state): AxumState<State>) -> Response {
    json(&state.signer.jwks())
}

/// A WebSocket channel's receiveFrom URL: the secret in the path is the credential.
async fn open_socket(
    AxumState(state): AxumState<State>,
    Path(token): Path<String>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> NotifyResult<Response> {
    let upgrade = upgrade
        .map_err(|e| NotifyError::UpgradeRequired(format!("open this URL as a WebSocket: {e}")))?;
    let channel = state
        .channels
        .by_receive_hash(&hash_secret(&token))
        .await?
        .ok_or_else(|| NotifyError::NotFound("no such channel".into()))?;
    if channel.end_at <= now_ms() {
        return Err(NotifyError::Gone(
            "this channel has ended; subscribe again".into(),
        ));
    }
    let path = state
        .config
        .topic_path(&channel.subscription.topic)
        .unwrap_or_default()
        .to_owned();
    let view = state.access.view(&channel.owner, &path).await?;
    if !view.readable {
        return Err(NotifyError::Forbidden(
            "the subscriber may no longer read the topic".into(),
        ));
    }
    let channel = Arc::new(channel);
    // Subscribers only listen: small buffers keep an idle socket to a few KiB (the
    // defaults, 128 KiB each way, would make 10 000 sockets cost over a GiB).
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .protocols([GATEWAY_SUBPROTOCOL])
        .on_upgrade(move |socket| serve_socket(state, channel, view.state, socket)))
}

/// The `state` feature: a subscriber whose idea of the topic's state is out of date hears
/// about the current one at once.
fn catch_up(channel: &Channel, current: Option<String>) -> Option<String> {
    let known = channel.subscription.state.as_ref()?;
    if Some(known) == current.as_ref() {
        return None;
    }
    let kind = if current.is_some() {
        ResourceEventKind::Update
    } else {
        ResourceEventKind::Delete
    };
    Some(message_of(&ResourceEvent {
        id: uuid::Uuid::new_v4(),
        kind,
        object: channel.subscription.topic.clone(),
        target: None,
        state: current,
        media_type: None,
        size: None,
        actor: None,
        published_ms: now_ms(),
    }))
}

async fn serve_socket(
    state: State,
    channel: Arc<Channel>,
    current: Option<String>,
    mut socket: WebSocket,
) {
    let (_registration, mut rx) = Hub::register(&state, channel.clone());
    if let Some(text) = catch_up(&channel, current) {
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
    let remaining = u64::try_from(channel.end_at.saturating_sub(now_ms())).unwrap_or(0);
    let ends = tokio::time::sleep(std::time::Duration::from_millis(remaining));
    tokio::pin!(ends);
    loop {
        tokio::select! {
            queued = rx.recv() => match queued {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                // Swept (deleted, ended) or closed for falling behind.
                None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Subscribers have nothing to say; pings are answered by the library.
                Some(Ok(_)) => {}
            },
            _ = &mut ends => break,
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// `GET /.notifications/StreamingHTTPChannel2023/{path}`: the topic's changes as one
/// long response of JSON-LD messages, one per line, authorized like a GET of the topic.
async fn stream(
    AxumState(state): AxumState<State>,
    Path(path): Path<String>,
    Caller(who): Caller,
) -> NotifyResult<Response> {
    let who = who.unwrap_or_default();
    let topic = format!("{}/{path}", state.config.storage_base_url);
    let topic_path = format!("/{path}");
    let view = state.access.view(&who, &topic_path).await?;
    if !view.readable {
        return Err(if who.webid.is_none() {
            NotifyError::Unauthenticated("reading this topic needs authentication".into())
        } else {
            NotifyError::Forbidden("no read access to the topic".into())
        });
    }
    let now = now_ms();
    let ttl = i64::try_from(state.config.channel_ttl.as_millis()).unwrap_or(i64::MAX);
    let channel = Arc::new(Channel {
        id: uuid::Uuid::new_v4().to_string(),
        subscription: Subscription {
            channel_type: ChannelType::StreamingHttp,
            topic,
            send_to: None,
            state: None,
            start_at: None,
            end_at: None,
            rate_ms: None,
        },
        owner: who,
        end_at: now.saturating_add(ttl),
        created_at: now,
    });
    let (registration, rx) = Hub::register(&state, channel);
    let lines =
        futures_util::stream::unfold((registration, rx), |(registration, mut rx)| async move {
            let text = rx.recv().await?;
            let line = Bytes::from(format!("{text}\n"));
            Some((Ok::<_, std::convert::Infallible>(line), (registration, rx)))
        });
    let mut res = Response::new(Body::from_stream(lines));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(notify::MESSAGE_MEDIA_TYPE),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// ESS 2.x gateway, step 1: protocol negotiation (no authentication needed).
async fn gateway(AxumState(state): AxumState<State>, body: Body) -> NotifyResult<Response> {
    let body = read_body(body).await?;
    let asked: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| NotifyError::BadRequest(format!("the body is not JSON: {e}")))?;
    let ws = asked["protocols"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == "ws"));
    if !ws {
        return Err(podplane_solid::SolidError::UnprocessableSubscription(
            "the gateway offers the \"ws\" protocol only".into(),
        )
        .into());
    }
    Ok(json(&serde_json::json!({
        "endpoint": format!("{}gateway/subscribe", state.config.services_base()),
        "protocol": "ws",
        "features": [],
    })))
}

/// ESS 2.x gateway, step 2: an authenticated subscription to a topic; answers the
/// WebSocket URL and subprotocol to open.
async fn gateway_subscribe(
    AxumState(state): AxumState<State>,
    Subscriber(who): Subscriber,
    headers: HeaderMap,
    body: Body,
) -> NotifyResult<Response> {
    require_media_type(&headers, &["application/json", notify::MESSAGE_MEDIA_TYPE])?;
    let body = read_body(body).await?;
    let asked: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| NotifyError::BadRequest(format!("the body is not JSON: {e}")))?;
    let topic = asked["topic"]
        .as_str()
        .ok_or_else(|| podplane_solid::SolidError::UnprocessableSubscription("no topic".into()))?;
    let subscription = Subscription {
        channel_type: ChannelType::WebSocket,
        topic: topic.to_owned(),
        send_to: None,
        state: asked["state"].as_str().map(str::to_owned),
        start_at: None,
        end_at: None,
        rate_ms: asked["rate"]
            .as_str()
            .map(notify::parse_duration_ms)
            .transpose()?,
    };
    check_topic(&state, &who, topic).await?;
    let (_, receive_from) = open_channel(&state, who, subscription).await?;
    Ok(json(&serde_json::json!({
        "endpoint": receive_from,
        "protocol": "ws",
        "subprotocol": GATEWAY_SUBPROTOCOL,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_base_scheme() {
        assert_eq!(websocket_base("https://pods.example"), "wss://pods.example");
        assert_eq!(websocket_base("http://127.0.0.1:3"), "ws://127.0.0.1:3");
    }

    #[test]
    fn secrets_are_stored_hashed() {
        let h = hash_secret("s");
        assert_eq!(h.len(), 64);
        assert_ne!(h, hash_secret("t"));
    }
}
