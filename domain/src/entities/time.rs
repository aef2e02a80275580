//! Tables of EP time: settings, calendar, contracts, patterns, bookings and the ledger.

use super::platform::entity;

entity!(time_settings, "time_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: ServiceId,
    pub cancellation_notice_hours: i32,
    pub late_cancellation_charge_percent: i32,
    pub ep_cancellation_requires_alternative: bool,
    pub overbooking_policy: OverbookingPolicy,
    pub travel_buffer_minutes: i32,
    pub minimum_notice_hours: i32,
    pub slot_step_minutes: i32,
    pub even_use_over: SpreadPeriod,
    pub under_use_tolerance_percent: i32,
    pub updated_at: DateTimeUtc,
    pub term_time_policy: TermTimePolicy,
    pub schools_may_book: bool,
    /// Space-separated booking kinds schools may book.
    pub school_booking_kinds: String,
    pub school_booking_within_visits: bool,
});

entity!(time_unit, "time_units", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TimeUnitId,
    pub service_id: ServiceId,
    pub name: String,
    pub minutes: i32,
    pub created_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
});

entity!(academic_year, "academic_years", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AcademicYearId,
    pub service_id: ServiceId,
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub created_at: DateTimeUtc,
});

entity!(term, "terms", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TermId,
    pub service_id: ServiceId,
    pub academic_year_id: AcademicYearId,
    pub parent_term_id: Option<TermId>,
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
});

entity!(closure, "closures", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ClosureId,
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub kind: ClosureKind,
    pub starts_on: Date,
    pub ends_on: Date,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
});

entity!(contract, "contracts", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ContractId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub period_kind: PeriodKind,
    pub starts_on: Date,
    pub ends_on: Date,
    pub academic_year_id: Option<AcademicYearId>,
    pub funding_stream: FundingStream,
    pub unit_id: TimeUnitId,
    pub quantity_hundredths: i32,
    pub minutes: i32,
    pub price_pence: Option<i64>,
    pub link_ep_id: Option<PersonId>,
    pub status: ContractStatus,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub updated_at: DateTimeUtc,
    /// The unit's minutes when the contract was sold (a unit resized later does not change it).
    pub unit_minutes: i32,
});

entity!(contract_top_up, "contract_top_ups", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TopUpId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub contract_id: ContractId,
    pub quantity_hundredths: i32,
    pub minutes: i32,
    pub price_pence: Option<i64>,
    pub reason: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
});

entity!(working_pattern, "working_patterns", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: WorkingPatternId,
    pub service_id: ServiceId,
    pub ep_id: PersonId,
    pub effective_from: Date,
    pub effective_until: Option<Date>,
    pub fte_hundredths: i32,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
});

entity!(working_hours, "working_hours", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: uuid::Uuid,
    pub pattern_id: WorkingPatternId,
    pub weekday: i32,
    pub starts_at: Time,
    pub ends_at: Time,
});

entity!(calendar_exception, "calendar_exceptions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CalendarExceptionId,
    pub service_id: ServiceId,
    pub ep_id: PersonId,
    pub kind: ExceptionKind,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub withdrawn_at: Option<DateTimeUtc>,
});

entity!(booking, "bookings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BookingId,
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub ep_id: PersonId,
    pub kind: BookingKind,
    pub visit_id: Option<BookingId>,
    pub mode: BookingMode,
    pub location: Option<String>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub blocked_from: DateTimeUtc,
    pub blocked_until: DateTimeUtc,
    pub status: BookingStatus,
    pub funding_stream: Option<FundingStream>,
    pub contract_id: Option<ContractId>,
    pub direct_minutes: i32,
    pub preparation_minutes: i32,
    pub overbooking_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub created_by_partner: Option<PartnerClientId>,
    pub updated_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<PersonId>,
    pub cancelled_by_partner: Option<PartnerClientId>,
    pub cancelled_for: Option<CancelledFor>,
    pub cancellation_reason: Option<String>,
    pub cancellation_charged: Option<bool>,
    pub rescheduled_from_id: Option<BookingId>,
    pub rescheduled_to_id: Option<BookingId>,
    pub alternative_id: Option<BookingId>,
    /// Why an administrator booked inside the minimum notice, or in the past.
    pub short_notice_reason: Option<String>,
    pub series_id: Option<BookingSeriesId>,
});

entity!(booking_series, "booking_series", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BookingSeriesId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub ep_id: PersonId,
    pub kind: BookingKind,
    pub mode: BookingMode,
    pub location: Option<String>,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: i32,
    pub starts_at: Time,
    pub ends_at: Time,
    pub every_weeks: i32,
    pub starts_on: Date,
    pub ends_on: Date,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
});

entity!(ledger_entry, "ledger_entries", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LedgerEntryId,
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub contract_id: Option<ContractId>,
    pub booking_id: Option<BookingId>,
    pub kind: LedgerKind,
    pub funding_stream: FundingStream,
    pub category: TimeCategory,
    pub minutes: i32,
    pub applies_on: Date,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub created_by_partner: Option<PartnerClientId>,
    pub corrects_entry_id: Option<LedgerEntryId>,
});
