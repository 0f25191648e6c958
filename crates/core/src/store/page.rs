//! Keyset pagination with opaque page tokens.
//!
//! A token carries the last id returned and a fingerprint of the query it
//! belongs to. Rows are ordered by id, so rows inserted while a client pages
//! land after its cursor or before it, and never shift what it has not seen.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::model::PageRequest;
use crate::{Error, Result};

/// Default page size (AIP-158).
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Larger requests are coerced down to this.
pub const MAX_PAGE_SIZE: u64 = 500;
/// Rows per page of an export. Export pages never reach a client whole (the
/// service cuts them into messages of at most [`MAX_PAGE_SIZE`]), so they
/// can be larger: fewer statements per exported row.
pub const EXPORT_PAGE_SIZE: u64 = 2_000;

/// A checked page request.
#[derive(Clone, Debug)]
pub(crate) struct PageSpec {
    /// How many rows to return.
    pub limit: u64,
    /// Return rows with an id above this.
    pub after: Option<i64>,
    fingerprint: String,
}

impl PageSpec {
    /// Check `req` for the query identified by `context` (method and parent).
    pub fn new(req: &PageRequest, context: &str) -> Result<Self> {
        let limit = match req.page_size {
            n if n < 0 => return Err(Error::invalid("page_size", "must not be negative")),
            0 => DEFAULT_PAGE_SIZE,
            n => (n as u64).min(MAX_PAGE_SIZE),
        };
        let fingerprint = fingerprint(context, &req.filter, req.show_archived);
        let after = if req.page_token.is_empty() { None } else { Some(decode(&req.page_token, &fingerprint)?) };
        Ok(PageSpec { limit, after, fingerprint })
    }

    /// Check `req` for one page of an export of the query `context`; its
    /// `page_size` is ignored: exports read [`EXPORT_PAGE_SIZE`] rows a page.
    pub fn export(req: &PageRequest, context: &str) -> Result<Self> {
        Ok(PageSpec { limit: EXPORT_PAGE_SIZE, ..Self::new(req, context)? })
    }

    /// The token for the page after the row with id `last`.
    pub fn token_after(&self, last: i64) -> String {
        URL_SAFE_NO_PAD.encode(format!("1:{last}:{}", self.fingerprint))
    }

    /// Cut `rows` (fetched with `limit + 1`) to a page and its next token.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more { rows.last().map(|r| self.token_after(id(r))) } else { None };
        (rows, next)
    }
}

/// Check `req` as a List of the query `context` would: `(after, limit)`.
/// Public only so the fuzz targets can reach the token decoder.
#[doc(hidden)]
pub fn check_page_request(req: &PageRequest, context: &str) -> Result<(Option<i64>, u64)> {
    PageSpec::new(req, context).map(|spec| (spec.after, spec.limit))
}

/// The token a List of the query `context` returns for the page after `last`.
/// Public only so the fuzz targets can reach the token encoder.
#[doc(hidden)]
pub fn page_token_after(req: &PageRequest, context: &str, last: i64) -> Result<String> {
    PageSpec::new(req, context).map(|spec| spec.token_after(last))
}

fn fingerprint(context: &str, filter: &str, show_archived: bool) -> String {
    let digest = Sha256::digest(format!("{context}\u{0}{filter}\u{0}{show_archived}"));
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn decode(token: &str, expected: &str) -> Result<i64> {
    let bad = || Error::invalid("page_token", "is not a token returned by this service for this query");
    let raw = URL_SAFE_NO_PAD.decode(token.as_bytes()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("1"), Some(id), Some(fp)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if fp != expected {
        return Err(Error::invalid(
            "page_token",
            "belongs to a different query: keep filter and parent unchanged while paging",
        ));
    }
    id.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(size: i32, token: &str, filter: &str) -> PageRequest {
        PageRequest { page_size: size, page_token: token.into(), filter: filter.into(), show_archived: false }
    }

    #[test]
    fn sizes_default_and_coerce() {
        assert_eq!(PageSpec::new(&req(0, "", ""), "c").map(|p| p.limit).ok(), Some(50));
        assert_eq!(PageSpec::new(&req(1_000_000_000, "", ""), "c").map(|p| p.limit).ok(), Some(500));
        assert!(PageSpec::new(&req(-1, "", ""), "c").is_err());
        assert_eq!(PageSpec::export(&req(10, "", ""), "c").map(|p| p.limit).ok(), Some(EXPORT_PAGE_SIZE));
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let spec = PageSpec::new(&req(10, "", "x = 1"), "c").expect("spec");
        let token = spec.token_after(42);
        assert_eq!(PageSpec::new(&req(10, &token, "x = 1"), "c").ok().and_then(|p| p.after), Some(42));
        assert!(PageSpec::new(&req(10, &token, "x = 2"), "c").is_err());
        assert!(PageSpec::new(&req(10, &token, "x = 1"), "other").is_err());
        assert!(PageSpec::new(&req(10, "garbage!", ""), "c").is_err());
        assert!(PageSpec::new(&req(10, &URL_SAFE_NO_PAD.encode("1:-5:abc"), ""), "c").is_err());
    }
}
