//! Deleting a pod, whoever asks: its owner or an administrator through the HTTP API, or an
//! operator through `podplane pod delete`. One path for all:
//!
//! 1. record the deletion in this service's database (the pod's state becomes `deleting`: its
//!    name stays taken and it still counts against its owner);
//! 2. order the deletion from storage, which makes the pod answer 404 at once and purges it
//!    asynchronously (its purger, fed through Kafka);
//! 3. once storage answers a repeated order with "no such pod", the purge is done: the
//!    deletion is finished, the name is free and the owner's count drops.
//!
//! Step 2 is repeated by whoever looks at the deletion (its status resource) and by
//! [`Provisioner::finish_deletions`] in the background, so a crash or an unreachable storage
//! service between the steps only delays the end.

use crate::error::{ProvisionError, ProvisionResult};
use crate::provisioner::Provisioner;
use crate::storage::Purge;
use crate::store::{Deletion, PodRecord, PodState, Started};
use podplane_store::now_ms;

/// Who asks for what only a pod's owner and administrators may do.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    Agent {
        webid: &'a str,
        admin: bool,
    },
    /// `podplane pod …` on the server's own databases.
    Operator,
}

impl Asker<'_> {
    fn name(&self) -> &str {
        match self {
            Asker::Agent { webid, .. } => webid,
            Asker::Operator => "operator",
        }
    }

    /// Whether the asker may act on what `owner` owns (or follow what `requester` asked).
    fn may_act_for(&self, owner: &str, requester: Option<&str>) -> bool {
        match self {
            Asker::Agent { webid, admin } => *admin || *webid == owner || requester == Some(*webid),
            Asker::Operator => true,
        }
    }
}

impl Provisioner {
    /// Deletes pod `name`; answers the deletion (the one already under way, if any).
    pub async fn delete(&self, name: &str, asker: Asker<'_>) -> ProvisionResult<Deletion> {
        let missing = || ProvisionError::NotFound(format!("no pod named {name}"));
        if podplane_solid::pod::check_name(name).is_err() {
            return Err(missing());
        }
        let (owner, unrecorded) = match self.store.get(name).await? {
            Some(record) => (record.owner, None),
            // A pod made before this service kept records: storage knows its owner.
            None => {
                let pod = self.usage(name).await?.ok_or_else(missing)?;
                (pod.owner.clone().unwrap_or_default(), Some(pod.access))
            }
        };
        if !asker.may_act_for(&owner, None) {
            return Err(ProvisionError::Forbidden(
                "only the pod's owner and administrators may delete it".into(),
            ));
        }
        let fresh = Deletion {
            id: uuid::Uuid::new_v4().to_string(),
            pod: name.to_owned(),
            owner: owner.clone(),
            requested_by: asker.name().to_owned(),
            requested_at: now_ms(),
            purged_at: None,
        };
        let deletion = match self.store.start_deletion(name, &fresh).await? {
            Started::Deletion(d) => d,
            Started::Creating => {
                return Err(ProvisionError::NameTaken(format!(
                    "pod {name} is still being created; delete it once it exists"
                )))
            }
            Started::Unrecorded => {
                let access = unrecorded.unwrap_or_default();
                self.record_existing(name, &owner, &access).await?;
                match self.store.start_deletion(name, &fresh).await? {
                    Started::Deletion(d) => d,
                    _ => return Err(missing()),
                }
            }
        };
        tracing::info!(pod = name, by = asker.name(), "pod deletion requested");
        self.advance(deletion).await
    }

    /// Records a pod storage has and this service does not (made before it kept records), as
    /// an active pod of `owner`, so it can be deleted like any other.
    async fn record_existing(&self, name: &str, owner: &str, access: &str) -> ProvisionResult<()> {
        let record = PodRecord {
            name: name.to_owned(),
            owner: owner.to_owned(),
            access: access.to_owned(),
            state: PodState::Creating,
            created_at: now_ms(),
        };
        match self.store.reserve(&record, None).await {
            Ok(()) | Err(ProvisionError::NameTaken(_)) => {}
            Err(e) => return Err(e),
        }
        self.store.activate(name).await
    }

    /// Deletion `id`, as it stands now, for its owner, its requester and administrators.
    pub async fn deletion(&self, id: &str, asker: Asker<'_>) -> ProvisionResult<Deletion> {
        let deletion = self
            .store
            .deletion(id)
            .await?
            .ok_or_else(|| ProvisionError::NotFound(format!("no pod deletion {id}")))?;
        if !asker.may_act_for(&deletion.owner, Some(&deletion.requested_by)) {
            return Err(ProvisionError::Forbidden(
                "only the pod's owner, who asked and administrators may follow its deletion".into(),
            ));
        }
        match deletion.purged_at {
            Some(_) => Ok(deletion),
            None => self.advance(deletion).await,
        }
    }

    /// Orders the deletion from storage (again); finishes it once storage has purged the pod.
    async fn advance(&self, deletion: Deletion) -> ProvisionResult<Deletion> {
        match self
            .storage
            .delete(&deletion.pod, &deletion.requested_by)
            .await?
        {
            Purge::Running => Ok(deletion),
            Purge::Done => {
                let now = now_ms();
                self.store.finish_deletion(&deletion, now).await?;
                tracing::info!(pod = %deletion.pod, "pod deletion finished");
                Ok(Deletion {
                    purged_at: Some(now),
                    ..deletion
                })
            }
        }
    }

    /// Advances every deletion requested more than `age_ms` ago and not finished; returns
    /// how many finished.
    pub async fn finish_deletions(&self, age_ms: i64) -> ProvisionResult<usize> {
        let pending = self
            .store
            .unfinished_deletions(now_ms() - age_ms, 100)
            .await?;
        let mut finished = 0;
        for deletion in pending {
            match self.advance(deletion).await {
                Ok(d) if d.purged_at.is_some() => finished += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pod deletion still pending"),
            }
        }
        Ok(finished)
    }
}
