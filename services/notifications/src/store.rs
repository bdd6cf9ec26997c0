//! The notifications database: channels, webhook deliveries, DPoP proof ids and the signing
//! key. One implementation over sqlx's `Any` driver: the engine is chosen by URL
//! (`postgres://…` in distributed mode, `sqlite://…` embedded) and the statements are the SQL
//! both engines share, so nothing differs between them but the connection.

use crate::error::NotifyResult;
use podplane_solid::access::Requester;
use podplane_solid::notify::{ChannelType, Subscription};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A stored channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: String,
    pub subscription: Subscription,
    pub owner: Requester,
    /// When the channel ends (its `endAt`, or the service's channel lifetime).
    pub end_at: i64,
    pub created_at: i64,
}

/// What a webhook delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// A webhook notification that could not be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub event_id: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub payload: String,
    pub updated_at: i64,
}

#[derive(Clone)]
pub struct ChannelStore {
    pool: AnyPool,
}

/// `$first, $first+1, …`: `count` numbered parameters for an `IN (…)` list.
fn placeholders(first: usize, count: usize) -> String {
    let marks: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    marks.join(", ")
}

const CHANNEL_COLUMNS: &str = "id, channel_type, topic, agent, client_id, issuer, send_to, \
    state, start_at, end_at, rate_ms, created_at";

fn channel_of(row: &AnyRow) -> NotifyResult<Option<Channel>> {
    let kind: String = row.try_get("channel_type")?;
    let Some(channel_type) = ChannelType::parse(&kind) else {
        return Ok(None);
    };
    let agent: String = row.try_get("agent")?;
    Ok(Some(Channel {
        id: row.try_get("id")?,
        subscription: Subscription {
            channel_type,
            topic: row.try_get("topic")?,
            send_to: row.try_get("send_to")?,
            state: row.try_get("state")?,
            start_at: row.try_get("start_at")?,
            end_at: row.try_get("end_at")?,
            rate_ms: row.try_get("rate_ms")?,
        },
        owner: Requester {
            webid: Some(agent),
            client_id: row.try_get("client_id")?,
            issuer: row.try_get("issuer")?,
            origin: None,
        },
        end_at: row.try_get("end_at")?,
        created_at: row.try_get("created_at")?,
    }))
}

fn channels_of(rows: &[AnyRow]) -> NotifyResult<Vec<Channel>> {
    Ok(rows
        .iter()
        .map(channel_of)
        .collect::<NotifyResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

impl ChannelStore {
    /// Connects to `url` (`postgres://…` or `sqlite://path`) and applies the migrations.
    pub async fn open(url: &str, max_connections: u32) -> NotifyResult<Self> {
        let pool = podplane_store::service_db::open(url, max_connections, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    pub async fn create(&self, c: &Channel, receive_hash: Option<&str>) -> NotifyResult<()> {
        let s = &c.subscription;
        sqlx::query(&format!(
            "INSERT INTO channels ({CHANNEL_COLUMNS}, receive_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.id)
        .bind(s.channel_type.name())
        .bind(&s.topic)
        .bind(c.owner.webid.clone().unwrap_or_default())
        .bind(c.owner.client_id.clone())
        .bind(c.owner.issuer.clone())
        .bind(s.send_to.clone())
        .bind(s.state.clone())
        .bind(s.start_at)
        .bind(c.end_at)
        .bind(s.rate_ms)
        .bind(c.created_at)
        .bind(receive_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> NotifyResult<Option<Channel>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(channel_of).transpose()?.flatten())
    }

    /// The channel whose receiveFrom secret hashes to `hash`.
    pub async fn by_receive_hash(&self, hash: &str) -> NotifyResult<Option<Channel>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE receive_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(channel_of).transpose()?.flatten())
    }

    /// Unexpired channels of one type on any of `topics`, by id: one query per 500 topics
    /// (a batch of events asks once, not once per event).
    pub async fn on_topics(
        &self,
        channel_type: ChannelType,
        topics: &[&str],
        now_ms: i64,
    ) -> NotifyResult<Vec<Channel>> {
        let mut out = Vec::new();
        for chunk in topics.chunks(500) {
            let sql = format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels \
                 WHERE channel_type = $1 AND end_at > $2 AND topic IN ({}) ORDER BY id",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(channel_type.name()).bind(now_ms);
            for topic in chunk {
                q = q.bind(*topic);
            }
            out.extend(channels_of(&q.fetch_all(&self.pool).await?)?);
        }
        Ok(out)
    }

    /// The channels of one subscriber, newest first.
    pub async fn owned_by(&self, webid: &str) -> NotifyResult<Vec<Channel>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE agent = $1 ORDER BY created_at DESC"
        ))
        .bind(webid)
        .fetch_all(&self.pool)
        .await?;
        channels_of(&rows)
    }

    /// Which of `ids` still exist and have not ended.
    pub async fn live(&self, ids: &[String], now_ms: i64) -> NotifyResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id FROM channels WHERE end_at > $1 AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now_ms);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(row.try_get("id")?);
            }
        }
        Ok(out)
    }

    /// Deletes a channel and its delivery records; false if there was none.
    pub async fn delete(&self, id: &str) -> NotifyResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM deliveries WHERE channel_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM channels WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }

    /// Ends, at `now_ms`, every live channel whose topic lies under `root` (a deleted pod's
    /// IRI): nothing will be notified on them again. The sweep of each replica then closes
    /// their connections and removes them. Returns how many ended.
    pub async fn end_under(&self, root: &str, now_ms: i64) -> NotifyResult<u64> {
        let length = i64::try_from(root.chars().count()).unwrap_or(i64::MAX);
        let ended = sqlx::query(
            "UPDATE channels SET end_at = $1 \
             WHERE end_at > $1 AND substr(topic, 1, CAST($2 AS INTEGER)) = $3",
        )
        .bind(now_ms)
        .bind(length)
        .bind(root)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(ended)
    }

    /// Removes ended channels (and their delivery records) and expired proof ids.
    pub async fn purge(&self, now_ms: i64) -> NotifyResult<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM deliveries WHERE channel_id IN \
             (SELECT id FROM channels WHERE end_at <= $1)",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query("DELETE FROM channels WHERE end_at <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM proof_ids WHERE expires_at <= $1")
            .bind(now_ms / 1000)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims the delivery of `event_id` on `channel_id`: its current status, after recording
    /// it as pending if it was never seen.
    pub async fn claim_delivery(
        &self,
        channel_id: &str,
        event_id: &str,
        payload: &str,
        now_ms: i64,
    ) -> NotifyResult<DeliveryStatus> {
        sqlx::query(
            "INSERT INTO deliveries (channel_id, event_id, status, attempts, payload, updated_at) \
             VALUES ($1, $2, 'pending', 0, $3, $4) ON CONFLICT (channel_id, event_id) DO NOTHING",
        )
        .bind(channel_id)
        .bind(event_id)
        .bind(payload)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let status: String =
            sqlx::query("SELECT status FROM deliveries WHERE channel_id = $1 AND event_id = $2")
                .bind(channel_id)
                .bind(event_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("status")?;
        Ok(DeliveryStatus::parse(&status))
    }

    pub async fn finish_delivery(
        &self,
        channel_id: &str,
        event_id: &str,
        status: DeliveryStatus,
        attempts: u32,
        error: Option<&str>,
        now_ms: i64,
    ) -> NotifyResult<()> {
        sqlx::query(
            "UPDATE deliveries SET status = $3, attempts = $4, last_error = $5, updated_at = $6 \
             WHERE channel_id = $1 AND event_id = $2",
        )
        .bind(channel_id)
        .bind(event_id)
        .bind(status.as_str())
        .bind(i64::from(attempts))
        .bind(error)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The failure list of a webhook channel, newest first.
    pub async fn failures(&self, channel_id: &str) -> NotifyResult<Vec<Failure>> {
        let rows = sqlx::query(
            "SELECT event_id, attempts, last_error, payload, updated_at FROM deliveries \
             WHERE channel_id = $1 AND status = 'failed' ORDER BY updated_at DESC",
        )
        .bind(channel_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Failure {
                    event_id: r.try_get("event_id")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    payload: r.try_get("payload")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// The signing key every replica uses: the one stored, or `fresh` if none was (the first
    /// replica to store one wins).
    pub async fn signing_key(
        &self,
        fresh_kid: &str,
        fresh_pkcs8: &str,
        now_ms: i64,
    ) -> NotifyResult<(String, String)> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, pkcs8, created_at) \
             SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(fresh_kid)
        .bind(fresh_pkcs8)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT kid, pkcs8 FROM signing_keys ORDER BY created_at LIMIT 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("kid")?, row.try_get("pkcs8")?))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> NotifyResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Sets the pool gauges of /metrics.
    pub fn record_pool(&self) {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        podplane_telemetry::record_pool("notifications", self.pool.size(), idle);
    }
}

#[async_trait::async_trait]
impl podplane_auth::ReplayCache for ChannelStore {
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
