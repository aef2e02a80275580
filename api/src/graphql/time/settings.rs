//! A service's time settings, units of time, academic years and terms, and closures.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::{closure, term, time_settings, time_unit};
use domain::ids::{AcademicYearId, ClosureId, TimeUnitId};
use domain::time::settings;

use super::{load_school, not_found_if_bad};
use crate::graphql::context;
use crate::graphql::enums::{BookingKind, ClosureKind, OverbookingPolicy, SpreadPeriod, TermTimePolicy};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::School;

/// A service's time policies.
pub struct TimeSettings(pub time_settings::Model);

#[Object]
impl TimeSettings {
    /// Notice, in hours, below which a school's cancellation is charged.
    async fn cancellation_notice_hours(&self) -> i32 {
        self.0.cancellation_notice_hours
    }
    /// The share of a late-cancelled booking the school is charged, in percent.
    async fn late_cancellation_charge_percent(&self) -> i32 {
        self.0.late_cancellation_charge_percent
    }
    /// Whether an EP who cancels must offer the school an alternative booking.
    async fn ep_cancellation_requires_alternative(&self) -> bool {
        self.0.ep_cancellation_requires_alternative
    }
    async fn overbooking_policy(&self) -> OverbookingPolicy {
        self.0.overbooking_policy.into()
    }
    /// Travel time, in minutes, kept free between two in-person bookings at different places
    /// (none between bookings at the same school, or inside a visit).
    async fn travel_buffer_minutes(&self) -> i32 {
        self.0.travel_buffer_minutes
    }
    /// How far ahead, in hours, schools and partners book (availability starts there).
    /// Administrators book inside it with a reason.
    async fn minimum_notice_hours(&self) -> i32 {
        self.0.minimum_notice_hours
    }
    /// The grid free slots start on, in minutes.
    async fn slot_step_minutes(&self) -> i32 {
        self.0.slot_step_minutes
    }
    /// Whether use is expected evenly across terms or half-terms.
    async fn even_use_over(&self) -> SpreadPeriod {
        self.0.even_use_over.into()
    }
    /// How far behind an even spread a school may be before it is flagged, in percent.
    async fn under_use_tolerance_percent(&self) -> i32 {
        self.0.under_use_tolerance_percent
    }
    /// Whether school work happens in term time only (half-terms are holidays).
    async fn term_time_policy(&self) -> TermTimePolicy {
        self.0.term_time_policy.into()
    }
    /// Whether school staff (SENCOs, school leaders) may book free slots of the EPs who work
    /// with their school, within its allocation.
    async fn schools_may_book(&self) -> bool {
        self.0.schools_may_book
    }
    /// What schools may book, when they may.
    async fn school_booking_kinds(&self) -> Vec<BookingKind> {
        settings::school_kinds(&self.0).into_iter().map(Into::into).collect()
    }
    /// Whether schools book only inside the EP's visits to the school.
    async fn school_booking_within_visits(&self) -> bool {
        self.0.school_booking_within_visits
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A unit of time the service sells.
pub struct TimeUnit(pub time_unit::Model);

#[Object]
impl TimeUnit {
    pub async fn id(&self) -> ID {
        ids::encode("TimeUnit", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    /// No longer sold; contracts sold in it keep it.
    async fn archived(&self) -> bool {
        self.0.archived_at.is_some()
    }
}

/// A term or half-term.
pub struct Term(pub term::Model);

#[Object]
impl Term {
    pub async fn id(&self) -> ID {
        ids::encode("Term", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
}

/// A term with its half-terms.
#[derive(SimpleObject)]
pub struct TermWithHalves {
    pub term: Term,
    pub half_terms: Vec<Term>,
}

/// An academic year with its terms.
pub struct AcademicYear(pub settings::AcademicYear);

#[Object]
impl AcademicYear {
    pub async fn id(&self) -> ID {
        ids::encode("AcademicYear", self.0.year.id)
    }
    async fn name(&self) -> &str {
        &self.0.year.name
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.year.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.year.ends_on)
    }
    async fn terms(&self) -> Vec<TermWithHalves> {
        self.0
            .terms
            .iter()
            .map(|(t, halves)| TermWithHalves {
                term: Term(t.clone()),
                half_terms: halves.iter().cloned().map(Term).collect(),
            })
            .collect()
    }
}

/// A bank holiday, service closure or school closure.
pub struct Closure(pub closure::Model);

#[Object]
impl Closure {
    pub async fn id(&self) -> ID {
        ids::encode("Closure", self.0.id)
    }
    async fn kind(&self) -> ClosureKind {
        self.0.kind.into()
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, self.0.school_id).await
    }
}

#[derive(InputObject)]
pub struct UpdateTimeSettingsInput {
    pub service_id: ID,
    pub cancellation_notice_hours: Option<i32>,
    pub late_cancellation_charge_percent: Option<i32>,
    pub ep_cancellation_requires_alternative: Option<bool>,
    pub overbooking_policy: Option<OverbookingPolicy>,
    pub travel_buffer_minutes: Option<i32>,
    pub minimum_notice_hours: Option<i32>,
    pub slot_step_minutes: Option<i32>,
    pub even_use_over: Option<SpreadPeriod>,
    pub under_use_tolerance_percent: Option<i32>,
    pub term_time_policy: Option<TermTimePolicy>,
    pub schools_may_book: Option<bool>,
    pub school_booking_kinds: Option<Vec<BookingKind>>,
    pub school_booking_within_visits: Option<bool>,
}

#[derive(InputObject)]
pub struct CreateTimeUnitInput {
    pub service_id: ID,
    pub name: String,
    pub minutes: i32,
}

#[derive(InputObject)]
pub struct UpdateTimeUnitInput {
    pub id: ID,
    pub minutes: Option<i32>,
    pub archived: Option<bool>,
}

#[derive(InputObject)]
pub struct HalfTermInput {
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

#[derive(InputObject)]
pub struct TermInput {
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    #[graphql(default)]
    pub half_terms: Vec<HalfTermInput>,
}

#[derive(InputObject)]
pub struct CreateAcademicYearInput {
    pub service_id: ID,
    /// e.g. `2026/27`.
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub terms: Vec<TermInput>,
}

#[derive(InputObject)]
pub struct DeleteAcademicYearInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct AddClosureInput {
    pub service_id: ID,
    /// For a school closure.
    pub school_id: Option<ID>,
    pub kind: ClosureKind,
    pub starts_on: Date,
    pub ends_on: Date,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct RemoveClosureInput {
    pub id: ID,
}

payload!(UpdateTimeSettingsPayload {
    time_settings: TimeSettings
});

payload!(TimeUnitPayload { unit: TimeUnit });

payload!(CreateAcademicYearPayload {
    academic_year: AcademicYear
});

payload!(AddClosurePayload { closure: Closure });

#[derive(SimpleObject)]
pub struct Deleted {
    pub id: ID,
}

payload!(DeletePayload { deleted: Deleted });

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    async fn update_time_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateTimeSettingsInput,
    ) -> Result<UpdateTimeSettingsPayload> {
        let c = context::of(ctx)?;
        let service = not_found_if_bad(ids::expect("serviceId", "Service", &input.service_id)).or_gql(c)?;
        let patch = settings::PolicyPatch {
            cancellation_notice_hours: input.cancellation_notice_hours,
            late_cancellation_charge_percent: input.late_cancellation_charge_percent,
            ep_cancellation_requires_alternative: input.ep_cancellation_requires_alternative,
            overbooking_policy: input.overbooking_policy.map(Into::into),
            travel_buffer_minutes: input.travel_buffer_minutes,
            minimum_notice_hours: input.minimum_notice_hours,
            slot_step_minutes: input.slot_step_minutes,
            even_use_over: input.even_use_over.map(Into::into),
            under_use_tolerance_percent: input.under_use_tolerance_percent,
            term_time_policy: input.term_time_policy.map(Into::into),
            schools_may_book: input.schools_may_book,
            school_booking_kinds: input.school_booking_kinds.map(|k| crate::graphql::enums::all(&k)),
            school_booking_within_visits: input.school_booking_within_visits,
        };
        Ok(payload_of(
            c,
            settings::update(c.db(), c.caller()?, service, patch).await,
            TimeSettings,
        )?
        .into())
    }

    async fn create_time_unit(&self, ctx: &Context<'_>, input: CreateTimeUnitInput) -> Result<TimeUnitPayload> {
        let c = context::of(ctx)?;
        let service = not_found_if_bad(ids::expect("serviceId", "Service", &input.service_id)).or_gql(c)?;
        Ok(payload_of(
            c,
            settings::create_unit(c.db(), c.caller()?, service, &input.name, input.minutes).await,
            TimeUnit,
        )?
        .into())
    }

    async fn update_time_unit(&self, ctx: &Context<'_>, input: UpdateTimeUnitInput) -> Result<TimeUnitPayload> {
        let c = context::of(ctx)?;
        let id: TimeUnitId = not_found_if_bad(ids::expect("id", "TimeUnit", &input.id)).or_gql(c)?;
        Ok(payload_of(
            c,
            settings::update_unit(c.db(), c.caller()?, id, input.minutes, input.archived).await,
            TimeUnit,
        )?
        .into())
    }

    async fn create_academic_year(
        &self,
        ctx: &Context<'_>,
        input: CreateAcademicYearInput,
    ) -> Result<CreateAcademicYearPayload> {
        let c = context::of(ctx)?;
        let service = not_found_if_bad(ids::expect("serviceId", "Service", &input.service_id)).or_gql(c)?;
        let year = settings::NewAcademicYear {
            service_id: service,
            name: input.name,
            starts_on: input.starts_on.0,
            ends_on: input.ends_on.0,
            terms: input
                .terms
                .into_iter()
                .map(|t| settings::NewTerm {
                    name: t.name,
                    starts_on: t.starts_on.0,
                    ends_on: t.ends_on.0,
                    half_terms: t
                        .half_terms
                        .into_iter()
                        .map(|h| settings::NewTerm {
                            name: h.name,
                            starts_on: h.starts_on.0,
                            ends_on: h.ends_on.0,
                            half_terms: Vec::new(),
                        })
                        .collect(),
                })
                .collect(),
        };
        Ok(payload_of(
            c,
            settings::create_academic_year(c.db(), c.caller()?, year).await,
            AcademicYear,
        )?
        .into())
    }

    /// Removes an academic year that no contract uses.
    async fn delete_academic_year(&self, ctx: &Context<'_>, input: DeleteAcademicYearInput) -> Result<DeletePayload> {
        let c = context::of(ctx)?;
        let id: AcademicYearId = not_found_if_bad(ids::expect("id", "AcademicYear", &input.id)).or_gql(c)?;
        let result = settings::delete_academic_year(c.db(), c.caller()?, id).await;
        Ok(payload_of(c, result, |_| Deleted { id: input.id.clone() })?.into())
    }

    async fn add_closure(&self, ctx: &Context<'_>, input: AddClosureInput) -> Result<AddClosurePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let closure = settings::NewClosure {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                school_id: ids::expect_opt("schoolId", "School", input.school_id.as_ref())?,
                kind: input.kind.into(),
                starts_on: input.starts_on.0,
                ends_on: input.ends_on.0,
                reason: input.reason,
            };
            settings::add_closure(c.db(), caller, closure).await
        }
        .await;
        Ok(payload_of(c, result, Closure)?.into())
    }

    async fn remove_closure(&self, ctx: &Context<'_>, input: RemoveClosureInput) -> Result<DeletePayload> {
        let c = context::of(ctx)?;
        let id: ClosureId = not_found_if_bad(ids::expect("id", "Closure", &input.id)).or_gql(c)?;
        let result = settings::remove_closure(c.db(), c.caller()?, id).await;
        Ok(payload_of(c, result, |_| Deleted { id: input.id.clone() })?.into())
    }
}
