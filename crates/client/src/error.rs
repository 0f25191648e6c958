//! The client's error: the gRPC status with its rich details decoded.

use tonic_types::{ErrorDetails, StatusExt};

/// What went wrong in a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint could not be reached or configured.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The server answered with a non-OK status.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    /// The request could not be built (e.g. a token that is not valid header text).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
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
    pub fn code(&self) -> tonic::Code {
        match self {
            Error::Status(s) => s.code(),
            Error::Transport(_) => tonic::Code::Unavailable,
            Error::InvalidRequest(_) => tonic::Code::InvalidArgument,
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
}
