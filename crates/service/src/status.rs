//! The one place where core errors become gRPC statuses.

use peerlab_core::Error;
use peerlab_core::error::FieldViolation;
use peerlab_core::store::is_connection_error;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::AuthError;

/// Map a core error to a status: an exhaustive match, no wildcard, so a new
/// error variant must be given a code here.
pub fn to_status(e: Error) -> Status {
    match e {
        Error::InvalidInput { .. } | Error::InvalidFields(_) | Error::RequestIdReused(_) => {
            bad_request(e.to_string(), &e.field_violations())
        }
        Error::NotFound(name) => {
            let mut d = ErrorDetails::new();
            d.set_resource_info("", name.clone(), "", "not found");
            Status::with_error_details(Code::NotFound, format!("{name} not found"), d)
        }
        Error::PermissionDenied(msg) => Status::with_error_details(
            Code::PermissionDenied,
            msg,
            ErrorDetails::with_error_info("PERMISSION_DENIED", "peerlab", []),
        ),
        Error::InvalidTransition { what, ref from, ref to } => {
            let msg = e.to_string();
            let mut d = ErrorDetails::new();
            d.add_precondition_failure_violation("TRANSITION", what, format!("{what} cannot move from {from} to {to}"));
            Status::with_error_details(Code::FailedPrecondition, msg, d)
        }
        Error::FailedPrecondition(msg) => Status::failed_precondition(msg),
        Error::AlreadyExists(msg) => Status::already_exists(msg),
        Error::StaleEtag(name) => Status::with_error_details(
            Code::Aborted,
            format!("{name} was changed since it was read; read it again and retry with the new etag"),
            ErrorDetails::with_error_info("ETAG_MISMATCH", "peerlab", []),
        ),
        Error::Database(db) => {
            if is_connection_error(&db) {
                tracing::warn!(error = %db, "database unavailable");
                Status::unavailable("the database is unavailable; retry later")
            } else {
                tracing::error!(error = %db, "database error");
                Status::internal("internal error")
            }
        }
        Error::Internal(msg) => {
            tracing::error!(error = %msg, "internal error");
            Status::internal("internal error")
        }
    }
}

/// `INVALID_ARGUMENT` with `BadRequest` field violations.
pub fn bad_request(message: String, violations: &[FieldViolation]) -> Status {
    let mut d = ErrorDetails::new();
    for v in violations {
        d.add_bad_request_violation(v.field.clone(), v.reason.clone());
    }
    Status::with_error_details(Code::InvalidArgument, message, d)
}

/// `UNAUTHENTICATED` with an `ErrorInfo` reason; never contains the token.
pub fn unauthenticated(e: &AuthError) -> Status {
    Status::with_error_details(
        Code::Unauthenticated,
        e.to_string(),
        ErrorDetails::with_error_info(e.reason(), "peerlab", []),
    )
}
