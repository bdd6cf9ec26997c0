//! PATCH with N3 Patch (`text/n3`) or SPARQL Update (`application/sparql-update`).

use super::body;
use super::read::stored_triples;
use super::request::{content_type, write_conditions};
use super::respond::{representation_etag, set};
use super::write::stage_rdf;
use super::ResourceRequest;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use oxrdf::Graph;
use podplane_solid::access::{Operation, PatchShape};
use podplane_solid::container::check_client_triples;
use podplane_solid::headers::ACCEPT_PATCH;
use podplane_solid::limits::{EvalBudget, Limits};
use podplane_solid::rdf::RdfFormat;
use podplane_solid::{n3patch, sparql_update, SolidError};
use podplane_store::{Expect, Kind, StoreError};
use std::sync::Arc;

enum Patch {
    N3(n3patch::N3Patch),
    Sparql(sparql_update::SparqlPatch),
}

impl Patch {
    fn apply(&self, graph: &mut Graph, budget: &EvalBudget) -> Result<(), SolidError> {
        match self {
            Patch::N3(p) => n3patch::apply(p, graph, budget),
            Patch::Sparql(p) => sparql_update::apply(p, graph, budget),
        }
    }

    fn shape(&self) -> PatchShape {
        match self {
            Patch::N3(p) => p.shape(),
            Patch::Sparql(p) => p.shape(),
        }
    }
}

/// A patch is applied to the document as it was read and committed only if nothing changed it
/// since; if something did, it is applied again to the new document, at most this many times
/// (preconditions and access are checked at each commit, against the row as it is then).
const APPLY_ATTEMPTS: usize = 8;

pub async fn patch(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    let ResourceRequest {
        path,
        headers,
        body,
        mut grant,
        ..
    } = req;
    if path.is_root() {
        return Err(ApiError::MethodNotAllowed {
            detail: "the server root cannot be written".into(),
            allow: "OPTIONS",
        });
    }
    let media = content_type(&headers)?
        .ok_or_else(|| ApiError::BadRequest("a PATCH needs a Content-Type".into()))?;
    let base = state.iri(path.as_str());
    let parse: fn(&[u8], &str, &Limits) -> Result<Patch, SolidError> = match media.as_str() {
        "text/n3" => |b, base, l| n3patch::parse(b, base, l).map(Patch::N3),
        "application/sparql-update" => {
            |b, base, l| sparql_update::parse(b, base, l).map(Patch::Sparql)
        }
        other => {
            // RFC 5789 § 2.2: a 415 for an unknown patch format lists the ones we accept.
            let mut res = ApiError::from(SolidError::UnsupportedMediaType(format!(
                "{other} is not a patch format; use text/n3 or application/sparql-update"
            )))
            .into_response();
            set(
                res.headers_mut(),
                HeaderName::from_static("accept-patch"),
                ACCEPT_PATCH,
            );
            return Ok(res);
        }
    };
    let bytes = body::read_limited(body, state.config.max_rdf_bytes).await?;
    let limits = state.config.limits;
    let parse_base = base.clone();
    let patch = Arc::new(
        state
            .cpu
            .run(move || parse(&bytes, &parse_base, &limits))
            .await??,
    );

    let shape = patch.shape();
    let op = |exists| Operation::Patch { exists, shape };
    let allowed = grant.allowed(&path, op);
    let conditions = write_conditions(&headers, &state.base_tag);
    let mut current = grant.take_row(state, &path).await?;
    for _ in 0..APPLY_ATTEMPTS {
        let expect = Expect {
            allowed,
            conditions: conditions.clone(),
            unchanged: Some(current.as_ref().map(|c| c.etag.clone())),
        };
        let expect =
            super::acr_view::judged_as_shown(state, &path, current.as_ref(), expect).await?;
        // Refuse before evaluating when the answer cannot be yes (the commit checks again).
        expect
            .check(current.as_ref())
            .map_err(|e| grant.explain(state, &path, op, e))?;
        let shown = super::acr_view::patch_base(state, &path, current.as_ref()).await?;
        let (kind, mut graph) = match &current {
            _ if shown.is_some() => (Kind::Rdf, shown.into_iter().flatten().collect::<Graph>()),
            Some(r) if r.kind == Kind::Binary => {
                return Err(SolidError::UnsupportedMediaType(
                    "only RDF documents and containers can be patched".into(),
                )
                .into());
            }
            Some(r) => (
                r.kind,
                stored_triples(state, r)
                    .await?
                    .into_iter()
                    .collect::<Graph>(),
            ),
            None if path.is_container() => (Kind::Container, Graph::new()),
            None => (Kind::Rdf, Graph::new()),
        };
        let job = patch.clone();
        let triples: Vec<oxrdf::Triple> = state
            .cpu
            .run_budgeted(
                EvalBudget::new(limits),
                state.config.patch_time_budget,
                move |budget| {
                    job.apply(&mut graph, budget)?;
                    Ok::<_, SolidError>(graph.iter().map(|t| t.into_owned()).collect())
                },
            )
            .await??;
        if kind == Kind::Container {
            check_client_triples(&base, &triples)?;
        }
        let triples = super::acr_view::as_stored(state, &path, triples).await?;
        let staged = stage_rdf(state, &path, kind, &triples).await?;
        match state
            .write(staged.request(&path, expect, &grant.audited()))
            .await
        {
            Ok((resource, created)) => {
                // An ACR's tag is the one GET shows (it covers the inherited links too).
                let shown = super::acr_view::shown(state, &path, Some(&resource)).await?;
                let etag = shown.map_or(resource.etag, |acr| acr.etag);
                let etag = representation_etag(&etag, Some(RdfFormat::Turtle), &state.base_tag);
                let mut h = HeaderMap::new();
                set(&mut h, header::ETAG, &etag);
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::NO_CONTENT
                };
                if created {
                    set(&mut h, header::LOCATION, &base);
                }
                return Ok((status, h).into_response());
            }
            Err(StoreError::Changed) => {
                staged.discard(state).await;
                current = state.meta.get(path.as_str()).await?;
            }
            Err(e) => {
                staged.discard(state).await;
                return Err(grant.explain(state, &path, op, e));
            }
        }
    }
    Err(ApiError::Conflict(
        "the resource is being changed by others; retry".into(),
    ))
}
