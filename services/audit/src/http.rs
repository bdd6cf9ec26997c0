//! HTTP surface of the audit service: `GET /.audit/events`, the stored events as an Activity
//! Streams `OrderedCollectionPage`, oldest first, `limit` per page with the next page in
//! `Link: rel="next"` (and `next`). Filters: `pod`, `since` and `until` (RFC 3339), `agent`
//! (WebID), `resource` (an IRI, or a container's IRI ending in `/` for everything under it),
//! `type` (the event name). A pod's owner reads the trail of their pod (`pod` is required);
//! administrators read everything. A request reads top to bottom: who (DPoP) → what (the
//! filter) → one decision (owner or administrator) → one store call → response.

use crate::error::{AuditError, AuditResult};
use crate::store::Filter;
use crate::State;
use axum::extract::{FromRequestParts, Query, State as AxumState};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use podplane_auth::AuthError;
use serde::Deserialize;

/// Events per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

pub fn router(state: State) -> Router {
    let routes = Router::new().route("/.audit/events", get(events));
    podplane_telemetry::edge(routes).with_state(state)
}

/// The service on its own (`podplane audit`): its routes plus health, metrics and request
/// ids, and a problem for every other path.
pub fn standalone_router(state: State) -> Router {
    let ready = state.clone();
    podplane_telemetry::standalone(router(state), move || {
        let state = ready.clone();
        async move {
            match state.store.ping().await {
                Ok(()) => (StatusCode::OK, "ready").into_response(),
                Err(e) => e.into_response(),
            }
        }
    })
}

/// The authenticated caller's WebID; 401 without (valid) credentials.
struct Caller(String);

impl FromRequestParts<State> for Caller {
    type Rejection = AuditError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> AuditResult<Self> {
        let url = format!("{}{}", state.config.base_url, parts.uri.path());
        match state
            .verifier
            .authenticate_headers(&parts.headers, parts.method.as_str(), &url)
            .await
        {
            Ok(Some(agent)) => Ok(Caller(agent.webid)),
            Ok(None) => Err(AuditError::Unauthenticated(
                "the audit trail needs an authenticated agent (a DPoP-bound Solid-OIDC token)"
                    .into(),
            )),
            Err(AuthError::Unavailable(m)) => Err(AuditError::Unavailable(m)),
            Err(AuthError::Ambiguous(m)) => Err(AuditError::BadRequest(m)),
            Err(e) => Err(AuditError::Unauthenticated(e.to_string())),
        }
    }
}

/// The query, as sent.
#[derive(Deserialize, Default)]
struct Asked {
    pod: Option<String>,
    since: Option<String>,
    until: Option<String>,
    agent: Option<String>,
    resource: Option<String>,
    #[serde(rename = "type")]
    name: Option<String>,
    limit: Option<u32>,
    /// The cursor of a `next` link.
    after: Option<String>,
}

/// `?…` as a filter; 400 for values that cannot be one.
fn filter_of(asked: Asked) -> AuditResult<Filter> {
    if let Some(pod) = &asked.pod {
        podplane_solid::pod::check_name(pod).map_err(|e| AuditError::BadRequest(e.to_string()))?;
    }
    let after = match asked.after {
        None => None,
        Some(c) => {
            let (ms, id) = c
                .split_once('~')
                .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| AuditError::BadRequest(format!("bad page cursor {c:?}")))?;
            Some((ms, id))
        }
    };
    let limit = asked.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(AuditError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(Filter {
        pod: asked.pod,
        since_ms: asked.since.as_deref().map(ms_of).transpose()?,
        until_ms: asked.until.as_deref().map(ms_of).transpose()?,
        agent: asked.agent,
        resource: asked.resource,
        name: asked.name,
        after,
        limit,
    })
}

fn ms_of(rfc3339: &str) -> AuditResult<i64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map_err(|_| AuditError::BadRequest(format!("{rfc3339:?} is not an RFC 3339 time")))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| AuditError::BadRequest(format!("{rfc3339:?} is out of range")))
}

/// `GET /.audit/events`.
async fn events(
    AxumState(state): AxumState<State>,
    Caller(webid): Caller,
    query: Result<Query<Asked>, axum::extract::rejection::QueryRejection>,
    parts: axum::http::Uri,
) -> AuditResult<Response> {
    let Query(asked) = query.map_err(|e| AuditError::BadRequest(e.body_text()))?;
    let filter = filter_of(asked)?;
    if !state.config.is_admin(&webid) {
        let Some(pod) = &filter.pod else {
            return Err(AuditError::Forbidden(
                "only administrators read every pod's events; name your pod with ?pod=".into(),
            ));
        };
        if state.owners.owner(pod).await?.as_deref() != Some(webid.as_str()) {
            return Err(AuditError::Forbidden(format!(
                "{webid} may not read the audit trail of {pod}"
            )));
        }
    }
    let page = state.store.page(&filter).await?;
    let items = page
        .bodies
        .iter()
        .map(|b| serde_json::from_str::<serde_json::Value>(b))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AuditError::Internal(format!("a stored event is not JSON: {e}")))?;
    let next = page
        .next
        .map(|(ms, id)| next_url(&state.config.base_url, &parts, &format!("{ms}~{id}")));
    let mut body = serde_json::json!({
        "@context": podplane_events::AUDIT_CONTEXT,
        "type": "OrderedCollectionPage",
        "orderedItems": items,
    });
    if let Some(next) = &next {
        body["next"] = serde_json::Value::String(next.clone());
    }
    let mut res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/ld+json")],
        body.to_string(),
    )
        .into_response();
    if let Some(link) =
        next.and_then(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok())
    {
        res.headers_mut().insert(header::LINK, link);
    }
    Ok(res)
}

/// This request's URL with `after` set to `cursor`.
fn next_url(base: &str, uri: &axum::http::Uri, cursor: &str) -> String {
    let mut url = match url::Url::parse(&format!("{base}{}", uri.path())) {
        Ok(u) => u,
        Err(_) => return String::new(),
    };
    let kept: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "after")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("after", cursor);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_bad_ones_are_400s() {
        let f = filter_of(Asked {
            pod: Some("alice".into()),
            since: Some("2026-01-01T00:00:00Z".into()),
            after: Some("5~urn:uuid:x".into()),
            ..Asked::default()
        })
        .unwrap();
        assert_eq!(f.since_ms, Some(1_767_225_600_000));
        assert_eq!(f.after, Some((5, "urn:uuid:x".into())));
        assert_eq!(f.limit, DEFAULT_LIMIT);
        let bad = [
            Asked {
                since: Some("yesterday".into()),
                ..Asked::default()
            },
            Asked {
                pod: Some("../x".into()),
                ..Asked::default()
            },
            Asked {
                limit: Some(0),
                ..Asked::default()
            },
            Asked {
                limit: Some(MAX_LIMIT + 1),
                ..Asked::default()
            },
            Asked {
                after: Some("nonsense".into()),
                ..Asked::default()
            },
        ];
        for asked in bad {
            assert!(matches!(filter_of(asked), Err(AuditError::BadRequest(_))));
        }
    }

    #[test]
    fn the_next_link_keeps_the_filters() {
        let uri: axum::http::Uri = "/.audit/events?pod=alice&type=resource-read&after=1~a"
            .parse()
            .unwrap();
        let next = next_url("https://pods.example", &uri, "9~urn:uuid:b");
        assert_eq!(
            next,
            "https://pods.example/.audit/events?pod=alice&type=resource-read&after=9%7Eurn%3Auuid%3Ab"
        );
    }
}
