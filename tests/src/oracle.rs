//! Comparing what a caller may not see with what does not exist: everything observable of two
//! answers but the request id and the date.

use serde_json::Value;

use crate::{Answer, TestApp};

/// Everything a caller can observe of an answer but the request id and the date.
pub fn observed(a: &Answer) -> (u16, String, Vec<(String, String)>) {
    let mut headers: Vec<(String, String)> = a
        .headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "x-request-id" | "date"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    headers.sort();
    (a.status.as_u16(), a.body.to_string(), headers)
}

/// A random id of a type, naming nothing.
pub fn random(kind: &str) -> String {
    scps::graphql::ids::encode(kind, uuid::Uuid::now_v7()).0
}

/// Asks the same thing about a real object out of reach and about a random id, and checks that
/// both answers are one and the same, and carry `expected` (a code, or `None` for data).
pub async fn same_as_missing(
    app: &TestApp,
    token: &str,
    query: &str,
    real: Value,
    missing: Value,
    expected: Option<&str>,
) {
    // Once first, so that nothing done on a caller's first request tips the comparison.
    app.gql(token, query, missing.clone()).await;
    let out_of_reach = app.gql(token, query, real).await;
    let absent = app.gql(token, query, missing).await;
    assert!(
        absent.headers.contains_key("x-sql-statements"),
        "statements are counted"
    );
    assert_eq!(
        observed(&out_of_reach),
        observed(&absent),
        "an object out of reach answers as one that does not exist"
    );
    assert_eq!(absent.code(), expected, "{}", absent.body);
}
