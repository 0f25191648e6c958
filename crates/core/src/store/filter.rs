//! A small AIP-160 subset: `field op value` terms joined by `AND`.
//!
//! Written by hand because the Rust crates for AIP-160 are unmaintained or
//! pull in a full expression language; peerlab needs conjunctions of
//! comparisons on a fixed list of fields per resource, with errors that name
//! the offending term.

use crate::{Error, Result};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// One `field op value` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The field name.
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The value, unquoted.
    pub value: String,
}

/// A parsed filter: all terms must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The terms.
    pub terms: Vec<Term>,
}

/// At most this many terms in one filter.
const MAX_TERMS: usize = 20;

impl Filter {
    /// Parse filter text; the empty string is the empty filter.
    ///
    /// ```
    /// use peerlab_core::store::{Filter, Op};
    /// let f = Filter::parse(r#"country = "BA" AND status = OPEN"#).unwrap();
    /// assert_eq!(f.terms.len(), 2);
    /// assert_eq!(f.terms[1].op, Op::Eq);
    /// assert!(Filter::parse("country ~ BA").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Filter> {
        if text.len() > 2_000 {
            return Err(Error::invalid("filter", "must be at most 2000 characters"));
        }
        let tokens = tokenize(text)?;
        let mut terms = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if !terms.is_empty() {
                match &tokens[i] {
                    Tok::Word(w) if w == "AND" => i += 1,
                    other => return Err(Error::invalid("filter", format!("expected AND before {}", other.show()))),
                }
            }
            let (Some(Tok::Word(field)), Some(Tok::Op(op)), Some(value)) =
                (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
            else {
                return Err(Error::invalid("filter", "expected terms of the form `field = value` joined by AND"));
            };
            // `AND` is the one reserved word: a field named so is a typo
            // (`a = 1 AND AND b = 2`), not a field to look up.
            if field == "AND" {
                return Err(Error::invalid("filter", "expected terms of the form `field = value` joined by AND"));
            };
            let value = match value {
                Tok::Word(w) if w != "AND" => w.clone(),
                Tok::Quoted(q) => q.clone(),
                other => {
                    return Err(Error::invalid(
                        "filter",
                        format!("expected a value after {field}, found {}", other.show()),
                    ));
                }
            };
            terms.push(Term { field: field.clone(), op: *op, value });
            i += 3;
        }
        if terms.len() > MAX_TERMS {
            return Err(Error::invalid("filter", format!("at most {MAX_TERMS} terms")));
        }
        Ok(Filter { terms })
    }
}

#[derive(Debug)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(Op),
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(q) => format!("\"{q}\""),
            Tok::Op(o) => format!("{o:?}"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(e) => s.push(e),
                        None => return Err(Error::invalid("filter", "unterminated string")),
                    },
                    Some('"') => break,
                    Some(ch) => s.push(ch),
                    None => return Err(Error::invalid("filter", "unterminated string")),
                }
            }
            out.push(Tok::Quoted(s));
        } else if "=!<>".contains(c) {
            chars.next();
            let eq = chars.peek() == Some(&'=');
            if eq {
                chars.next();
            }
            out.push(Tok::Op(match (c, eq) {
                ('=', false) => Op::Eq,
                ('!', true) => Op::Ne,
                ('>', false) => Op::Gt,
                ('>', true) => Op::Ge,
                ('<', false) => Op::Lt,
                ('<', true) => Op::Le,
                _ => return Err(Error::invalid("filter", format!("unknown operator starting with `{c}`"))),
            }));
        } else if c.is_alphanumeric() || "_-.:/+".contains(c) {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_alphanumeric() || "_-.:/+".contains(ch) {
                    s.push(ch);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Word(s));
        } else {
            return Err(Error::invalid("filter", format!("unexpected character `{c}`")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conjunctions() {
        let f =
            Filter::parse(r#"country = "BA" AND update_time > "2024-01-01T00:00:00Z" AND theme="a b""#).expect("parse");
        assert_eq!(f.terms.len(), 3);
        assert_eq!(f.terms[1].op, Op::Gt);
        assert_eq!(f.terms[2].value, "a b");
        assert_eq!(Filter::parse("").expect("empty").terms.len(), 0);
    }

    #[test]
    fn rejects_malformed_filters() {
        for bad in [
            "country",
            "country =",
            "= BA",
            "a = 1 b = 2",
            "a = 1 OR b = 2",
            "a = \"x",
            "a ~ 1",
            "a = AND",
            "AND = 1",
            "a = 1 AND AND = 2",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
