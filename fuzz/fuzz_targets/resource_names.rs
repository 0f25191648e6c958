//! Resource names on arbitrary UTF-8: a name that parses is one we could have
//! written, and writing its value back gives a name that parses to it again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peerlab_core::model::{Target, names};
use peerlab_fuzz::assert_rejection;
use peerlab_service::{convert, names as parse};

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    check(parse::municipality("parent", name), |m| parse::municipality("f", &names::municipality(*m)));
    check(parse::municipality_or_all("parent", name), |m| match m {
        Some(m) => parse::municipality_or_all("f", &names::municipality(*m)),
        None => parse::municipality_or_all("f", "municipalities/-"),
    });
    check(parse::working_group("parent", name), |g| parse::working_group("f", &names::working_group(*g)));
    check(parse::workshop("parent", name), |(g, w)| parse::workshop("f", &names::workshop(*g, *w)));
    check(parse::membership("parent", name), |(g, m)| parse::membership("f", &names::membership(*g, *m)));
    check(parse::challenge("parent", name), |c| parse::challenge("f", &names::challenge(c.municipality, c.id)));
    check(parse::initiative("parent", name), |i| parse::initiative("f", &names::initiative(i.municipality, i.id)));
    check(parse::project_idea("parent", name), |p| {
        parse::project_idea("f", &names::project_idea(p.municipality, p.id))
    });
    check(parse::recommendation("parent", name), |r| {
        parse::recommendation("f", &names::recommendation(r.municipality, r.id))
    });
    check(parse::target("parent", name), |t| parse::target("f", &convert::target(*t)));
    if let Ok(t) = parse::target("parent", name) {
        let kind = name.split('/').nth(2);
        let expected = match t {
            Target::Challenge(_) => "challenges",
            Target::Initiative(_) => "initiatives",
            Target::ProjectIdea(_) => "projectIdeas",
        };
        assert_eq!(kind, Some(expected), "{name:?} parsed as {t:?}");
    }
});

fn check<T: PartialEq + std::fmt::Debug>(
    parsed: peerlab_core::Result<T>,
    reparse: impl Fn(&T) -> peerlab_core::Result<T>,
) {
    match parsed {
        Ok(v) => assert_eq!(reparse(&v).ok().as_ref(), Some(&v), "re-formatted name does not parse back"),
        Err(e) => assert_rejection(&e, &["parent"]),
    }
}
