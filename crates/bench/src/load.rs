//! Closed-loop load: `in_flight` workers each issue a call as soon as their
//! previous one returns. Calls are counted only when they start and end
//! inside the measured window, which follows a warm-up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

/// A latency histogram in microseconds, 1 µs to 10 min, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid")
}

/// Record `d` in `h`, clamped to its range.
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1));
}

/// What a closed-loop run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Calls that succeeded within the window.
    pub calls: u64,
    /// Calls that failed within the window.
    pub errors: u64,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// The window.
    pub elapsed: Duration,
    /// Latency of the successful calls, µs.
    pub latency: Histogram<u64>,
    /// What `probe` moved by over the window (e.g. the server's CPU seconds).
    pub probed: f64,
}

impl Outcome {
    /// Successful calls per second.
    pub fn rate(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// Add the calls, time and probe movement of `other`, a later window of
    /// the same measurement.
    pub fn merge(&mut self, other: Outcome) -> anyhow::Result<()> {
        self.calls += other.calls;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.elapsed += other.elapsed;
        self.latency.add(&other.latency)?;
        self.probed += other.probed;
        Ok(())
    }

    /// Latency quantile `q` in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Run `call(i)` from `in_flight` workers for `warmup`, then measure for
/// `window`; `probe` is read at both ends of the window.
pub async fn closed_loop<F, Fut>(
    in_flight: usize,
    warmup: Duration,
    window: Duration,
    probe: impl Fn() -> anyhow::Result<f64>,
    call: F,
) -> anyhow::Result<Outcome>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now() + warmup;
    let end = start + window;
    let call = Arc::new(call);
    let mut workers = Vec::with_capacity(in_flight);
    for w in 0..in_flight {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut latency = histogram();
            let (mut calls, mut errors, mut first_error) = (0_u64, 0_u64, None);
            let mut i = w as u64;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let result = call(i).await;
                i += in_flight as u64;
                let t1 = Instant::now();
                if t0 < start || t1 > end {
                    continue;
                }
                match result {
                    Ok(()) => {
                        calls += 1;
                        record(&mut latency, t1 - t0);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (calls, errors, first_error, latency)
        }));
    }
    tokio::time::sleep_until(start).await;
    let before = probe()?;
    tokio::time::sleep_until(end).await;
    let after = probe()?;
    let mut outcome = Outcome {
        calls: 0,
        errors: 0,
        first_error: None,
        elapsed: window,
        latency: histogram(),
        probed: after - before,
    };
    for worker in workers {
        let (calls, errors, first_error, latency) = worker.await?;
        outcome.calls += calls;
        outcome.errors += errors;
        if outcome.first_error.is_none() {
            outcome.first_error = first_error;
        }
        outcome.latency.add(&latency).map_err(|e| anyhow::anyhow!("merging histograms: {e}"))?;
    }
    Ok(outcome)
}

/// Latencies of `n` sequential calls of `call`, after `warmup` unmeasured ones.
pub async fn sequential<F, Fut>(warmup: usize, n: usize, mut call: F) -> anyhow::Result<Histogram<u64>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..warmup {
        call().await?;
    }
    let mut latency = histogram();
    for _ in 0..n {
        let t0 = Instant::now();
        call().await?;
        record(&mut latency, t0.elapsed());
    }
    Ok(latency)
}

/// Latencies of `n` calls each of `a` and `b`, taken in turns after `warmup`
/// unmeasured turns: `a` then `b`, then `b` then `a`, and so on. A target and
/// its ceiling measured one after the other can differ by what the machine
/// did in between (writeback after a bulk load, another process); in turns,
/// both see the same conditions, and neither always goes first.
pub async fn in_turns<A, FutA, B, FutB>(
    warmup: usize,
    n: usize,
    mut a: A,
    mut b: B,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)>
where
    A: FnMut() -> FutA,
    FutA: Future<Output = anyhow::Result<()>>,
    B: FnMut() -> FutB,
    FutB: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..warmup {
        a().await?;
        b().await?;
    }
    let (mut of_a, mut of_b) = (histogram(), histogram());
    for turn in 0..n {
        for first in [turn % 2 == 0, turn % 2 == 1] {
            let t0 = Instant::now();
            if first {
                a().await?;
                record(&mut of_a, t0.elapsed());
            } else {
                b().await?;
                record(&mut of_b, t0.elapsed());
            }
        }
    }
    Ok((of_a, of_b))
}
