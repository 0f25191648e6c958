//! Page-token decoding, through the store's own check of a List request.
//!
//! Input: a control byte (bit 0: show_archived; the rest picks the List),
//! page_size (4 bytes LE), an id (8 bytes LE, the List's parent and the row
//! a token is made for), then UTF-8 `token\nfilter`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peerlab_core::domain::{MunicipalityId, WorkingGroupId};
use peerlab_core::model::PageRequest;
use peerlab_core::store::{check_page_request, page_token_after};
use peerlab_fuzz::assert_rejection;

const LISTS: usize = 9;

fuzz_target!(|data: &[u8]| {
    if data.len() < 13 {
        return;
    }
    let (head, rest) = data.split_at(13);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (token, filter) = text.split_once('\n').unwrap_or((text, ""));
    let list = usize::from(head[0] >> 1) % LISTS;
    let page_size = i32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let id = i64::from_le_bytes([head[5], head[6], head[7], head[8], head[9], head[10], head[11], head[12]]);
    let req = PageRequest {
        page_size,
        page_token: token.to_owned(),
        filter: filter.to_owned(),
        show_archived: head[0] & 1 == 1,
    };
    let context = context(list, id);

    // Whatever the client sends is either a valid page or an input error.
    match check_page_request(&req, &context) {
        Ok((after, limit)) => {
            assert!((1..=500).contains(&limit), "limit {limit}");
            let expected = if page_size == 0 { 50 } else { u64::from(page_size.unsigned_abs()).min(500) };
            assert_eq!(limit, expected, "page_size {page_size}");
            assert_eq!(after.is_some(), !token.is_empty());
            assert!(after.is_none_or(|a| a >= 0), "cursor {after:?}");
        }
        Err(e) => {
            assert!(page_size < 0 || !token.is_empty(), "rejected a request without a token: {e:?}");
            assert_rejection(&e, &["page_size", "page_token"]);
        }
    }

    // A token we hand out comes back as its row, for its query only.
    let fresh = PageRequest { page_size: page_size & i32::MAX, page_token: String::new(), ..req.clone() };
    let Ok(minted) = page_token_after(&fresh, &context, id) else {
        panic!("no token for a request without one");
    };
    assert!(minted.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "token {minted:?}");
    let with = |r: &PageRequest, ctx: &str| {
        check_page_request(&PageRequest { page_token: minted.clone(), ..r.clone() }, ctx).map(|(after, _)| after)
    };
    match with(&fresh, &context) {
        Ok(after) => assert_eq!(after, Some(id).filter(|_| id >= 0), "token for {id}"),
        Err(e) => {
            assert!(id < 0, "our own token for row {id} was rejected: {e:?}");
            assert_rejection(&e, &["page_token"]);
        }
    }
    if id >= 0 {
        let resized = PageRequest { page_size: fresh.page_size % 500 + 1, ..fresh.clone() };
        assert_eq!(with(&resized, &context).ok(), Some(Some(id)), "a new page size must keep the cursor");
    }
    let other_filter = PageRequest { filter: format!("{filter} "), ..fresh.clone() };
    let other_archived = PageRequest { show_archived: !fresh.show_archived, ..fresh.clone() };
    for (what, r, ctx) in [
        ("filter", &other_filter, context.clone()),
        ("show_archived", &other_archived, context.clone()),
        ("list", &fresh, self::context((list + 1) % LISTS, id)),
        ("parent", &fresh, self::context(list, id.wrapping_add(1))),
    ] {
        if ctx == context && what == "parent" {
            continue; // Lists without a parent, or both parents invalid.
        }
        match with(r, &ctx) {
            Ok(after) => panic!("token for {id} accepted with another {what}: {after:?}"),
            Err(e) => assert_rejection(&e, &["page_token"]),
        }
    }
});

/// The query context each List of the store passes (see `crates/core/src/store/*.rs`).
fn context(list: usize, id: i64) -> String {
    let parent = MunicipalityId::parse("parent", id).ok();
    let group = WorkingGroupId::parse("parent", id).map(|g| g.to_string()).unwrap_or_default();
    match list {
        0 => "municipalities".into(),
        1 => "workingGroups".into(),
        2 => "events".into(),
        3 => format!("memberships:{group}"),
        4 => format!("workshops:{group}"),
        5 => format!("challenges:{parent:?}"),
        6 => format!("initiatives:{parent:?}"),
        7 => format!("projectIdeas:{parent:?}"),
        _ => format!("recommendations:{parent:?}"),
    }
}
