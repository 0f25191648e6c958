//! The live feed's view of who may read an event.
//!
//! The event log's visibility rule lives in SQL (`Store::events_after`), which
//! is right for the backlog; a live event already in memory is checked
//! against an [`Audience`] instead, so one read of the log can serve every
//! subscriber. An audience is the same rule over the scope's memberships,
//! kept current by [`Audience::observe`]-ing the membership events that pass by.

use std::collections::{BTreeMap, BTreeSet};

use crate::auth::ReadScope;
use crate::domain::{MunicipalityId, Visibility, WorkingGroupId};
use crate::model::{Event, Snapshot};

/// The events a [`ReadScope`] may read, decided in memory.
///
/// Built by [`crate::store::Store::audience`]; it agrees with the SQL rule of
/// [`crate::store::Store::events_after`]: directory events (no visibility)
/// are public; a shared item's events reach the members of its working group
/// and its own municipality (or country); a draft's only the scopes that read
/// its drafts.
///
/// ```no_run
/// # async fn run(store: peerlab_core::store::Store, scope: peerlab_core::auth::ReadScope) -> peerlab_core::Result<()> {
/// let mut audience = store.audience(scope).await?;
/// for event in store.events_after(peerlab_core::auth::ReadScope::All, 0, 100, None, &[]).await? {
///     if audience.sees(&event) {
///         println!("{} {}", event.id, event.kind);
///     }
///     audience.observe(&event);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience {
    scope: ReadScope,
    /// The scope's member municipalities, by working group.
    groups: BTreeMap<WorkingGroupId, BTreeSet<MunicipalityId>>,
}

impl Audience {
    /// An audience for `scope` whose municipalities hold `memberships`
    /// (working group, member); memberships outside the scope are ignored.
    pub(crate) fn new(
        scope: ReadScope,
        memberships: impl IntoIterator<Item = (WorkingGroupId, MunicipalityId)>,
    ) -> Self {
        let mut groups: BTreeMap<WorkingGroupId, BTreeSet<MunicipalityId>> = BTreeMap::new();
        if scope != ReadScope::All {
            for (g, m) in memberships {
                groups.entry(g).or_default().insert(m);
            }
        }
        Audience { scope, groups }
    }

    /// The scope this audience stands for.
    pub fn scope(&self) -> ReadScope {
        self.scope
    }

    /// Whether the scope may read `event` (given the memberships observed so far).
    pub fn sees(&self, event: &Event) -> bool {
        let Some(visibility) = event.visibility else { return true };
        let shared = visibility == Visibility::Shared;
        match self.scope {
            ReadScope::All => true,
            ReadScope::Municipality { municipality, .. } => {
                let own = event.municipality == Some(municipality);
                own || shared && self.in_group(event.working_group)
            }
            ReadScope::Country { country, drafts } => {
                let own = event.country == Some(country);
                if shared { own || self.in_group(event.working_group) } else { drafts && own }
            }
        }
    }

    /// Follow a membership change in the scope, so that later events of a
    /// group the scope joined (or left) are judged accordingly. Other events
    /// change nothing; observing the same event twice is harmless.
    pub fn observe(&mut self, event: &Event) {
        let Snapshot::Membership(m) = &event.snapshot else { return };
        let concerns = match self.scope {
            ReadScope::All => false,
            ReadScope::Municipality { municipality, .. } => m.municipality == municipality,
            ReadScope::Country { country, .. } => m.country == country,
        };
        if !concerns {
            return;
        }
        match event.kind.as_str() {
            "membership.created" => {
                self.groups.entry(m.working_group).or_default().insert(m.municipality);
            }
            "membership.deleted" => {
                if let Some(members) = self.groups.get_mut(&m.working_group) {
                    members.remove(&m.municipality);
                    if members.is_empty() {
                        self.groups.remove(&m.working_group);
                    }
                }
            }
            _ => {}
        }
    }

    /// The working groups the scope belongs to, in id order.
    pub fn groups(&self) -> impl Iterator<Item = WorkingGroupId> + '_ {
        self.groups.keys().copied()
    }

    fn in_group(&self, group: Option<WorkingGroupId>) -> bool {
        group.is_some_and(|g| self.groups.contains_key(&g))
    }
}
