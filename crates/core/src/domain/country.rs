//! ISO 3166-1 alpha-2 country codes: the unit of trust.

use std::fmt;

use crate::{Error, Result};

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted, plus XK
/// (Kosovo, user-assigned but used by the EU and the Western Balkans networks
/// peerlab serves). Kept inline because the list is small, stable and the
/// country crates on crates.io bring far more than a membership test.
const ASSIGNED: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/// A checked ISO 3166-1 alpha-2 country code, always upper case.
///
/// ```
/// use peerlab_core::domain::CountryCode;
/// assert_eq!(CountryCode::parse("rs").unwrap().as_str(), "RS");
/// assert!(CountryCode::parse("Serbia").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parse a code, accepting lower case; rejects anything not assigned.
    pub fn parse(s: &str) -> Result<Self> {
        // Every stored row's country goes through here on the way out, so
        // this neither allocates nor scans: ASSIGNED is sorted, at 3 bytes
        // per code.
        match s.trim().as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
                let table = ASSIGNED.as_bytes();
                let (mut lo, mut hi) = (0, table.len().div_ceil(3));
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    match table[mid * 3..mid * 3 + 2].cmp(&code[..]) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return Ok(CountryCode(code)),
                    }
                }
                Err(Self::unassigned(s))
            }
            _ => Err(Self::unassigned(s)),
        }
    }

    fn unassigned(s: &str) -> Error {
        Error::invalid("country", format!("{s:?} is not an ISO 3166-1 alpha-2 country code"))
    }

    /// The two upper-case letters.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper case by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl serde::Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CountryCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for CountryCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_network_countries_and_rejects_others() {
        for c in ["AL", "BA", "GE", "MD", "MK", "RS", "UA", "xk"] {
            assert!(CountryCode::parse(c).is_ok(), "{c}");
        }
        for c in ["", "B", "BAA", "ZZ", "B1", "Ü1"] {
            assert!(CountryCode::parse(c).is_err(), "{c}");
        }
    }

    #[test]
    fn the_list_is_sorted_and_complete() {
        let codes: Vec<&str> = ASSIGNED.split(' ').collect();
        assert_eq!(codes.len(), 250);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        // The search finds exactly the listed codes, in either case.
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).expect("ascii");
                assert_eq!(CountryCode::parse(&code).is_ok(), codes.contains(&code.as_str()), "{code}");
                assert_eq!(CountryCode::parse(&code.to_lowercase()).is_ok(), codes.contains(&code.as_str()), "{code}");
            }
        }
    }
}
