//! The provisioning service in either mode: its state from flags, and the in-process way of
//! making pods that embedded mode and `podplane pod create` use instead of HTTP.

use crate::cli::{AdminTarget, HttpArgs};
use podplane_provision::store::ProvisionStore;
use podplane_provision::{
    Asker, Made, PodOrder, PodRequest, PodStorage, PodUsage, ProvisionConfig, ProvisionError,
    Provisioner, Purge, State,
};
use podplane_solid::access::AccessKind;
use podplane_storage::error::ApiError;
use podplane_store::{MetadataStore, StoreError};
use std::sync::Arc;
use tokio::sync::Notify;

/// Pods made (and their figures read, their quotas set) by the storage crate's code in this
/// process, on the storage database `meta`.
pub struct InProcessPods {
    meta: Arc<dyn MetadataStore>,
    base_url: String,
    /// The outbox relay to wake after a commit, when one runs in this process.
    outbox_wake: Option<Arc<Notify>>,
    /// The storage service's default quota, for the figures it reports.
    default_quota: Option<u64>,
}

impl InProcessPods {
    /// On the storage database `meta` (an administrative command: no relay, no default quota).
    pub fn new(meta: Arc<dyn MetadataStore>, base_url: &str) -> Self {
        Self {
            meta,
            base_url: base_url.to_owned(),
            outbox_wake: None,
            default_quota: None,
        }
    }

    /// Around the storage service's state (embedded mode).
    pub fn of(state: &podplane_storage::AppState) -> Self {
        Self {
            outbox_wake: Some(state.outbox_wake.clone()),
            default_quota: state.config.default_quota_bytes,
            ..Self::new(state.meta.clone(), &state.config.base_url)
        }
    }
}

/// The storage crate's figures in the provisioning service's words (the same wire shape).
fn usage_of(pod: &podplane_store::Pod, default_quota: Option<u64>) -> PodUsage {
    let u = podplane_storage::pods::PodUsage::of(pod, default_quota);
    PodUsage {
        name: u.name,
        owner: u.owner,
        access: u.access,
        used_bytes: u.used_bytes,
        quota_bytes: u.quota_bytes,
        own_quota: u.own_quota,
    }
}

fn store_error(e: StoreError) -> ProvisionError {
    match e {
        StoreError::Unavailable(m) => ProvisionError::Unavailable(m),
        other => ProvisionError::Internal(other.to_string()),
    }
}

#[async_trait::async_trait]
impl PodStorage for InProcessPods {
    async fn create(&self, order: &PodOrder) -> Result<Made, ProvisionError> {
        let order = podplane_storage::pods::PodOrder {
            name: order.name.clone(),
            owner: order.owner.clone(),
            access: order.access.clone(),
        };
        match podplane_storage::pods::create(self.meta.as_ref(), &self.base_url, &order).await {
            Ok(made) => {
                if let Some(wake) = &self.outbox_wake {
                    wake.notify_one();
                }
                Ok(Made::Pod(made.storage))
            }
            Err(ApiError::Conflict(_)) => Ok(Made::Taken),
            Err(ApiError::Store(e)) => Err(store_error(e)),
            Err(e) => Err(ProvisionError::Internal(e.to_string())),
        }
    }

    async fn usage(&self, name: &str) -> Result<Option<PodUsage>, ProvisionError> {
        let pod = self.meta.get_pod(name).await.map_err(store_error)?;
        Ok(pod.map(|p| usage_of(&p, self.default_quota)))
    }

    async fn all_usage(&self) -> Result<Vec<PodUsage>, ProvisionError> {
        let pods = self.meta.list_pods().await.map_err(store_error)?;
        Ok(pods
            .iter()
            .map(|p| usage_of(p, self.default_quota))
            .collect())
    }

    async fn set_quota(&self, name: &str, bytes: Option<u64>) -> Result<bool, ProvisionError> {
        match self.meta.set_quota(name, bytes).await {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn delete(&self, name: &str, actor: &str) -> Result<Purge, ProvisionError> {
        let order = podplane_storage::pods::DeleteOrder {
            actor: Some(actor.to_owned()),
        };
        match podplane_storage::pods::delete(self.meta.as_ref(), &self.base_url, name, &order).await
        {
            Ok(Some(_)) => {
                if let Some(wake) = &self.outbox_wake {
                    wake.notify_one();
                }
                Ok(Purge::Running)
            }
            Ok(None) => Ok(Purge::Done),
            Err(ApiError::Store(e)) => Err(store_error(e)),
            Err(e) => Err(ProvisionError::Internal(e.to_string())),
        }
    }
}

/// The service state: owners recorded in `database_url`, pods made by `storage`.
pub async fn state(
    config: ProvisionConfig,
    database_url: &str,
    max_connections: u32,
    storage: Arc<dyn PodStorage>,
    storage_base_url: &str,
    verifier: Option<Arc<podplane_auth::Verifier>>,
    http: &HttpArgs,
) -> anyhow::Result<State> {
    let store = ProvisionStore::open(database_url, max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("opening the provisioning database: {e}"))?;
    let verifier = match verifier {
        Some(v) => v,
        // Replicas share DPoP proof ids through the provisioning database.
        None => Arc::new(podplane_auth::Verifier::new(
            http.auth.config()?,
            Arc::new(store.clone()),
        )),
    };
    let provisioner = Provisioner::new(store, storage, storage_base_url);
    Ok(State::new(config, provisioner, verifier))
}

/// `podplane pod create`: the provisioning service's path, run here, for any owner and
/// without the per-owner limit (an operator may exceed it).
pub async fn create_pod(
    target: &AdminTarget,
    name: &str,
    owner: &str,
    access: AccessKind,
) -> anyhow::Result<String> {
    let provisioner = admin_provisioner(target).await?;
    let storage = provisioner
        .create(&PodRequest {
            owner: owner.to_owned(),
            name: Some(name.to_owned()),
            access,
            limit: None,
        })
        .await?;
    Ok(storage)
}

/// `podplane pod delete`: the provisioning service's path, run here as the operator. The purge
/// itself is the storage purger's, in the server; `wait` follows it to the end.
pub async fn delete_pod(target: &AdminTarget, name: &str, wait: bool) -> anyhow::Result<()> {
    let provisioner = admin_provisioner(target).await?;
    let mut deletion = provisioner.delete(name, Asker::Operator).await?;
    println!("pod {name} deleted; its purge runs in the server");
    while wait && deletion.purged_at.is_none() {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        deletion = provisioner.deletion(&deletion.id, Asker::Operator).await?;
    }
    if deletion.purged_at.is_some() {
        println!("pod {name} purged; the name is free");
    }
    Ok(())
}

/// The provisioning service over the databases an administrative command works on.
async fn admin_provisioner(target: &AdminTarget) -> anyhow::Result<Provisioner> {
    let (meta, base) = crate::runtime::admin_store(target).await?;
    let store = ProvisionStore::open(&target.provision_database_url()?, 2)
        .await
        .map_err(|e| anyhow::anyhow!("opening the provisioning database: {e}"))?;
    Ok(Provisioner::new(
        store,
        Arc::new(InProcessPods::new(meta, &base)),
        &base,
    ))
}
