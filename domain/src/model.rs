//! The closed sets of values the domain stores as text. Each has a stable name that the API
//! exposes unchanged.

use crate::text_enum;

text_enum! {
    /// A school's phase of education.
    pub enum Phase {
        EarlyYears = "EARLY_YEARS",
        Primary = "PRIMARY",
        Secondary = "SECONDARY",
        AllThrough = "ALL_THROUGH",
        Special = "SPECIAL",
        Pru = "PRU",
        Post16 = "POST_16",
    }
}

text_enum! {
    pub enum SchoolStatus {
        Open = "OPEN",
        Closed = "CLOSED",
        Archived = "ARCHIVED",
    }
}

text_enum! {
    pub enum PersonStatus {
        /// Invited, not yet signed in.
        Invited = "INVITED",
        Active = "ACTIVE",
        Disabled = "DISABLED",
    }
}

text_enum! {
    pub enum PartnerClientStatus {
        Active = "ACTIVE",
        Disabled = "DISABLED",
    }
}

text_enum! {
    pub enum SignInMethod {
        Password = "PASSWORD",
        ExternalProvider = "EXTERNAL_PROVIDER",
    }
}

text_enum! {
    /// Who took an audited action.
    pub enum ActorKind {
        Person = "PERSON",
        PartnerClient = "PARTNER_CLIENT",
        /// The service itself: the command line, the demo, a scheduled job.
        System = "SYSTEM",
        /// Nobody signed in (a failed sign-in).
        Anonymous = "ANONYMOUS",
    }
}

text_enum! {
    pub enum FundingStream {
        /// The school pays; it draws down the school's balance.
        Traded = "TRADED",
        /// A free allocation the council gives every school.
        Core = "CORE",
        /// Legally required work; never draws down traded time.
        Statutory = "STATUTORY",
    }
}

text_enum! {
    pub enum PeriodKind {
        AcademicYear = "ACADEMIC_YEAR",
        FinancialYear = "FINANCIAL_YEAR",
    }
}

text_enum! {
    pub enum ContractStatus {
        Draft = "DRAFT",
        Active = "ACTIVE",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
}

text_enum! {
    pub enum OverbookingPolicy {
        /// A booking beyond the school's remaining time is refused.
        HardStop = "HARD_STOP",
        /// It is made, and the answer carries a warning.
        AllowWithWarning = "ALLOW_WITH_WARNING",
        /// Only an administrator may make it, with a reason.
        AdminOverride = "ADMIN_OVERRIDE",
    }
}

text_enum! {
    /// Whether use is expected evenly across terms or half-terms.
    pub enum SpreadPeriod {
        Terms = "TERMS",
        HalfTerms = "HALF_TERMS",
    }
}

text_enum! {
    /// Whether school work happens in term time only.
    pub enum TermTimePolicy {
        /// A booking of school work in a holiday (half-terms included) is refused, and
        /// availability offers none.
        Refuse = "REFUSE",
        /// It is made with a warning; availability still offers term time only.
        Warn = "WARN",
        /// Holidays are like any other day.
        Allow = "ALLOW",
    }
}

text_enum! {
    pub enum ClosureKind {
        BankHoliday = "BANK_HOLIDAY",
        ServiceClosure = "SERVICE_CLOSURE",
        SchoolClosure = "SCHOOL_CLOSURE",
    }
}

text_enum! {
    pub enum ExceptionKind {
        Leave = "LEAVE",
        Training = "TRAINING",
        Sickness = "SICKNESS",
        Closure = "CLOSURE",
        Other = "OTHER",
    }
}

text_enum! {
    /// Every kind of EP time lives in one bookings table.
    pub enum BookingKind {
        /// A block of an EP's time at a school (or online), within which other bookings sit.
        Visit = "VISIT",
        PlanningMeeting = "PLANNING_MEETING",
        Consultation = "CONSULTATION",
        SpaceToTalk = "SPACE_TO_TALK",
        ReflectiveSession = "REFLECTIVE_SESSION",
        AuditSupport = "AUDIT_SUPPORT",
        Training = "TRAINING",
        Other = "OTHER",
    }
}

impl BookingKind {
    /// Work with or for a school, which happens in term time (training and the service's own
    /// business need not).
    pub fn is_school_work(self) -> bool {
        !matches!(self, BookingKind::Training | BookingKind::Other)
    }
}

text_enum! {
    pub enum BookingMode {
        InPerson = "IN_PERSON",
        Online = "ONLINE",
        Phone = "PHONE",
    }
}

text_enum! {
    pub enum BookingStatus {
        Tentative = "TENTATIVE",
        Confirmed = "CONFIRMED",
        Delivered = "DELIVERED",
        Cancelled = "CANCELLED",
        NoShow = "NO_SHOW",
    }
}

impl BookingStatus {
    /// Whether the booking still holds the EP's time.
    pub fn holds_time(self) -> bool {
        self != BookingStatus::Cancelled
    }
    /// Whether it can still change (be confirmed, cancelled, rescheduled, delivered).
    pub fn is_open(self) -> bool {
        matches!(self, BookingStatus::Tentative | BookingStatus::Confirmed)
    }
}

text_enum! {
    /// On whose behalf a booking was cancelled: it decides whether the school is charged.
    pub enum CancelledFor {
        /// The school cancelled: late cancellations are charged under the policy.
        School = "SCHOOL",
        /// The EP cancelled: never charged; the policy may require an alternative offer.
        Ep = "EP",
        /// The service cancelled (closure, illness of the service): never charged.
        Service = "SERVICE",
    }
}

text_enum! {
    pub enum LedgerKind {
        /// Time set aside by a booking.
        Booked = "BOOKED",
        /// Booked time given back (cancelled, or turned into delivered time).
        Released = "RELEASED",
        Delivered = "DELIVERED",
        /// What a late cancellation or a no-show draws down.
        LateCancellation = "LATE_CANCELLATION",
        /// A correction by an administrator, with a reason.
        Adjustment = "ADJUSTMENT",
    }
}

text_enum! {
    pub enum TimeCategory {
        /// Meetings, consultations, observation: time with people.
        Direct = "DIRECT",
        /// Preparation and write-up.
        Preparation = "PREPARATION",
    }
}
