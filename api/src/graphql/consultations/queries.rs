//! What a SENCO, an EP and an administrator read daily: open consultations, actions due,
//! reviews due, a school's pupils, the settings and the table of steps.

use async_graphql::{Context, ID, InputObject, Object, Result};

use domain::consultations::{self, pupils, settings, states};
use domain::ids::{PersonId, SchoolId, ServiceId};

use super::enums::{ConsultationKind, ConsultationStatus};
use super::objects::{Consultation, ConsultationAction, ConsultationSettings, ConsultationStep, Pupil};
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::Date;

#[derive(InputObject, Default)]
pub struct ConsultationFilter {
    pub school_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub kind: Option<ConsultationKind>,
    /// States as of today (REVIEW_DUE: a shared record whose review date has come).
    pub statuses: Option<Vec<ConsultationStatus>>,
    /// Only those still open (not closed, declined or withdrawn).
    #[graphql(default)]
    pub open_only: bool,
    /// Shared records whose review falls on or before this date ("reviews due this half-term").
    pub review_by: Option<Date>,
}

#[derive(Default)]
pub struct ConsultationQueries;

#[Object]
impl ConsultationQueries {
    /// Consultations the caller can see, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConsultationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Consultation>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = async {
            Ok::<_, domain::DomainError>(consultations::Filter {
                school_id: ids::expect_opt::<SchoolId>("schoolId", "School", f.school_id.as_ref())?,
                ep_id: ids::expect_opt::<PersonId>("epId", "Person", f.ep_id.as_ref())?,
                kind: f.kind.map(Into::into),
                statuses: f.statuses.map(|s| s.into_iter().map(Into::into).collect()),
                open_only: f.open_only,
                review_by: f.review_by.map(|d| d.0),
            })
        }
        .await
        .or_gql(c)?;
        let rows = consultations::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, |v| Consultation(Box::new(v))))
    }

    /// Open agreed actions, soonest due first (the school's: once their record is shared).
    #[graphql(complexity = "crate::graphql::page_cost(first, None, child_complexity)")]
    async fn consultation_actions(
        &self,
        ctx: &Context<'_>,
        school_id: Option<ID>,
        due_by: Option<Date>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<ConsultationAction>> {
        let c = context::of(ctx)?;
        let school = ids::expect_opt::<SchoolId>("schoolId", "School", school_id.as_ref()).or_gql(c)?;
        let rows = consultations::actions_due(
            c.db(),
            c.caller()?,
            school,
            due_by.map(|d| d.0),
            &page::request(ctx, first, after, None, None),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, ConsultationAction))
    }

    /// A school's pupil records, by initials. Every read is in the audit log.
    #[graphql(complexity = "crate::graphql::page_cost(first, None, child_complexity)")]
    async fn pupils(
        &self,
        ctx: &Context<'_>,
        school_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Pupil>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id).or_gql(c)?;
        let rows = pupils::list(
            c.db(),
            c.caller()?,
            school,
            &page::request(ctx, first, after, None, None),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, Pupil))
    }

    async fn consultation_settings(&self, ctx: &Context<'_>, service_id: ID) -> Result<ConsultationSettings> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        settings::get(c.db(), c.caller()?, service)
            .await
            .map(ConsultationSettings)
            .or_gql(c)
    }

    /// The steps of a consultation's life, from which states, to which.
    async fn consultation_steps(&self) -> Vec<ConsultationStep> {
        states::STEPS
            .iter()
            .map(|t| ConsultationStep {
                name: format!("{:?}", t.step),
                what: t.what.to_owned(),
                from: t.from.iter().map(|s| (*s).into()).collect(),
                to: t.to.map(Into::into),
            })
            .collect()
    }
}
