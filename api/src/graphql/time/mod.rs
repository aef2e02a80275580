//! EP time: settings, the academic calendar, contracts, EP calendars, bookings, availability,
//! the ledger and the administrator's summary.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use domain::DomainError;
use domain::entities::{booking, calendar_exception, closure, ledger_entry, term, time_settings, time_unit};
use domain::ids::{
    AcademicYearId, BookingId, CalendarExceptionId, ClosureId, ContractId, LedgerEntryId, PersonId, SchoolId,
    ServiceId, TimeUnitId, WorkingPatternId,
};
use domain::time::{availability, bookings, calendar, contracts, ledger, settings, summary};

use super::context::{self, Context as RequestContext};
use super::enums::{
    self, BookingKind, BookingMode, BookingStatus, CancelledFor, ClosureKind, ContractStatus, ExceptionKind,
    FundingStream, LedgerKind, OverbookingPolicy, PeriodKind, SpreadPeriod, TimeCategory,
};
use super::errors::{OrGraphql, payload_of};
use super::ids;
use super::loaders;
use super::page::{self, Conn};
use super::scalars::{Date, LocalTime};
use super::tenancy::{Node, Person, School};

async fn load_school(ctx: &Context<'_>, id: Option<SchoolId>) -> Result<Option<School>> {
    Ok(loaders::school(ctx, id).await?.map(School))
}

async fn load_person(ctx: &Context<'_>, id: Option<PersonId>) -> Result<Option<Person>> {
    Ok(loaders::person(ctx, id).await?.map(Person))
}

/// Whether this request's caller sees bookings' free text.
fn free_text(ctx: &Context<'_>) -> Result<bool> {
    Ok(bookings::shows_free_text(context::of(ctx)?.caller()?))
}

/// Minutes as a number of units (rounded to hundredths).
fn in_units(minutes: i64, unit_minutes: i32) -> f64 {
    if unit_minutes <= 0 {
        return 0.0;
    }
    (minutes as f64 / f64::from(unit_minutes) * 100.0).round() / 100.0
}

// ---- settings and calendar ----

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
    /// Travel time blocked before and after an in-person booking at a school, in minutes.
    async fn travel_buffer_minutes(&self) -> i32 {
        self.0.travel_buffer_minutes
    }
    /// How far ahead, in hours, availability starts.
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

// ---- contracts ----

/// Time in minutes (and in the contract's unit where there is one).
#[derive(SimpleObject, Clone, Copy)]
pub struct Balance {
    pub purchased_minutes: i64,
    /// Booked and not yet delivered.
    pub booked_minutes: i64,
    pub delivered_minutes: i64,
    /// Drawn down by late cancellations and no-shows.
    pub late_cancellation_minutes: i64,
    /// Corrections by administrators.
    pub adjusted_minutes: i64,
    pub used_minutes: i64,
    pub remaining_minutes: i64,
    pub direct_minutes: i64,
    pub preparation_minutes: i64,
    /// The same figures in the contract's unit, when there is one.
    pub in_units: Option<UnitFigures>,
}

/// Figures in a unit of the service (days, sessions...), to two decimals.
#[derive(SimpleObject, Clone, Copy)]
pub struct UnitFigures {
    pub unit_minutes: i32,
    pub purchased: f64,
    pub booked: f64,
    pub delivered: f64,
    pub used: f64,
    pub remaining: f64,
}

impl Balance {
    fn of(b: &ledger::Balance, unit_minutes: Option<i32>) -> Self {
        Self {
            purchased_minutes: b.purchased,
            booked_minutes: b.booked,
            delivered_minutes: b.delivered,
            late_cancellation_minutes: b.late_cancellation,
            adjusted_minutes: b.adjusted,
            used_minutes: b.used(),
            remaining_minutes: b.remaining(),
            direct_minutes: b.direct,
            preparation_minutes: b.preparation,
            in_units: unit_minutes.map(|u| UnitFigures {
                unit_minutes: u,
                purchased: in_units(b.purchased, u),
                booked: in_units(b.booked, u),
                delivered: in_units(b.delivered, u),
                used: in_units(b.used(), u),
                remaining: in_units(b.remaining(), u),
            }),
        }
    }
}

/// Time added to a contract mid-year.
#[derive(SimpleObject)]
pub struct TopUp {
    pub id: ID,
    pub quantity: f64,
    pub minutes: i32,
    pub price_pence: Option<i64>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// What a school bought (or was given) for a period.
pub struct Contract(pub contracts::Contract);

#[Object]
impl Contract {
    pub async fn id(&self) -> ID {
        ids::encode("Contract", self.0.row.id)
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, Some(self.0.row.school_id)).await
    }
    async fn period_kind(&self) -> PeriodKind {
        self.0.row.period_kind.into()
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.row.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.row.ends_on)
    }
    async fn academic_year_id(&self) -> Option<ID> {
        self.0.row.academic_year_id.map(|y| ids::encode("AcademicYear", y))
    }
    async fn funding_stream(&self) -> FundingStream {
        self.0.row.funding_stream.into()
    }
    async fn unit(&self) -> TimeUnit {
        TimeUnit(self.0.unit.clone())
    }
    /// Units bought (before top-ups), e.g. 7.5.
    async fn quantity(&self) -> f64 {
        f64::from(self.0.row.quantity_hundredths) / 100.0
    }
    /// Minutes bought, contract and top-ups together.
    async fn purchased_minutes(&self) -> i64 {
        self.0.purchased_minutes()
    }
    async fn price_pence(&self) -> Option<i64> {
        self.0.row.price_pence
    }
    async fn link_ep_id(&self) -> Option<ID> {
        self.0.row.link_ep_id.map(|p| ids::encode("Person", p))
    }
    async fn link_ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, self.0.row.link_ep_id).await
    }
    async fn status(&self) -> ContractStatus {
        self.0.row.status.into()
    }
    async fn top_ups(&self) -> Vec<TopUp> {
        self.0
            .top_ups
            .iter()
            .map(|t| TopUp {
                id: ids::encode("TopUp", t.id),
                quantity: f64::from(t.quantity_hundredths) / 100.0,
                minutes: t.minutes,
                price_pence: t.price_pence,
                reason: t.reason.clone(),
                created_at: t.created_at,
            })
            .collect()
    }
    /// Purchased, booked, delivered and remaining time, summed from the ledger.
    async fn balance(&self, ctx: &Context<'_>) -> Result<Balance> {
        let c = context::of(ctx)?;
        let b = ledger::contract_balance(c.db(), self.0.row.service_id, self.0.row.id, self.0.purchased_minutes())
            .await
            .or_gql(c)?;
        Ok(Balance::of(&b, Some(self.0.unit.minutes)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

// ---- EP calendars ----

/// Hours worked on one weekday.
#[derive(SimpleObject, Clone, Copy)]
pub struct WorkingHours {
    /// 1 is Monday, 7 is Sunday.
    pub weekday: i32,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
}

/// An EP's working pattern from a date.
pub struct WorkingPattern(pub calendar::Pattern);

#[Object]
impl WorkingPattern {
    pub async fn id(&self) -> ID {
        ids::encode("WorkingPattern", self.0.row.id)
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.row.ep_id)
    }
    async fn effective_from(&self) -> Date {
        Date(self.0.row.effective_from)
    }
    async fn effective_until(&self) -> Option<Date> {
        self.0.row.effective_until.map(Date)
    }
    /// Full-time equivalent, e.g. 0.6.
    async fn fte(&self) -> f64 {
        f64::from(self.0.row.fte_hundredths) / 100.0
    }
    async fn hours(&self) -> Vec<WorkingHours> {
        self.0
            .hours
            .iter()
            .map(|h| WorkingHours {
                weekday: h.weekday as i32,
                starts_at: LocalTime(h.starts_at),
                ends_at: LocalTime(h.ends_at),
            })
            .collect()
    }
}

/// Time an EP is not available.
pub struct CalendarException(pub calendar_exception::Model);

#[Object]
impl CalendarException {
    pub async fn id(&self) -> ID {
        ids::encode("CalendarException", self.0.id)
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.ep_id)
    }
    async fn kind(&self) -> ExceptionKind {
        self.0.kind.into()
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
}

/// An EP's calendar over a range: patterns, exceptions and bookings.
#[derive(SimpleObject)]
pub struct EpCalendar {
    pub ep_id: ID,
    pub working_patterns: Vec<WorkingPattern>,
    pub exceptions: Vec<CalendarException>,
}

// ---- bookings ----

/// A block of an EP's time: a visit, a consultation, a Space to Talk slot, a reflective session...
pub struct Booking(pub booking::Model);

#[Object]
impl Booking {
    pub async fn id(&self) -> ID {
        ids::encode("Booking", self.0.id)
    }
    async fn kind(&self) -> BookingKind {
        self.0.kind.into()
    }
    async fn status(&self) -> BookingStatus {
        self.0.status.into()
    }
    async fn mode(&self) -> BookingMode {
        self.0.mode.into()
    }
    /// Where, in words (not shown to partner clients).
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(free_text(ctx)?.then_some(self.0.location.as_deref()).flatten())
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// The EP's time this holds, including travel buffers.
    async fn blocked_from(&self) -> DateTime<Utc> {
        self.0.blocked_from
    }
    async fn blocked_until(&self) -> DateTime<Utc> {
        self.0.blocked_until
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.ep_id)
    }
    /// The EP, where the caller can see people.
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, Some(self.0.ep_id)).await
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|s| ids::encode("School", s))
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, self.0.school_id).await
    }
    /// The visit this booking sits inside.
    async fn visit_id(&self) -> Option<ID> {
        self.0.visit_id.map(|v| ids::encode("Booking", v))
    }
    async fn funding_stream(&self) -> Option<FundingStream> {
        self.0.funding_stream.map(Into::into)
    }
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|v| ids::encode("Contract", v))
    }
    async fn direct_minutes(&self) -> i32 {
        self.0.direct_minutes
    }
    async fn preparation_minutes(&self) -> i32 {
        self.0.preparation_minutes
    }
    /// An administrator's reason for booking beyond the school's allocation (not shown to
    /// partner clients).
    async fn overbooking_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(free_text(ctx)?
            .then_some(self.0.overbooking_reason.as_deref())
            .flatten())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Who cancelled, when, why (not shown to partner clients) and on whose behalf.
    async fn cancellation(&self, ctx: &Context<'_>) -> Result<Option<Cancellation>> {
        let shows_reason = free_text(ctx)?;
        Ok(self.0.cancelled_at.map(|at| Cancellation {
            cancelled_at: at,
            cancelled_by_id: self.0.cancelled_by.map(|p| ids::encode("Person", p)),
            cancelled_by_partner_client_id: self.0.cancelled_by_partner.map(|p| ids::encode("PartnerClient", p)),
            cancelled_for: self.0.cancelled_for.map(Into::into),
            reason: self.0.cancellation_reason.clone().filter(|_| shows_reason),
            charged: self.0.cancellation_charged.unwrap_or(false),
            alternative_booking_id: self.0.alternative_id.map(|b| ids::encode("Booking", b)),
        }))
    }
    async fn rescheduled_from_id(&self) -> Option<ID> {
        self.0.rescheduled_from_id.map(|b| ids::encode("Booking", b))
    }
    async fn rescheduled_to_id(&self) -> Option<ID> {
        self.0.rescheduled_to_id.map(|b| ids::encode("Booking", b))
    }
    /// For a visit: the bookings inside it, by time.
    #[graphql(complexity = "super::page_cost(first, None, child_complexity)")]
    async fn items(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let filter = bookings::Filter {
            visit_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = bookings::list(c.db(), c.caller()?, filter, &page::request(first, after, None, None))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, Booking))
    }
}

#[derive(SimpleObject)]
pub struct Cancellation {
    pub cancelled_at: DateTime<Utc>,
    pub cancelled_by_id: Option<ID>,
    pub cancelled_by_partner_client_id: Option<ID>,
    pub cancelled_for: Option<CancelledFor>,
    pub reason: Option<String>,
    /// Whether the school's time was drawn down.
    pub charged: bool,
    pub alternative_booking_id: Option<ID>,
}

/// A free slot in an EP's calendar.
#[derive(SimpleObject)]
pub struct AvailableSlot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ep_id: ID,
    pub school_id: Option<ID>,
    /// The visit the slot lies in, if any (book it with this `visitId`).
    pub visit_id: Option<ID>,
}

// ---- ledger ----

/// One entry of the append-only time ledger.
pub struct LedgerEntry(pub ledger_entry::Model);

#[Object]
impl LedgerEntry {
    pub async fn id(&self) -> ID {
        ids::encode("LedgerEntry", self.0.id)
    }
    async fn kind(&self) -> LedgerKind {
        self.0.kind.into()
    }
    async fn funding_stream(&self) -> FundingStream {
        self.0.funding_stream.into()
    }
    async fn category(&self) -> TimeCategory {
        self.0.category.into()
    }
    /// Positive draws time down; negative gives it back.
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    /// The day the time belongs to (in the service's time zone).
    async fn applies_on(&self) -> Date {
        Date(self.0.applies_on)
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|s| ids::encode("School", s))
    }
    async fn ep_id(&self) -> Option<ID> {
        self.0.ep_id.map(|s| ids::encode("Person", s))
    }
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|s| ids::encode("Contract", s))
    }
    async fn booking_id(&self) -> Option<ID> {
        self.0.booking_id.map(|s| ids::encode("Booking", s))
    }
    async fn corrects_entry_id(&self) -> Option<ID> {
        self.0.corrects_entry_id.map(|s| ids::encode("LedgerEntry", s))
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by.map(|s| ids::encode("Person", s))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

// ---- summary ----

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum UseFlag {
    /// Behind an even spread of the purchase across the periods so far.
    UnderUsing,
    /// More used than purchased.
    OverAllocation,
}

impl From<summary::Flag> for UseFlag {
    fn from(f: summary::Flag) -> Self {
        match f {
            summary::Flag::UnderUsing => Self::UnderUsing,
            summary::Flag::OverAllocation => Self::OverAllocation,
        }
    }
}

#[derive(SimpleObject)]
pub struct SummaryPeriod {
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

#[derive(SimpleObject)]
pub struct StreamSummary {
    pub funding_stream: FundingStream,
    pub unit: Option<TimeUnit>,
    pub balance: Balance,
    /// Per period (term or half-term), in the order of `TimeSummary.periods`; each period's
    /// purchase is an even share.
    pub by_period: Vec<Balance>,
    pub flags: Vec<UseFlag>,
}

#[derive(SimpleObject)]
pub struct SchoolTimeSummary {
    pub school: School,
    pub link_ep_ids: Vec<ID>,
    pub streams: Vec<StreamSummary>,
    pub flags: Vec<UseFlag>,
}

#[derive(SimpleObject)]
pub struct StreamBalance {
    pub funding_stream: FundingStream,
    pub balance: Balance,
}

#[derive(SimpleObject)]
pub struct EpTimeSummary {
    pub ep: Person,
    pub balance: Balance,
    pub by_period: Vec<Balance>,
    pub by_stream: Vec<StreamBalance>,
}

#[derive(SimpleObject)]
pub struct TimeSummary {
    pub starts_on: Date,
    pub ends_on: Date,
    pub periods: Vec<SummaryPeriod>,
    pub schools: Vec<SchoolTimeSummary>,
    pub eps: Vec<EpTimeSummary>,
}

fn summary_of(s: summary::Summary) -> TimeSummary {
    TimeSummary {
        starts_on: Date(s.range.starts_on),
        ends_on: Date(s.range.ends_on),
        periods: s
            .periods
            .iter()
            .map(|p| SummaryPeriod {
                name: p.name.clone(),
                starts_on: Date(p.range.starts_on),
                ends_on: Date(p.range.ends_on),
            })
            .collect(),
        schools: s
            .schools
            .into_iter()
            .map(|row| SchoolTimeSummary {
                link_ep_ids: row.link_ep_ids.iter().map(|p| ids::encode("Person", *p)).collect(),
                flags: row.flags.iter().map(|f| (*f).into()).collect(),
                streams: row
                    .streams
                    .into_iter()
                    .map(|st| {
                        let unit_minutes = st.unit.as_ref().map(|u| u.minutes);
                        StreamSummary {
                            funding_stream: st.funding_stream.into(),
                            balance: Balance::of(&st.balance, unit_minutes),
                            by_period: st.by_period.iter().map(|b| Balance::of(b, unit_minutes)).collect(),
                            flags: st.flags.iter().map(|f| (*f).into()).collect(),
                            unit: st.unit.map(TimeUnit),
                        }
                    })
                    .collect(),
                school: School(row.school),
            })
            .collect(),
        eps: s
            .eps
            .into_iter()
            .map(|e| EpTimeSummary {
                balance: Balance::of(&e.balance, None),
                by_period: e.by_period.iter().map(|b| Balance::of(b, None)).collect(),
                by_stream: e
                    .by_stream
                    .iter()
                    .map(|(stream, b)| StreamBalance {
                        funding_stream: (*stream).into(),
                        balance: Balance::of(b, None),
                    })
                    .collect(),
                ep: Person(e.ep),
            })
            .collect(),
    }
}

// ---- node loading ----

pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    let db = c.db();
    match kind {
        "Contract" => contracts::get(db, caller, ContractId(uuid))
            .await
            .map(|m| Node::Contract(Contract(m))),
        "Booking" => bookings::get(db, caller, BookingId(uuid))
            .await
            .map(|m| Node::Booking(Booking(m))),
        "LedgerEntry" => ledger::entry(db, caller, LedgerEntryId(uuid))
            .await
            .map(|m| Node::LedgerEntry(LedgerEntry(m))),
        "TimeUnit" => settings::find_unit(db, caller, TimeUnitId(uuid))
            .await
            .map(|m| Node::TimeUnit(TimeUnit(m))),
        "AcademicYear" => settings::find_academic_year(db, caller, AcademicYearId(uuid))
            .await
            .map(|m| Node::AcademicYear(AcademicYear(m))),
        "Closure" => settings::find_closure(db, caller, ClosureId(uuid))
            .await
            .map(|m| Node::Closure(Closure(m))),
        "WorkingPattern" => calendar::find_pattern(db, caller, WorkingPatternId(uuid))
            .await
            .map(|m| Node::WorkingPattern(WorkingPattern(m))),
        "CalendarException" => calendar::find_exception(db, caller, CalendarExceptionId(uuid))
            .await
            .map(|m| Node::CalendarException(CalendarException(m))),
        _ => Err(DomainError::NotFound),
    }
}

// ---- queries ----

#[derive(InputObject, Default)]
pub struct ContractFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub funding_stream: Option<FundingStream>,
    pub statuses: Option<Vec<ContractStatus>>,
    /// Contracts whose period includes this date.
    pub covering: Option<Date>,
    pub link_ep_id: Option<ID>,
}

#[derive(InputObject, Default)]
pub struct BookingFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub visit_id: Option<ID>,
    /// Bookings that end after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Bookings that start before this instant.
    pub to: Option<DateTime<Utc>>,
    pub statuses: Option<Vec<BookingStatus>>,
    pub kinds: Option<Vec<BookingKind>>,
}

#[derive(InputObject, Default)]
pub struct LedgerFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub booking_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub from: Option<Date>,
    pub to: Option<Date>,
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

#[derive(InputObject)]
pub struct TimeSummaryInput {
    pub service_id: ID,
    /// The period as an academic year (with per-term figures)...
    pub academic_year_id: Option<ID>,
    /// ...or as dates.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub school_ids: Option<Vec<ID>>,
    pub ep_ids: Option<Vec<ID>>,
    pub funding_stream: Option<FundingStream>,
}

#[derive(Default)]
pub struct TimeQuery;

fn not_found_if_bad<T>(r: Result<T, DomainError>) -> Result<T, DomainError> {
    r.map_err(|_| DomainError::NotFound)
}

#[Object]
impl TimeQuery {
    /// Contracts the caller can see, newest first.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Contract>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = contracts::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            funding_stream: f.funding_stream.map(Into::into),
            statuses: f.statuses.map(|s| enums::all(&s)),
            covering: f.covering.map(|d| d.0),
            link_ep_id: ids::expect_opt("filter.linkEpId", "Person", f.link_ep_id.as_ref()).or_gql(c)?,
        };
        let rows = contracts::list(c.db(), c.caller()?, filter, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, Contract))
    }

    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        let c = context::of(ctx)?;
        let id = not_found_if_bad(ids::expect("id", "Contract", &id)).or_gql(c)?;
        contracts::get(c.db(), c.caller()?, id).await.map(Contract).or_gql(c)
    }

    /// An EP's working patterns and exceptions over a range (administrators; EPs their own).
    async fn ep_calendar(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        ep_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<EpCalendar> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let service: ServiceId = not_found_if_bad(ids::expect("serviceId", "Service", &service_id)).or_gql(c)?;
        let ep: PersonId = not_found_if_bad(ids::expect("epId", "Person", &ep_id)).or_gql(c)?;
        let patterns = calendar::patterns(c.db(), caller, service, ep).await.or_gql(c)?;
        let exceptions = calendar::exceptions(c.db(), caller, service, ep, from, to)
            .await
            .or_gql(c)?;
        Ok(EpCalendar {
            ep_id,
            working_patterns: patterns.into_iter().map(WorkingPattern).collect(),
            exceptions: exceptions.into_iter().map(CalendarException).collect(),
        })
    }

    /// Bookings the caller can see, by start time.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        filter: Option<BookingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = bookings::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            ep_id: ids::expect_opt("filter.epId", "Person", f.ep_id.as_ref()).or_gql(c)?,
            visit_id: ids::expect_opt("filter.visitId", "Booking", f.visit_id.as_ref()).or_gql(c)?,
            from: f.from,
            to: f.to,
            statuses: f.statuses.map(|s| enums::all(&s)),
            kinds: f.kinds.map(|k| enums::all(&k)),
        };
        let rows = bookings::list(c.db(), c.caller()?, filter, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, Booking))
    }

    async fn booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        let c = context::of(ctx)?;
        let id = not_found_if_bad(ids::expect("id", "Booking", &id)).or_gql(c)?;
        bookings::get(c.db(), c.caller()?, id).await.map(Booking).or_gql(c)
    }

    /// Free slots of a length for an EP, or for the EPs who work with a school.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity) + 50")]
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
        let window = page::request(first, after, last, before).window().or_gql(c)?;
        let slots = availability::search(c.db(), c.caller()?, search).await.or_gql(c)?;
        let paged = domain::page::in_memory(slots, &window, |s| domain::page::Position {
            key: Some(s.starts_at.to_rfc3339()),
            id: s.ep_id.0,
        });
        Ok(page::connection(paged, |s| AvailableSlot {
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            ep_id: ids::encode("Person", s.ep_id),
            school_id: s.school_id.map(|x| ids::encode("School", x)),
            visit_id: s.visit_id.map(|x| ids::encode("Booking", x)),
        }))
    }

    /// Ledger entries the caller can see, newest first.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        filter: Option<LedgerFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<LedgerEntry>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = ledger::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            contract_id: ids::expect_opt("filter.contractId", "Contract", f.contract_id.as_ref()).or_gql(c)?,
            booking_id: ids::expect_opt("filter.bookingId", "Booking", f.booking_id.as_ref()).or_gql(c)?,
            ep_id: ids::expect_opt("filter.epId", "Person", f.ep_id.as_ref()).or_gql(c)?,
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        let rows = ledger::entries(c.db(), c.caller()?, filter, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, LedgerEntry))
    }

    /// Per school and per EP: purchased, booked, delivered and remaining time, by funding stream
    /// and period, with flags for schools behind or over their allocation.
    #[graphql(complexity = 500)]
    async fn time_summary(&self, ctx: &Context<'_>, input: TimeSummaryInput) -> Result<TimeSummary> {
        let c = context::of(ctx)?;
        let q = summary::Query {
            service_id: not_found_if_bad(ids::expect("serviceId", "Service", &input.service_id)).or_gql(c)?,
            academic_year_id: ids::expect_opt("input.academicYearId", "AcademicYear", input.academic_year_id.as_ref())
                .or_gql(c)?,
            from: input.from.map(|d| d.0),
            to: input.to.map(|d| d.0),
            school_ids: input
                .school_ids
                .as_deref()
                .map(|s| ids::expect_all("input.schoolIds", "School", s))
                .transpose()
                .or_gql(c)?,
            ep_ids: input
                .ep_ids
                .as_deref()
                .map(|s| ids::expect_all("input.epIds", "Person", s))
                .transpose()
                .or_gql(c)?,
            funding_stream: input.funding_stream.map(Into::into),
        };
        let s = summary::summary(c.db(), c.caller()?, q).await.or_gql(c)?;
        Ok(summary_of(s))
    }
}

// ---- mutations ----

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

#[derive(InputObject)]
pub struct CreateContractInput {
    pub school_id: ID,
    pub period_kind: PeriodKind,
    /// For an academic-year contract: the year (its dates are used).
    pub academic_year_id: Option<ID>,
    /// Otherwise the dates.
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub funding_stream: FundingStream,
    pub unit_id: ID,
    /// Units bought, to two decimals (7.5 days).
    pub quantity: f64,
    pub price_pence: Option<i64>,
    pub link_ep_id: Option<ID>,
    #[graphql(default_with = "ContractStatus::Active")]
    pub status: ContractStatus,
}

#[derive(InputObject)]
pub struct UpdateContractInput {
    pub id: ID,
    /// A person id sets the link EP; null clears it; absent leaves it.
    pub link_ep_id: async_graphql::MaybeUndefined<ID>,
    pub status: Option<ContractStatus>,
    pub price_pence: Option<i64>,
    /// Only while the contract is a draft.
    pub quantity: Option<f64>,
}

#[derive(InputObject)]
pub struct TopUpContractInput {
    pub contract_id: ID,
    pub quantity: f64,
    pub price_pence: Option<i64>,
    pub reason: String,
}

#[derive(InputObject)]
pub struct WorkingHoursInput {
    /// 1 is Monday, 7 is Sunday.
    pub weekday: i32,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
}

#[derive(InputObject)]
pub struct SetWorkingPatternInput {
    pub service_id: ID,
    pub ep_id: ID,
    pub effective_from: Date,
    /// Full-time equivalent, more than 0 and at most 1.
    pub fte: f64,
    pub hours: Vec<WorkingHoursInput>,
}

#[derive(InputObject)]
pub struct AddCalendarExceptionInput {
    pub service_id: ID,
    pub ep_id: ID,
    pub kind: ExceptionKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// A short note; never health details.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawCalendarExceptionInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateBookingInput {
    /// Needed only when neither a school nor a visit says which service.
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub ep_id: ID,
    pub kind: BookingKind,
    /// A visit of the same EP this booking sits inside.
    pub visit_id: Option<ID>,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    /// Where, in words; never a child's or parent's details.
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[graphql(default)]
    pub preparation_minutes: i32,
    /// Default TRADED.
    pub funding_stream: Option<FundingStream>,
    #[graphql(default_with = "BookingStatus::Confirmed")]
    pub status: BookingStatus,
    /// Under the ADMIN_OVERRIDE policy: an administrator's reason for booking beyond the
    /// school's allocation.
    pub overbooking_reason: Option<String>,
}

#[derive(InputObject)]
pub struct BookingIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CancelBookingInput {
    pub id: ID,
    pub reason: String,
    /// Administrators say on whose behalf; others cancel as themselves.
    pub cancelled_for: Option<CancelledFor>,
    /// When an EP cancels: the alternative booking offered to the school.
    pub alternative_booking_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RescheduleBookingInput {
    pub id: ID,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Move the booking to another EP.
    pub ep_id: Option<ID>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct RecordDeliveryInput {
    pub id: ID,
    /// Default: as booked.
    pub direct_minutes: Option<i32>,
    pub preparation_minutes: Option<i32>,
}

#[derive(InputObject)]
pub struct RecordNoShowInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AdjustLedgerInput {
    pub school_id: ID,
    pub contract_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub funding_stream: FundingStream,
    #[graphql(default_with = "TimeCategory::Direct")]
    pub category: TimeCategory,
    /// Positive draws time down; negative gives it back.
    pub minutes: i32,
    pub applies_on: Date,
    pub reason: String,
    pub corrects_entry_id: Option<ID>,
}

payload!(UpdateTimeSettingsPayload {
    time_settings: TimeSettings
});
payload!(TimeUnitPayload { unit: TimeUnit });
payload!(CreateAcademicYearPayload {
    academic_year: AcademicYear
});
payload!(AddClosurePayload { closure: Closure });
payload!(ContractPayload { contract: Contract });
payload!(SetWorkingPatternPayload {
    working_pattern: WorkingPattern
});
payload!(CalendarExceptionPayload {
    exception: CalendarException
});
payload!(BookingPayload { booking: Booking });
payload!(AdjustLedgerPayload { entry: LedgerEntry });

#[derive(SimpleObject)]
pub struct Deleted {
    pub id: ID,
}

payload!(DeletePayload { deleted: Deleted });

/// A booking made, with what the caller should know.
#[derive(SimpleObject)]
pub struct BookingMade {
    pub booking: Booking,
    /// E.g. outside the EP's working hours, or over the allocation under a warn-only policy.
    pub warnings: Vec<String>,
}

payload!(CreateBookingPayload { result: BookingMade });

#[derive(SimpleObject)]
pub struct BookingCancelled {
    pub booking: Booking,
    /// Minutes drawn down from the school's time by the cancellation policy.
    pub charged_minutes: i64,
}

payload!(CancelBookingPayload {
    result: BookingCancelled
});

#[derive(SimpleObject)]
pub struct BookingRescheduled {
    /// The old booking, now cancelled, linked to the new one.
    pub previous: Booking,
    pub booking: Booking,
    pub warnings: Vec<String>,
}

payload!(RescheduleBookingPayload {
    result: BookingRescheduled
});

/// Hundredths from a decimal quantity (7.5 → 750), refusing more than two decimals.
fn hundredths(field: &str, q: f64) -> Result<i64, DomainError> {
    let scaled = q * 100.0;
    if !scaled.is_finite() || (scaled - scaled.round()).abs() > 1e-6 {
        return Err(DomainError::invalid(
            field,
            domain::FieldErrorCode::Invalid,
            "must be a number with at most two decimals",
        ));
    }
    Ok(scaled.round() as i64)
}

#[derive(Default)]
pub struct TimeMutation;

#[Object]
impl TimeMutation {
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

    /// Records what a school bought (or was given) for a period.
    async fn create_contract(&self, ctx: &Context<'_>, input: CreateContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let contract = contracts::NewContract {
                school_id: ids::expect("schoolId", "School", &input.school_id)?,
                period_kind: input.period_kind.into(),
                academic_year_id: ids::expect_opt("academicYearId", "AcademicYear", input.academic_year_id.as_ref())?,
                starts_on: input.starts_on.map(|d| d.0),
                ends_on: input.ends_on.map(|d| d.0),
                funding_stream: input.funding_stream.into(),
                unit_id: ids::expect("unitId", "TimeUnit", &input.unit_id)?,
                quantity_hundredths: hundredths("quantity", input.quantity)?,
                price_pence: input.price_pence,
                link_ep_id: ids::expect_opt("linkEpId", "Person", input.link_ep_id.as_ref())?,
                status: input.status.into(),
            };
            contracts::create(c.db(), caller, contract).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }

    async fn update_contract(&self, ctx: &Context<'_>, input: UpdateContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: ContractId = not_found_if_bad(ids::expect("id", "Contract", &input.id)).or_gql(c)?;
        let result = async {
            let patch = contracts::ContractPatch {
                link_ep_id: match input.link_ep_id {
                    async_graphql::MaybeUndefined::Undefined => None,
                    async_graphql::MaybeUndefined::Null => Some(None),
                    async_graphql::MaybeUndefined::Value(v) => Some(Some(ids::expect("linkEpId", "Person", &v)?)),
                },
                status: input.status.map(Into::into),
                price_pence: input.price_pence,
                quantity_hundredths: input.quantity.map(|q| hundredths("quantity", q)).transpose()?,
            };
            contracts::update(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }

    /// Adds time to an active contract.
    async fn top_up_contract(&self, ctx: &Context<'_>, input: TopUpContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: ContractId = not_found_if_bad(ids::expect("contractId", "Contract", &input.contract_id)).or_gql(c)?;
        let result = async {
            let top_up = contracts::TopUp {
                contract_id: id,
                quantity_hundredths: hundredths("quantity", input.quantity)?,
                price_pence: input.price_pence,
                reason: input.reason,
            };
            contracts::top_up(c.db(), caller, top_up).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }

    /// Sets an EP's working pattern from a date.
    async fn set_working_pattern(
        &self,
        ctx: &Context<'_>,
        input: SetWorkingPatternInput,
    ) -> Result<SetWorkingPatternPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let pattern = calendar::NewPattern {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                effective_from: input.effective_from.0,
                fte_hundredths: i32::try_from(hundredths("fte", input.fte)?).unwrap_or(i32::MAX),
                hours: input
                    .hours
                    .iter()
                    .map(|h| calendar::Hours {
                        weekday: u32::try_from(h.weekday).unwrap_or(0),
                        starts_at: h.starts_at.0,
                        ends_at: h.ends_at.0,
                    })
                    .collect(),
            };
            calendar::set_pattern(c.db(), caller, pattern).await
        }
        .await;
        Ok(payload_of(c, result, WorkingPattern)?.into())
    }

    /// Records leave, training, sickness or another absence.
    async fn add_calendar_exception(
        &self,
        ctx: &Context<'_>,
        input: AddCalendarExceptionInput,
    ) -> Result<CalendarExceptionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let exception = calendar::NewException {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                kind: input.kind.into(),
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                reason: input.reason,
            };
            calendar::add_exception(c.db(), caller, exception).await
        }
        .await;
        Ok(payload_of(c, result, CalendarException)?.into())
    }

    async fn withdraw_calendar_exception(
        &self,
        ctx: &Context<'_>,
        input: WithdrawCalendarExceptionInput,
    ) -> Result<CalendarExceptionPayload> {
        let c = context::of(ctx)?;
        let id: CalendarExceptionId = not_found_if_bad(ids::expect("id", "CalendarException", &input.id)).or_gql(c)?;
        Ok(payload_of(
            c,
            calendar::withdraw_exception(c.db(), c.caller()?, id).await,
            CalendarException,
        )?
        .into())
    }

    /// Books EP time. A clash with the EP's other bookings is `CONFLICT`.
    async fn create_booking(&self, ctx: &Context<'_>, input: CreateBookingInput) -> Result<CreateBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let new = bookings::NewBooking {
                service_id: ids::expect_opt("serviceId", "Service", input.service_id.as_ref())?,
                school_id: ids::expect_opt("schoolId", "School", input.school_id.as_ref())?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                kind: input.kind.into(),
                visit_id: ids::expect_opt("visitId", "Booking", input.visit_id.as_ref())?,
                mode: input.mode.into(),
                location: input.location,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                preparation_minutes: input.preparation_minutes,
                funding_stream: input.funding_stream.map(Into::into),
                status: input.status.into(),
                overbooking_reason: input.overbooking_reason,
            };
            bookings::create(c.db(), caller, new).await
        }
        .await;
        Ok(payload_of(c, result, |b| BookingMade {
            booking: Booking(b.booking),
            warnings: b.warnings,
        })?
        .into())
    }

    async fn confirm_booking(&self, ctx: &Context<'_>, input: BookingIdInput) -> Result<BookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        Ok(payload_of(c, bookings::confirm(c.db(), c.caller()?, id).await, Booking)?.into())
    }

    /// Cancels a booking, applying the service's cancellation policy.
    async fn cancel_booking(&self, ctx: &Context<'_>, input: CancelBookingInput) -> Result<CancelBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let result = async {
            let cancel = bookings::Cancel {
                id,
                reason: input.reason,
                cancelled_for: input.cancelled_for.map(Into::into),
                alternative_booking_id: ids::expect_opt(
                    "alternativeBookingId",
                    "Booking",
                    input.alternative_booking_id.as_ref(),
                )?,
            };
            bookings::cancel(c.db(), caller, cancel).await
        }
        .await;
        Ok(payload_of(c, result, |r| BookingCancelled {
            booking: Booking(r.booking),
            charged_minutes: r.charged_minutes,
        })?
        .into())
    }

    /// Moves a booking: the new time is booked and the old cancelled, together or not at all.
    async fn reschedule_booking(
        &self,
        ctx: &Context<'_>,
        input: RescheduleBookingInput,
    ) -> Result<RescheduleBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let result = async {
            let r = bookings::Reschedule {
                id,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                reason: input.reason,
            };
            bookings::reschedule(c.db(), caller, r).await
        }
        .await;
        Ok(payload_of(c, result, |r| BookingRescheduled {
            previous: Booking(r.old),
            booking: Booking(r.new.booking),
            warnings: r.new.warnings,
        })?
        .into())
    }

    /// Records that a booking took place, with the minutes spent.
    async fn record_delivery(&self, ctx: &Context<'_>, input: RecordDeliveryInput) -> Result<BookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let d = bookings::Delivery {
            id,
            direct_minutes: input.direct_minutes,
            preparation_minutes: input.preparation_minutes,
        };
        Ok(payload_of(c, bookings::deliver(c.db(), c.caller()?, d).await, Booking)?.into())
    }

    /// Records that the school did not attend (charged as a late cancellation).
    async fn record_no_show(&self, ctx: &Context<'_>, input: RecordNoShowInput) -> Result<CancelBookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        Ok(payload_of(
            c,
            bookings::no_show(c.db(), c.caller()?, id, &input.reason).await,
            |r| BookingCancelled {
                booking: Booking(r.booking),
                charged_minutes: r.charged_minutes,
            },
        )?
        .into())
    }

    /// Posts a correcting adjustment to the time ledger (administrators).
    async fn adjust_ledger(&self, ctx: &Context<'_>, input: AdjustLedgerInput) -> Result<AdjustLedgerPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let a = ledger::Adjustment {
                school_id: ids::expect("schoolId", "School", &input.school_id)?,
                contract_id: ids::expect_opt("contractId", "Contract", input.contract_id.as_ref())?,
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                funding_stream: input.funding_stream.into(),
                category: input.category.into(),
                minutes: i64::from(input.minutes),
                applies_on: input.applies_on.0,
                reason: input.reason,
                corrects_entry_id: ids::expect_opt("correctsEntryId", "LedgerEntry", input.corrects_entry_id.as_ref())?,
            };
            ledger::adjust(c.db(), caller, a).await
        }
        .await;
        Ok(payload_of(c, result, LedgerEntry)?.into())
    }
}
