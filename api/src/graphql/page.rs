//! Relay connections over the domain's pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};

use domain::page::{Page, PageRequest};

/// A connection of `T`: `edges`, `nodes` and `pageInfo`, named `TConnection`.
pub type Conn<T> = Connection<String, T>;

/// The page a connection field asks for.
pub fn request(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> PageRequest {
    PageRequest {
        first: first.map(i64::from),
        after,
        last: last.map(i64::from),
        before,
    }
}

/// A domain page as a connection, each item turned into its API type.
pub fn connection<T, G: OutputType>(page: Page<T>, f: impl Fn(T) -> G) -> Conn<G> {
    let mut conn = Connection::new(page.has_previous_page, page.has_next_page);
    conn.edges
        .extend(page.items.into_iter().map(|(cursor, item)| Edge::new(cursor, f(item))));
    conn
}
