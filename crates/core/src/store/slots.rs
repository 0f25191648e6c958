//! Counter slots for concurrent writes on PostgreSQL.
//!
//! Every write adds to the report counters, and most of a day's writes add
//! to the same few cells. A row updated by a transaction stays locked until
//! it commits, so on one row concurrent writes would commit one at a time,
//! each behind the previous one's WAL flush. A cell is therefore kept in
//! several rows, one per slot (migration `m20261123_000004_counter_slots`),
//! and each write in flight in this process adds to a slot no other of them
//! holds. A process never has more writes in flight than pool connections,
//! so there is a slot per connection. Replicas share the slot numbers: a
//! write of one replica may wait for another's commit, which is only slower.
//! SQLite has one writer and uses slot 0.

use std::sync::{Arc, Mutex, PoisonError};

/// The slots free for a write to take.
pub(crate) struct Slots {
    free: Mutex<Vec<i16>>,
}

/// A slot held by one write until it is dropped (after the write's commit
/// or rollback).
pub(crate) struct Slot {
    n: i16,
    home: Arc<Slots>,
}

impl Slots {
    /// `count` slots, numbered from 0.
    pub fn new(count: u32) -> Arc<Self> {
        let count = i16::try_from(count.max(1)).unwrap_or(i16::MAX);
        Arc::new(Slots { free: Mutex::new((0..count).rev().collect()) })
    }

    /// The lowest free slot; none when all are held (more writes than
    /// connections, which the pool prevents): the write then uses slot 0.
    pub fn take(self: &Arc<Self>) -> Option<Slot> {
        let n = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
        Some(Slot { n, home: self.clone() })
    }
}

impl Slot {
    /// The slot's number.
    pub fn get(&self) -> i16 {
        self.n
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut free = self.home.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.push(self.n);
        // Lowest first, so a quiet process keeps using the same few rows.
        free.sort_unstable_by(|a, b| b.cmp(a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_flight_hold_distinct_slots_and_give_them_back() {
        let slots = Slots::new(3);
        let a = slots.take().expect("a");
        let b = slots.take().expect("b");
        let c = slots.take().expect("c");
        assert_eq!([a.get(), b.get(), c.get()], [0, 1, 2]);
        assert!(slots.take().is_none(), "all three are held");
        drop(b);
        assert_eq!(slots.take().expect("again").get(), 1);
        drop(a);
        drop(c);
        assert_eq!(slots.take().expect("lowest").get(), 0);
    }
}
