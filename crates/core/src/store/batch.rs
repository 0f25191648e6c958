//! Group commit on SQLite: concurrent writes share one transaction and one
//! fsync, and none is acknowledged before that commit is durable.
//!
//! SQLite has one writer at a time, so writes queue anyway; what group commit
//! changes is what each of them pays at the end. Each write runs in its own
//! `SAVEPOINT` inside the open batch transaction (a failing write rolls back
//! to its savepoint alone), then joins the batch and waits. A committer task
//! queues for the same FIFO lock as the writers, so every write that was
//! already waiting when a batch got its first member runs before the commit
//! and shares it: one `COMMIT` (one WAL fsync with `synchronous = FULL`) for
//! as many writes as were in flight. No timer: a lone write commits as soon as
//! it is done. The batch's transaction is on the rusqlite writer
//! ([`super::writer`]), so a write's statements run on its own thread and
//! only the `COMMIT` waits on a blocking one.
//!
//! The writes' changes to the report counters (the same few rows for every
//! write of a kind) are summed in the batch and sent once, just before its
//! `COMMIT`, in the same transaction: each write sends two upserts fewer,
//! and the batch changes each counter row once.
//!
//! PostgreSQL does not use this: concurrent transactions there already share
//! WAL flushes, and serialising replicas' write bodies behind one lock would
//! cost more than it saves. Its creates, which each commit in one statement,
//! share statements instead when many are in flight ([`super::write`]'s
//! `combined`).

use std::mem;
use std::sync::Arc;

use sea_orm::{DbErr, RuntimeErr};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot, watch};

use super::writer::{Savepoint, Writer};
use crate::report::Counters;
use crate::{Error, Result};

/// The open batch: whether a transaction is open and who waits for its commit.
#[derive(Default)]
pub(crate) struct Batch {
    open: bool,
    waiting: Vec<oneshot::Sender<Outcome>>,
    last_event: Option<i64>,
    /// The report counters' changes of the writes in the batch, summed:
    /// they touch the same few rows, so the batch sends them once.
    counters: Counters,
}

/// How a batch's commit ended, for each write in it.
#[derive(Clone)]
enum Outcome {
    Committed,
    /// The database could not be reached: retryable.
    Unreachable(String),
    Failed(String),
}

/// The writers' queue and the committer's wake-up line.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    batch: Arc<Mutex<Batch>>,
    wake: mpsc::Sender<()>,
    writer: Writer,
}

/// A writer's place in the open batch: held from `BEGIN`/`SAVEPOINT` until
/// the write has joined or left the batch. Dropping it (a write cut off
/// mid-way) wakes the committer, which closes a batch nobody waits for.
pub(crate) struct Seat {
    batch: OwnedMutexGuard<Batch>,
    wake: mpsc::Sender<()>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        // Full means a wake-up is already pending, which is all this asks for.
        let _ = self.wake.try_send(());
    }
}

impl GroupCommit {
    /// Start the committer for `writer`; it stops when the last handle goes.
    pub fn start(writer: Writer, committed: Arc<watch::Sender<i64>>) -> Self {
        let (wake, mut woken) = mpsc::channel(1);
        let batch = Arc::new(Mutex::new(Batch::default()));
        let shared = batch.clone();
        let committer = writer.clone();
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                shared.lock().await.commit(&committer, &committed).await;
            }
        });
        GroupCommit { batch, wake, writer }
    }

    /// Take a seat in the open batch (opening one if none is) and begin a
    /// savepoint there for one write.
    pub async fn begin(&self) -> Result<(Seat, Savepoint)> {
        let mut batch = self.batch.clone().lock_owned().await;
        if !batch.open {
            // IMMEDIATE: the write lock now, not at the first write in it.
            self.writer.run("BEGIN IMMEDIATE")?;
            batch.open = true;
        }
        // Seated first: if the savepoint fails, dropping the seat still has
        // the committer close the batch.
        let seat = Seat { batch, wake: self.wake.clone() };
        let savepoint = self.writer.savepoint()?;
        Ok((seat, savepoint))
    }
}

impl Seat {
    /// The write's savepoint was released with event `id` and changes to
    /// the report `counters`: wait until the batch carrying them is
    /// committed.
    pub async fn join(mut self, event: i64, counters: Counters) -> Result<()> {
        self.batch.last_event = Some(event);
        self.batch.counters.merge(counters);
        self.wait().await
    }

    /// The write changed nothing. If it may have read writes still waiting
    /// for their commit (the batch has members), its answer waits for that
    /// commit too, so nothing is ever confirmed that could still roll back.
    pub async fn leave(self) -> Result<()> {
        if self.batch.waiting.is_empty() { Ok(()) } else { self.wait().await }
    }

    async fn wait(mut self) -> Result<()> {
        let (done, committed) = oneshot::channel();
        self.batch.waiting.push(done);
        drop(self);
        match committed.await {
            Ok(Outcome::Committed) => Ok(()),
            Ok(Outcome::Unreachable(m)) => Err(Error::Database(DbErr::Conn(RuntimeErr::Internal(m)))),
            Ok(Outcome::Failed(m)) => Err(Error::Internal(format!("group commit failed: {m}"))),
            Err(_) => Err(Error::Internal("group commit ended without an answer".into())),
        }
    }
}

impl Batch {
    /// Commit the open batch and answer everyone in it; a batch nobody waits
    /// for (its writes failed or were cut off) is rolled back.
    async fn commit(&mut self, writer: &Writer, committed: &watch::Sender<i64>) {
        if !mem::take(&mut self.open) {
            return;
        }
        let waiting = mem::take(&mut self.waiting);
        let last = self.last_event.take();
        let counters = mem::take(&mut self.counters);
        if waiting.is_empty() {
            if let Err(e) = writer.run("ROLLBACK") {
                tracing::warn!(error = %e, "closing an empty write batch");
            }
            return;
        }
        let outcome = match commit_with(writer, counters).await {
            Ok(()) => {
                tracing::trace!(writes = waiting.len(), "write batch committed");
                if let Some(id) = last {
                    super::live::bump(committed, id);
                }
                Outcome::Committed
            }
            Err(e) => {
                tracing::error!(error = %e, writes = waiting.len(), "group commit failed");
                if super::is_connection_error(&e) {
                    Outcome::Unreachable(e.to_string())
                } else {
                    Outcome::Failed(e.to_string())
                }
            }
        };
        for w in waiting {
            // A writer whose caller went away no longer listens; its write
            // is committed all the same.
            let _ = w.send(outcome.clone());
        }
    }
}

/// Send the batch's summed `counters` changes, then commit; if they fail,
/// the batch is rolled back whole, as when its commit fails.
async fn commit_with(writer: &Writer, counters: Counters) -> std::result::Result<(), DbErr> {
    for statement in counters.statements(sea_orm::DbBackend::Sqlite, 0) {
        if let Err(e) = writer.execute(statement) {
            if let Err(undo) = writer.run("ROLLBACK") {
                tracing::error!(error = %undo, "rolling back a write batch");
            }
            return Err(e);
        }
    }
    writer.commit().await
}
