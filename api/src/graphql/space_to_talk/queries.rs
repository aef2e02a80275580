//! What SENCOs, EPs, administrators and partner clients read: settings, a run, a school's free
//! slots (partner clients: their count), upcoming sessions per school or EP, and the figures.

use async_graphql::{Context, ID, Object, Result};

use domain::ids::{PersonId, SchoolId, ServiceId};
use domain::space_to_talk::{self, settings};

use super::objects::{
    SpaceToTalkBooking, SpaceToTalkFigures, SpaceToTalkLink, SpaceToTalkRun, SpaceToTalkSettings, SpaceToTalkSlot,
};
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;

#[derive(Default)]
pub struct SpaceToTalkQueries;

#[Object]
impl SpaceToTalkQueries {
    /// The service's Space to Talk settings.
    async fn space_to_talk_settings(&self, ctx: &Context<'_>, service_id: ID) -> Result<SpaceToTalkSettings> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(settings::get(c.db(), c.caller()?, service).await.or_gql(c)?.into())
    }

    async fn space_to_talk_run(&self, ctx: &Context<'_>, id: ID) -> Result<SpaceToTalkRun> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "SpaceToTalkRun", &id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        space_to_talk::get_run(c.db(), c.caller()?, id)
            .await
            .map(|r| SpaceToTalkRun(Box::new(r)))
            .or_gql(c)
    }

    /// A school's free slots for the next `weeks` (1 to 26), soonest first.
    async fn space_to_talk_free_slots(
        &self,
        ctx: &Context<'_>,
        school_id: ID,
        #[graphql(default = 4)] weeks: i32,
    ) -> Result<Vec<SpaceToTalkSlot>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        Ok(space_to_talk::free_slots(c.db(), c.caller()?, school, weeks)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SpaceToTalkSlot::from)
            .collect())
    }

    /// How many slots are free at a school for the next `weeks` (partner clients with the
    /// availability scope see this, and nothing else of Space to Talk).
    async fn space_to_talk_free_slot_count(
        &self,
        ctx: &Context<'_>,
        school_id: ID,
        #[graphql(default = 4)] weeks: i32,
    ) -> Result<i64> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        space_to_talk::free_slot_count(c.db(), c.caller()?, school, weeks)
            .await
            .or_gql(c)
    }

    /// A school's booking links for parents, newest first (at most 100): issued, by whom, until
    /// when, revoked or not. Never the token, which was shown once. For the school's SENCOs and
    /// the service's administrators.
    async fn space_to_talk_links(&self, ctx: &Context<'_>, school_id: ID) -> Result<Vec<SpaceToTalkLink>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        Ok(space_to_talk::links::list(c.db(), c.caller()?, school)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SpaceToTalkLink)
            .collect())
    }

    async fn space_to_talk_booking(&self, ctx: &Context<'_>, id: ID) -> Result<SpaceToTalkBooking> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "SpaceToTalkBooking", &id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        space_to_talk::get_booking(c.db(), c.caller()?, id)
            .await
            .map(|b| SpaceToTalkBooking(Box::new(b)))
            .or_gql(c)
    }

    /// Booked sessions still to come, soonest first: a school's, an EP's, or all the caller
    /// may see (SENCOs their school's, EPs their own, administrators their service's).
    async fn upcoming_space_to_talk_sessions(
        &self,
        ctx: &Context<'_>,
        school_id: Option<ID>,
        ep_id: Option<ID>,
    ) -> Result<Vec<SpaceToTalkBooking>> {
        let c = context::of(ctx)?;
        let school: Option<SchoolId> = ids::expect_opt("schoolId", "School", school_id.as_ref())
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        let ep: Option<PersonId> = ids::expect_opt("epId", "Person", ep_id.as_ref()).or_gql(c)?;
        Ok(space_to_talk::upcoming(c.db(), c.caller()?, school, ep)
            .await
            .or_gql(c)?
            .into_iter()
            .map(|b| SpaceToTalkBooking(Box::new(b)))
            .collect())
    }

    /// Attendance per term per school (counts only), for the service's reports.
    async fn space_to_talk_attendance(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        school_id: Option<ID>,
    ) -> Result<Vec<SpaceToTalkFigures>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        let school: Option<SchoolId> = ids::expect_opt("schoolId", "School", school_id.as_ref())
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        Ok(space_to_talk::attendance_figures(c.db(), c.caller()?, service, school)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SpaceToTalkFigures)
            .collect())
    }
}
