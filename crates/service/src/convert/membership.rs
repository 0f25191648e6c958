//! Membership conversions.

use peerlab_core::Result;
use peerlab_core::domain::MunicipalityId;
use peerlab_core::model::{Membership, names};
use peerlab_proto::v1 as pb;

use super::common::*;
use crate::names as parse;

/// A membership on the wire.
pub fn membership(m: Membership) -> pb::Membership {
    let Membership { working_group, municipality, country, create_time } = m;
    pb::Membership {
        name: names::membership(working_group, municipality),
        municipality: names::municipality(municipality),
        country: country.to_string(),
        create_time: Some(timestamp(create_time)),
    }
}

/// The municipality to add, from a create request; only `municipality` is read.
pub fn new_membership(m: Option<&pb::Membership>) -> Result<MunicipalityId> {
    let m = required("membership", m)?;
    parse::municipality("membership.municipality", &m.municipality)
}
