//! What the live feed needs from the store: a signal that moves to the
//! highest committed event id (in-process after each commit; on PostgreSQL
//! also from other replicas' `NOTIFY`), and the [`Audience`] of a read scope.

use std::convert::Infallible;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ColumnTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::watch;

use super::Store;
use super::entity::{event, membership};
use crate::auth::ReadScope;
use crate::domain::{MunicipalityId, WorkingGroupId};
use crate::feed::Audience;
use crate::{Error, Result};

/// The PostgreSQL channel that carries committed event ids.
pub(crate) const CHANNEL: &str = "peerlab_events";

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

fn listen_error(e: sea_orm::sqlx::Error) -> Error {
    Error::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))
}

impl Store {
    /// The highest committed event id this process knows of: it moves after
    /// every commit made through this store and, while
    /// [`Store::listen_for_events`] runs, after commits of other replicas.
    /// It is a wake-up signal: read the log for what is new.
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

    /// The id of the newest event in the log (0 when it is empty).
    pub async fn last_event_id(&self) -> Result<i64> {
        let max: Option<Option<i64>> = event::Entity::find()
            .select_only()
            .column_as(event::Column::Id.max(), "max")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(max.flatten().unwrap_or(0))
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
