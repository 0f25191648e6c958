//! Shared pieces: times, dates, enums, update masks, paging.

use chrono::{Datelike, NaiveDate};
use peerlab_core::model::{Etag, Meta, PageRequest, Timestamp};
use peerlab_core::{Error, Result};
use peerlab_proto::google::r#type::Date;
use prost_types::FieldMask;

/// A core time on the wire.
pub fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// A wire time in the core, checked.
pub fn timestamp_in(field: &str, t: &prost_types::Timestamp) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
        .filter(|_| (0..1_000_000_000).contains(&t.nanos))
        .ok_or_else(|| Error::invalid(field, "is not a valid timestamp"))
}

/// The bookkeeping fields every resource carries on the wire.
pub struct WireMeta {
    /// `create_time`.
    pub create_time: Option<prost_types::Timestamp>,
    /// `update_time`.
    pub update_time: Option<prost_types::Timestamp>,
    /// `archive_time`.
    pub archive_time: Option<prost_types::Timestamp>,
    /// `etag`.
    pub etag: String,
}

/// Split core bookkeeping into wire fields.
pub fn meta(m: Meta) -> WireMeta {
    let etag = m.etag().to_string();
    let Meta { version: _, create_time, update_time, archive_time } = m;
    WireMeta {
        create_time: Some(timestamp(create_time)),
        update_time: Some(timestamp(update_time)),
        archive_time: archive_time.map(timestamp),
        etag,
    }
}

/// A calendar date on the wire.
pub fn date(d: NaiveDate) -> Date {
    Date { year: d.year(), month: d.month() as i32, day: d.day() as i32 }
}

/// A full calendar date from the wire (year, month and day all set).
pub fn date_in(field: &str, d: Option<&Date>) -> Result<NaiveDate> {
    let d = d.ok_or_else(|| Error::invalid(field, "is required"))?;
    u32::try_from(d.month)
        .ok()
        .zip(u32::try_from(d.day).ok())
        .filter(|_| (1..=9999).contains(&d.year))
        .and_then(|(m, day)| NaiveDate::from_ymd_opt(d.year, m, day))
        .ok_or_else(|| Error::invalid(field, "must be a valid calendar date with year, month and day"))
}

/// An etag sent by the client.
pub fn etag_in(field: &str, etag: &str) -> Result<Option<Etag>> {
    Etag::parse(field, etag)
}

/// The paths to update: the mask's, checked against `updatable`; `*` means
/// all of them; no mask means the fields the client populated (AIP-134).
pub fn update_paths(
    mask: Option<&FieldMask>,
    updatable: &[&str],
    populated: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let paths: Vec<String> = match mask {
        Some(m) if m.paths.iter().any(|p| p == "*") => updatable.iter().map(|s| s.to_string()).collect(),
        Some(m) if !m.paths.is_empty() => m.paths.clone(),
        _ => updatable.iter().filter(|p| populated(p)).map(|s| s.to_string()).collect(),
    };
    if paths.is_empty() {
        return Err(Error::invalid(
            "update_mask",
            format!("names no field to update; updatable fields: {}", updatable.join(", ")),
        ));
    }
    for p in &paths {
        if !updatable.contains(&p.as_str()) {
            return Err(Error::invalid(
                "update_mask",
                format!("`{p}` cannot be updated; updatable fields: {}", updatable.join(", ")),
            ));
        }
    }
    Ok(paths)
}

/// The paging part of a List request.
pub fn page(page_size: i32, page_token: String, filter: String, show_archived: bool) -> PageRequest {
    PageRequest { page_size, page_token, filter, show_archived }
}

/// Map a wire enum value to a core value; `UNSPECIFIED` (0) is `None`.
pub fn enum_in<W: TryFrom<i32>, T>(field: &str, raw: i32, map: impl Fn(W) -> Option<T>) -> Result<Option<T>> {
    if raw == 0 {
        return Ok(None);
    }
    W::try_from(raw)
        .ok()
        .and_then(map)
        .map(Some)
        .ok_or_else(|| Error::invalid(field, format!("{raw} is not a valid value")))
}

/// A required message field.
pub fn required<'a, T>(field: &str, value: Option<&'a T>) -> Result<&'a T> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}
