//! The SQLite writer: one thread owns the write connection, and concurrent writes share one
//! transaction, so one fsync (group commit).
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits for the disk: one
//! write per fsync, however many clients wait. Every mutation of the database (resource
//! writes, deletes, pods, pending blobs, proofs, the outbox) is a job sent to this thread. It
//! takes what has queued up (at most [`MAX_GROUP`]), runs each in a savepoint of one
//! `BEGIN IMMEDIATE` transaction (a job that fails rolls back to its savepoint and leaves the
//! others alone), commits once, and only then answers each caller. A write is acknowledged
//! after the commit that holds it; a failed commit fails every job in it, and none happened.
//!
//! The thread calls SQLite directly: a job's statements run one after another on this thread
//! with no hop to a driver's worker thread and back per statement (the cost that dominated a
//! PUT's CPU time). A job sent is run even if its caller goes away, so a cancelled request
//! never leaves a half-run transaction.

use crate::error::StoreError;
use rusqlite::Connection;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll, Waker};
use tokio::sync::{mpsc, oneshot};

/// Most jobs in one transaction: bounds how long the first of them waits for the commit.
const MAX_GROUP: usize = 64;

/// The way to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer(mpsc::Sender<Box<dyn Job>>);

impl Writer {
    /// Starts the writer thread, which owns `conn`; it ends when the last `Writer` is dropped.
    pub(crate) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (jobs, incoming) = mpsc::channel(1024);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || commit_groups(conn, incoming))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer(jobs))
    }

    /// Runs `work` in the next group's transaction and answers once that group committed.
    /// It runs in the caller's span, so the events it queues carry the request's trace.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let gone = || StoreError::Unavailable("the SQLite writer stopped".into());
        let (to, answer) = oneshot::channel();
        let job = Pending {
            work,
            span: tracing::Span::current(),
            to,
        };
        self.0.send(Box::new(job)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Runs a future whose every step is a synchronous SQLite call: the engine's algorithm is
/// written once over an async trait (PostgreSQL needs it), and on this thread each of its
/// statements completes before it returns, so one poll finishes it.
pub(crate) fn now<T>(work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut work = std::pin::pin!(work);
    match work.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => Err(StoreError::Unavailable(
            "a SQLite write waited for something other than SQLite".into(),
        )),
    }
}

/// A job waiting for its group.
trait Job: Send {
    /// Runs in the group's transaction; what it came to is answered after the commit.
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Ran>;
    /// Answers a job that never ran: its group's transaction failed first.
    fn fail(self: Box<Self>, e: &StoreError);
}

/// A job that ran, waiting for its group's commit.
trait Ran: Send {
    fn succeeded(&self) -> bool;
    /// Answers the caller; `failed_commit` replaces a success that was never committed.
    fn answer(self: Box<Self>, failed_commit: Option<&StoreError>);
}

struct Pending<T, F> {
    work: F,
    span: tracing::Span,
    to: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send,
{
    fn run(self: Box<Self>, conn: &mut Connection) -> Box<dyn Ran> {
        let Pending { work, span, to } = *self;
        let _in_request = span.enter();
        // A bug in one job must not end the thread every later write needs.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(StoreError::Unavailable("a SQLite write panicked".into())));
        Box::new(Outcome { outcome, to })
    }

    fn fail(self: Box<Self>, e: &StoreError) {
        // A caller that went away needs no answer.
        let _ = self.to.send(unavailable(e));
    }
}

struct Outcome<T> {
    outcome: Result<T, StoreError>,
    to: oneshot::Sender<Result<T, StoreError>>,
}

impl<T: Send> Ran for Outcome<T> {
    fn succeeded(&self) -> bool {
        self.outcome.is_ok()
    }

    fn answer(self: Box<Self>, failed_commit: Option<&StoreError>) {
        let answer = match (self.outcome, failed_commit) {
            (Ok(_), Some(e)) => unavailable(e),
            (outcome, _) => outcome,
        };
        // A caller that went away needs no answer: its write stands or falls with the group.
        let _ = self.to.send(answer);
    }
}

fn commit_groups(mut conn: Connection, mut incoming: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = incoming.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match incoming.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("podplane_sqlite_group_commit_writes").record(group.len() as f64);
        commit_group(&mut conn, group);
    }
}

fn commit_group(conn: &mut Connection, group: Vec<Box<dyn Job>>) {
    if let Err(e) = execute(conn, "BEGIN IMMEDIATE") {
        group.into_iter().for_each(|job| job.fail(&e));
        return;
    }
    let mut done: Vec<Box<dyn Ran>> = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(e) = execute(conn, "SAVEPOINT one_write") {
            // The transaction is unusable: nothing in it will commit.
            return fail_all(conn, done, std::iter::once(job).chain(jobs), &e);
        }
        let ran = job.run(conn);
        let kept = if ran.succeeded() {
            execute(conn, "RELEASE one_write")
        } else {
            execute(conn, "ROLLBACK TO one_write").and_then(|()| execute(conn, "RELEASE one_write"))
        };
        done.push(ran);
        if let Err(e) = kept {
            return fail_all(conn, done, jobs, &e);
        }
    }
    match execute(conn, "COMMIT") {
        Ok(()) => done.into_iter().for_each(|d| d.answer(None)),
        Err(e) => {
            roll_back(conn);
            done.into_iter().for_each(|d| d.answer(Some(&e)));
        }
    }
}

/// The transaction failed: it is rolled back, every job run so far is answered with its own
/// failure or `e`, every job not run yet with `e`.
fn fail_all(
    conn: &Connection,
    done: Vec<Box<dyn Ran>>,
    rest: impl Iterator<Item = Box<dyn Job>>,
    e: &StoreError,
) {
    roll_back(conn);
    done.into_iter().for_each(|d| d.answer(Some(e)));
    rest.for_each(|job| job.fail(e));
}

/// Leaves no transaction open for the next group (a failed COMMIT can leave one).
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = execute(conn, "ROLLBACK") {
            tracing::error!(error = %e, "SQLite writer: rollback failed");
        }
    }
}

fn execute(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn unavailable<T>(e: &StoreError) -> Result<T, StoreError> {
    Err(StoreError::Unavailable(e.to_string()))
}
