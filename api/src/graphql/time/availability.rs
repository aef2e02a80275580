//! Free slots in EP calendars.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use domain::time::availability;

use crate::graphql::context;
use crate::graphql::enums::{BookingKind, BookingMode};
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::tenancy::Person;

use super::load_person;

/// A free slot in an EP's calendar.
pub struct AvailableSlot(availability::Slot);

#[Object]
impl AvailableSlot {
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.ep_id)
    }
    /// The EP, where the caller can see people (schools see the EPs they work with).
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, Some(self.0.ep_id)).await
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|x| ids::encode("School", x))
    }
    /// The visit the slot lies in, if any (book it with this `visitId`).
    async fn visit_id(&self) -> Option<ID> {
        self.0.visit_id.map(|x| ids::encode("Booking", x))
    }
}

#[derive(InputObject)]
pub struct AvailabilityInput {
    /// Search one EP's calendar...
    pub ep_id: Option<ID>,
    /// ...or the EPs who work with a school.
    pub school_id: Option<ID>,
    /// Needed when searching by EP and the caller is in several services.
    pub service_id: Option<ID>,
    pub from: DateTime<Utc>,
    /// At most 62 days after `from`.
    pub to: DateTime<Utc>,
    pub duration_minutes: i32,
    #[graphql(default_with = "BookingKind::Consultation")]
    pub kind: BookingKind,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
}

#[derive(Default)]
pub struct AvailabilityQuery;

#[Object]
impl AvailabilityQuery {
    /// Free slots of a length for an EP, or for the EPs who work with a school.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity) + 50")]
    async fn availability(
        &self,
        ctx: &Context<'_>,
        input: AvailabilityInput,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<AvailableSlot>> {
        let c = context::of(ctx)?;
        let search = availability::Search {
            ep_id: ids::expect_opt("input.epId", "Person", input.ep_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("input.schoolId", "School", input.school_id.as_ref()).or_gql(c)?,
            service_id: ids::expect_opt("input.serviceId", "Service", input.service_id.as_ref()).or_gql(c)?,
            from: input.from,
            to: input.to,
            duration_minutes: i64::from(input.duration_minutes),
            kind: input.kind.into(),
            mode: input.mode.into(),
        };
        let window = page::request(ctx, first, after, last, before).window().or_gql(c)?;
        let slots = availability::search(c.db(), c.caller()?, search).await.or_gql(c)?;
        // A cursor is a place in time: it stays valid whatever was booked since.
        let paged = domain::page::in_memory(availability::LIST, slots, &window, availability::position).or_gql(c)?;
        Ok(page::connection(paged, AvailableSlot))
    }
}
