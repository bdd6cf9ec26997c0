//! Group commit for the SQLite engine: concurrent writes share one transaction, so one fsync.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits for the disk: one
//! write per fsync, however many clients wait. Here every write, delete and pod creation goes
//! to one writer task. It takes what has queued up (at most [`MAX_GROUP`]), runs each in a
//! savepoint of one `BEGIN IMMEDIATE` transaction (a write that fails rolls back to its
//! savepoint and leaves the others alone), commits once, and only then answers each caller. A
//! write is acknowledged after the commit that holds it, exactly as before; a failed commit
//! fails every write in it, and none of them happened.

use crate::engine::{self, PodSpec};
use crate::error::StoreError;
use crate::meta::{DeleteRequest, Pod, Resource, WriteRequest};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

/// Most writes in one transaction: bounds how long the first of them waits for the commit.
const MAX_GROUP: usize = 64;

/// One write waiting for its group, with the span of the request that made it (its events
/// carry that trace).
pub(crate) struct Job {
    work: Work,
    span: tracing::Span,
}

enum Work {
    Write(
        WriteRequest,
        oneshot::Sender<Result<(Resource, bool), StoreError>>,
    ),
    Delete(DeleteRequest, oneshot::Sender<Result<(), StoreError>>),
    CreatePod(PodSpec, oneshot::Sender<Result<Pod, StoreError>>),
}

/// The way to the writer task.
#[derive(Clone)]
pub(crate) struct Writer(mpsc::Sender<Job>);

impl Writer {
    /// Starts the writer task over the single-connection `pool`; it ends when the last
    /// `Writer` is dropped.
    pub(crate) fn start(pool: SqlitePool, base_url: String) -> Self {
        let (jobs, incoming) = mpsc::channel(1024);
        tokio::spawn(commit_groups(pool, base_url, incoming));
        Writer(jobs)
    }

    pub(crate) async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Work::Write(req, tx), rx).await
    }

    pub(crate) async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Work::Delete(req, tx), rx).await
    }

    pub(crate) async fn create_pod(&self, spec: PodSpec) -> Result<Pod, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Work::CreatePod(spec, tx), rx).await
    }

    async fn submit<T>(
        &self,
        work: Work,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let gone = || StoreError::Unavailable("the SQLite writer stopped".into());
        let job = Job {
            work,
            span: tracing::Span::current(),
        };
        self.0.send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn commit_groups(pool: SqlitePool, base_url: String, mut incoming: mpsc::Receiver<Job>) {
    while let Some(first) = incoming.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match incoming.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("podplane_sqlite_group_commit_writes").record(group.len() as f64);
        commit_group(&pool, &base_url, group).await;
    }
}

/// What one job came to before the commit, and where its answer goes.
enum Done {
    Write(
        Result<(Resource, bool), StoreError>,
        oneshot::Sender<Result<(Resource, bool), StoreError>>,
    ),
    Delete(
        Result<(), StoreError>,
        oneshot::Sender<Result<(), StoreError>>,
    ),
    CreatePod(
        Result<Pod, StoreError>,
        oneshot::Sender<Result<Pod, StoreError>>,
    ),
}

impl Done {
    fn succeeded(&self) -> bool {
        match self {
            Done::Write(r, _) => r.is_ok(),
            Done::Delete(r, _) => r.is_ok(),
            Done::CreatePod(r, _) => r.is_ok(),
        }
    }

    /// Answers the caller; `failed_commit` replaces a success that was never committed.
    fn answer(self, failed_commit: Option<&StoreError>) {
        match self {
            Done::Write(r, to) => settle(r, to, failed_commit),
            Done::Delete(r, to) => settle(r, to, failed_commit),
            Done::CreatePod(r, to) => settle(r, to, failed_commit),
        }
    }
}

fn settle<T>(
    outcome: Result<T, StoreError>,
    to: oneshot::Sender<Result<T, StoreError>>,
    failed_commit: Option<&StoreError>,
) {
    let answer = match (outcome, failed_commit) {
        (Ok(_), Some(e)) => unavailable(e),
        (outcome, _) => outcome,
    };
    // A caller that went away needs no answer: its write stands or falls with the group.
    let _ = to.send(answer);
}

async fn commit_group(pool: &SqlitePool, base_url: &str, group: Vec<Job>) {
    let mut tx = match crate::sqlite::SqliteTx::begin(pool).await {
        Ok(tx) => tx,
        Err(e) => {
            for job in group {
                job.fail(&e);
            }
            return;
        }
    };
    let mut done: Vec<Done> = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(e) = tx.savepoint().await {
            // The transaction is unusable: nothing in it will commit.
            fail_all(done, jobs, Some(job), &e);
            return;
        }
        let span = job.span;
        let outcome = match job.work {
            Work::Write(req, to) => Done::Write(
                engine::write(&mut tx, base_url, req).instrument(span).await,
                to,
            ),
            Work::Delete(req, to) => Done::Delete(
                engine::delete(&mut tx, base_url, req)
                    .instrument(span)
                    .await,
                to,
            ),
            Work::CreatePod(spec, to) => Done::CreatePod(
                engine::create_pod(&mut tx, base_url, &spec)
                    .instrument(span)
                    .await,
                to,
            ),
        };
        let kept = if outcome.succeeded() {
            tx.release().await
        } else {
            tx.roll_back_to_savepoint().await
        };
        done.push(outcome);
        if let Err(e) = kept {
            fail_all(done, jobs, None, &e);
            return;
        }
    }
    match tx.commit().await {
        Ok(()) => done.into_iter().for_each(|d| d.answer(None)),
        Err(e) => done.into_iter().for_each(|d| d.answer(Some(&e))),
    }
}

/// The transaction failed: every job run so far is answered with its own failure or `e`,
/// every job not run yet with `e`. (Dropping the transaction rolls it back.)
fn fail_all(
    done: Vec<Done>,
    rest: impl Iterator<Item = Job>,
    current: Option<Job>,
    e: &StoreError,
) {
    done.into_iter().for_each(|d| d.answer(Some(e)));
    current.into_iter().chain(rest).for_each(|job| job.fail(e));
}

impl Job {
    /// Answers a job that never ran: its transaction failed.
    fn fail(self, e: &StoreError) {
        match self.work {
            Work::Write(_, to) => drop(to.send(unavailable(e))),
            Work::Delete(_, to) => drop(to.send(unavailable(e))),
            Work::CreatePod(_, to) => drop(to.send(unavailable(e))),
        }
    }
}

fn unavailable<T>(e: &StoreError) -> Result<T, StoreError> {
    Err(StoreError::Unavailable(e.to_string()))
}
