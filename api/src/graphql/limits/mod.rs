//! Limits on what a request may ask, checked in the HTTP handler once per request, before the
//! document runs: how deeply values nest ([`nesting`], before parsing), and what the parsed
//! document costs ([`cost`]). Nothing here runs per field.

pub mod cost;
pub mod nesting;

use async_graphql::Variables;

/// Why a request is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub code: &'static str,
    /// For a document over its cost: what it costs and the limit (shown in `extensions`).
    pub cost: Option<(usize, usize)>,
}

impl Refusal {
    fn new(message: impl Into<String>, code: &'static str) -> Self {
        Self {
            message: message.into(),
            code,
            cost: None,
        }
    }
}

/// Checks the raw document and the variables, before anything parses or recurses into them.
pub fn check_raw(query: &str, variables: &Variables) -> Result<(), Refusal> {
    nesting::check_document(query).map_err(|e| Refusal::new(e.message(), "BAD_USER_INPUT"))?;
    for (name, value) in variables.iter() {
        if nesting::value_depth(value) > nesting::MAX_VALUE_DEPTH {
            return Err(Refusal::new(
                format!(
                    "Variable ${name} is nested more than {} levels deep.",
                    nesting::MAX_VALUE_DEPTH
                ),
                "BAD_USER_INPUT",
            ));
        }
    }
    Ok(())
}

/// The caps a parsed document must keep within.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_cost: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
}

/// Refuses a document whose analysis is over a cap.
pub fn check_analysis(a: &cost::Analysis, caps: &Caps) -> Result<(), Refusal> {
    if a.typename_arguments {
        return Err(Refusal::new(
            "`__typename` takes no arguments.",
            "GRAPHQL_VALIDATION_FAILED",
        ));
    }
    if a.aliases > caps.max_aliases {
        return Err(Refusal::new(
            format!(
                "The document has {} aliases; at most {} are allowed.",
                a.aliases, caps.max_aliases
            ),
            "QUERY_TOO_COMPLEX",
        ));
    }
    if a.root_fields > caps.max_root_fields {
        return Err(Refusal::new(
            format!(
                "The operation asks for {} top-level fields; at most {} are allowed.",
                a.root_fields, caps.max_root_fields
            ),
            "QUERY_TOO_COMPLEX",
        ));
    }
    if a.cost > caps.max_cost {
        return Err(Refusal {
            cost: Some((a.cost, caps.max_cost)),
            ..Refusal::new(
                format!(
                    "Query is too complex: it costs {} and at most {} is allowed (a list counts as many times as the items it may return).",
                    a.cost, caps.max_cost
                ),
                "QUERY_TOO_COMPLEX",
            )
        });
    }
    Ok(())
}
