//! The pieces of a role matrix: what a case expects, what came back, and the verdict.

use serde_json::Value;

use crate::Answer;

/// What one caller should get from one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Allowed,
    /// A GraphQL error with this `extensions.code`.
    Refused(&'static str),
    /// A payload whose only `userErrors` entry has this code.
    UserError(&'static str),
}

/// "can" or "cannot", for naming a case.
pub fn can(expect: Expect) -> &'static str {
    if expect == Expect::Allowed { "can" } else { "cannot" }
}

/// What came back for one request.
#[derive(Debug)]
pub enum Seen {
    Done(Value),
    Refused(String),
    UserErrors(Vec<String>),
    Wrong(String),
}

/// The field's value, a refusal with its code, the codes of `userErrors`, or something else
/// (a null, an error without a code).
pub fn seen(a: &Answer, field: &str) -> Seen {
    if a.body.get("errors").is_some() {
        return match a.code() {
            Some(code) => Seen::Refused(code.to_owned()),
            None => Seen::Wrong(format!("an error without a code: {}", a.body)),
        };
    }
    let v = &a.data()[field];
    match v.get("userErrors").and_then(Value::as_array) {
        Some(errors) if !errors.is_empty() => Seen::UserErrors(
            errors
                .iter()
                .map(|e| e["code"].as_str().unwrap_or("<no code>").to_owned())
                .collect(),
        ),
        _ if v.is_null() => Seen::Wrong(format!("{field} is null: {}", a.body)),
        _ => Seen::Done(v.clone()),
    }
}

/// Turns a success whose content is wrong into a failure.
pub fn checked(s: Seen, check: impl FnOnce(&Value) -> Result<(), String>) -> Seen {
    if let Seen::Done(v) = &s
        && let Err(why) = check(v)
    {
        return Seen::Wrong(why);
    }
    s
}

impl Seen {
    pub fn describe(&self) -> String {
        match self {
            Seen::Done(v) => format!("success: {v}"),
            Seen::Refused(code) => format!("refused with {code}"),
            Seen::UserErrors(codes) => format!("userErrors {codes:?}"),
            Seen::Wrong(why) => why.clone(),
        }
    }
}

/// Whether what came back is what was expected; the reason when not.
pub fn judge(expect: Expect, got: &Seen) -> Result<(), String> {
    match (expect, got) {
        (Expect::Allowed, Seen::Done(_)) => Ok(()),
        (Expect::Refused(want), Seen::Refused(code)) if want == code => Ok(()),
        (Expect::UserError(want), Seen::UserErrors(codes)) if codes.len() == 1 && codes[0] == want => Ok(()),
        (Expect::Allowed, other) => Err(format!("should succeed, got {}", other.describe())),
        (Expect::Refused(want), other) => Err(format!("should be refused with {want}, got {}", other.describe())),
        (Expect::UserError(want), other) => Err(format!("should give the userError {want}, got {}", other.describe())),
    }
}
