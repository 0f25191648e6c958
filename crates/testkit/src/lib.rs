//! Shared test support: a fresh database per test on SQLite or PostgreSQL,
//! real principals, and the macro that runs a test on both backends.

mod db;
pub mod seed;

pub use db::{Backend, TestDb};

use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::{CountryCode, MunicipalityId};

/// A country code; panics on a typo in a test.
pub fn cc(s: &str) -> CountryCode {
    CountryCode::parse(s).unwrap_or_else(|e| panic!("bad test country {s}: {e}"))
}

/// A network coordinator.
pub fn coordinator() -> Principal {
    Principal::new("test-network", "coordinator", Role::Coordinator, None, None).unwrap_or_else(|e| panic!("{e}"))
}

/// A country admin of `country`.
pub fn country_admin(country: &str) -> Principal {
    Principal::new(format!("test-{country}"), "admin", Role::CountryAdmin, Some(cc(country)), None)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An observer of `country`.
pub fn observer(country: &str) -> Principal {
    Principal::new(format!("test-{country}"), "observer", Role::Observer, Some(cc(country)), None)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A staff member of municipality `m` in `country`.
pub fn staff(country: &str, m: MunicipalityId) -> Principal {
    Principal::new(format!("test-{country}"), format!("staff-{m}"), Role::Staff, Some(cc(country)), Some(m))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Run each listed `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::Backend::Postgres.enabled() {
                        super::$name($crate::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}
