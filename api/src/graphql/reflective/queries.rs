//! What staff, SENCOs, EPs and administrators read: the service's session types, a session,
//! upcoming sessions with free places, one's own places, and the feedback summary.

use async_graphql::{Context, ID, Object, Result};

use domain::ids::{SchoolId, ServiceId};
use domain::reflective::{self, feedback, types};

use super::enums::ReflectiveCharging;
use super::objects::{ReflectiveFeedbackSummary, ReflectiveRegistration, ReflectiveSession, ReflectiveSessionType};
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;

#[derive(Default)]
pub struct ReflectiveQueries;

#[Object]
impl ReflectiveQueries {
    /// The service's session types (a service without any starts with the usual four).
    async fn reflective_session_types(&self, ctx: &Context<'_>, service_id: ID) -> Result<Vec<ReflectiveSessionType>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(types::list(c.db(), c.caller()?, service)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveSessionType)
            .collect())
    }

    /// How the service charges a session unless the session says otherwise.
    async fn reflective_default_charging(&self, ctx: &Context<'_>, service_id: ID) -> Result<ReflectiveCharging> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(types::charging(c.db(), c.caller()?, service).await.or_gql(c)?.into())
    }

    async fn reflective_session(&self, ctx: &Context<'_>, id: ID) -> Result<ReflectiveSession> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "ReflectiveSession", &id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        reflective::get(c.db(), c.caller()?, id)
            .await
            .map(|v| ReflectiveSession(Box::new(v)))
            .or_gql(c)
    }

    /// Scheduled sessions still to come that the caller can see, soonest first: those open to
    /// `schoolId` if given, and only those with free places unless `withFreePlaces` is false.
    async fn upcoming_reflective_sessions(
        &self,
        ctx: &Context<'_>,
        school_id: Option<ID>,
        #[graphql(default = true)] with_free_places: bool,
    ) -> Result<Vec<ReflectiveSession>> {
        let c = context::of(ctx)?;
        let school: Option<SchoolId> = ids::expect_opt("schoolId", "School", school_id.as_ref()).or_gql(c)?;
        Ok(reflective::upcoming(c.db(), c.caller()?, school, with_free_places)
            .await
            .or_gql(c)?
            .into_iter()
            .map(|v| ReflectiveSession(Box::new(v)))
            .collect())
    }

    /// The caller's own places, newest first, cancelled ones included.
    async fn my_reflective_registrations(&self, ctx: &Context<'_>) -> Result<Vec<ReflectiveRegistration>> {
        let c = context::of(ctx)?;
        Ok(reflective::my_registrations(c.db(), c.caller()?)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveRegistration)
            .collect())
    }

    /// Anonymous feedback per session type: administrators see all; an EP their own sessions'.
    async fn reflective_feedback_summary(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
    ) -> Result<Vec<ReflectiveFeedbackSummary>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(feedback::summary(c.db(), c.caller()?, service)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveFeedbackSummary)
            .collect())
    }
}
