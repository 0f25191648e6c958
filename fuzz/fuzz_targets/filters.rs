//! AIP-160 filter text, as sent in List requests.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peerlab_core::store::{Filter, Op};
use peerlab_fuzz::assert_rejection;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Filter::parse(text) {
        Ok(f) => {
            assert!(f.terms.len() <= 20, "{} terms", f.terms.len());
            assert_eq!(f.terms.is_empty(), text.trim().is_empty(), "{text:?} gave {f:?}");
            for t in &f.terms {
                assert!(!t.field.is_empty(), "a term without a field in {text:?}");
                assert!(t.field.chars().all(|c| c.is_alphanumeric() || "_-.:/+".contains(c)), "field {:?}", t.field);
            }
            // Written back in canonical form, it is the same filter.
            let canonical = f
                .terms
                .iter()
                .map(|t| format!("{} {} \"{}\"", t.field, op(t.op), t.value.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(" AND ");
            if canonical.len() <= 2_000 {
                assert_eq!(Filter::parse(&canonical).ok().as_ref(), Some(&f), "{text:?} re-written as {canonical:?}");
            }
        }
        Err(e) => assert_rejection(&e, &["filter"]),
    }
});

fn op(o: Op) -> &'static str {
    match o {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
    }
}
