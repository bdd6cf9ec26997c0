//! The audit database: every event once, chained per pod ([`crate::chain`]), kept for the
//! retention period; plus DPoP proof ids shared by replicas. One implementation over sqlx's
//! `Any` driver: the engine is chosen by URL (`postgres://…` distributed, `sqlite://…`
//! embedded) and the statements are the SQL both engines share.

use crate::chain::{self, Broken, Columns, Ends, Link};
use crate::error::AuditResult;
use podplane_events::AuditEvent;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An event as received from the bus: its body byte for byte, and what it says.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub body: String,
    pub pod: String,
    /// The pod root's IRI (`target`).
    pub storage: String,
    pub columns: Columns,
}

impl Incoming {
    /// The audit event in `payload`; `None` when it is not one.
    pub fn parse(payload: &[u8]) -> Option<Incoming> {
        let body = std::str::from_utf8(payload).ok()?.to_owned();
        let event: AuditEvent = serde_json::from_str(&body).ok()?;
        let pod = event.pod().to_owned();
        Some(Incoming {
            columns: columns(&event)?,
            storage: event.target.id.clone(),
            body,
            pod,
        })
    }
}

/// The columns kept beside an event's body, for filtering (and checked against it).
fn columns(event: &AuditEvent) -> Option<Columns> {
    let published = time::OffsetDateTime::parse(
        &event.published,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    Some(Columns {
        id: event.id.clone(),
        name: event.name.as_str().to_owned(),
        actor: event.actor.first().map(|a| a.id.clone()),
        object: event.object.first().map(|o| o.id.clone())?,
        published_ms: i64::try_from(published.unix_timestamp_nanos() / 1_000_000).ok()?,
    })
}

/// The columns a stored body says it has.
pub fn columns_of(body: &str) -> Option<Columns> {
    columns(&serde_json::from_str(body).ok()?)
}

/// An event newly stored: where it sits in its pod's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub pod: String,
    pub seq: i64,
    pub hash: String,
    pub body: String,
}

/// Which events a page holds.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub pod: Option<String>,
    /// Published at or after (ms).
    pub since_ms: Option<i64>,
    /// Published before (ms).
    pub until_ms: Option<i64>,
    /// The actor's WebID.
    pub agent: Option<String>,
    /// A resource's IRI, or (ending in `/`) every resource under a container.
    pub resource: Option<String>,
    /// The event name (`resource-read`, …).
    pub name: Option<String>,
    /// Events after this one in (published, id) order: the page cursor.
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

/// One page of events, oldest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub bodies: Vec<String>,
    /// Where the next page starts, when there may be one.
    pub next: Option<(i64, String)>,
}

#[derive(Clone)]
pub struct AuditStore {
    pool: AnyPool,
}

impl AuditStore {
    /// Connects to `url` (`postgres://…` or `sqlite://path`) and applies the migrations.
    pub async fn open(url: &str, max_connections: u32) -> AuditResult<Self> {
        let pool = podplane_store::service_db::open(url, max_connections, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    pub async fn ping(&self) -> AuditResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores `events` in one transaction, each at the end of its pod's chain; events already
    /// stored (a redelivery) are skipped. Returns the newly stored ones.
    ///
    /// A pod's chain head is a row updated under its lock, so replicas storing events of one
    /// pod at once (during a rebalance) take turns, and the second sees what the first stored;
    /// heads are locked in pod order, so two batches cannot deadlock. One pod's events cost
    /// a handful of statements whatever their number.
    pub async fn record(&self, events: &[Incoming], now_ms: i64) -> AuditResult<Vec<Stored>> {
        let mut order: Vec<&Incoming> = events.iter().collect();
        // Stable: each pod's events keep their order.
        order.sort_by(|a, b| a.pod.cmp(&b.pod));
        let mut tx = self.pool.begin().await?;
        let mut stored = Vec::new();
        for group in order.chunk_by(|a, b| a.pod == b.pod) {
            let pod = &group[0].pod;
            sqlx::query(
                "INSERT INTO chains (pod, seq, hash, pruned_seq, pruned_hash) \
                 VALUES ($1, 0, $2, 0, $2) ON CONFLICT (pod) DO NOTHING",
            )
            .bind(pod)
            .bind(chain::GENESIS)
            .execute(&mut *tx)
            .await?;
            // Takes the head's lock (held to commit) and reads it as the last holder left it.
            let head =
                sqlx::query("UPDATE chains SET seq = seq WHERE pod = $1 RETURNING seq, hash")
                    .bind(pod)
                    .fetch_one(&mut *tx)
                    .await?;
            let (mut seq, mut prev): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
            // Under the lock, the events another replica stored are visible.
            let mut seen = std::collections::HashSet::new();
            for ids in group.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT id FROM events WHERE id IN {}",
                    placeholders(1, ids.len())
                );
                let mut query = sqlx::query(&sql);
                for event in ids {
                    query = query.bind(&event.columns.id);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    seen.insert(row.try_get::<String, _>("id")?);
                }
            }
            let mut rows = Vec::new();
            for event in group {
                if !seen.insert(event.columns.id.clone()) {
                    continue;
                }
                seq += 1;
                let hash = chain::link(&prev, seq, &event.body);
                let before = std::mem::replace(&mut prev, hash.clone());
                rows.push((*event, seq, before, hash));
            }
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let marks = (0..chunk.len())
                    .map(|i| placeholders(i * 11 + 1, 11))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO events (id, pod, seq, name, actor, object, published_ms, \
                     stored_ms, body, prev_hash, hash) VALUES {marks}"
                );
                let mut query = sqlx::query(&sql);
                for (event, seq, prev, hash) in chunk {
                    let c = &event.columns;
                    query = query
                        .bind(&c.id)
                        .bind(pod)
                        .bind(*seq)
                        .bind(&c.name)
                        .bind(&c.actor)
                        .bind(&c.object)
                        .bind(c.published_ms)
                        .bind(now_ms)
                        .bind(&event.body)
                        .bind(prev)
                        .bind(hash);
                }
                query.execute(&mut *tx).await?;
            }
            let added = !rows.is_empty();
            stored.extend(rows.into_iter().map(|(event, seq, _, hash)| Stored {
                pod: pod.clone(),
                seq,
                hash,
                body: event.body.clone(),
            }));
            if added {
                sqlx::query("UPDATE chains SET seq = $2, hash = $3 WHERE pod = $1")
                    .bind(pod)
                    .bind(seq)
                    .bind(&prev)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The events `filter` selects, oldest first.
    pub async fn page(&self, filter: &Filter) -> AuditResult<Page> {
        let mut sql = String::from("SELECT body, published_ms, id FROM events WHERE 1 = 1");
        let mut binds: Vec<Bind> = Vec::new();
        let mut cond = |sql: &mut String, clause: &str, values: Vec<Bind>| {
            let mut clause = clause.to_owned();
            for v in values {
                binds.push(v);
                clause = clause.replacen('?', &format!("${}", binds.len()), 1);
            }
            sql.push_str(" AND ");
            sql.push_str(&clause);
        };
        if let Some(pod) = &filter.pod {
            cond(&mut sql, "pod = ?", vec![Bind::Text(pod.clone())]);
        }
        if let Some(since) = filter.since_ms {
            cond(&mut sql, "published_ms >= ?", vec![Bind::Int(since)]);
        }
        if let Some(until) = filter.until_ms {
            cond(&mut sql, "published_ms < ?", vec![Bind::Int(until)]);
        }
        if let Some(agent) = &filter.agent {
            cond(&mut sql, "actor = ?", vec![Bind::Text(agent.clone())]);
        }
        match &filter.resource {
            // A container: everything under it, by byte range ('0' follows '/').
            Some(r) if r.ends_with('/') => {
                let end = format!("{}0", &r[..r.len() - 1]);
                cond(
                    &mut sql,
                    "object >= ? AND object < ?",
                    vec![Bind::Text(r.clone()), Bind::Text(end)],
                );
            }
            Some(r) => cond(&mut sql, "object = ?", vec![Bind::Text(r.clone())]),
            None => {}
        }
        if let Some(name) = &filter.name {
            cond(&mut sql, "name = ?", vec![Bind::Text(name.clone())]);
        }
        if let Some((ms, id)) = &filter.after {
            cond(
                &mut sql,
                "(published_ms > ? OR (published_ms = ? AND id > ?))",
                vec![Bind::Int(*ms), Bind::Int(*ms), Bind::Text(id.clone())],
            );
        }
        let limit = filter.limit.max(1);
        sql.push_str(&format!(
            " ORDER BY published_ms, id LIMIT {}",
            u64::from(limit) + 1
        ));
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = match b {
                Bind::Text(t) => query.bind(t),
                Bind::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let more = rows.len() > limit as usize;
        let mut bodies = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            bodies.push(row.try_get("body")?);
            last = Some((row.try_get("published_ms")?, row.try_get("id")?));
        }
        Ok(Page {
            bodies,
            next: if more { last } else { None },
        })
    }

    /// Removes events published before `before_ms` (and any earlier in their chain), keeping
    /// each chain verifiable: its cut is recorded (the last removed event's position and
    /// hash). Returns how many went.
    pub async fn prune(&self, before_ms: i64) -> AuditResult<u64> {
        let cuts = sqlx::query(
            "SELECT pod, MAX(seq) AS seq FROM events WHERE published_ms < $1 GROUP BY pod",
        )
        .bind(before_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut removed = 0;
        for cut in cuts {
            let (pod, seq): (String, i64) = (cut.try_get("pod")?, cut.try_get("seq")?);
            let mut tx = self.pool.begin().await?;
            let hash: String = sqlx::query("SELECT hash FROM events WHERE pod = $1 AND seq = $2")
                .bind(&pod)
                .bind(seq)
                .fetch_one(&mut *tx)
                .await?
                .try_get("hash")?;
            removed += sqlx::query("DELETE FROM events WHERE pod = $1 AND seq <= $2")
                .bind(&pod)
                .bind(seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE chains SET pruned_seq = $2, pruned_hash = $3 \
                 WHERE pod = $1 AND pruned_seq < $2",
            )
            .bind(&pod)
            .bind(seq)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(removed)
    }

    /// The pods that have a chain.
    pub async fn pods(&self) -> AuditResult<Vec<String>> {
        let rows = sqlx::query("SELECT pod FROM chains ORDER BY pod")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("pod").map_err(Into::into))
            .collect()
    }

    /// Verifies `pod`'s chain as stored: how many events verified, or where it breaks.
    /// `Ok(None)`: the pod has no chain.
    pub async fn verify(&self, pod: &str) -> AuditResult<Option<Result<u64, Broken>>> {
        let Some(head) =
            sqlx::query("SELECT seq, hash, pruned_seq, pruned_hash FROM chains WHERE pod = $1")
                .bind(pod)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let ends = Ends {
            pruned_seq: head.try_get("pruned_seq")?,
            pruned_hash: head.try_get("pruned_hash")?,
            head_seq: head.try_get("seq")?,
            head_hash: head.try_get("hash")?,
        };
        let rows = sqlx::query(
            "SELECT id, seq, name, actor, object, published_ms, body, prev_hash, hash \
             FROM events WHERE pod = $1 ORDER BY seq",
        )
        .bind(pod)
        .fetch_all(&self.pool)
        .await?;
        let links = rows.iter().map(link_of).collect::<AuditResult<Vec<_>>>()?;
        Ok(Some(chain::verify(&ends, links, columns_of)))
    }

    /// Records a DPoP proof id until `expires_at`; `false` when it was seen before.
    pub async fn first_use(&self, key: &str, expires_at: i64) -> AuditResult<bool> {
        Ok(podplane_store::service_db::first_use(&self.pool, key, expires_at).await?)
    }

    /// Forgets proof ids that expired before `now` (seconds).
    pub async fn purge_proofs(&self, now: i64) -> AuditResult<()> {
        sqlx::query("DELETE FROM proof_ids WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Runs `sql` on the database: for tests that play the attacker who edits it.
    #[doc(hidden)]
    pub async fn tamper(&self, sql: &str) -> AuditResult<u64> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }
}

/// Rows one INSERT (or ids one lookup) carries: well within both engines' bound-parameter
/// limits at 11 columns.
const ROWS_PER_STATEMENT: usize = 64;

/// `($first, $first+1, …)`: `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    let marks: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", marks.join(", "))
}

enum Bind {
    Text(String),
    Int(i64),
}

fn link_of(row: &AnyRow) -> AuditResult<Link> {
    Ok(Link {
        seq: row.try_get("seq")?,
        body: row.try_get("body")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
        columns: Columns {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            actor: row.try_get("actor")?,
            object: row.try_get("object")?,
            published_ms: row.try_get("published_ms")?,
        },
    })
}

#[async_trait::async_trait]
impl podplane_auth::ReplayCache for AuditStore {
    async fn first_use(
        &self,
        key: &str,
        expires_at: i64,
    ) -> Result<bool, podplane_auth::AuthError> {
        AuditStore::first_use(self, key, expires_at)
            .await
            .map_err(|e| podplane_auth::AuthError::Unavailable(e.to_string()))
    }
}
