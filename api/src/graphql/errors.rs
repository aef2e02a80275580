//! Domain errors become GraphQL errors with a stable `extensions.code`, or `userErrors` in a
//! mutation's payload. Internal causes are logged with the request id and never shown.

use async_graphql::{Enum, ErrorExtensions, ServerError, SimpleObject};

use domain::{DomainError, FieldError, FieldErrorCode};

/// Why an input was refused, for programs.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    Invalid,
    Required,
    TooLong,
    TooShort,
    OutOfRange,
    Taken,
    NotFound,
    NotAllowed,
    InvalidState,
}

impl From<FieldErrorCode> for UserErrorCode {
    fn from(c: FieldErrorCode) -> Self {
        match c {
            FieldErrorCode::Invalid => Self::Invalid,
            FieldErrorCode::Required => Self::Required,
            FieldErrorCode::TooLong => Self::TooLong,
            FieldErrorCode::TooShort => Self::TooShort,
            FieldErrorCode::OutOfRange => Self::OutOfRange,
            FieldErrorCode::Taken => Self::Taken,
            FieldErrorCode::NotFound => Self::NotFound,
            FieldErrorCode::NotAllowed => Self::NotAllowed,
            FieldErrorCode::InvalidState => Self::InvalidState,
        }
    }
}

/// One problem with a mutation's input.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// The path to the input field, e.g. `["input", "urn"]`; empty for the input as a whole.
    pub field: Vec<String>,
    /// What is wrong, in words a person can act on.
    pub message: String,
    pub code: UserErrorCode,
}

impl From<FieldError> for UserError {
    fn from(e: FieldError) -> Self {
        let mut field = vec!["input".to_owned()];
        field.extend(e.field);
        Self {
            field,
            message: e.message,
            code: e.code.into(),
        }
    }
}

fn coded(message: impl Into<String>, code: &'static str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

pub fn unauthenticated() -> async_graphql::Error {
    coded("Sign in first: this needs a valid access token.", "UNAUTHENTICATED")
}

pub fn internal_without_id() -> async_graphql::Error {
    coded("Internal error.", "INTERNAL")
}

/// A domain error as a GraphQL error. Internal causes are logged here, with the request id.
pub fn to_graphql(err: DomainError, request_id: &str) -> async_graphql::Error {
    match err {
        DomainError::NotFound => coded("Not found.", "NOT_FOUND"),
        DomainError::Forbidden => coded("You may not do this.", "FORBIDDEN"),
        DomainError::Refused(message) => coded(message, "FORBIDDEN"),
        DomainError::Unauthenticated => coded("The credentials are not valid.", "UNAUTHENTICATED"),
        DomainError::Conflict(message) => coded(message, "CONFLICT"),
        DomainError::RateLimited { retry_after_seconds } => coded(
            format!("Too many attempts; try again in {retry_after_seconds} seconds."),
            "RATE_LIMITED",
        )
        .extend_with(|_, e| e.set("retryAfterSeconds", retry_after_seconds)),
        DomainError::Invalid(problems) => {
            let text = problems
                .iter()
                .map(|p| {
                    if p.field.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}: {}", p.field.join("."), p.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            let fields: Vec<async_graphql::Value> = problems
                .iter()
                .map(|p| async_graphql::Value::String(p.field.join(".")))
                .collect();
            coded(text, "BAD_USER_INPUT").extend_with(|_, e| e.set("fields", fields))
        }
        DomainError::Internal(internal) => {
            tracing::error!(request_id, context = internal.context, error = %internal.cause, "internal error");
            let id = request_id.to_owned();
            coded(
                format!("Internal error. Quote request {request_id} when reporting it."),
                "INTERNAL",
            )
            .extend_with(move |_, e| e.set("requestId", id.clone()))
        }
    }
}

/// A mutation's result: the value, or the input's problems.
pub struct Outcome<T> {
    pub value: Option<T>,
    pub user_errors: Vec<UserError>,
}

/// Splits a domain result for a mutation payload: bad input becomes `userErrors`; anything else
/// is a GraphQL error.
pub fn outcome<T>(result: Result<T, DomainError>, request_id: &str) -> async_graphql::Result<Outcome<T>> {
    match result {
        Ok(value) => Ok(Outcome {
            value: Some(value),
            user_errors: Vec::new(),
        }),
        Err(DomainError::Invalid(problems)) => Ok(Outcome {
            value: None,
            user_errors: problems.into_iter().map(UserError::from).collect(),
        }),
        Err(other) => Err(to_graphql(other, request_id)),
    }
}

/// The code for an error the engine raised itself (parsing, validation, limits).
pub fn engine_code(message: &str) -> &'static str {
    if message == "Query is too complex."
        || message == "Query is nested too deep."
        || message.starts_with("The recursion depth")
        || message.starts_with("The number of directives")
    {
        "QUERY_TOO_COMPLEX"
    } else if message.starts_with("Failed to parse")
        || message.starts_with("Invalid value for argument")
        || message.contains("Oneof input")
    {
        "BAD_USER_INPUT"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    }
}

fn label(errors: &mut [ServerError], default: fn(&str) -> &'static str) {
    for e in errors {
        // async-graphql's own DateTime scalar says only "premature end of input" and the like.
        if e.message.contains("Failed to parse \"DateTime\"") && !e.message.contains("offset") {
            e.message
                .push_str(" (a date-time needs an offset, e.g. 2027-02-15T09:00:00Z)");
        }
        let code = default(&e.message);
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code);
        }
    }
}

/// Gives every error left without a code one (validation errors and anything else the engine
/// raised; parse errors are labelled in the HTTP handler, which parses first).
pub fn label_remaining(errors: &mut [ServerError]) {
    label(errors, engine_code);
}

/// Domain results in resolvers: errors become GraphQL errors for this request.
pub trait OrGraphql<T> {
    fn or_gql(self, ctx: &super::Context) -> async_graphql::Result<T>;
}

impl<T> OrGraphql<T> for Result<T, DomainError> {
    fn or_gql(self, ctx: &super::Context) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(e, &ctx.request_id))
    }
}

/// A mutation's domain result as a payload's outcome, each value turned into its API type.
pub fn payload_of<T, G>(
    ctx: &super::Context,
    result: Result<T, DomainError>,
    f: impl FnOnce(T) -> G,
) -> async_graphql::Result<Outcome<G>> {
    outcome(result.map(f), &ctx.request_id)
}
