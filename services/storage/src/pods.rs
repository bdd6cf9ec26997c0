//! Pods as a whole: creating one (its root container, its owner and its initial access
//! control document, in one transaction of the metadata store), what each holds against its
//! quota, setting a pod's own quota, and deleting one (gone for clients at once, purged
//! afterwards by `purger`). Every way of making or administering a pod ends
//! here: the provisioning service (over `/.internal/pods…`, or in process in embedded mode)
//! and so `podplane pod create`, which goes through the provisioning service's code.

use crate::error::{ApiError, ApiResult};
use podplane_solid::access::AccessKind;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::rebase;
use podplane_store::{MetadataStore, NewPod, PodDeletion, StoreError};
use serde::{Deserialize, Serialize};

/// A pod to create (also the wire shape of `POST /.internal/pods`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodOrder {
    pub name: String,
    /// WebID of the owner: the one agent with access to the new pod.
    pub owner: String,
    /// `acp` or `wac`.
    pub access: String,
}

/// What was made (the answer of `POST /.internal/pods`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPod {
    /// The pod root's IRI.
    pub storage: String,
    /// `false` when the same order had already been carried out (orders are retried after
    /// a crash or a lost answer, so they must be idempotent).
    pub created: bool,
}

/// A pod's figures (also the wire shape of `GET /.internal/pods…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodUsage {
    pub name: String,
    pub owner: Option<String>,
    /// `acp` or `wac`.
    pub access: String,
    pub used_bytes: u64,
    /// The quota that applies: the pod's own, else the server's default; `None`: unlimited.
    pub quota_bytes: Option<u64>,
    /// Whether the quota is the pod's own (`false`: the default applies).
    pub own_quota: bool,
}

impl PodUsage {
    pub fn of(pod: &podplane_store::Pod, default_quota: Option<u64>) -> Self {
        Self {
            name: pod.name.clone(),
            owner: pod.owner.clone(),
            access: pod.access.as_str().to_owned(),
            used_bytes: u64::try_from(pod.used_bytes).unwrap_or(0),
            quota_bytes: podplane_store::effective_quota(pod.quota_bytes, default_quota),
            own_quota: pod.quota_bytes.is_some(),
        }
    }
}

/// A pod's own quota, to set (the wire shape of `PUT /.internal/pods/{name}/quota`);
/// `bytes: None` gives the pod back to the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaOrder {
    pub bytes: Option<u64>,
}

/// Carries out `order` against `meta`, whose IRIs live under `base_url`. Creating a pod that
/// exists with the same owner succeeds again (`created: false`); another owner's pod of that
/// name is a conflict.
pub async fn create(
    meta: &dyn MetadataStore,
    base_url: &str,
    order: &PodOrder,
) -> ApiResult<CreatedPod> {
    podplane_solid::pod::check_name(&order.name)?;
    let owner = url::Url::parse(&order.owner)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the owner {:?} is not an http(s) WebID",
                order.owner
            ))
        })?;
    let access = AccessKind::parse(&order.access).ok_or_else(|| {
        ApiError::BadRequest(format!("unknown access control {:?}", order.access))
    })?;
    let storage = format!("{}/{}/", base_url.trim_end_matches('/'), order.name);
    let document = podplane_solid::access::initial_document(access, &storage, owner.as_str());
    let document = stored_form(base_url, &order.name, &document)?;
    let made = meta
        .create_pod(NewPod {
            name: &order.name,
            owner: Some(&order.owner),
            access,
            acl: Some(&document),
        })
        .await;
    match made {
        Ok(_) => Ok(CreatedPod {
            storage,
            created: true,
        }),
        Err(StoreError::Conflict(detail)) => match meta.get_pod(&order.name).await? {
            Some(pod) if pod.owner.as_deref() == Some(order.owner.as_str()) => Ok(CreatedPod {
                storage,
                created: false,
            }),
            Some(_) => Err(ApiError::Conflict(format!(
                "a pod named {} already exists",
                order.name
            ))),
            None => Err(ApiError::Conflict(detail)),
        },
        Err(e) => Err(e.into()),
    }
}

/// The pod root's access control document as stored: like every document, independent of
/// the base URL (`rebase`).
fn stored_form(base_url: &str, name: &str, document: &str) -> ApiResult<Vec<u8>> {
    let acl = podplane_solid::path::ResourcePath::parse(&format!("/{name}/"))?.acl();
    let iri = format!("{}{acl}", base_url.trim_end_matches('/'));
    let limits = podplane_solid::limits::Limits::default();
    let triples = rdf::parse(document.as_bytes(), RdfFormat::Turtle, &iri, None, &limits)
        .map_err(|e| ApiError::Internal(format!("the initial access document: {e}")))?;
    let roots = [rebase::root_of(base_url)];
    Ok(rebase::stored_turtle(&triples, acl.as_str(), &roots))
}

/// A pod deletion under way (the answer of `DELETE /.internal/pods/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedPod {
    /// The pod root's IRI.
    pub storage: String,
    /// `false` when the pod had been deleted before (its purge may still be running):
    /// orders are repeated, and a repeat is also how to learn whether the purge is done.
    pub deleted_now: bool,
}

/// Who deletes a pod (the optional body of `DELETE /.internal/pods/{name}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteOrder {
    /// WebID of the agent who asked, recorded in the `pod-deleted` event.
    pub actor: Option<String>,
}

/// Deletes pod `name` for clients at once and leaves its purge to the purger; `None` when no
/// such pod exists, or its purge has finished.
pub async fn delete(
    meta: &dyn MetadataStore,
    base_url: &str,
    name: &str,
    order: &DeleteOrder,
) -> ApiResult<Option<DeletedPod>> {
    podplane_solid::pod::check_name(name)?;
    let storage = format!("{}/{name}/", base_url.trim_end_matches('/'));
    Ok(match meta.delete_pod(name, order.actor.as_deref()).await? {
        PodDeletion::Deleted => Some(DeletedPod {
            storage,
            deleted_now: true,
        }),
        PodDeletion::AlreadyDeleted => Some(DeletedPod {
            storage,
            deleted_now: false,
        }),
        PodDeletion::NoSuchPod => None,
    })
}
