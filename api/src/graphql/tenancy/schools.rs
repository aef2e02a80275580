//! Schools, academies, special schools, PRUs and settings of a service.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::entities::school;
use domain::tenancy::schools;

use super::services::Service;
use crate::graphql::context;
use crate::graphql::enums::{self, BookingStatus, Phase, SchoolStatus};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::Date;
use crate::graphql::time::{Booking, Contract, SchoolStreamBalance};

/// A school, academy, special school, PRU or setting the service works with.
pub struct School(pub school::Model);

#[Object]
impl School {
    pub async fn id(&self) -> ID {
        ids::encode("School", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The six-digit Unique Reference Number.
    async fn urn(&self) -> &str {
        &self.0.urn
    }
    async fn phase(&self) -> Phase {
        self.0.phase.into()
    }
    async fn status(&self) -> SchoolStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        Ok(loaders::service(ctx, Some(self.0.service_id)).await?.map(Service))
    }
    /// The school's contracts, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Contract>> {
        let c = context::of(ctx)?;
        let filter = domain::time::contracts::Filter {
            school_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = domain::time::contracts::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, Contract))
    }
    /// The school's time per funding stream on a date (default today): the contracts whose
    /// period holds it and their balance, as `Contract.balance` and the time summary count it.
    async fn balance(&self, ctx: &Context<'_>, on: Option<Date>) -> Result<Vec<SchoolStreamBalance>> {
        let c = context::of(ctx)?;
        let streams = domain::time::contracts::school_balance(c.db(), c.caller()?, &self.0, on.map(|d| d.0))
            .await
            .or_gql(c)?;
        Ok(streams.into_iter().map(Into::into).collect())
    }
    /// The school's bookings the caller can see, by start time.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        statuses: Option<Vec<BookingStatus>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let filter = domain::time::bookings::Filter {
            school_id: Some(self.0.id),
            from,
            to,
            statuses: statuses.map(|s| enums::all(&s)),
            ..Default::default()
        };
        let rows = domain::time::bookings::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        crate::graphql::time::bookings_connection(ctx, rows).await
    }
}

#[derive(InputObject, Default)]
pub struct SchoolFilter {
    pub service_id: Option<ID>,
    pub phases: Option<Vec<Phase>>,
    pub statuses: Option<Vec<SchoolStatus>>,
    /// Part of the name, any case.
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct CreateSchoolInput {
    pub service_id: ID,
    pub name: String,
    /// Six digits.
    pub urn: String,
    pub phase: Phase,
}

#[derive(InputObject)]
pub struct UpdateSchoolInput {
    pub id: ID,
    pub name: Option<String>,
    pub urn: Option<String>,
    pub phase: Option<Phase>,
    /// OPEN or CLOSED (use archiveSchool to archive).
    pub status: Option<SchoolStatus>,
}

#[derive(InputObject)]
pub struct ArchiveSchoolInput {
    pub id: ID,
}

payload!(CreateSchoolPayload { school: School });

payload!(UpdateSchoolPayload { school: School });

payload!(ArchiveSchoolPayload { school: School });

#[derive(Default)]
pub struct SchoolsQuery;

#[Object]
impl SchoolsQuery {
    /// Schools the caller can see, by name.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn schools(
        &self,
        ctx: &Context<'_>,
        filter: Option<SchoolFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<School>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let f = filter.unwrap_or_default();
        let filter = schools::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            phases: f.phases.map(|p| enums::all(&p)),
            statuses: f.statuses.map(|s| enums::all(&s)),
            name: f.name,
        };
        let rows = schools::list(c.db(), caller, filter, &page::request(ctx, first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, School))
    }

    /// One school the caller can see.
    async fn school(&self, ctx: &Context<'_>, id: ID) -> Result<School> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "School", &id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        schools::get(c.db(), c.caller()?, id).await.map(School).or_gql(c)
    }
}

#[derive(Default)]
pub struct SchoolsMutation;

#[Object]
impl SchoolsMutation {
    async fn create_school(&self, ctx: &Context<'_>, input: CreateSchoolInput) -> Result<CreateSchoolPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = match ids::expect("serviceId", "Service", &input.service_id) {
            Ok(service_id) => {
                schools::create(
                    c.db(),
                    caller,
                    schools::NewSchool {
                        service_id,
                        name: input.name,
                        urn: input.urn,
                        phase: input.phase.into(),
                    },
                )
                .await
            }
            Err(e) => Err(e),
        };
        Ok(payload_of(c, result, School)?.into())
    }

    async fn update_school(&self, ctx: &Context<'_>, input: UpdateSchoolInput) -> Result<UpdateSchoolPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id = ids::expect("id", "School", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let patch = schools::SchoolPatch {
            name: input.name,
            urn: input.urn,
            phase: input.phase.map(Into::into),
            status: input.status.map(Into::into),
        };
        Ok(payload_of(c, schools::update(c.db(), caller, id, patch).await, School)?.into())
    }

    async fn archive_school(&self, ctx: &Context<'_>, input: ArchiveSchoolInput) -> Result<ArchiveSchoolPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "School", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, schools::archive(c.db(), c.caller()?, id).await, School)?.into())
    }
}
