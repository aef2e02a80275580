//! The meanings a domain operation can fail with. `api/` maps each, exhaustively, to a GraphQL
//! error code or a `userErrors` entry; internal causes are logged there and never shown.

use std::fmt;

/// Why one input field (or the input as a whole) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldErrorCode {
    /// The value has the wrong form (a URN that is not six digits, an unknown time zone).
    Invalid,
    /// A value that must be given is missing or empty.
    Required,
    /// The value is longer than allowed.
    TooLong,
    /// The value is shorter than allowed.
    TooShort,
    /// The value is outside the allowed range (a zero duration, an end before its start).
    OutOfRange,
    /// The value must be unique and is already used.
    Taken,
    /// The input names an object the caller cannot see or that does not exist.
    NotFound,
    /// The change breaks a rule of the service (a booking beyond the school's allocation).
    NotAllowed,
    /// The object is not in a state that allows this change.
    InvalidState,
}

impl FieldErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "INVALID",
            Self::Required => "REQUIRED",
            Self::TooLong => "TOO_LONG",
            Self::TooShort => "TOO_SHORT",
            Self::OutOfRange => "OUT_OF_RANGE",
            Self::Taken => "TAKEN",
            Self::NotFound => "NOT_FOUND",
            Self::NotAllowed => "NOT_ALLOWED",
            Self::InvalidState => "INVALID_STATE",
        }
    }
}

/// One refused field: the path to it in the input (in the API's camelCase), a message a person
/// can act on, and a stable code a program can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: Vec<String>,
    pub message: String,
    pub code: FieldErrorCode,
}

impl FieldError {
    pub fn new(field: &str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: if field.is_empty() {
                Vec::new()
            } else {
                field.split('.').map(str::to_owned).collect()
            },
            message: message.into(),
            code,
        }
    }
}

/// An unexpected failure: its cause is for the log, never for the client.
#[derive(Debug)]
pub struct Internal {
    pub context: &'static str,
    pub cause: Box<dyn std::error::Error + Send + Sync>,
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.cause)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The object does not exist, or belongs to a service or school the caller cannot see.
    #[error("not found")]
    NotFound,
    /// The caller can see the object but may not do this to it.
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with what the caller may do instead (who may take the action, or the service
    /// setting that closes it). The message is safe to show.
    #[error("forbidden: {0}")]
    Refused(String),
    /// No valid credentials.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The input was refused; every reason is listed.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Someone else got there first (a slot taken by a concurrent booking). The message is safe
    /// to show.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts; try again after the given number of seconds.
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("internal error: {0}")]
    Internal(Internal),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(field: &str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn internal(context: &'static str, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Internal {
            context,
            cause: Box::new(cause),
        })
    }
}

/// One refused field is invalid input.
impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        crate::db::classify(err)
    }
}

impl From<sea_orm::TransactionError<DomainError>> for DomainError {
    fn from(err: sea_orm::TransactionError<DomainError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

/// Parses several input fields at once and binds each to a name, or returns every failure
/// together as [`DomainError::Invalid`]:
///
/// ```text
/// parse_all!(name = Name::parse("name", &input.name), urn = Urn::parse("urn", &input.urn));
/// ```
#[macro_export]
macro_rules! parse_all {
    ($($name:ident = $parse:expr),+ $(,)?) => {
        let mut __problems: Vec<$crate::error::FieldError> = Vec::new();
        $(
            let $name = match $parse {
                Ok(value) => Some(value),
                Err(problem) => {
                    __problems.push(problem);
                    None
                }
            };
        )+
        let ($(Some($name),)+) = ($($name,)+) else {
            return Err($crate::error::DomainError::Invalid(__problems));
        };
    };
}

/// Collects field errors so that one response lists every problem with the input, not just the
/// first.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, code: FieldErrorCode, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Keeps the value if it parsed, records the error if not.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> DomainResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
