//! What the live feed needs from the store: a signal that moves to the
//! highest committed event id (in-process after each commit; on PostgreSQL
//! also from other replicas' `NOTIFY`), the newest event id that is final,
//! and the [`Audience`] of a read scope.
//!
//! # Event ids on PostgreSQL
//!
//! Readers follow the log by id ("events after N"), so an id they have seen
//! must never be followed by a smaller one appearing later. On SQLite that
//! holds by itself: one writer, and batches commit in order. On PostgreSQL
//! concurrent transactions commit in any order, so writes and readers of the
//! log meet at one advisory lock ([`APPEND_LOCK`]): a write takes it shared
//! just before appending its event and holds it to the end of its
//! transaction; a reader takes it exclusively for a moment, and the newest
//! id it sees then ([`Store::last_event_id`]) is final: no write was between
//! its append and its commit, and every later append gets a larger id. Reads
//! of the log are bounded by that id. Writes never wait for each other, so
//! their commits share the database's WAL flushes (a lock held exclusively
//! through the commit, as before, made them commit one at a time).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    Statement, TransactionTrait,
};
use tokio::sync::watch;

use super::Store;
use super::entity::{event, membership};
use crate::auth::ReadScope;
use crate::domain::{MunicipalityId, WorkingGroupId};
use crate::feed::Audience;
use crate::{Error, Result};

/// The PostgreSQL channel that carries committed event ids.
pub(crate) const CHANNEL: &str = "peerlab_events";

/// The PostgreSQL advisory lock key that orders event appends against
/// readers of the log (see the module documentation).
pub(crate) const APPEND_LOCK: i64 = 7_305_041;

/// A write's share of [`APPEND_LOCK`], taken just before its event's append
/// and held until its transaction ends.
pub(crate) fn append_lock() -> Statement {
    take_append_lock("pg_advisory_xact_lock_shared")
}

/// Take [`APPEND_LOCK`] with `function` until the transaction ends.
fn take_append_lock(function: &str) -> Statement {
    Statement::from_sql_and_values(DatabaseBackend::Postgres, format!("SELECT {function}($1)"), [APPEND_LOCK.into()])
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Move `signal` up to `id`; never back.
pub(crate) fn bump(signal: &watch::Sender<i64>, id: i64) {
    signal.send_if_modified(|known| {
        let newer = id > *known;
        if newer {
            *known = id;
        }
        newer
    });
}

/// The largest event id `db` sees (0 when the log is empty).
async fn newest_event(db: &impl ConnectionTrait) -> Result<i64> {
    let max: Option<Option<i64>> =
        event::Entity::find().select_only().column_as(event::Column::Id.max(), "max").into_tuple().one(db).await?;
    Ok(max.flatten().unwrap_or(0))
}

/// On PostgreSQL, tell the other replicas about this process's commits: a
/// task that sends one `NOTIFY` with the newest event id committed here
/// whenever the returned signal moves (commits made while one is sent share
/// the next). It ends when the signal is dropped.
///
/// The notification is not sent inside the writes' transactions: a
/// transaction that notifies holds a database-wide lock from its commit's
/// start to its end, WAL flush included, so every write would commit one at
/// a time. Sent after the commit, it can be lost if the process dies in
/// between; every replica's live feed also reads the log every few seconds
/// without a signal, so an event is then late to other replicas' feeds,
/// never missing from them.
pub(crate) fn announcer(db: DatabaseConnection) -> Arc<watch::Sender<i64>> {
    let (signal, mut committed) = watch::channel(0);
    tokio::spawn(async move {
        while committed.changed().await.is_ok() {
            let id = *committed.borrow_and_update();
            let notify = Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), id.to_string().into()],
            );
            if let Err(e) = db.execute(notify).await {
                tracing::warn!(error = %e, event = id, "could not notify other replicas of a commit");
            }
        }
    });
    Arc::new(signal)
}

fn listen_error(e: sea_orm::sqlx::Error) -> Error {
    Error::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))
}

impl Store {
    /// The highest committed event id this process knows of: it moves after
    /// every commit made through this store and, while
    /// [`Store::listen_for_events`] runs, after commits of other replicas.
    /// It is a wake-up signal: read the log for what is new. (On
    /// PostgreSQL a smaller id may still be in flight when it moves; reads
    /// of the log are bounded by the final id, [`Store::last_event_id`].)
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store) -> peerlab_core::Result<()> {
    /// let mut committed = store.committed();
    /// let _ = committed.changed().await;
    /// println!("events up to {} are committed", *committed.borrow());
    /// # Ok(()) }
    /// ```
    pub fn committed(&self) -> watch::Receiver<i64> {
        self.committed.subscribe()
    }

    /// The id of the newest event in the log that is final (0 when the log
    /// is empty): every event up to it is committed, and no event with a
    /// smaller id can appear later. On PostgreSQL it waits for the writes
    /// that have appended an event to commit (see the module documentation).
    pub async fn last_event_id(&self) -> Result<i64> {
        if self.backend() != DatabaseBackend::Postgres {
            return newest_event(&self.db).await;
        }
        let tx = self.db.begin().await?;
        tx.execute(take_append_lock("pg_advisory_xact_lock")).await?;
        // A statement of its own: its snapshot is taken after the lock.
        let newest = newest_event(&tx).await?;
        tx.commit().await?;
        Ok(newest)
    }

    /// Whether events commit in id order, so that every id up to the newest
    /// committed one ([`Store::committed`]) is final: true on SQLite, false
    /// on PostgreSQL (see the module documentation).
    pub fn commits_in_id_order(&self) -> bool {
        self.backend() != DatabaseBackend::Postgres
    }

    /// The bound of a read of the log by id: on PostgreSQL the newest final
    /// event id ([`Store::last_event_id`]); on SQLite none, as every
    /// committed event there is final.
    pub(crate) async fn final_events(&self) -> Result<Option<i64>> {
        match self.backend() {
            DatabaseBackend::Postgres => Ok(Some(self.last_event_id().await?)),
            _ => Ok(None),
        }
    }

    /// On PostgreSQL, move [`Store::committed`] on the commits of every
    /// replica: LISTEN for their NOTIFY, reconnecting with backoff when the
    /// connection drops, and re-reading [`Store::last_event_id`] after each
    /// (re)connect so that no commit made meanwhile goes unnoticed. Runs
    /// until dropped; problems are logged, never returned. On SQLite, where
    /// commits are signalled in-process, it returns at once.
    pub async fn listen_for_events(&self) {
        if self.backend() != DatabaseBackend::Postgres {
            return;
        }
        let mut backoff = FIRST_BACKOFF;
        loop {
            let Err(e) = self.listen(&mut backoff).await;
            tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "event listener failed; reconnecting");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One LISTEN connection, until it fails; a working one resets `backoff`.
    async fn listen(&self, backoff: &mut Duration) -> Result<Infallible> {
        let mut listener = PgListener::connect(&self.url).await.map_err(listen_error)?;
        listener.listen(CHANNEL).await.map_err(listen_error)?;
        *backoff = FIRST_BACKOFF;
        bump(&self.committed, self.last_event_id().await?);
        tracing::debug!("listening for events of other replicas");
        loop {
            match listener.try_recv().await.map_err(listen_error)? {
                Some(n) => match n.payload().parse::<i64>() {
                    Ok(id) => bump(&self.committed, id),
                    Err(_) => tracing::warn!(payload = n.payload(), "unexpected event notification"),
                },
                // Reconnected: whatever was committed meanwhile was not notified.
                None => bump(&self.committed, self.last_event_id().await?),
            }
        }
    }

    /// The in-memory form of `scope`'s event visibility: the memberships of
    /// its municipality (or country) as they are now.
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store, p: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
    /// let audience = store.audience(p.read_scope()).await?;
    /// println!("member of {} groups", audience.groups().count());
    /// # Ok(()) }
    /// ```
    pub async fn audience(&self, scope: ReadScope) -> Result<Audience> {
        let rows = match scope {
            ReadScope::All => Vec::new(),
            ReadScope::Municipality { municipality, .. } => {
                let of = membership::Column::MunicipalityId.eq(municipality.get());
                membership::Entity::find().filter(of).all(&self.db).await?
            }
            ReadScope::Country { country, .. } => {
                let of = membership::Column::Country.eq(country.as_str());
                membership::Entity::find().filter(of).all(&self.db).await?
            }
        };
        let memberships = rows
            .into_iter()
            .map(|r| (WorkingGroupId::from_db(r.working_group_id), MunicipalityId::from_db(r.municipality_id)));
        Ok(Audience::new(scope, memberships))
    }
}
