//! An ACP pod's access control resources as ESS presents them, which is what Inrupt's
//! libraries expect:
//! - every resource has an ACR: until one is written, GET shows an empty one naming its
//!   resource ([`implicit`]);
//! - an ACR shows, as its own `acp:accessControl` (and, for a container,
//!   `acp:memberAccessControl`), the access controls the resource's ancestors apply to their
//!   members: `acp_ess_2` reads a resource's access controls from its ACR alone. These links
//!   are shown, never stored ([`as_stored`] removes them from what clients send back), so
//!   what applies is still decided from the ancestors' ACRs, live;
//! - conditional writes are judged against what GET shows ([`judged_as_shown`]).
//!
//! Evaluation does not read this view: `access` applies the stored documents, as the ACP
//! specification's inheritance has it.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use podplane_solid::access::acp::{self, ACCESS_CONTROL_RESOURCE, RESOURCE};
use podplane_solid::access::AccessKind;
use podplane_solid::path::{Auxiliary, ResourcePath};
use podplane_solid::preconditions::WriteConditions;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_store::{Content, Expect, Kind, Resource};
use sha2::{Digest, Sha256};

/// The resource an ACR of an ACP pod controls, when `path` is one.
async fn subject_of_acr(state: &AppState, path: &ResourcePath) -> ApiResult<Option<ResourcePath>> {
    let Some((Auxiliary::AccessControl, subject)) = path.auxiliary() else {
        return Ok(None);
    };
    let is_acp = state
        .access
        .pod_of(path)
        .await?
        .is_some_and(|p| p.access == AccessKind::Acp);
    Ok(is_acp.then_some(subject))
}

/// The empty ACR a resource has until one is written.
fn implicit(state: &AppState, path: &ResourcePath, subject: &Resource) -> Resource {
    let body = format!(
        "<{}> a <{ACCESS_CONTROL_RESOURCE}>;\n    <{RESOURCE}> <{}>.\n",
        state.iri(path.as_str()),
        state.iri(&subject.path)
    );
    Resource {
        path: path.as_str().to_owned(),
        kind: Kind::Rdf,
        content_type: "text/turtle".into(),
        size: body.len() as u64,
        content: Content::Inline(body.into_bytes()),
        // Derived from the resource's tag, so it changes when the resource is replaced.
        etag: format!("\"acr-{}", subject.etag.trim_start_matches('"')),
        modified_ms: subject.modified_ms,
        creator: None,
    }
}

/// The ACR at `path` as GET shows it (`stored`: its row, if written), or `None` when `path`
/// is not the ACR of an existing resource in an ACP pod (the caller then serves what is
/// stored, if anything).
pub async fn shown(
    state: &AppState,
    path: &ResourcePath,
    stored: Option<&Resource>,
) -> ApiResult<Option<Resource>> {
    let Some(subject) = subject_of_acr(state, path).await? else {
        return Ok(None);
    };
    let Some(subject_row) = state.meta.get(subject.as_str()).await? else {
        return Ok(None);
    };
    let base = stored
        .cloned()
        .unwrap_or_else(|| implicit(state, path, &subject_row));
    let inherited = state.access.inherited_controls(&subject).await?;
    if inherited.is_empty() {
        return Ok(Some(base));
    }
    let mut triples = super::read::stored_triples(state, &base).await?;
    let acr = state.iri(path.as_str());
    triples.extend(acp::inherited_links(
        &acr,
        &inherited,
        subject.is_container(),
    ));
    let body = rdf::serialize(&triples, RdfFormat::Turtle);
    // What is shown depends on the ancestors' ACRs too: so does its tag.
    let digest = Sha256::digest(inherited.join(" ").as_bytes());
    let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Some(Resource {
        size: body.len() as u64,
        content: Content::Inline(body),
        etag: format!("\"{}-{tag}\"", base.etag.trim_matches('"')),
        ..base
    }))
}

/// An ACR's triples as a client sent them (a PUT body, a patched document), without the
/// links [`shown`] adds: Inrupt's libraries send back the whole document they read.
pub async fn as_stored(
    state: &AppState,
    path: &ResourcePath,
    triples: Vec<oxrdf::Triple>,
) -> ApiResult<Vec<oxrdf::Triple>> {
    let Some(subject) = subject_of_acr(state, path).await? else {
        return Ok(triples);
    };
    let inherited = state.access.inherited_controls(&subject).await?;
    let acr = state.iri(path.as_str());
    Ok(acp::without_inherited(triples, &acr, &inherited))
}

/// The triples a PATCH of the ACR at `path` applies to: as GET shows them (so a patch may
/// name the shown links; they are removed again before the result is stored).
pub async fn patch_base(
    state: &AppState,
    path: &ResourcePath,
    stored: Option<&Resource>,
) -> ApiResult<Option<Vec<oxrdf::Triple>>> {
    match shown(state, path, stored).await? {
        Some(acr) => Ok(Some(super::read::stored_triples(state, &acr).await?)),
        None => Ok(None),
    }
}

/// Conditional writes to an ACP pod's ACR, as ESS has them, the same whether it was written
/// or not:
/// - `If-None-Match: *` holds. An ACR is never created, only replaced, and Inrupt's client
///   saves an ACR it rebuilt (`saveSolidDatasetAt` of a new dataset) with that header; ESS
///   accepts it, so refusing it on a written ACR broke re-saving what `universalAccess` wrote.
///   This is the one place we set aside RFC 9110 §13.1.2 for an existing representation.
/// - Other conditions are judged against what GET shows (its ETag). The store then only
///   checks that nobody wrote the ACR meanwhile (else 412: the conditions were judged on a
///   state that is gone).
pub async fn judged_as_shown(
    state: &AppState,
    path: &ResourcePath,
    current: Option<&Resource>,
    mut expect: Expect,
) -> ApiResult<Expect> {
    if expect.conditions == WriteConditions::default() {
        return Ok(expect);
    }
    let Some(shown) = shown(state, path, current).await? else {
        return Ok(expect);
    };
    if expect.conditions.if_none_match.as_deref().map(str::trim) == Some("*") {
        expect.conditions.if_none_match = None;
    }
    if !expect.conditions.hold(Some(shown.validators())) {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(Expect {
        conditions: WriteConditions::default(),
        unchanged: Some(current.map(|c| c.etag.clone())),
        ..expect
    })
}
