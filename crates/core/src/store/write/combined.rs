//! Group commit on PostgreSQL: concurrent creates share one statement.
//!
//! A create without a transaction ([`crate::store::Store::begin_create`])
//! commits by sending one statement ([`chain`]). While fewer than
//! [`Combiner::ceiling`] such statements are in flight, a create sends its
//! own at once, so a lone create waits for nothing. When that many are in
//! flight, creates queue, and the next statement to finish hands the whole
//! queue to one statement: every queued create's writes, their report
//! counter changes summed (each counter row changed once), one share of the
//! append lock, every create's check and every create's event. It commits
//! as one transaction: one commit and one WAL flush, one round trip and one
//! pooled connection for all of them, and no create is answered before that
//! commit.
//!
//! If that statement fails on something one of its creates did (a request
//! id another create took, a check at commit that does not hold, any error
//! PostgreSQL answers), it wrote nothing, and each of its creates sends its
//! own statement, so that each gets its own answer. A lost connection is
//! answered to all of them as it is: whether it committed is unknown, and a
//! retry with the request id finds out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::{self, Connection as _, PgPool, Postgres, Row as _};
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr, Statement};
use sea_query_binder::SqlxValues;
use tokio::sync::oneshot;

use super::chain::{Link, chain, database_error};
use crate::report::Counters;
use crate::store::slots::Slots;

/// How many creates' statements may be in flight before creates queue.
/// One: while it runs, every create that arrives waits for the next
/// statement, which then carries them all. Measured with S2 on PostgreSQL
/// (16 creates in flight, 2 cores, alternating runs; BENCHMARKS.md, session
/// 15): one statement in flight made about 20 % more creates a second than
/// two, at about 20 % less server CPU per create and a lower p50 and p99;
/// four did worse than two. More statements in flight split the same
/// queue into smaller statements, each paying its fixed cost (a round trip,
/// a plan, a commit). Session 12's machine, whose disk flushed half as
/// fast, showed no difference beyond its noise between 2, 3, 4 and 8.
pub(crate) const COMMITS_IN_FLIGHT: usize = 1;

/// How many creates one statement carries at most.
const MOST: usize = 64;

/// What a create's commit sends: its writes, its check at commit, its
/// event's append, and its changes to the report counters.
pub(super) struct Parts {
    pub writes: Vec<Statement>,
    pub guard: Option<Statement>,
    pub append: Statement,
    pub counters: Counters,
}

impl Parts {
    fn link(&self) -> Link<'_> {
        Link { writes: &self.writes, guard: self.guard.as_ref(), append: &self.append }
    }
}

/// A queued create and where its answer goes.
struct Member {
    parts: Parts,
    answer: oneshot::Sender<Answer>,
}

enum Answer {
    /// The statement carrying the create ended so: its event id, or the error.
    Done(std::result::Result<i64, DbErr>),
    /// The shared statement failed and wrote nothing: send your own.
    Alone(Parts),
}

/// The creates' statements in flight and the queue behind them.
pub(crate) struct Combiner {
    held: Held,
    slots: Option<Arc<Slots>>,
    /// How many statements may be in flight before creates queue.
    ceiling: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    queue: Vec<Member>,
}

/// One of the [`Combiner::ceiling`] statements in flight. Dropped when its
/// statement has ended (or its caller went away): the queue, if any, goes
/// in the next statement, which takes its place.
struct Running {
    combiner: Arc<Combiner>,
}

impl Combiner {
    /// Statements on `db`, at most `ceiling` in flight before creates
    /// queue, their counter changes in `slots`.
    pub fn new(db: DatabaseConnection, slots: Option<Arc<Slots>>, ceiling: usize) -> Arc<Self> {
        let pool = db.get_postgres_connection_pool().clone();
        let holds = pool.options().get_max_connections() >= HOLD_FROM;
        let held = Held { pool, holds, conn: Mutex::default() };
        Arc::new(Combiner { held, slots, ceiling: ceiling.max(1), state: Mutex::default() })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Give the held connection back to the pool, so that closing the pool
    /// closes it then (a connection out of the pool when it closes is
    /// closed only when it comes back).
    pub fn release(&self) {
        drop(self.held.conn.lock().unwrap_or_else(PoisonError::into_inner).take());
    }

    /// Commit a create's `parts`, alone or with others: its event's id, or
    /// the error of a statement that carried it alone (as if it had sent
    /// its own), or of a connection lost under a shared one.
    pub(super) async fn commit(self: &Arc<Self>, parts: Parts) -> std::result::Result<i64, DbErr> {
        let answered = {
            let mut state = self.state();
            if state.running < self.ceiling && state.queue.is_empty() {
                state.running += 1;
                Err(parts)
            } else {
                let (answer, answered) = oneshot::channel();
                state.queue.push(Member { parts, answer });
                Ok(answered)
            }
        };
        let answered = match answered {
            Ok(answered) => answered,
            Err(parts) => {
                let running = Running { combiner: self.clone() };
                let ended = self.alone(parts).await;
                drop(running);
                return ended;
            }
        };
        match answered.await {
            Ok(Answer::Done(ended)) => ended,
            Ok(Answer::Alone(parts)) => self.alone(parts).await,
            Err(_) => Err(DbErr::Custom("a shared commit ended without an answer".into())),
        }
    }

    /// Send one create's own statement.
    async fn alone(&self, parts: Parts) -> std::result::Result<i64, DbErr> {
        let Parts { writes, guard, append, counters } = parts;
        let slot = self.slots.as_ref().and_then(|s| s.take());
        let shared = counters.statements(DatabaseBackend::Postgres, slot.as_ref().map_or(0, |s| s.get()));
        let link = Link { writes: &writes, guard: guard.as_ref(), append: &append };
        let statement = chain(&[link], &shared).map_err(|e| DbErr::Custom(e.to_string()))?;
        let rows = self.held.query(statement).await;
        drop(slot);
        let row = rows?.into_iter().next();
        let row = row.ok_or_else(|| DbErr::RecordNotFound("the event append returned no id".into()))?;
        row.try_get("id").map_err(query_error)
    }

    /// Send the creates of `members` in one statement and answer each.
    async fn together(&self, members: Vec<Member>) {
        if members.len() == 1 {
            for Member { parts, answer } in members {
                let _ = answer.send(Answer::Done(self.alone(parts).await));
            }
            return;
        }
        let slot = self.slots.as_ref().and_then(|s| s.take());
        let mut counters = Counters::default();
        for m in &members {
            counters.merge(m.parts.counters.clone());
        }
        let shared = counters.statements(DatabaseBackend::Postgres, slot.as_ref().map_or(0, |s| s.get()));
        let links: Vec<Link<'_>> = members.iter().map(|m| m.parts.link()).collect();
        let ended = match chain(&links, &shared) {
            Ok(statement) => self.ids(statement).await,
            Err(e) => Err(DbErr::Custom(e.to_string())),
        };
        drop(slot);
        let ids = match ended {
            Ok(rows) => rows,
            Err(e) if database_error(&e).is_some() && !crate::store::is_connection_error(&e) => {
                tracing::debug!(error = %e, creates = members.len(), "a shared commit failed; each create commits alone");
                for Member { parts, answer } in members {
                    let _ = answer.send(Answer::Alone(parts));
                }
                return;
            }
            Err(e) => {
                // Whether it committed is unknown: each create answers the
                // error (a lost connection stays retryable), and a retry
                // with its request id finds out.
                tracing::warn!(error = %e, creates = members.len(), "a shared commit failed");
                let (message, lost) = (e.to_string(), crate::store::is_connection_error(&e));
                for m in members {
                    let e = if lost {
                        DbErr::Conn(RuntimeErr::Internal(message.clone()))
                    } else {
                        DbErr::Custom(message.clone())
                    };
                    let _ = m.answer.send(Answer::Done(Err(e)));
                }
                return;
            }
        };
        tracing::trace!(creates = members.len(), "shared commit");
        for (m, member) in members.into_iter().enumerate() {
            let id = i32::try_from(m).ok().and_then(|m| ids.get(&m).copied());
            let ended = id.ok_or_else(|| DbErr::RecordNotFound("a shared commit returned no event id".into()));
            // A create whose caller went away is committed all the same.
            let _ = member.answer.send(Answer::Done(ended));
        }
    }

    /// Run a shared statement: the rows it returns are each create's index
    /// and event id. Its text depends on how many creates it carries (not
    /// on how many rows each brings: [`chain`] merges the creates' inserts,
    /// their rows as arrays), so it is prepared once on the held connection
    /// and used again.
    async fn ids(&self, statement: Statement) -> std::result::Result<HashMap<i32, i64>, DbErr> {
        let mut ids = HashMap::new();
        for row in self.held.query(statement).await? {
            ids.insert(row.try_get::<i32, _>("m").map_err(query_error)?, row.try_get("id").map_err(query_error)?);
        }
        Ok(ids)
    }
}

/// The pooled connection the creates' statements run on, held between
/// them rather than given back to the pool after each.
///
/// sqlx pings a connection each time it goes back to its pool (a round
/// trip), and PostgreSQL plans a prepared statement afresh at each of its
/// first five runs on a connection. The shared statements, whose text
/// varies with how many creates they carry, went to whichever of the
/// pool's connections was free: measured in session 15 (PostgreSQL's own
/// durations of each message), their binds, where that planning happens,
/// took a quarter of their time. On one held connection each text is
/// prepared and planned for good once.
///
/// The connection goes back to the pool, which checks it, whenever a
/// statement on it ends with anything but PostgreSQL's own answer (an
/// error of the connection, or a task cut off mid-statement, which drops
/// it); the next statement then takes another. One idle for longer than
/// [`crate::store::PING_AFTER_IDLE`] is pinged first, as the pool does.
/// One held for longer than the pool's lifetime of a connection goes back
/// too, and the pool closes it if it is older than that lifetime, as it
/// closes the connections it keeps: a held connection lives at most twice
/// the pool's lifetime.
struct Held {
    pool: PgPool,
    /// Whether the pool is large enough to hold one of its connections
    /// ([`HOLD_FROM`]).
    holds: bool,
    conn: Mutex<Option<Kept>>,
}

/// A connection held between statements.
struct Kept {
    conn: PoolConnection<Postgres>,
    /// When it came from the pool.
    taken: Instant,
    /// When its last statement ended.
    idle_since: Instant,
}

/// The smallest pool one of whose connections is held for the creates'
/// statements: a smaller pool keeps all of its connections for everyone
/// (a pool of one would otherwise have none left for a create's reads).
const HOLD_FROM: u32 = 4;

impl Held {
    /// The held connection and when it came from the pool, or one from
    /// the pool when none is held, another statement has it, or it has
    /// been held for the pool's lifetime of a connection.
    async fn take(&self) -> std::result::Result<(PoolConnection<Postgres>, Instant), DbErr> {
        let held = self.conn.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Kept { mut conn, taken, idle_since }) = held {
            let lifetime = self.pool.options().get_max_lifetime();
            // Past its time, it goes back to the pool (dropped), which closes
            // it if it is older than the lifetime.
            if lifetime.is_none_or(|lifetime| taken.elapsed() <= lifetime)
                && (idle_since.elapsed() <= crate::store::PING_AFTER_IDLE || conn.ping().await.is_ok())
            {
                return Ok((conn, taken));
            }
        }
        let conn = self.pool.acquire().await.map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?;
        Ok((conn, Instant::now()))
    }

    /// Hold `conn`, taken from the pool at `taken`, for the next statement
    /// (if one is held already, or the pool is too small to hold one,
    /// `conn` goes back to the pool).
    fn keep(&self, conn: PoolConnection<Postgres>, taken: Instant) {
        let mut held = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if self.holds && held.is_none() {
            *held = Some(Kept { conn, taken, idle_since: Instant::now() });
        }
    }

    /// Run `statement` and return its rows.
    async fn query(&self, statement: Statement) -> std::result::Result<Vec<PgRow>, DbErr> {
        let (mut conn, taken) = self.take().await?;
        let values = SqlxValues(statement.values.unwrap_or_else(|| sea_orm::Values(Vec::new())));
        let ended = sqlx::query_with(&statement.sql, values).fetch_all(&mut *conn).await.map_err(query_error);
        match &ended {
            Ok(_) => self.keep(conn, taken),
            Err(e) if database_error(e).is_some() && !crate::store::is_connection_error(e) => self.keep(conn, taken),
            // Back to the pool, which checks it and closes it if broken.
            Err(_) => drop(conn),
        }
        ended
    }
}

/// An error of a query as sea-orm reports it.
fn query_error(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e))
}

impl Drop for Running {
    fn drop(&mut self) {
        let members = {
            let mut state = self.combiner.state();
            if state.queue.is_empty() {
                state.running -= 1;
                return;
            }
            let take = state.queue.len().min(MOST);
            state.queue.drain(..take).collect::<Vec<_>>()
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime left (the process is stopping): the queued creates'
            // answers are dropped, which they report as an error.
            self.combiner.state().running -= 1;
            return;
        };
        // The next statement takes this one's place in `running`.
        let next = Running { combiner: self.combiner.clone() };
        runtime.spawn(async move {
            next.combiner.together(members).await;
            drop(next);
        });
    }
}
