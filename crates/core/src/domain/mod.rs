//! Checked domain types: built only through `parse`, so a value of one of
//! these types is always valid.

mod country;
mod ids;
mod lifecycle;
mod text;

pub use country::CountryCode;
pub use ids::*;
pub use lifecycle::*;
pub use text::{Body, BoundedText, Description, MAX_THEMES, Note, Theme, Title};
