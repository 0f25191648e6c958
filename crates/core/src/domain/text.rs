//! Bounded user texts and theme tags.

use std::fmt;

use crate::{Error, Result};

/// A trimmed, non-empty text of at most `MAX` characters with no control
/// characters other than newlines and tabs.
///
/// ```
/// use peerlab_core::domain::Title;
/// assert!(Title::parse("title", "Low digital literacy").is_ok());
/// assert!(Title::parse("title", "   ").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

/// A name or title: 1 to 200 characters.
pub type Title = BoundedText<1, 200>;
/// A long description: 0 to 20,000 characters.
pub type Description = BoundedText<0, 20_000>;
/// A note (an answer to a recommendation): 0 to 5,000 characters.
pub type Note = BoundedText<0, 5_000>;
/// The body of a recommendation: 1 to 10,000 characters.
pub type Body = BoundedText<1, 10_000>;

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    /// Trim and check `s`; `field` names the request field in the error.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        let t = s.trim();
        let n = t.chars().count();
        if n < MIN {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if n > MAX {
            return Err(Error::invalid(field, format!("must be at most {MAX} characters (got {n})")));
        }
        if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err(Error::invalid(field, "must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Debug for BoundedText<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for BoundedText<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A theme tag: 1 to 40 characters of lower-case letters, digits and single
/// hyphens (`digital-literacy`, `e-services`). Input is lower-cased and
/// spaces become hyphens, so "Digital Literacy" is accepted as `digital-literacy`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Theme(String);

/// At most this many themes on one item.
pub const MAX_THEMES: usize = 10;

impl Theme {
    /// Normalise and check one tag.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        let t: String = s.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
        let ok = (1..=40).contains(&t.chars().count())
            // Upper-case letters with no lower-case form (e.g. mathematical
            // capitals) would make two spellings of one theme.
            && t.chars().all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || c == '-')
            && !t.starts_with('-')
            && !t.ends_with('-')
            && !t.contains("--");
        if ok {
            Ok(Theme(t))
        } else {
            Err(Error::invalid(
                field,
                "a theme is 1 to 40 letters, digits and single hyphens (e.g. \"digital-literacy\")",
            ))
        }
    }

    /// Normalise, check and de-duplicate a list of tags (order kept).
    pub fn parse_list(field: &str, items: &[String]) -> Result<Vec<Theme>> {
        if items.len() > MAX_THEMES {
            return Err(Error::invalid(field, format!("at most {MAX_THEMES} themes")));
        }
        let mut out: Vec<Theme> = Vec::with_capacity(items.len());
        for (i, s) in items.iter().enumerate() {
            let t = Theme::parse(&format!("{field}[{i}]"), s)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Theme({})", self.0)
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(Title::parse("t", "  x ").unwrap().as_str(), "x");
        assert!(Title::parse("t", "").is_err());
        assert!(Title::parse("t", &"a".repeat(201)).is_err());
        assert!(Title::parse("t", &"é".repeat(200)).is_ok());
        assert!(Title::parse("t", "a\u{0}b").is_err());
        assert!(Description::parse("d", "").is_ok());
    }

    #[test]
    fn themes_are_normalised() {
        assert_eq!(Theme::parse("t", " Digital  Literacy ").unwrap().as_str(), "digital-literacy");
        assert!(Theme::parse("t", "a--b").is_err());
        assert!(Theme::parse("t", "-a").is_err());
        assert!(Theme::parse("t", "a/b").is_err());
        // A capital with no lower-case form cannot be normalised away.
        assert!(Theme::parse("t", "\u{1D400}bc").is_err());
        assert_eq!(Theme::parse("t", "Ölçü").unwrap().as_str(), "ölçü");
        let list = Theme::parse_list("t", &["a".into(), "A".into(), "b".into()]).unwrap();
        assert_eq!(list.len(), 2);
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(Theme::parse_list("t", &many).is_err());
    }
}
