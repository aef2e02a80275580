//! Relay connections over the domain's pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};

use domain::page::{Page, PageRequest};

/// What a connection says of the whole list.
#[derive(async_graphql::SimpleObject, Default)]
pub struct ListTotals {
    /// How many items the whole list has (counted only when asked for).
    pub total_count: i64,
}

/// A connection of `T`: `edges`, `nodes`, `pageInfo` and `totalCount`, named `TConnection`.
pub type Conn<T> = Connection<String, T, ListTotals>;

/// The page a connection field asks for (`ctx` tells whether its total is asked for too).
pub fn request(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageRequest {
    PageRequest {
        first: first.map(i64::from),
        after,
        last: last.map(i64::from),
        before,
        count_total: ctx.look_ahead().field("totalCount").exists(),
    }
}

/// A domain page as a connection, each item turned into its API type.
pub fn connection<T, G: OutputType>(page: Page<T>, f: impl Fn(T) -> G) -> Conn<G> {
    let totals = ListTotals {
        total_count: page.total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
    };
    let mut conn = Connection::with_additional_fields(page.has_previous_page, page.has_next_page, totals);
    conn.edges
        .extend(page.items.into_iter().map(|(cursor, item)| Edge::new(cursor, f(item))));
    conn
}
