//! The one error type of the core, in the words of the domain.

/// Everything that can go wrong in a core operation.
///
/// The service maps each variant to a gRPC status in one exhaustive match.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input broke a rule; `field` is the request path of the offending value.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Dotted path of the field, as the client sent it (e.g. `challenge.title`).
        field: String,
        /// The rule that was broken, readable by a person.
        reason: String,
    },
    /// Several fields are invalid at once.
    #[error("invalid input: {}", .0.iter().map(|v| format!("{}: {}", v.field, v.reason)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<FieldViolation>),
    /// The object does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller is authenticated but may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// A status, stage or answer may not move this way.
    #[error("{what} cannot move from {from} to {to}")]
    InvalidTransition {
        /// Which lifecycle (`challenge.status`, `project_idea.stage`, ...).
        what: &'static str,
        /// The current state.
        from: String,
        /// The requested state.
        to: String,
    },
    /// The write would break a rule of the network (a state conflict).
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// Something with that identity already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The etag sent with an update is no longer current.
    #[error("etag mismatch: the {0} was changed since it was read")]
    StaleEtag(String),
    /// A `request_id` was reused with a different request.
    #[error("request_id {0} was already used for a different request")]
    RequestIdReused(String),
    /// The database failed; details are logged, never shown to callers.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// An invariant of our own broke; details are logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One invalid field: its request path and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Dotted path of the field.
    pub field: String,
    /// The rule, readable by a person.
    pub reason: String,
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), reason: reason.into() }
    }

    /// The field violations this error carries (empty when it is not an input error).
    pub fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Error::InvalidInput { field, reason } => {
                vec![FieldViolation { field: field.clone(), reason: reason.clone() }]
            }
            Error::InvalidFields(v) => v.clone(),
            Error::RequestIdReused(_) => vec![FieldViolation {
                field: "request_id".into(),
                reason: "was already used for a different request".into(),
            }],
            _ => Vec::new(),
        }
    }

    /// Prefix every field path with `prefix.` (used when a nested message is validated).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Error::InvalidInput { field, reason } => Error::InvalidInput { field: format!("{prefix}.{field}"), reason },
            Error::InvalidFields(v) => Error::InvalidFields(
                v.into_iter()
                    .map(|f| FieldViolation { field: format!("{prefix}.{}", f.field), reason: f.reason })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field violations so a request reports all its bad fields at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep the value of `r`, or record its violations and return `None`.
    pub fn check<T>(&mut self, r: Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                let v = e.field_violations();
                if v.is_empty() {
                    self.0.push(FieldViolation { field: String::new(), reason: e.to_string() });
                } else {
                    self.0.extend(v);
                }
                None
            }
        }
    }

    /// Record one violation.
    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation { field: field.into(), reason: reason.into() });
    }

    /// `Ok(())` when nothing was recorded, else the violations as one error.
    pub fn finish(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => {
                let mut v = self.0;
                let f = v.remove(0);
                Err(Error::InvalidInput { field: f.field, reason: f.reason })
            }
            _ => Err(Error::InvalidFields(self.0)),
        }
    }
}
