//! PATCH with N3 Patch (`text/n3`) or SPARQL Update (`application/sparql-update`).

use super::body;
use super::read::stored_triples;
use super::request::{check_write_preconditions, content_type};
use super::respond::set;
use super::write::stage_rdf;
use super::CAS_ATTEMPTS;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use oxrdf::Graph;
use podplane_solid::container::check_client_triples;
use podplane_solid::headers::ACCEPT_PATCH;
use podplane_solid::path::ResourcePath;
use podplane_solid::{n3patch, sparql_update, SolidError};
use podplane_store::{Kind, StoreError};

enum Patch {
    N3(n3patch::N3Patch),
    Sparql(sparql_update::SparqlPatch),
}

impl Patch {
    fn apply(&self, graph: &mut Graph) -> Result<(), SolidError> {
        match self {
            Patch::N3(p) => n3patch::apply(p, graph),
            Patch::Sparql(p) => sparql_update::apply(p, graph),
        }
    }
}

pub async fn patch(state: &AppState, path: ResourcePath, req: Request) -> ApiResult<Response> {
    if path.is_root() {
        return Err(ApiError::MethodNotAllowed {
            detail: "the server root cannot be written".into(),
            allow: "OPTIONS",
        });
    }
    let (parts, body) = req.into_parts();
    let media = content_type(&parts.headers)?
        .ok_or_else(|| ApiError::BadRequest("a PATCH needs a Content-Type".into()))?;
    let bytes = body::read_limited(body, state.config.max_rdf_bytes).await?;
    let base = state.iri(path.as_str());
    let patch = match media.as_str() {
        "text/n3" => Patch::N3(n3patch::parse(&bytes, &base)?),
        "application/sparql-update" => Patch::Sparql(sparql_update::parse(&bytes, &base)?),
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
    if let Some(grant) = parts.extensions.get::<super::Grant>() {
        let (read, write) = match &patch {
            Patch::N3(p) => (p.needs_read(), p.needs_write()),
            Patch::Sparql(p) => (p.needs_read(), p.needs_write()),
        };
        grant.check_patch(state, read, write)?;
    }

    for _ in 0..CAS_ATTEMPTS {
        let current = state.meta.get(path.as_str()).await?;
        check_write_preconditions(&parts.headers, current.as_ref())?;
        let (kind, mut graph) = match &current {
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
            None => {
                if let Some(twin) = path.toggled_slash() {
                    if state.meta.get(twin.as_str()).await?.is_some() {
                        return Err(ApiError::Conflict(format!(
                            "{twin} exists; {path} cannot exist beside it"
                        )));
                    }
                }
                (
                    if path.is_container() {
                        Kind::Container
                    } else {
                        Kind::Rdf
                    },
                    Graph::new(),
                )
            }
        };
        patch.apply(&mut graph)?;
        let triples: Vec<oxrdf::Triple> = graph.iter().map(|t| t.into_owned()).collect();
        if kind == Kind::Container {
            check_client_triples(&base, &triples)?;
        }
        let staged = stage_rdf(state, kind, &triples).await?;
        match state
            .write(staged.request(
                &path,
                Some(current.map(|c| c.etag)),
                super::Grant::actor(&parts.extensions),
            ))
            .await
        {
            Ok((resource, created)) => {
                let mut h = HeaderMap::new();
                set(&mut h, header::ETAG, &resource.etag);
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
            Err(StoreError::Changed) => staged.discard(state).await,
            Err(e) => {
                staged.discard(state).await;
                return Err(e.into());
            }
        }
    }
    Err(ApiError::Conflict(
        "the resource is being changed by others; retry".into(),
    ))
}
