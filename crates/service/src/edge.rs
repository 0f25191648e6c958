//! What every call passes before it reaches a handler: the bearer token is
//! verified into a [`Principal`] (put in the request's extensions), the
//! caller's country is charged against its rate limit, and the call's span
//! learns who is calling.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use peerlab_core::auth::Principal;
use tonic::service::Interceptor;
use tonic::{Request, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::Verifier;
use crate::status::unauthenticated;

/// The interceptor put in front of every peerlab service.
#[derive(Clone)]
pub struct Edge {
    verifier: Verifier,
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl Edge {
    /// Verify with `verifier`; admit at most `per_country_per_second` calls
    /// per second per country (0 = unlimited), with a burst of the same size.
    pub fn new(verifier: Verifier, per_country_per_second: u32) -> Self {
        let limiter =
            NonZeroU32::new(per_country_per_second).map(|n| Arc::new(RateLimiter::keyed(Quota::per_second(n))));
        Edge { verifier, limiter }
    }

    fn admit(&self, p: &Principal) -> Result<(), Status> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let key = p.country().map_or_else(|| "network".to_owned(), |c| c.to_string());
        limiter.check_key(&key).map_err(|_| {
            let mut d = ErrorDetails::with_error_info("RATE_LIMITED", "peerlab", [("country".to_owned(), key.clone())]);
            d.set_retry_info(Some(std::time::Duration::from_secs(1)));
            Status::with_error_details(
                tonic::Code::ResourceExhausted,
                format!("rate limit for {key} exceeded; retry shortly"),
                d,
            )
        })
    }
}

impl Interceptor for Edge {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let header = match req.metadata().get("authorization").map(|v| v.to_str()) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return Err(unauthenticated(&crate::auth::AuthError::Malformed("authorization header is not ASCII")));
            }
            None => None,
        };
        let principal = self.verifier.verify(header).map_err(|e| {
            tracing::info!(reason = e.reason(), "unauthenticated call");
            unauthenticated(&e)
        })?;
        let span = tracing::Span::current();
        span.record("role", principal.role().as_str());
        span.record("country", principal.country().map(|c| c.to_string()).unwrap_or_default());
        self.admit(&principal)?;
        req.extensions_mut().insert(principal);
        Ok(req)
    }
}
