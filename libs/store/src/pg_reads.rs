//! Coalesced point reads for the PostgreSQL engine.
//!
//! Every GET needs its resource row, and a replica cannot cache rows (another replica may have
//! changed them a moment ago). Instead, lookups that arrive while a query is in flight are
//! collected and answered by the next single `WHERE path = ANY($1)` query. A lookup is only
//! ever answered by a query that started after it arrived, so a write acknowledged anywhere
//! before a GET arrives is visible to that GET; batching only saves round trips and CPU.

use crate::error::StoreError;
use crate::meta::Resource;
use sqlx::PgPool;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<Option<Resource>, StoreError>>;

/// Most lookups answered by one query.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub(crate) struct PointReads {
    requests: mpsc::UnboundedSender<(String, Reply)>,
}

impl PointReads {
    /// Starts the batching task. It ends when the last `PointReads` handle is dropped.
    /// `sql`: the statement that reads the rows of an array of paths.
    pub(crate) fn start(pool: PgPool, sql: &'static str) -> Self {
        let (requests, mut incoming) = mpsc::unbounded_channel::<(String, Reply)>();
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let paths: Vec<String> = batch.iter().map(|(p, _)| p.clone()).collect();
                let result = sqlx::query(sql).bind(&paths).fetch_all(&pool).await;
                match result {
                    Ok(rows) => {
                        let mut found: HashMap<String, Result<Resource, StoreError>> =
                            HashMap::new();
                        for row in &rows {
                            let r = crate::rows::resource(row);
                            let key = match &r {
                                Ok(res) => res.path.clone(),
                                Err(_) => continue,
                            };
                            found.insert(key, r);
                        }
                        for (path, reply) in batch {
                            let answer = match found.get(&path) {
                                None => Ok(None),
                                Some(Ok(r)) => Ok(Some(r.clone())),
                                Some(Err(e)) => Err(StoreError::Corrupt(e.to_string())),
                            };
                            let _ = reply.send(answer);
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for (_, reply) in batch {
                            let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                        }
                    }
                }
            }
        });
        Self { requests }
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((path.to_owned(), reply))
            .map_err(|_| StoreError::Unavailable("read batcher stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("read batcher stopped".into()))?
    }
}
