//! Cross-country reports for coordinators and countries.
//!
//! Reports read aggregates that every write keeps current in its own
//! transaction ([`record`] runs in [`crate::store`]'s commit, derived from
//! the write's event), so a report costs the same with a thousand items or a
//! million. [`Store::recompute_network_report`] computes the same report
//! from the base tables; the storage suite proves the two equal.
//!
//! Metrics are defined in `proto/peerlab/v1/report.proto`. Settled details:
//! a period selects items by create time, widened to whole UTC days
//! ([`Period`]); workshops by their date; municipality counts are current
//! (no period). "Live" means not archived: a challenge's first
//! recommendation is its earliest live one, and the median is over live
//! challenges (an even count averages the middle two, to the microsecond).
//!
//! ```no_run
//! # async fn run(store: peerlab_core::store::Store, p: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
//! use peerlab_core::domain::CountryCode;
//! use peerlab_core::report::Period;
//! let ba = store.country_report(&p, CountryCode::parse("BA")?, None, Period::all()).await?;
//! println!("BA answers {:.0}% of what it receives", ba.country.response_rate() * 100.0);
//! # Ok(()) }
//! ```

mod cells;
mod histogram;
mod maintained;
mod model;
mod recompute;
mod record;
mod sql;
#[cfg(test)]
mod statements;

pub use model::*;
pub(crate) use record::{Counters, record};

use sea_orm::ConnectionTrait;

use crate::auth::{Principal, Role};
use crate::domain::{CountryCode, WorkingGroupId};
use crate::model::names;
use crate::store::Store;
use crate::{Error, Result};
use maintained::Medians;
use sql::Sql;

/// Coordinators read any country's report; a country's admins and
/// observers their own; staff none (they act for a municipality).
fn may_report_on(p: &Principal, country: CountryCode) -> Result<()> {
    match (p.role(), p.country()) {
        (Role::Coordinator, _) => Ok(()),
        (Role::CountryAdmin | Role::Observer, Some(own)) if own == country => Ok(()),
        _ => Err(Error::PermissionDenied(format!("the caller may not read the report of {country}"))),
    }
}

/// NOT_FOUND for a group that does not exist (archived groups are history
/// and can be reported on).
async fn check_group(conn: &impl ConnectionTrait, group: Option<WorkingGroupId>) -> Result<()> {
    let Some(g) = group else { return Ok(()) };
    let rows = Sql::new("SELECT id FROM working_groups WHERE id = ").bind("?", g.get()).all(conn).await?;
    if rows.is_empty() { Err(Error::NotFound(names::working_group(g))) } else { Ok(()) }
}

impl Store {
    /// The whole network (or one working group), country by country, over
    /// `period`. Coordinators only.
    pub async fn network_report(
        &self,
        p: &Principal,
        group: Option<WorkingGroupId>,
        period: Period,
    ) -> Result<NetworkReport> {
        p.coordinate()?;
        let parts = self
            .read_with(move |conn| async move {
                check_group(&conn, group).await?;
                maintained::parts(&conn, group, period, Medians::All, true).await
            })
            .await?;
        cells::network_report(group, parts, chrono::Utc::now())
    }

    /// One country in detail and the rest of the network (or group) as
    /// totals: coordinators for any country, its admins and observers for
    /// their own.
    pub async fn country_report(
        &self,
        p: &Principal,
        country: CountryCode,
        group: Option<WorkingGroupId>,
        period: Period,
    ) -> Result<CountryReport> {
        may_report_on(p, country)?;
        let parts = self
            .read_with(move |conn| async move {
                check_group(&conn, group).await?;
                maintained::parts(&conn, group, period, Medians::Of(country), false).await
            })
            .await?;
        Ok(CountryReport::from_network(cells::network_report(group, parts, chrono::Utc::now())?, country))
    }

    /// [`Store::network_report`] recomputed from the base tables, without
    /// the aggregates: for tests and benchmarks. Coordinators only.
    #[doc(hidden)]
    pub async fn recompute_network_report(
        &self,
        p: &Principal,
        group: Option<WorkingGroupId>,
        period: Period,
    ) -> Result<NetworkReport> {
        p.coordinate()?;
        let conn = self.connection();
        check_group(conn, group).await?;
        let parts = recompute::parts(conn, group, period).await?;
        cells::network_report(group, parts, chrono::Utc::now())
    }
}
