//! Municipality conversions.

use peerlab_core::domain::{CountryCode, Title};
use peerlab_core::error::Violations;
use peerlab_core::model::{Municipality, NewMunicipality, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::common::*;

/// A municipality on the wire.
pub fn municipality(m: Municipality) -> pb::Municipality {
    let Municipality { id, display_name, country, meta: m } = m;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::Municipality {
        name: names::municipality(id),
        display_name,
        country: country.to_string(),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A country code sent by the client; `field` names it in errors.
pub fn country_in(field: &str, s: &str) -> Result<CountryCode> {
    if s.trim().is_empty() {
        return Err(Error::invalid(field, "is required (an ISO 3166-1 alpha-2 code such as \"BA\")"));
    }
    CountryCode::parse(s).map_err(|e| match e {
        Error::InvalidInput { reason, .. } => Error::invalid(field, reason),
        other => other,
    })
}

/// A new municipality from a create request; output-only fields are ignored.
pub fn new_municipality(m: Option<&pb::Municipality>) -> Result<NewMunicipality> {
    let m = required("municipality", m)?;
    let mut v = Violations::new();
    let display_name = v.check(Title::parse("municipality.display_name", &m.display_name));
    let country = v.check(country_in("municipality.country", &m.country));
    v.finish()?;
    match (display_name, country) {
        (Some(display_name), Some(country)) => Ok(NewMunicipality { display_name, country }),
        _ => Err(Error::Internal("validated municipality lost a field".into())),
    }
}

/// The fields clients may change on a municipality.
pub const MUNICIPALITY_UPDATABLE: &[&str] = &["display_name"];

/// The new display name from an update request and its mask.
pub fn municipality_patch(m: &pb::Municipality, mask: Option<&FieldMask>) -> Result<Option<Title>> {
    let paths = update_paths(mask, MUNICIPALITY_UPDATABLE, |p| match p {
        "display_name" => !m.display_name.is_empty(),
        _ => false,
    })?;
    let mut display_name = None;
    for p in &paths {
        if p == "display_name" {
            display_name = Some(Title::parse("municipality.display_name", &m.display_name)?);
        }
    }
    Ok(display_name)
}
