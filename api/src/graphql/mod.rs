//! The GraphQL API: one module per area, merged into one schema. Resolvers ask the request's
//! [`Context`] for the caller and call `domain`; domain errors become `userErrors` (bad input,
//! broken rules) or GraphQL errors with an `extensions.code`, never the internal cause.

/// Declares a mutation payload: the changed object (absent when the input was refused) and the
/// input's problems.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $field:ident : $ty:ty }) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            pub $field: Option<$ty>,
            /// What was wrong with the input; empty when the mutation succeeded.
            pub user_errors: Vec<crate::graphql::errors::UserError>,
        }

        impl From<crate::graphql::errors::Outcome<$ty>> for $name {
            fn from(o: crate::graphql::errors::Outcome<$ty>) -> Self {
                Self { $field: o.value, user_errors: o.user_errors }
            }
        }
    };
}

pub mod auth;
pub mod consultations;
pub mod context;
pub mod enums;
pub mod errors;
pub mod ids;
pub mod limits;
pub mod loaders;
pub mod page;
pub mod reflective;
pub mod scalars;
pub mod semh;
pub mod space_to_talk;
pub mod tenancy;
pub mod time;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};

use crate::config::HttpConfig;

pub use context::Context;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    tenancy::TenancyQuery,
    time::TimeQuery,
    consultations::ConsultationsQuery,
    reflective::ReflectiveQuery,
    space_to_talk::SpaceToTalkQuery,
    semh::SemhQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    auth::AuthMutation,
    tenancy::TenancyMutation,
    time::TimeMutation,
    consultations::ConsultationsMutation,
    reflective::ReflectiveMutations,
    space_to_talk::SpaceToTalkMutations,
    semh::SemhMutations,
);

pub type ApiSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema(http: &HttpConfig, production: bool) -> ApiSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        // One price of a query, scps's own (graphql::limits, SCPS_MAX_QUERY_COST), which says
        // the cost and the limit when it refuses; not async-graphql's second, cruder one.
        .limit_depth(http.max_query_depth)
        .limit_recursive_depth(32)
        .limit_directives(8)
        .register_output_type::<tenancy::Node>();
    if production {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(&HttpConfig::default(), false).sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items()
            .use_space_ident()
            .indent_width(2),
    )
}

/// What a page of a connection costs: its size times what each item costs.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first
        .or(last)
        .unwrap_or(domain::page::DEFAULT_PAGE as i32)
        .clamp(1, domain::page::MAX_PAGE as i32);
    (n as usize).saturating_mul(child).saturating_add(1)
}
