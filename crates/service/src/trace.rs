//! A tracing span per call: method, caller country and role (filled in by
//! the edge), and the gRPC status. Never the token.

use http::{Request, Response};
use tower_http::classify::{GrpcErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

/// Builds the per-call span.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallSpan;

impl<B> MakeSpan<B> for CallSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        tracing::info_span!(
            "call",
            method = %req.uri().path(),
            country = tracing::field::Empty,
            role = tracing::field::Empty,
            status = tracing::field::Empty,
        )
    }
}

/// Records the status of calls that end in their headers (errors, which
/// tonic sends trailers-only) and logs completion at debug level.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallEnd;

impl<B> OnResponse<B> for CallEnd {
    fn on_response(self, res: &Response<B>, latency: std::time::Duration, span: &Span) {
        let status = res.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0");
        span.record("status", status);
        tracing::debug!(parent: span, latency_us = latency.as_micros() as u64, "call finished");
    }
}

/// The layer to put on the server.
pub fn layer()
-> TraceLayer<SharedClassifier<GrpcErrorsAsFailures>, CallSpan, tower_http::trace::DefaultOnRequest, CallEnd> {
    TraceLayer::new_for_grpc().make_span_with(CallSpan).on_response(CallEnd)
}
