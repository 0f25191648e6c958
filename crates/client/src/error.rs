//! The client's error: the gRPC status with its rich details decoded.

use std::time::Duration;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// What went wrong in a call.
///
/// The server's [`tonic::Status`] is kept whole; the `google.rpc` details it
/// carries (field violations, error info, retry info) are decoded on demand.
///
/// ```
/// use peerlab_client::Error;
/// let err = Error::from(tonic::Status::not_found("no such challenge"));
/// assert_eq!(err.to_string(), "NOT_FOUND: no such challenge");
/// assert!(!err.is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint could not be reached or configured.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The server answered with a non-OK status.
    #[error("{}: {}", code_name(.0.code()), .0.message())]
    Status(tonic::Status),
    /// The request could not be built (e.g. a token that is not valid header text).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The server answered something the client cannot follow (e.g. a page
    /// token that does not advance).
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}

impl From<tonic::Status> for Error {
    /// A call the server refused unprocessed while shutting down (its
    /// stream above the last one a graceful HTTP/2 `GOAWAY` lets finish)
    /// is `UNAVAILABLE`, as the gRPC HTTP/2 protocol says: nothing of it
    /// ran, so it may be tried again. tonic reports it as `INTERNAL`, the
    /// code of a `NO_ERROR` stream reset.
    fn from(status: tonic::Status) -> Self {
        if status.code() == Code::Internal && refused_by_go_away(&status) {
            let message = format!("the server is shutting down and did not process the call ({})", status.message());
            return Error::Status(tonic::Status::unavailable(message));
        }
        Error::Status(status)
    }
}

/// Whether `status` comes from a graceful `GOAWAY` of the server's that
/// left this call's stream unprocessed.
fn refused_by_go_away(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.is_go_away() && h2.is_remote() && h2.reason() == Some(h2::Reason::NO_ERROR);
        }
        source = e.source();
    }
    false
}

impl Error {
    /// The status, if the server answered.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            Error::Status(s) => Some(s),
            _ => None,
        }
    }

    /// The gRPC code (`Unavailable` for transport failures).
    pub fn code(&self) -> Code {
        match self {
            Error::Status(s) => s.code(),
            Error::Transport(_) => Code::Unavailable,
            Error::InvalidRequest(_) => Code::InvalidArgument,
            Error::InvalidResponse(_) => Code::Internal,
        }
    }

    /// The canonical name of [`Error::code`], e.g. `INVALID_ARGUMENT`.
    pub fn code_name(&self) -> &'static str {
        code_name(self.code())
    }

    /// The server's message, or this error's own text when there is no status.
    pub fn message(&self) -> String {
        match self {
            Error::Status(s) => s.message().to_owned(),
            other => other.to_string(),
        }
    }

    /// The `google.rpc` details the server attached (field violations, error info…).
    pub fn details(&self) -> ErrorDetails {
        self.status().map(|s| s.get_error_details()).unwrap_or_default()
    }

    /// `(field, description)` of every field violation.
    pub fn field_violations(&self) -> Vec<(String, String)> {
        self.details()
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect())
            .unwrap_or_default()
    }

    /// The `ErrorInfo` reason, e.g. `TOKEN_EXPIRED`.
    pub fn reason(&self) -> Option<String> {
        self.details().error_info().map(|i| i.reason.clone())
    }

    /// How long the server asked us to wait before trying again (`RetryInfo`).
    pub fn retry_delay(&self) -> Option<Duration> {
        self.details().retry_info().and_then(|r| r.retry_delay)
    }

    /// Whether trying again may succeed: the server was unavailable or could
    /// not be reached. Whether a call *may* be replayed is a separate question
    /// the client answers per method (see [`crate::RetryPolicy`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Transport(_)) || self.code() == Code::Unavailable
    }
}

/// The canonical upper-case name of a gRPC code, as in `google.rpc.Code`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

    use super::*;

    #[test]
    fn decodes_field_violations_reason_and_retry_delay() {
        let mut details =
            ErrorDetails::with_bad_request(vec![FieldViolation::new("challenge.title", "must not be empty")]);
        details.set_error_info("FIELD_INVALID", "peerlab", std::collections::HashMap::new());
        details.set_retry_info(Some(Duration::from_millis(1500)));
        let err =
            Error::from(tonic::Status::with_error_details(Code::InvalidArgument, "challenge is invalid", details));

        assert_eq!(err.to_string(), "INVALID_ARGUMENT: challenge is invalid");
        assert_eq!(err.field_violations(), vec![("challenge.title".to_owned(), "must not be empty".to_owned())]);
        assert_eq!(err.reason().as_deref(), Some("FIELD_INVALID"));
        assert_eq!(err.retry_delay(), Some(Duration::from_millis(1500)));
        assert!(!err.is_retryable());
    }

    #[test]
    fn unavailable_is_retryable_and_has_no_details() {
        let err = Error::from(tonic::Status::unavailable("draining"));
        assert!(err.is_retryable());
        assert_eq!(err.code_name(), "UNAVAILABLE");
        assert!(err.field_violations().is_empty());
        assert_eq!(err.retry_delay(), None);
    }
}
