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
}

impl PodState {
    fn as_str(self) -> &'static str {
        match self {
            PodState::Creating => "creating",
            PodState::Active => "active",
        }
    }

    fn parse(s: &str) -> PodState {
        match s {
            "active" => PodState::Active,
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
