//! The service: the tenant everything else belongs to.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::entities::service;
use domain::tenancy::services;

use crate::graphql::context;
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::time::{AcademicYear, Closure, TimeSettings, TimeUnit};

/// A local educational psychology service: the tenant everything else belongs to.
pub struct Service(pub service::Model);

#[Object]
impl Service {
    pub async fn id(&self) -> ID {
        ids::encode("Service", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The IANA time zone the service plans in, e.g. `Europe/London`.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The cancellation and overbooking policies and other time settings.
    async fn time_settings(&self, ctx: &Context<'_>) -> Result<TimeSettings> {
        let c = context::of(ctx)?;
        domain::time::settings::get(c.db(), c.caller()?, self.0.id)
            .await
            .map(TimeSettings)
            .or_gql(c)
    }
    /// The units of time the service sells (a day, a session, an hour...).
    async fn units(&self, ctx: &Context<'_>) -> Result<Vec<TimeUnit>> {
        let c = context::of(ctx)?;
        let rows = domain::time::settings::units(c.db(), c.caller()?, self.0.id)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(TimeUnit).collect())
    }
    /// Academic years with their terms and half-terms.
    async fn academic_years(&self, ctx: &Context<'_>) -> Result<Vec<AcademicYear>> {
        let c = context::of(ctx)?;
        let rows = domain::time::settings::academic_years(c.db(), c.caller()?, self.0.id)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(AcademicYear).collect())
    }
    /// Bank holidays, service closures and school closures overlapping the dates.
    async fn closures(
        &self,
        ctx: &Context<'_>,
        from: crate::graphql::scalars::Date,
        to: crate::graphql::scalars::Date,
    ) -> Result<Vec<Closure>> {
        let c = context::of(ctx)?;
        let range = domain::time::DateRange::new("to", from.0, to.0).or_gql(c)?;
        let rows = domain::time::settings::closures(c.db(), c.caller()?, self.0.id, range)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(Closure).collect())
    }
}

#[derive(InputObject)]
pub struct UpdateServiceInput {
    pub id: ID,
    pub name: Option<String>,
    /// An IANA time zone, e.g. `Europe/London`.
    pub time_zone: Option<String>,
}

payload!(UpdateServicePayload { service: Service });

#[derive(Default)]
pub struct ServicesQuery;

#[Object]
impl ServicesQuery {
    /// A service the caller belongs to.
    async fn service(&self, ctx: &Context<'_>, id: ID) -> Result<Service> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Service", &id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        services::get(c.db(), c.caller()?, id).await.map(Service).or_gql(c)
    }
}

#[derive(Default)]
pub struct ServicesMutation;

#[Object]
impl ServicesMutation {
    /// Renames the service or changes its time zone (administrators).
    async fn update_service(&self, ctx: &Context<'_>, input: UpdateServiceInput) -> Result<UpdateServicePayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Service", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let patch = services::ServicePatch {
            name: input.name,
            time_zone: input.time_zone,
        };
        Ok(payload_of(c, services::update(c.db(), c.caller()?, id, patch).await, Service)?.into())
    }
}
