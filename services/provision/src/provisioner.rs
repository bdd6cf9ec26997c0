//! Provisioning a pod, whoever asks: an app through the HTTP API (for the authenticated
//! caller, within the per-owner limit) or an operator through `podplane pod create` (any
//! owner, any name, no limit). One path for both:
//!
//! 1. reserve the name for the owner in this service's database, counting it against the
//!    owner's limit, in one transaction;
//! 2. order the pod from the storage service (root, owner, access control in one of its
//!    transactions; idempotent);
//! 3. mark the reservation active, or give it back if storage says the name is taken.
//!
//! A crash or a lost answer between 2 and 3 leaves a reservation in `creating`:
//! [`Provisioner::finish_unconfirmed`] sends its order again later, so it ends as a pod or
//! as a free name, never as a count with nothing behind it.

use crate::error::{ProvisionError, ProvisionResult};
use crate::storage::{Made, PodOrder, PodStorage, PodUsage};
use crate::store::{PodRecord, PodState, ProvisionStore};
use podplane_solid::access::AccessKind;
use podplane_store::now_ms;
use std::sync::Arc;

/// What is asked for.
#[derive(Debug, Clone)]
pub struct PodRequest {
    /// WebID of the owner.
    pub owner: String,
    /// The pod name; `None`: one is minted.
    pub name: Option<String>,
    pub access: AccessKind,
    /// Most pods the owner may hold; `None` for an operator, who may exceed it.
    pub limit: Option<u32>,
}

#[derive(Clone)]
pub struct Provisioner {
    pub store: ProvisionStore,
    pub(crate) storage: Arc<dyn PodStorage>,
    storage_base_url: String,
}

/// Minted names are random: a collision is a freak, but one retry costs nothing.
const MINT_ATTEMPTS: usize = 3;

impl Provisioner {
    /// `storage_base_url`: the public base URL of the storage the pods live in.
    pub fn new(
        store: ProvisionStore,
        storage: Arc<dyn PodStorage>,
        storage_base_url: &str,
    ) -> Self {
        Self {
            store,
            storage,
            storage_base_url: storage_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The root IRI of pod `name`.
    pub fn storage_of(&self, name: &str) -> String {
        format!("{}/{name}/", self.storage_base_url)
    }

    /// Makes a pod; answers its root IRI.
    pub async fn create(&self, req: &PodRequest) -> ProvisionResult<String> {
        check_owner(&req.owner)?;
        if let Some(name) = &req.name {
            podplane_solid::pod::check_name(name)?;
        }
        for _ in 0..MINT_ATTEMPTS {
            let record = PodRecord {
                name: req.name.clone().unwrap_or_else(mint_name),
                owner: req.owner.clone(),
                access: req.access.as_str().to_owned(),
                state: PodState::Creating,
                created_at: now_ms(),
            };
            match self.store.reserve(&record, req.limit).await {
                Ok(()) => return self.confirm(&record).await,
                Err(ProvisionError::NameTaken(detail)) => match &req.name {
                    None => continue,
                    // The same owner asking again for a name whose first request died
                    // half-way: finish that one instead of refusing.
                    Some(name) => match self.store.get(name).await? {
                        Some(held)
                            if held.owner == req.owner && held.state == PodState::Creating =>
                        {
                            return self.confirm(&held).await
                        }
                        _ => return Err(ProvisionError::NameTaken(detail)),
                    },
                },
                Err(e) => return Err(e),
            }
        }
        Err(ProvisionError::Internal(
            "every minted pod name was taken".into(),
        ))
    }

    /// Orders a reserved pod from storage and records the outcome.
    async fn confirm(&self, record: &PodRecord) -> ProvisionResult<String> {
        let order = PodOrder {
            name: record.name.clone(),
            owner: record.owner.clone(),
            access: record.access.clone(),
        };
        match self.storage.create(&order).await? {
            Made::Pod(storage) => {
                self.store.activate(&record.name).await?;
                tracing::info!(pod = %record.name, owner = %record.owner, "pod provisioned");
                Ok(storage)
            }
            Made::Taken => {
                self.store.release(&record.name).await?;
                Err(ProvisionError::NameTaken(format!(
                    "a pod named {} already exists",
                    record.name
                )))
            }
        }
    }

    /// The root IRIs of `owner`'s pods, oldest first.
    pub async fn list(&self, owner: &str) -> ProvisionResult<Vec<String>> {
        let pods = self.store.owned_by(owner).await?;
        Ok(pods.iter().map(|p| self.storage_of(&p.name)).collect())
    }

    /// One pod's figures from storage (`None`: no such pod).
    pub async fn usage(&self, name: &str) -> ProvisionResult<Option<PodUsage>> {
        if podplane_solid::pod::check_name(name).is_err() {
            return Ok(None);
        }
        self.storage.usage(name).await
    }

    /// Every pod's figures, by name (pods made before this service existed included).
    pub async fn all_usage(&self) -> ProvisionResult<Vec<PodUsage>> {
        self.storage.all_usage().await
    }

    /// Sets (`None`: clears) a pod's own quota.
    pub async fn set_quota(&self, name: &str, bytes: Option<u64>) -> ProvisionResult<()> {
        let found = podplane_solid::pod::check_name(name).is_ok()
            && self.storage.set_quota(name, bytes).await?;
        if found {
            Ok(())
        } else {
            Err(ProvisionError::NotFound(format!("no pod named {name}")))
        }
    }

    /// Sends again the orders of reservations older than `age_ms` that were never confirmed.
    /// Returns how many were settled (made or given back).
    pub async fn finish_unconfirmed(&self, age_ms: i64) -> ProvisionResult<usize> {
        let stale = self.store.unconfirmed(now_ms() - age_ms, 100).await?;
        let mut settled = 0;
        for record in stale {
            match self.confirm(&record).await {
                Ok(_) | Err(ProvisionError::NameTaken(_)) => settled += 1,
                Err(e) => {
                    tracing::warn!(pod = %record.name, error = %e, "unconfirmed pod still pending");
                }
            }
        }
        Ok(settled)
    }
}

/// Owners are WebIDs: http(s) URLs.
fn check_owner(owner: &str) -> ProvisionResult<()> {
    let ok = url::Url::parse(owner).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok {
        Ok(())
    } else {
        Err(ProvisionError::BadRequest(format!(
            "the owner {owner:?} is not an http(s) WebID"
        )))
    }
}

/// A fresh pod name: a random UUID, as ESS names its pods.
fn mint_name() -> String {
    uuid::Uuid::new_v4().to_string()
}
