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
use podplane_store::{Allowed, Resource, StoreError};

/// What a request was granted: who asks, and what they hold. It travels with the request to
/// its store call, which applies the part that depends on what exists at commit.
#[derive(Debug, Clone)]
pub struct Grant {
    pub who: Requester,
    /// Modes on the target resource; `Modes::ALL` in open-access mode.
    pub modes: Modes,
    /// Modes the public holds, for `WAC-Allow` on GET/HEAD.
    pub public: Option<Modes>,
    pub kind: Option<AccessKind>,
    /// What the requester holds where an operation can need it.
    held: Held,
    /// The target's row as authorization read it (`Some(None)`: there is none), when the
    /// target is not an auxiliary resource: see [`Grant::take_row`].
    row: Option<Option<Resource>>,
    /// The request's id (`X-Request-Id`), for audit events.
    request_id: Option<String>,
}

/// The modes held in the three places `access::need` names.
#[derive(Debug, Clone, Copy)]
struct Held {
    target: Modes,
    parent: Modes,
    control: Modes,
}

impl Held {
    const ALL: Held = Held {
        target: Modes::ALL,
        parent: Modes::ALL,
        control: Modes::ALL,
    };
    const NONE: Held = Held {
        target: Modes::NONE,
        parent: Modes::NONE,
        control: Modes::NONE,
    };
}

impl Grant {
    /// The authenticated WebID behind a request, for events and `acp:CreatorAgent`.
    pub fn actor(&self) -> Option<&str> {
        self.who.webid.as_deref()
    }

    /// A grant of nothing to `who`.
    fn of(who: Requester) -> Self {
        Grant {
            who,
            modes: Modes::NONE,
            public: None,
            kind: None,
            held: Held::NONE,
            row: None,
            request_id: None,
        }
    }

    /// Who asked, and in which request, as audit events record it.
    pub fn audited(&self) -> podplane_events::Audited {
        audited(&self.who, self.request_id.clone())
    }

    /// The target's row: the one authorization read, or (for an auxiliary resource, whose
    /// authorization reads its subject) read now. Taken, so it is used once.
    pub async fn take_row(
        &mut self,
        state: &AppState,
        path: &ResourcePath,
    ) -> ApiResult<Option<Resource>> {
        match self.row.take() {
            Some(row) => Ok(row),
            None => Ok(state.meta.get(path.as_str()).await?),
        }
    }

    /// Whether `op` may create `path` and whether it may replace it: headers are authorized
    /// before the body arrives, and the target can appear or vanish meanwhile, so both are
    /// decided now and the store applies the one that matches what exists at commit (a
    /// create never lands as an overwrite of someone else's document, nor the reverse).
    pub fn allowed(&self, path: &ResourcePath, op: impl Fn(bool) -> Operation) -> Allowed {
        let held = self.held;
        let may = |exists| need_at(path, op(exists)).met_by(held.target, held.parent, held.control);
        Allowed {
            create: may(false),
            replace: may(true),
        }
    }

    /// The answer to a store call on `path` that failed with `e`: a refusal at commit is a 401
    /// or 403 naming what `op` needed; anything else maps as usual.
    pub fn explain(
        &self,
        state: &AppState,
        path: &ResourcePath,
        op: impl Fn(bool) -> Operation,
        e: StoreError,
    ) -> ApiError {
        match e {
            StoreError::Refused { exists } => {
                refuse(state, &self.who, need_at(path, op(exists)).named())
            }
            other => other.into(),
        }
    }
}

/// What `op` needs on `path` (an auxiliary resource's needs are decided on its subject).
fn need_at(path: &ResourcePath, op: Operation) -> access::Need {
    match path.auxiliary() {
        Some((kind, subject)) => access::need(op, Some(kind), subject.is_pod_root()),
        None => access::need(op, None, path.is_pod_root()),
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

/// A request that may not proceed: why, and who asked (for its audit event).
pub struct Refusal {
    pub who: podplane_events::Audited,
    pub error: ApiError,
}

/// Decides whether the request may proceed. Paths in no (live) pod are a 404; the server
/// root passes (its handlers answer for it).
pub async fn authorize(
    state: &AppState,
    method: &Method,
    path: &ResourcePath,
    raw_path: &str,
    headers: &HeaderMap,
) -> Result<Grant, Refusal> {
    let request_id = header_str(headers, "x-request-id").map(str::to_owned);
    let who = match identify(state, method, raw_path, headers).await {
        Ok(who) => who,
        Err(error) => {
            let who = audited(&Requester::anonymous(None), request_id);
            return Err(Refusal { who, error });
        }
    };
    // Made only when a refusal would be audited.
    let audit = state.audit.mode() != crate::audit::AuditMode::Off;
    let asked = audit.then(|| audited(&who, request_id.clone()));
    match decide(state, method, path, who).await {
        Ok(mut grant) => {
            grant.request_id = request_id;
            Ok(grant)
        }
        Err(error) => Err(Refusal {
            who: asked.unwrap_or_default(),
            error,
        }),
    }
}

/// Who asked, and in which request, as audit events record it.
fn audited(who: &Requester, request_id: Option<String>) -> podplane_events::Audited {
    podplane_events::Audited {
        webid: who.webid.clone(),
        client_id: who.client_id.clone(),
        issuer: who.issuer.clone(),
        request_id,
    }
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
    let governing = state.access.governing(&subject).await?;
    // In no pod, or in a deleted one whose rows are still being purged: nothing of it may be
    // read again, whatever the access control.
    if governing.is_none() && subject.pod().is_some() {
        return Err(ApiError::NotFound(format!("no pod holds {path}")));
    }
    if state.config.open_access {
        return Ok(Grant {
            who,
            modes: Modes::ALL,
            public: Some(Modes::ALL),
            kind: None,
            held: Held::ALL,
            row: None,
            request_id: None,
        });
    }
    let Some(mut g) = governing else {
        return Ok(Grant::of(who));
    };
    let kind = Some(g.pod.access);
    let reads = matches!(*method, Method::GET | Method::HEAD);
    let on_subject = state.access.effective(&g, &subject, &who).await;
    let public = match (reads && aux.is_none(), who == who.as_public()) {
        (false, _) => None,
        // An anonymous request already is the public's.
        (true, true) => Some(on_subject.resource),
        (true, false) => Some(
            state
                .access
                .effective(&g, &subject, &who.as_public())
                .await
                .resource,
        ),
    };
    let exists = g.subject.is_some();
    // Before the body is read, a PATCH is authorized for the least it can need; the handler
    // decides the rest from the parsed body.
    let need = access::need(
        operation(method, exists, PatchShape::INSERT_ONLY),
        aux,
        subject.is_pod_root(),
    );
    // A PUT or PATCH creates or replaces depending on what exists at commit: the parent's
    // modes are needed for the first, whatever exists now.
    let writes = aux.is_none() && matches!(*method, Method::PUT | Method::PATCH);
    let on_parent = match subject.parent() {
        Some(parent) if (writes || !need.parent.is_empty()) && !parent.is_root() => {
            state.access.effective(&g, &parent, &who).await.resource
        }
        _ => Modes::NONE,
    };
    let held = Held {
        target: on_subject.resource,
        parent: on_parent,
        control: on_subject.acl,
    };
    if !need.met_by(held.target, held.parent, held.control) {
        return Err(refuse(state, &who, need.named()));
    }
    let modes = if aux == Some(Auxiliary::AccessControl) {
        Modes::ALL
    } else if need.creates() {
        on_subject.resource.union(Modes::APPEND)
    } else {
        on_subject.resource
    };
    Ok(Grant {
        who,
        modes,
        public,
        kind,
        held,
        row: aux.is_none().then(|| g.subject.take()),
        request_id: None,
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

/// What a grant lets a successful response tell the client about access.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    kind: Option<AccessKind>,
    modes: Modes,
    public: Option<Modes>,
}

impl Grant {
    pub fn shown(&self) -> Shown {
        Shown {
            kind: self.kind,
            modes: self.modes,
            public: self.public,
        }
    }
}

/// The access headers of a successful response.
pub async fn decorate(
    state: &AppState,
    method: &Method,
    path: &ResourcePath,
    shown: Option<Shown>,
    res: &mut Response,
) {
    if res.status().is_client_error() || res.status().is_server_error() || path.pod().is_none() {
        return;
    }
    let kind = match shown.and_then(|g| g.kind) {
        Some(k) => Some(k),
        None => state
            .access
            .pod_of(path)
            .await
            .ok()
            .flatten()
            .map(|p| p.access),
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
    if let Some(Shown {
        modes,
        public: Some(public),
        ..
    }) = shown
    {
        set(
            h,
            HeaderName::from_static("wac-allow"),
            &wac_allow(modes, public),
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
