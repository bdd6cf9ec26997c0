//! DELETE of resources and empty containers.

use super::read::redirect_to_twin;
use super::request::write_conditions;
use super::ResourceRequest;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use podplane_solid::access::Operation;
use podplane_solid::headers::{allow, ResourceKind};
use podplane_solid::path::Auxiliary;
use podplane_store::{DeleteRequest, Expect, StoreError};

pub async fn delete(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    let ResourceRequest {
        path,
        headers,
        grant,
        ..
    } = req;
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
    let op = |_| Operation::Delete;
    let req = DeleteRequest {
        auxiliaries: path.auxiliaries(),
        path: path.clone(),
        expect: Expect {
            allowed: grant.allowed(&path, op),
            conditions: write_conditions(&headers, &state.base_tag),
            unchanged: None,
        },
        actor: grant.actor().map(str::to_owned),
        audit: Some(grant.audited()),
    };
    match state.delete(req).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        // Nothing was deleted; the other slash form may be what the client meant. PUT and
        // PATCH keep answering 409 there: the Solid conformance tests require it of writes.
        Err(StoreError::NotFound(detail)) => match redirect_to_twin(state, &path).await? {
            Some(redirect) => Ok(redirect),
            None => Err(StoreError::NotFound(detail).into()),
        },
        Err(e) => Err(grant.explain(state, &path, op, e)),
    }
}
