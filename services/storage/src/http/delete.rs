//! DELETE of resources and empty containers.

use super::request::check_write_preconditions;
use super::CAS_ATTEMPTS;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use podplane_solid::headers::{allow, ResourceKind};
use podplane_solid::path::{Auxiliary, ResourcePath};
use podplane_store::{DeleteRequest, StoreError};

pub async fn delete(
    state: &AppState,
    path: ResourcePath,
    headers: &HeaderMap,
    actor: Option<&str>,
) -> ApiResult<Response> {
    if path.is_root() {
        return Err(ApiError::MethodNotAllowed {
            detail: "the server root cannot be deleted".into(),
            allow: "OPTIONS",
        });
    }
    if path.is_pod_root() {
        // server-delete-protect-root-container: a storage root is deleted by deprovisioning,
        // never by a DELETE.
        return Err(ApiError::MethodNotAllowed {
            detail: "a pod's root container cannot be deleted".into(),
            allow: allow(ResourceKind::Container, true),
        });
    }
    if path
        .auxiliary()
        .is_some_and(|(kind, subject)| kind == Auxiliary::AccessControl && subject.is_pod_root())
    {
        // The root's access control must always exist: deleting it would lock everyone out.
        return Err(ApiError::MethodNotAllowed {
            detail: "the access control resource of a pod's root cannot be deleted".into(),
            allow: "GET, HEAD, OPTIONS, PUT, PATCH",
        });
    }
    for _ in 0..CAS_ATTEMPTS {
        let current = state
            .meta
            .get(path.as_str())
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no resource at {path}")))?;
        check_write_preconditions(headers, Some(&current))?;
        let req = DeleteRequest {
            auxiliaries: path.auxiliaries(),
            path: path.clone(),
            expected: Some(current.etag),
            actor: actor.map(str::to_owned),
        };
        match state.delete(req).await {
            Ok(()) => return Ok(StatusCode::NO_CONTENT.into_response()),
            Err(StoreError::Changed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict(
        "the resource is being changed by others; retry".into(),
    ))
}
