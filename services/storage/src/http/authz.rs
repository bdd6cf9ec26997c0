//! Authentication and authorization of resource requests, before any redirect or body is
//! processed (server-authorization-redirect): who is asking (Solid-OIDC, `podplane_auth`),
//! what the operation needs (the WAC operation → mode table), what they hold (`access`), and
//! the headers that tell clients about it (`Link: rel="acl"`, `WAC-Allow`, the ACR type).

use super::request::header_str;
use super::respond::set;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;
use podplane_auth::AuthError;
use podplane_solid::access::acp::{
    ACCESS_CONTROL_RESOURCE, ATTRIBUTE_REL, GRANT_REL, SUPPORTED_ATTRIBUTES,
};
use podplane_solid::access::{
    self, wac_allow, AccessKind, Modes, Operation, PatchShape, Requester, ACL_APPEND, ACL_CONTROL,
    ACL_READ, ACL_WRITE,
};
use podplane_solid::headers::format_links;
use podplane_solid::path::{Auxiliary, ResourcePath};
use podplane_store::{Resource, StoreError};
use std::borrow::Cow;

/// What a request was granted. It travels with the request to the commit: handlers that
/// decide late (PATCH) consult it, and writes re-check it against what exists by then.
#[derive(Debug, Clone)]
pub struct Grant {
    pub who: Requester,
    /// Modes on the target resource; `Modes::ALL` in open-access mode.
    pub modes: Modes,
    /// Modes the public holds, for `WAC-Allow` on GET/HEAD.
    pub public: Option<Modes>,
    pub kind: Option<AccessKind>,
    /// Whether the target existed when this was decided, where that changed the decision
    /// (a PUT or PATCH to a resource is an update; to a free name it is a create).
    pub decided_on_existing: Option<bool>,
    /// The target's row as authorization read it, for a GET or HEAD of a resource that
    /// exists: the handler serves this row rather than reading it again.
    pub read_row: Option<Resource>,
}

impl Grant {
    /// The authenticated WebID behind a request, for events and `acp:CreatorAgent`.
    pub fn actor(&self) -> Option<&str> {
        self.who.webid.as_deref()
    }

    /// The grant that holds for the target as it is now. Headers are authorized before the
    /// body arrives, and a body can take long: if the target appeared (or vanished) since, a
    /// create must not land as an overwrite of someone else's document (or the reverse), so
    /// the decision is made again on what exists now; refused means 403 (or 401).
    pub async fn for_current(
        &self,
        state: &AppState,
        method: &Method,
        path: &ResourcePath,
        exists: bool,
    ) -> ApiResult<Cow<'_, Grant>> {
        match self.decided_on_existing {
            Some(existed) if existed != exists => Ok(Cow::Owned(
                decide(state, method, path, self.who.clone()).await?,
            )),
            _ => Ok(Cow::Borrowed(self)),
        }
    }

    /// Whether the grant covers what a PATCH turned out to do once its body was parsed (the
    /// headers were authorized for the least a patch needs). `exists`: whether the target
    /// exists now; the container's part of a create was already decided.
    pub fn check_patch(
        &self,
        state: &AppState,
        path: &ResourcePath,
        exists: bool,
        shape: PatchShape,
    ) -> ApiResult<()> {
        let need = access::need(
            Operation::Patch { exists, shape },
            path.auxiliary().map(|(kind, _)| kind),
            path.is_pod_root(),
        );
        // Access control documents: decided on the control modes, which no patch changes.
        if need.control.is_empty() && !self.modes.contains(need.target) {
            return Err(refuse(state, &self.who, need.target));
        }
        Ok(())
    }
}

fn challenge(state: &AppState, error: Option<&AuthError>) -> String {
    let algs: Vec<String> = state
        .verifier
        .config()
        .algorithms
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    let mut c = format!("DPoP algs=\"{}\"", algs.join(" "));
    if let Some(e) = error {
        let description = quoted_string_safe(&e.to_string());
        c.push_str(&format!(
            ", error=\"{}\", error_description=\"{description}\"",
            e.oauth_error()
        ));
    }
    if state.verifier.config().accept_bearer {
        c.push_str(", Bearer realm=\"solid\"");
    }
    c
}

/// Text that fits in a header's quoted-string: no quotes, backslashes, control characters or
/// non-ASCII (a newline would make the whole header invalid and lose the challenge).
fn quoted_string_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| *c != '"' && *c != '\\' && c.is_ascii())
        .collect()
}

pub fn unauthenticated(state: &AppState, error: Option<&AuthError>) -> ApiError {
    ApiError::Unauthenticated {
        detail: error.map_or_else(|| "authentication required".to_owned(), |e| e.to_string()),
        challenge: challenge(state, error),
    }
}

/// 401 for the anonymous (authenticating might help), 403 for an agent without access.
fn refuse(state: &AppState, who: &Requester, need: Modes) -> ApiError {
    if who.webid.is_none() {
        ApiError::Unauthenticated {
            detail: format!("this operation needs {need} access; authenticate"),
            challenge: challenge(state, None),
        }
    } else {
        ApiError::Forbidden(format!(
            "{} does not have {need} access",
            who.webid.as_deref().unwrap_or_default()
        ))
    }
}

/// Who the request comes from. Bad credentials are a 401 even on public resources: the
/// client meant to be someone and should learn that it is not.
pub async fn identify(
    state: &AppState,
    method: &Method,
    raw_path: &str,
    headers: &HeaderMap,
) -> ApiResult<Requester> {
    // The URL as the client wrote it (htu is compared syntactically, without our path
    // canonicalisation), under the public base URL.
    let url = state.iri(raw_path);
    let found = state
        .verifier
        .authenticate_headers(headers, method.as_str(), &url)
        .await;
    let origin = header_str(headers, header::ORIGIN).map(str::to_owned);
    match found {
        Ok(None) => Ok(Requester::anonymous(origin)),
        Ok(Some(a)) => Ok(Requester {
            webid: Some(a.webid),
            client_id: a.client_id,
            issuer: Some(a.issuer),
            origin,
        }),
        Err(AuthError::Unavailable(m)) => Err(ApiError::Store(StoreError::Unavailable(m))),
        Err(AuthError::Ambiguous(m)) => Err(ApiError::BadRequest(m)),
        Err(e) => Err(unauthenticated(state, Some(&e))),
    }
}

/// Whether the requester may read `path`, for answers that would otherwise tell strangers
/// what exists (OPTIONS). Credentials that do not verify count as none.
pub async fn may_read(
    state: &AppState,
    path: &ResourcePath,
    raw_path: &str,
    headers: &HeaderMap,
) -> bool {
    // The proof, if any, was made for this OPTIONS request.
    let who = match identify(state, &Method::OPTIONS, raw_path, headers).await {
        Ok(who) => who,
        Err(_) => Requester::anonymous(header_str(headers, header::ORIGIN).map(str::to_owned)),
    };
    decide(state, &Method::GET, path, who)
        .await
        .is_ok_and(|g| g.modes.contains(Modes::READ))
}

/// Whether `who` holds Read on `path` (a GET by them would be allowed).
pub async fn may_get(state: &AppState, path: &ResourcePath, who: Requester) -> ApiResult<bool> {
    match decide(state, &Method::GET, path, who).await {
        Ok(g) => Ok(g.modes.contains(Modes::READ)),
        // An outage is not a refusal: the caller must not take it for one.
        Err(ApiError::Store(e)) => Err(ApiError::Store(e)),
        Err(_) => Ok(false),
    }
}

/// Decides whether the request may proceed. Requests outside any pod pass: there is nothing
/// to protect and the handlers answer 404.
pub async fn authorize(
    state: &AppState,
    method: &Method,
    path: &ResourcePath,
    raw_path: &str,
    headers: &HeaderMap,
) -> ApiResult<Grant> {
    let who = identify(state, method, raw_path, headers).await?;
    decide(state, method, path, who).await
}

async fn decide(
    state: &AppState,
    method: &Method,
    path: &ResourcePath,
    who: Requester,
) -> ApiResult<Grant> {
    let (aux, subject) = match path.auxiliary() {
        Some((kind, subject)) => (Some(kind), subject),
        None => (None, path.clone()),
    };
    if state.config.open_access {
        return Ok(Grant {
            who,
            modes: Modes::ALL,
            public: Some(Modes::ALL),
            kind: None,
            decided_on_existing: None,
            read_row: None,
        });
    }
    let Some(mut g) = state.governing(&subject).await? else {
        return Ok(Grant {
            who,
            modes: Modes::NONE,
            public: None,
            kind: None,
            decided_on_existing: None,
            read_row: None,
        });
    };
    let kind = Some(g.pod.access);
    let reads = matches!(*method, Method::GET | Method::HEAD);
    let on_subject = state.effective(&g, &subject, &who).await;
    let public = match (reads && aux.is_none(), who == who.as_public()) {
        (false, _) => None,
        // An anonymous request already is the public's.
        (true, true) => Some(on_subject.resource),
        (true, false) => Some(
            state
                .effective(&g, &subject, &who.as_public())
                .await
                .resource,
        ),
    };
    let exists = g.subject.is_some();
    // Before the body is read, a PATCH is authorized for the least it can need;
    // `Grant::check_patch` decides the rest from the parsed body.
    let need = access::need(
        operation(method, exists, PatchShape::INSERT_ONLY),
        aux,
        subject.is_pod_root(),
    );
    let on_parent = match subject.parent() {
        Some(parent) if !need.parent.is_empty() && !parent.is_root() => {
            state.effective(&g, &parent, &who).await.resource
        }
        _ => Modes::NONE,
    };
    if !need.met_by(on_subject.resource, on_parent, on_subject.acl) {
        return Err(refuse(state, &who, need.named()));
    }
    let modes = if aux == Some(Auxiliary::AccessControl) {
        Modes::ALL
    } else if need.creates() {
        on_subject.resource.union(Modes::APPEND)
    } else {
        on_subject.resource
    };
    let creates_or_updates = aux.is_none() && matches!(*method, Method::PUT | Method::PATCH);
    Ok(Grant {
        who,
        modes,
        public,
        kind,
        decided_on_existing: creates_or_updates.then_some(exists),
        read_row: if reads && aux.is_none() {
            g.subject.take()
        } else {
            None
        },
    })
}

/// The method, as far as authorization cares.
fn operation(method: &Method, exists: bool, shape: PatchShape) -> Operation {
    match *method {
        Method::GET | Method::HEAD => Operation::Read,
        Method::POST => Operation::Post,
        Method::PUT => Operation::Put { exists },
        Method::PATCH => Operation::Patch { exists, shape },
        Method::DELETE => Operation::Delete,
        _ => Operation::Other,
    }
}

/// The access headers of a successful response.
pub async fn decorate(
    state: &AppState,
    method: &Method,
    path: &ResourcePath,
    grant: Option<&Grant>,
    res: &mut Response,
) {
    if res.status().is_client_error() || res.status().is_server_error() || path.pod().is_none() {
        return;
    }
    let kind = match grant.and_then(|g| g.kind) {
        Some(k) => Some(k),
        None => state.pod_of(path).await.ok().flatten().map(|p| p.access),
    };
    let mut links: Vec<(String, &str)> = Vec::new();
    match path.auxiliary() {
        None => links.push((state.iri(path.acl().as_str()), "acl")),
        Some((Auxiliary::AccessControl, _)) if kind == Some(AccessKind::Acp) => {
            links.push((ACCESS_CONTROL_RESOURCE.to_owned(), "type"));
            if *method == Method::OPTIONS {
                for mode in [ACL_READ, ACL_APPEND, ACL_WRITE, ACL_CONTROL] {
                    links.push((mode.to_owned(), GRANT_REL));
                }
                for attribute in SUPPORTED_ATTRIBUTES {
                    links.push((attribute.to_owned(), ATTRIBUTE_REL));
                }
            }
        }
        Some(_) => {}
    }
    let h = res.headers_mut();
    if !links.is_empty() {
        let extra = format_links(links.iter().map(|(t, r)| (t.as_str(), *r)));
        if let Ok(v) = HeaderValue::from_str(&extra) {
            h.append(header::LINK, v);
        }
    }
    if let (Some(g), Some(public)) = (grant, grant.and_then(|g| g.public)) {
        set(
            h,
            HeaderName::from_static("wac-allow"),
            &wac_allow(g.modes, public),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_string_safe;
    use axum::http::HeaderValue;

    #[test]
    fn error_text_with_newlines_and_quotes_still_makes_a_header() {
        let hostile = "bad \"token\"\r\nSet-Cookie: x=1\u{7f} \\ é";
        let safe = quoted_string_safe(hostile);
        let challenge = format!("DPoP error_description=\"{safe}\"");
        assert!(HeaderValue::from_str(&challenge).is_ok(), "{challenge}");
        assert!(!safe.contains('"') && !safe.contains('\n'));
    }
}
