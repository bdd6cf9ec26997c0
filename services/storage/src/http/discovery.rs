//! Discovery: the ESS-style `/.well-known/solid` document at the origin, each pod's storage
//! description resource (with the notification subscription services), and readiness.

use super::request::header_str;
use super::respond::set;
use crate::error::{problem, ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use oxrdf::vocab::xsd;
use oxrdf::{BlankNode, Literal, NamedNode, NamedNodeRef, Triple};
use podplane_solid::conneg::negotiate;
use podplane_solid::path::ResourcePath;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::vocab;

fn rdf_response(headers: &HeaderMap, triples: &[Triple], with_body: bool) -> ApiResult<Response> {
    let media = negotiate(header_str(headers, header::ACCEPT), &RdfFormat::MEDIA_TYPES)?;
    let format = RdfFormat::from_media_type(media).unwrap_or(RdfFormat::Turtle);
    let body = rdf::serialize(triples, format);
    let mut h = HeaderMap::new();
    set(&mut h, header::CONTENT_TYPE, format.media_type());
    set(&mut h, header::VARY, "Accept");
    set(&mut h, header::CONTENT_LENGTH, &body.len().to_string());
    set(&mut h, header::ALLOW, "GET, HEAD, OPTIONS");
    let body = if with_body { body } else { Vec::new() };
    Ok((StatusCode::OK, h, body).into_response())
}

/// `GET /.well-known/solid`: a `solid:DiscoveryDocument` (ESS behaviour 1). Services that
/// podplane offers (provisioning, notifications) announce themselves here, as ESS's do.
pub async fn well_known_solid(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    // A fixed label, not a fresh random one: the document is the same on every request, so
    // HEAD and GET agree on Content-Length (RFC 9110 §9.3.2). One subject: clients read the
    // first one they find.
    let doc = BlankNode::new_unchecked("discovery");
    let mut triples = vec![Triple::new(
        doc.clone(),
        NamedNodeRef::new_unchecked(vocab::RDF_TYPE),
        NamedNode::new_unchecked(format!("{}DiscoveryDocument", vocab::SOLID)),
    )];
    if let Some(services) = &state.config.notifications_base_url {
        let gateway = NamedNode::new_unchecked(format!("{services}/.notifications/gateway"));
        for predicate in [NOTIFICATION_GATEWAY, LEGACY_NOTIFICATION_GATEWAY] {
            triples.push(Triple::new(
                doc.clone(),
                NamedNodeRef::new_unchecked(predicate),
                gateway.clone(),
            ));
        }
    }
    if let Some(provision) = &state.config.provision_base_url {
        triples.push(Triple::new(
            doc.clone(),
            NamedNodeRef::new_unchecked(PROVISION),
            NamedNode::new_unchecked(format!("{provision}/.provision/")),
        ));
        if let Some(limit) = state.config.max_pods_per_owner {
            triples.push(Triple::new(
                doc.clone(),
                NamedNodeRef::new_unchecked(MAX_PODS_PER_OWNER),
                Literal::new_typed_literal(limit.to_string(), xsd::INT),
            ));
        }
    }
    rdf_response(&headers, &triples, method != Method::HEAD)
        .unwrap_or_else(IntoResponse::into_response)
}

const PROVISION: &str = "http://www.w3.org/ns/solid/terms#provision";
const MAX_PODS_PER_OWNER: &str = "http://www.w3.org/ns/solid/terms#maxPodsPerOwner";

const NOTIFICATION_GATEWAY: &str = "http://www.w3.org/ns/solid/terms#notificationGateway";
/// What older Inrupt clients look for.
const LEGACY_NOTIFICATION_GATEWAY: &str = "http://inrupt.com/ns/ess#notificationGatewayEndpoint";

/// `/{pod}/.well-known/solid` is the storage description resource of pod `{pod}`.
pub fn storage_description_target(path: &ResourcePath) -> Option<ResourcePath> {
    let segments: Vec<&str> = path.segments().collect();
    match (segments.as_slice(), path.is_container()) {
        ([_, ".well-known", "solid"], false) => path.pod_root(),
        _ => None,
    }
}

pub async fn storage_description(
    state: &AppState,
    root: &ResourcePath,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let name = root.pod().unwrap_or_default();
    if state.meta.get_pod(name).await?.is_none() {
        return Err(ApiError::NotFound(format!("no pod named {name}")));
    }
    match *method {
        Method::GET | Method::HEAD => {}
        Method::OPTIONS => {
            let mut h = HeaderMap::new();
            set(&mut h, header::ALLOW, "GET, HEAD, OPTIONS");
            return Ok((StatusCode::NO_CONTENT, h).into_response());
        }
        _ => {
            return Err(ApiError::MethodNotAllowed {
                detail: "the storage description is read-only".into(),
                allow: "GET, HEAD, OPTIONS",
            })
        }
    }
    let storage = state.iri(root.as_str());
    // The subscription services of the Solid Notifications Protocol, when offered.
    let triples = match &state.config.notifications_base_url {
        Some(services) => podplane_solid::notify::description_triples(
            &storage,
            &format!("{services}/.notifications/"),
        ),
        None => vec![Triple::new(
            NamedNode::new_unchecked(storage),
            NamedNodeRef::new_unchecked(vocab::RDF_TYPE),
            NamedNodeRef::new_unchecked(vocab::PIM_STORAGE),
        )],
    };
    rdf_response(headers, &triples, *method == Method::GET)
}

/// Ready when the metadata store answers.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.meta.get("/").await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "metadata store unavailable",
            )
        }
    }
}
