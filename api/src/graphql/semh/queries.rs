//! What schools, EPs, administrators, partners and tables' facilitators read: templates, a
//! school's rounds, one round with its results, comparisons, a school's trend, the service's
//! picture, and a table through its link.

use async_graphql::{Context, ID, Object, Result};

use domain::DomainError;
use domain::ids::{SchoolId, SemhRoundId, SemhTemplateId, ServiceId};
use domain::semh::{picture, results, rounds, tables, templates};

use super::objects::{SemhComparison, SemhRound, SemhServicePicture, SemhTable, SemhTemplate, SemhTrendPoint};
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;

pub(super) fn round_id(field: &str, id: &ID) -> Result<SemhRoundId, DomainError> {
    ids::expect(field, "SemhRound", id).map_err(|_| DomainError::NotFound)
}

pub(super) fn template_id(field: &str, id: &ID) -> Result<SemhTemplateId, DomainError> {
    ids::expect(field, "SemhTemplate", id)
}

#[derive(Default)]
pub struct SemhQueries;

#[Object]
impl SemhQueries {
    /// The service's template versions, each lineage's versions in order (drafts only for
    /// administrators). A service without any starts with the three starters, published.
    async fn semh_templates(&self, ctx: &Context<'_>, service_id: ID) -> Result<Vec<SemhTemplate>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(templates::list(c.db(), c.caller()?, service)
            .await
            .or_gql(c)?
            .into_iter()
            .map(|t| SemhTemplate(t.into()))
            .collect())
    }

    async fn semh_template(&self, ctx: &Context<'_>, id: ID) -> Result<SemhTemplate> {
        let c = context::of(ctx)?;
        let id = template_id("id", &id).map_err(|_| DomainError::NotFound).or_gql(c)?;
        templates::get(c.db(), c.caller()?, id)
            .await
            .map(|t| SemhTemplate(t.into()))
            .or_gql(c)
    }

    /// A school's rounds, newest first.
    async fn semh_rounds(&self, ctx: &Context<'_>, school_id: ID) -> Result<Vec<SemhRound>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(rounds::of_school(c.db(), c.caller()?, school)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SemhRound)
            .collect())
    }

    async fn semh_round(&self, ctx: &Context<'_>, id: ID) -> Result<SemhRound> {
        let c = context::of(ctx)?;
        let id = round_id("id", &id).or_gql(c)?;
        rounds::get(c.db(), c.caller()?, id).await.map(SemhRound).or_gql(c)
    }

    /// Two rounds of the same template lineage, item by item; rounds of different templates are
    /// refused.
    async fn semh_comparison(&self, ctx: &Context<'_>, from_round_id: ID, to_round_id: ID) -> Result<SemhComparison> {
        let c = context::of(ctx)?;
        let from = round_id("fromRoundId", &from_round_id).or_gql(c)?;
        let to = round_id("toRoundId", &to_round_id).or_gql(c)?;
        results::compare(c.db(), c.caller()?, from, to)
            .await
            .map(SemhComparison)
            .or_gql(c)
    }

    /// A school's submitted rounds of a template (any version of it), oldest first.
    async fn semh_trend(&self, ctx: &Context<'_>, school_id: ID, template_id: ID) -> Result<Vec<SemhTrendPoint>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let template = self::template_id("templateId", &template_id).or_gql(c)?;
        Ok(results::trend(c.db(), c.caller()?, school, template)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SemhTrendPoint)
            .collect())
    }

    /// A template version across the service's schools (administrators, EPs, and partner clients
    /// with `AUDITS_READ`): small groups are not shown.
    async fn semh_service_picture(&self, ctx: &Context<'_>, template_id: ID) -> Result<SemhServicePicture> {
        let c = context::of(ctx)?;
        let template = self::template_id("templateId", &template_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        picture::of(c.db(), c.caller()?, template)
            .await
            .map(SemhServicePicture)
            .or_gql(c)
    }

    /// Whether the service's picture names its schools.
    async fn semh_names_schools(&self, ctx: &Context<'_>, service_id: ID) -> Result<bool> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        templates::settings(c.db(), c.caller()?, service).await.or_gql(c)
    }

    /// A table of a whole-staff session, through its link (no sign-in): null when the link is
    /// wrong, expired, or its round is submitted.
    async fn semh_table(&self, ctx: &Context<'_>, token: String) -> Result<Option<SemhTable>> {
        let c = context::of(ctx)?;
        match tables::open(c.db(), &token).await {
            Ok(t) => Ok(Some(SemhTable(t))),
            Err(DomainError::NotFound) => Ok(None),
            Err(e) => Err(e).or_gql(c),
        }
    }
}
