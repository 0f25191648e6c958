//! Invariants shared by the fuzz targets: what a value that passed a
//! checked `parse` must look like, and what a rejection must carry.

use peerlab_core::Error;
use peerlab_core::domain::{BoundedText, MAX_THEMES, Theme};

/// A rejection of user input: an input error whose every violation names a
/// field, and that field starts with one of `prefixes`.
pub fn assert_rejection(e: &Error, prefixes: &[&str]) {
    assert!(
        matches!(e, Error::InvalidInput { .. } | Error::InvalidFields(_)),
        "user input must be rejected as invalid input, got {e:?}"
    );
    let violations = e.field_violations();
    assert!(!violations.is_empty(), "a rejection without field violations: {e:?}");
    for v in &violations {
        assert!(!v.field.is_empty(), "a violation without a field path: {e:?}");
        assert!(!v.reason.is_empty(), "a violation without a reason: {e:?}");
        assert!(
            prefixes.iter().any(|p| v.field == *p
                || v.field.starts_with(&format!("{p}."))
                || v.field.starts_with(&format!("{p}["))),
            "violation names `{}`, expected one of {prefixes:?}: {e:?}",
            v.field
        );
    }
}

/// A checked text is trimmed, within its bounds, free of control characters
/// other than `\n`, `\t`, `\r`, and parses back to itself.
pub fn assert_text<const MIN: usize, const MAX: usize>(t: &BoundedText<MIN, MAX>) {
    let s = t.as_str();
    assert_eq!(s, s.trim(), "text not trimmed: {s:?}");
    let n = s.chars().count();
    assert!((MIN..=MAX).contains(&n), "text of {n} chars outside {MIN}..={MAX}");
    assert!(!s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')), "control character in {s:?}");
    assert!(BoundedText::<MIN, MAX>::parse("f", s).is_ok_and(|u| &u == t), "text does not re-parse to itself: {s:?}");
}

/// A checked theme list: at most `MAX_THEMES`, no duplicates, no more than
/// was sent, and each tag follows the theme rule.
pub fn assert_themes(themes: &[Theme], sent: usize) {
    assert!(themes.len() <= MAX_THEMES && themes.len() <= sent, "{} themes from {sent}", themes.len());
    for (i, t) in themes.iter().enumerate() {
        assert_theme(t);
        assert!(!themes[..i].contains(t), "duplicate theme {t:?}");
    }
}

/// One tag: 1 to 40 letters, digits and single inner hyphens, already normal.
pub fn assert_theme(t: &Theme) {
    let s = t.as_str();
    assert!((1..=40).contains(&s.chars().count()), "theme length: {s:?}");
    assert!(s.chars().all(|c| c.is_alphanumeric() || c == '-'), "theme characters: {s:?}");
    assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"), "theme hyphens: {s:?}");
    assert_eq!(s, s.to_lowercase(), "theme not lower-cased: {s:?}");
    assert!(Theme::parse("f", s).is_ok_and(|u| &u == t), "theme does not re-parse to itself: {s:?}");
}
