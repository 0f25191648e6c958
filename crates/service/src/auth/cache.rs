//! Verified tokens, remembered until they expire so that a portal calling
//! many times with one token pays for one signature check.
//!
//! Hand-written rather than a caching crate: entries carry their own expiry
//! and key generation, the bound only needs to hold under abuse (the normal
//! working set is a few thousand live tokens), and a `Mutex<HashMap>` held
//! for a lookup is far cheaper than the signature check it saves.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use peerlab_core::auth::Principal;

/// SHA-256 of the raw token: the token itself is never kept.
pub(crate) type TokenDigest = [u8; 32];

struct Entry {
    principal: Principal,
    exp: i64,
    generation: u64,
}

/// A bounded map from token digest to the principal it was verified as.
pub(crate) struct TokenCache {
    capacity: usize,
    entries: Mutex<HashMap<TokenDigest, Entry>>,
}

impl TokenCache {
    /// A cache holding at most `capacity` tokens (0 disables it).
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache { capacity, entries: Mutex::new(HashMap::new()) }
    }

    /// The principal of a token verified under key `generation`, while `now < exp`.
    pub(crate) fn get(&self, digest: &TokenDigest, now: i64, generation: u64) -> Option<Principal> {
        if self.capacity == 0 {
            return None;
        }
        // Map operations cannot leave an entry half-written, so a poisoned lock is still sound.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(digest) {
            Some(entry) if now < entry.exp && entry.generation == generation => Some(entry.principal.clone()),
            Some(_) => {
                entries.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Remember a token verified under key `generation` until `exp`. When
    /// full, stale entries go first, then the one closest to expiry.
    pub(crate) fn insert(&self, digest: TokenDigest, principal: Principal, exp: i64, now: i64, generation: u64) {
        if self.capacity == 0 || exp <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&digest) {
            entries.retain(|_, e| now < e.exp && e.generation == generation);
            while entries.len() >= self.capacity {
                let Some(soonest) = entries.iter().min_by_key(|(_, e)| e.exp).map(|(d, _)| *d) else {
                    break;
                };
                entries.remove(&soonest);
            }
        }
        entries.insert(digest, Entry { principal, exp, generation });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use peerlab_core::auth::Role;

    use super::*;

    fn coordinator(subject: &str) -> Principal {
        Principal::new("network", subject, Role::Coordinator, None, None).expect("a coordinator needs no country")
    }

    #[test]
    fn serves_an_entry_only_before_it_expires_and_under_the_same_keys() {
        let cache = TokenCache::new(10);
        cache.insert([1; 32], coordinator("ana"), 100, 50, 0);
        assert_eq!(cache.get(&[1; 32], 99, 0), Some(coordinator("ana")));
        assert_eq!(cache.get(&[1; 32], 99, 1), None, "keys were reloaded since");
        cache.insert([2; 32], coordinator("ben"), 100, 50, 0);
        assert_eq!(cache.get(&[2; 32], 100, 0), None, "exp has been reached");
        assert_eq!(cache.len(), 0, "stale entries are dropped when seen");
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = TokenCache::new(3);
        for i in 0..10u8 {
            cache.insert([i; 32], coordinator("ana"), 1000 + i64::from(i), 0, 0);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&[9; 32], 1, 0).is_some(), "the newest entry, latest to expire, is kept");
        assert!(cache.get(&[0; 32], 1, 0).is_none(), "the entry closest to expiry went first");
    }

    #[test]
    fn does_nothing_when_disabled_or_already_expired() {
        let off = TokenCache::new(0);
        off.insert([1; 32], coordinator("ana"), 100, 0, 0);
        assert_eq!(off.get(&[1; 32], 0, 0), None);
        let cache = TokenCache::new(3);
        cache.insert([1; 32], coordinator("ana"), 100, 100, 0);
        assert_eq!(cache.len(), 0);
    }
}
