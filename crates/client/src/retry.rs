//! Retrying calls that failed because the server was unavailable.

use std::future::Future;
use std::time::Duration;

use crate::Error;

/// How a [`Client`](crate::Client) retries calls that failed with
/// `UNAVAILABLE` or a transport error: exponential backoff with jitter.
///
/// Which calls are replayed at all:
/// - reads (get, list, reports, opening an export) — always safe;
/// - creates — the client fills in a `request_id` (UUID v4) when the caller
///   gives none and sends the same one on every attempt, so the server writes
///   once and answers a replay with the first result;
/// - updates, answers and archives — only when they carry an `etag`. If an
///   earlier attempt did reach the server, the replay carries a stale etag and
///   fails `ABORTED` instead of applying twice; so an `ABORTED` after retries
///   may mean the change *was* applied: read the resource again to tell.
///   Without an etag they are sent once.
///
/// A `RetryInfo` delay sent by the server takes precedence over the backoff.
///
/// ```
/// use std::time::Duration;
/// use peerlab_client::RetryPolicy;
/// let policy = RetryPolicy { max_attempts: 6, ..RetryPolicy::default() };
/// assert!(policy.delay(3, 1.0) <= Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 4; 1 disables retries).
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry (default 100 ms).
    pub initial_backoff: Duration,
    /// Largest backoff ceiling (default 5 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is sent once.
    pub fn never() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The wait after failed attempt `attempt` (1-based), for a `jitter` in
    /// `0.0..=1.0`: half of the exponential ceiling
    /// `min(max_backoff, initial_backoff × 2^(attempt-1))`, plus up to the
    /// other half scaled by `jitter`, so replicas that failed together do not
    /// retry together and the wait never collapses to zero.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self.initial_backoff.saturating_mul(1 << exponent).min(self.max_backoff);
        let half = ceiling / 2;
        let jitter = if jitter.is_nan() { 0.0 } else { jitter.clamp(0.0, 1.0) };
        half + half.mul_f64(jitter)
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        self.delay(attempt, rand::random::<f64>())
    }
}

/// Whether a call may be sent again after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads, and creates that carry a `request_id`.
    Safe,
    /// Never replayed.
    Never,
}

impl Replay {
    /// Writes guarded by an etag are replayed; without one, they are not.
    pub(crate) fn guarded_by(etag: &str) -> Replay {
        if etag.is_empty() { Replay::Never } else { Replay::Safe }
    }
}

/// Run `attempt` until it succeeds, fails for good, or the policy gives up.
pub(crate) async fn retrying<T, Fut>(
    policy: &RetryPolicy,
    replay: Replay,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, Error>
where
    Fut: Future<Output = Result<T, Error>>,
{
    let mut tried = 1;
    loop {
        let err = match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        if replay == Replay::Never || tried >= policy.max_attempts || !err.is_retryable() {
            return Err(err);
        }
        let wait = err.retry_delay().unwrap_or_else(|| policy.backoff(tried));
        tracing::debug!(attempt = tried, ?wait, error = %err, "retrying peerlab call");
        tokio::time::sleep(wait).await;
        tried += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let policy = RetryPolicy::default();
        let ms = |attempt, jitter| policy.delay(attempt, jitter).as_millis();
        assert_eq!([ms(1, 0.0), ms(2, 0.0), ms(3, 0.0), ms(4, 0.0)], [50, 100, 200, 400]);
        assert_eq!([ms(1, 1.0), ms(2, 1.0), ms(3, 1.0), ms(4, 1.0)], [100, 200, 400, 800]);
        assert_eq!(ms(7, 1.0), 5000, "capped at max_backoff");
        assert_eq!(ms(60, 0.5), 3750, "huge attempt numbers do not overflow");
        assert_eq!(ms(2, 7.0), 200, "jitter is clamped");
    }

    fn zero_wait(max_attempts: u32) -> RetryPolicy {
        RetryPolicy { max_attempts, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO }
    }

    async fn run(policy: RetryPolicy, replay: Replay, failures: Vec<tonic::Status>) -> (Result<u32, Error>, u32) {
        let calls = Cell::new(0u32);
        let result = retrying(&policy, replay, || {
            let n = calls.get();
            calls.set(n + 1);
            let outcome = failures.get(n as usize).cloned().map_or(Ok(n + 1), |s| Err(Error::from(s)));
            async move { outcome }
        })
        .await;
        (result, calls.get())
    }

    #[tokio::test]
    async fn unavailable_is_retried_until_success() {
        let (result, calls) = run(zero_wait(4), Replay::Safe, vec![tonic::Status::unavailable("x"); 3]).await;
        assert_eq!(result.ok(), Some(4));
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let (result, calls) = run(zero_wait(3), Replay::Safe, vec![tonic::Status::unavailable("x"); 5]).await;
        assert_eq!(result.map_err(|e| e.code()).err(), Some(tonic::Code::Unavailable));
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn other_codes_and_unguarded_writes_are_sent_once() {
        let (_, calls) = run(zero_wait(4), Replay::Safe, vec![tonic::Status::aborted("stale etag")]).await;
        assert_eq!(calls, 1);
        let (_, calls) = run(zero_wait(4), Replay::guarded_by(""), vec![tonic::Status::unavailable("x")]).await;
        assert_eq!(calls, 1);
        let (result, calls) = run(zero_wait(4), Replay::guarded_by("e1"), vec![tonic::Status::unavailable("x")]).await;
        assert_eq!((result.ok(), calls), (Some(2), 2));
    }
}
