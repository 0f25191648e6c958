//! Who is calling, and what that lets them do.
//!
//! The service verifies a token and builds a [`Principal`]; from then on the
//! only way to write for a municipality or a country is a capability that the
//! principal grants here ([`Principal::act_for`], [`Principal::coordinate`],
//! [`Principal::manage_country`]), and the only way to read is through the
//! [`ReadScope`] it yields. Handlers never decide access with `if`s.

mod capability;
mod principal;

pub use capability::{ActingFor, Coordinating, ManagingCountry, ReadScope};
pub use principal::{Principal, Role};
