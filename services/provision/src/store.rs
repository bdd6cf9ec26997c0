//! The provisioning database: which pods this service made, for whom, and how many each owner
//! holds; plus DPoP proof ids shared by replicas. One implementation over sqlx's `Any` driver:
//! the engine is chosen by URL (`postgres://…` distributed, `sqlite://…` embedded) and the
//! statements are the SQL both engines share.

use crate::error::{ProvisionError, ProvisionResult};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where a pod is in its life, as this service knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodState {
    /// The name is reserved; the storage service has not confirmed the pod yet.
    Creating,
    Active,
    /// Deleted; the name stays taken until storage has purged the pod.
    Deleting,
}

impl PodState {
    fn as_str(self) -> &'static str {
        match self {
            PodState::Creating => "creating",
            PodState::Active => "active",
            PodState::Deleting => "deleting",
        }
    }

    fn parse(s: &str) -> PodState {
        match s {
            "active" => PodState::Active,
            "deleting" => PodState::Deleting,
            _ => PodState::Creating,
        }
    }
}

/// One pod as this service records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRecord {
    pub name: String,
    pub owner: String,
    /// `acp` or `wac`.
    pub access: String,
    pub state: PodState,
    pub created_at: i64,
}

/// One pod deletion, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub id: String,
    pub pod: String,
    /// The pod's owner (who may follow the deletion, beside administrators).
    pub owner: String,
    /// WebID of who asked (the owner, an administrator, or `operator` for the CLI).
    pub requested_by: String,
    pub requested_at: i64,
    /// When storage reported the pod purged; `None` while it is being purged.
    pub purged_at: Option<i64>,
}

/// What starting a deletion found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The deletion recorded now, or the one already under way for the pod.
    Deletion(Deletion),
    /// The pod is still being created: it cannot be deleted before it exists.
    Creating,
    /// This service has no record of the pod.
    Unrecorded,
}

const DELETION_COLUMNS: &str = "id, pod, owner, requested_by, requested_at, purged_at";

fn deletion_of(row: &AnyRow) -> ProvisionResult<Deletion> {
    Ok(Deletion {
        id: row.try_get("id")?,
        pod: row.try_get("pod")?,
        owner: row.try_get("owner")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        purged_at: row.try_get("purged_at")?,
    })
}

#[derive(Clone)]
pub struct ProvisionStore {
    pool: AnyPool,
}

const POD_COLUMNS: &str = "name, owner, access, state, created_at";

fn record_of(row: &AnyRow) -> ProvisionResult<PodRecord> {
    let state: String = row.try_get("state")?;
    Ok(PodRecord {
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        access: row.try_get("access")?,
        state: PodState::parse(&state),
        created_at: row.try_get("created_at")?,
    })
}

impl ProvisionStore {
    /// Connects to `url` (`postgres://…` or `sqlite://path`) and applies the migrations.
    pub async fn open(url: &str, max_connections: u32) -> ProvisionResult<Self> {
        let pool = podplane_store::service_db::open(url, max_connections, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    /// Reserves `pod.name` for `pod.owner` (state `creating`) and counts it against the
    /// owner, in one transaction: refused with `LimitReached` when the owner already holds
    /// `limit` pods, with `NameTaken` when the name is recorded. The count is a row updated
    /// under its lock, so concurrent reservations by one owner cannot pass the limit together.
    pub async fn reserve(&self, pod: &PodRecord, limit: Option<u32>) -> ProvisionResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO owners (owner, pods) VALUES ($1, 0) ON CONFLICT (owner) DO NOTHING",
        )
        .bind(&pod.owner)
        .execute(&mut *tx)
        .await?;
        let counted = match limit {
            Some(limit) => {
                sqlx::query("UPDATE owners SET pods = pods + 1 WHERE owner = $1 AND pods < $2")
                    .bind(&pod.owner)
                    .bind(i64::from(limit))
            }
            None => {
                sqlx::query("UPDATE owners SET pods = pods + 1 WHERE owner = $1").bind(&pod.owner)
            }
        }
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if counted == 0 {
            return Err(ProvisionError::LimitReached(format!(
                "{} already holds the most pods one owner may have ({})",
                pod.owner,
                limit.unwrap_or_default()
            )));
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO pods ({POD_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO NOTHING"
        ))
        .bind(&pod.name)
        .bind(&pod.owner)
        .bind(&pod.access)
        .bind(PodState::Creating.as_str())
        .bind(pod.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(ProvisionError::NameTaken(format!(
                "a pod named {} already exists",
                pod.name
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The storage service confirmed the pod.
    pub async fn activate(&self, name: &str) -> ProvisionResult<()> {
        sqlx::query("UPDATE pods SET state = $1 WHERE name = $2")
            .bind(PodState::Active.as_str())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives back a reservation the storage service refused: the name is free again and the
    /// owner's count drops. An active pod is never released this way.
    pub async fn release(&self, name: &str) -> ProvisionResult<()> {
        let mut tx = self.pool.begin().await?;
        let gone = sqlx::query("DELETE FROM pods WHERE name = $1 AND state = $2 RETURNING owner")
            .bind(name)
            .bind(PodState::Creating.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = gone {
            let owner: String = row.try_get("owner")?;
            sqlx::query("UPDATE owners SET pods = pods - 1 WHERE owner = $1 AND pods > 0")
                .bind(owner)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn get(&self, name: &str) -> ProvisionResult<Option<PodRecord>> {
        let row = sqlx::query(&format!("SELECT {POD_COLUMNS} FROM pods WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record_of).transpose()
    }

    /// The active pods of `owner`, oldest first.
    pub async fn owned_by(&self, owner: &str) -> ProvisionResult<Vec<PodRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {POD_COLUMNS} FROM pods WHERE owner = $1 AND state = $2 \
             ORDER BY created_at, name"
        ))
        .bind(owner)
        .bind(PodState::Active.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_of).collect()
    }

    /// Reservations older than `before` that were never confirmed (their request died
    /// between reserving and hearing back from storage), at most `limit` of them.
    pub async fn unconfirmed(&self, before: i64, limit: i64) -> ProvisionResult<Vec<PodRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {POD_COLUMNS} FROM pods WHERE state = $1 AND created_at < $2 \
             ORDER BY created_at LIMIT $3"
        ))
        .bind(PodState::Creating.as_str())
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_of).collect()
    }

    /// Records the deletion of pod `name` (state `deleting`) as `fresh` describes it, in one
    /// transaction; a pod already being deleted answers the deletion under way.
    pub async fn start_deletion(&self, name: &str, fresh: &Deletion) -> ProvisionResult<Started> {
        let mut tx = self.pool.begin().await?;
        // Read under the row's lock: two deletions of one pod at once take turns, and the
        // second finds the first's record instead of making another.
        let row = sqlx::query("UPDATE pods SET state = state WHERE name = $1 RETURNING state")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(Started::Unrecorded);
        };
        let state: String = row.try_get("state")?;
        match PodState::parse(&state) {
            PodState::Creating => return Ok(Started::Creating),
            PodState::Deleting => {
                let row = sqlx::query(&format!(
                    "SELECT {DELETION_COLUMNS} FROM deletions \
                     WHERE pod = $1 AND purged_at IS NULL ORDER BY requested_at DESC LIMIT 1"
                ))
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = row {
                    return Ok(Started::Deletion(deletion_of(&row)?));
                }
            }
            PodState::Active => {}
        }
        sqlx::query("UPDATE pods SET state = $1 WHERE name = $2")
            .bind(PodState::Deleting.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO deletions ({DELETION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL)"
        ))
        .bind(&fresh.id)
        .bind(name)
        .bind(&fresh.owner)
        .bind(&fresh.requested_by)
        .bind(fresh.requested_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Started::Deletion(Deletion {
            pod: name.to_owned(),
            ..fresh.clone()
        }))
    }

    /// Storage purged the pod of `deletion`: the deletion is done, the name is free again and
    /// the owner's count drops, in one transaction (a repeat changes nothing).
    pub async fn finish_deletion(&self, deletion: &Deletion, now: i64) -> ProvisionResult<()> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE deletions SET purged_at = $1 WHERE id = $2 AND purged_at IS NULL")
                .bind(now)
                .bind(&deletion.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if done > 0 {
            let gone =
                sqlx::query("DELETE FROM pods WHERE name = $1 AND state = $2 RETURNING owner")
                    .bind(&deletion.pod)
                    .bind(PodState::Deleting.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(row) = gone {
                let owner: String = row.try_get("owner")?;
                sqlx::query("UPDATE owners SET pods = pods - 1 WHERE owner = $1 AND pods > 0")
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn deletion(&self, id: &str) -> ProvisionResult<Option<Deletion>> {
        let row = sqlx::query(&format!(
            "SELECT {DELETION_COLUMNS} FROM deletions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(deletion_of).transpose()
    }

    /// Deletions requested before `before` whose purge has not been reported done.
    pub async fn unfinished_deletions(
        &self,
        before: i64,
        limit: i64,
    ) -> ProvisionResult<Vec<Deletion>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELETION_COLUMNS} FROM deletions \
             WHERE purged_at IS NULL AND requested_at < $1 ORDER BY requested_at LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(deletion_of).collect()
    }

    /// How many pods `owner` holds or is being given.
    pub async fn count(&self, owner: &str) -> ProvisionResult<i64> {
        let row = sqlx::query("SELECT pods FROM owners WHERE owner = $1")
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("pods")?,
            None => 0,
        })
    }

    /// Forgets DPoP proof ids that expired before `now` (Unix seconds).
    pub async fn purge_proofs(&self, now: i64) -> ProvisionResult<()> {
        sqlx::query("DELETE FROM proof_ids WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> ProvisionResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl podplane_auth::ReplayCache for ProvisionStore {
    async fn first_use(
        &self,
        key: &str,
        expires_at: i64,
    ) -> Result<bool, podplane_auth::AuthError> {
        podplane_store::service_db::first_use(&self.pool, key, expires_at)
            .await
            .map_err(|e| podplane_auth::AuthError::Unavailable(e.to_string()))
    }
}
