//! The caller: who is asking, their roles and services.

use async_graphql::{Context, Object, Result};

use domain::access::Actor;
use domain::tenancy::{partners, people, services};

use super::partners::PartnerClient;
use super::people::{Membership, Person};
use super::services::Service;
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;

/// Who is asking.
pub struct Viewer;

#[Object]
impl Viewer {
    /// The signed-in person (null for a partner client).
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::Person(id) => Ok(Some(Person(people::get(c.db(), caller, id).await.or_gql(c)?))),
            Actor::PartnerClient(_) => Ok(None),
        }
    }
    /// The calling partner client (null for a person).
    async fn partner_client(&self, ctx: &Context<'_>) -> Result<Option<PartnerClient>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::PartnerClient(id) => Ok(Some(PartnerClient(partners::get(c.db(), caller, id).await.or_gql(c)?))),
            Actor::Person(_) => Ok(None),
        }
    }
    /// The signed-in person's roles.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::Person(id) => Ok(people::memberships_of(c.db(), caller, id)
                .await
                .or_gql(c)?
                .into_iter()
                .map(Membership)
                .collect()),
            Actor::PartnerClient(_) => Ok(Vec::new()),
        }
    }
    /// The services the caller belongs to.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<Service>> {
        let c = context::of(ctx)?;
        Ok(services::mine(c.db(), c.caller()?)
            .await
            .or_gql(c)?
            .into_iter()
            .map(Service)
            .collect())
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who is asking: the person or partner client, their roles and services.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        context::of(ctx)?.caller()?;
        Ok(Viewer)
    }
}
