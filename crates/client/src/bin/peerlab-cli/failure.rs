//! Errors as a person reads them, and the exit codes they map to.

use std::process::ExitCode;

use tonic::Code;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The server (or the way to it) said no.
    #[error("{0}")]
    Api(#[from] peerlab_client::Error),
    /// Writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CliError {
    /// 2 for usage errors and invalid arguments (as clap does), 1 otherwise;
    /// a closed stdout (`| head`) is not a failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Api(e) if e.code() == Code::InvalidArgument => ExitCode::from(2),
            CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            CliError::Api(_) | CliError::Io(_) => ExitCode::from(1),
        }
    }

    /// The text for stderr: `error: CODE: message`, then one indented line
    /// per field violation, reason or hint.
    pub fn render(&self) -> String {
        match self {
            CliError::Usage(message) => format!("error: {message}\n"),
            CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => String::new(),
            CliError::Io(e) => format!("error: cannot write the output: {e}\n"),
            CliError::Api(e) => render_api(e),
        }
    }
}

fn render_api(error: &peerlab_client::Error) -> String {
    let mut message = error.message();
    // Transport failures hide their cause in the source chain; a status is
    // the message itself, so its chain starts below it.
    let mut source = match error.status() {
        Some(status) => std::error::Error::source(status),
        None => std::error::Error::source(error),
    };
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if cause_text != "transport error" && !message.contains(&cause_text) {
            message = format!("{message}: {cause_text}");
        }
        source = cause.source();
    }
    let mut text = match message.as_str() {
        "" => format!("error: {}\n", error.code_name()),
        _ => format!("error: {}: {message}\n", error.code_name()),
    };
    for (field, description) in error.field_violations() {
        text.push_str(&format!("  {field}: {description}\n"));
    }
    if let Some(reason) = error.reason().filter(|r| !r.is_empty() && r != error.code_name()) {
        text.push_str(&format!("  reason: {reason}\n"));
    }
    let hint = match error.code() {
        Code::Unimplemented => Some("the server does not offer this call yet"),
        Code::Unauthenticated => Some("pass a token with --token or PEERLAB_TOKEN"),
        Code::Unavailable => Some("is the server running at --endpoint / PEERLAB_ENDPOINT?"),
        _ => None,
    };
    if let Some(hint) = hint {
        text.push_str(&format!("  hint: {hint}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

    use super::*;

    fn api(status: tonic::Status) -> CliError {
        CliError::Api(peerlab_client::Error::from(status))
    }

    #[test]
    fn field_violations_get_a_line_each() {
        let details = ErrorDetails::with_bad_request(vec![
            FieldViolation::new("challenge.title", "must not be empty"),
            FieldViolation::new("challenge.themes[2]", "at most 40 letters, digits or hyphens"),
        ]);
        let error = api(tonic::Status::with_error_details(Code::InvalidArgument, "challenge is invalid", details));
        assert_eq!(
            error.render(),
            "error: INVALID_ARGUMENT: challenge is invalid\n\
             \x20 challenge.title: must not be empty\n\
             \x20 challenge.themes[2]: at most 40 letters, digits or hyphens\n"
        );
        assert_eq!(error.exit_code(), ExitCode::from(2));
    }

    #[test]
    fn reasons_and_hints_follow_the_message() {
        let mut details = ErrorDetails::new();
        details.set_error_info("TOKEN_EXPIRED", "peerlab", HashMap::new());
        let error = api(tonic::Status::with_error_details(Code::Unauthenticated, "token expired", details));
        assert_eq!(
            error.render(),
            "error: UNAUTHENTICATED: token expired\n  reason: TOKEN_EXPIRED\n  hint: pass a token with --token or PEERLAB_TOKEN\n"
        );
        assert_eq!(error.exit_code(), ExitCode::from(1));
    }

    #[test]
    fn unimplemented_calls_fail_cleanly() {
        let error = api(tonic::Status::unimplemented(""));
        assert_eq!(error.render(), "error: UNIMPLEMENTED\n  hint: the server does not offer this call yet\n");
        assert_eq!(error.exit_code(), ExitCode::from(1));
    }

    #[test]
    fn usage_errors_exit_2_and_a_closed_pipe_is_quiet() {
        assert_eq!(CliError::Usage("nothing to update".into()).exit_code(), ExitCode::from(2));
        let pipe = CliError::Io(std::io::ErrorKind::BrokenPipe.into());
        assert_eq!((pipe.render(), pipe.exit_code()), (String::new(), ExitCode::SUCCESS));
    }
}
