//! The domain's closed sets of values as GraphQL enums, with the same names.

/// Declares a GraphQL enum mirroring a domain enum, and conversions both ways.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $dom:path { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* #[graphql(name = $text)] $variant),+ }

        impl From<$name> for $dom {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => Self::$variant),+ }
            }
        }

        impl From<$dom> for $name {
            fn from(v: $dom) -> Self {
                type Domain = $dom;
                match v { $(Domain::$variant => Self::$variant),+ }
            }
        }
    };
}
pub(crate) use mirror;

mirror! {
    /// Whether school work happens in term time only (half-terms are holidays).
    TermTimePolicy => domain::model::TermTimePolicy {
        /// School work in a holiday is refused, and availability offers none.
        Refuse = "REFUSE",
        /// It is booked with a warning; availability offers term time only.
        Warn = "WARN",
        /// Holidays are like any other day.
        Allow = "ALLOW",
    }
}

mirror! {
    /// Why a booking no longer fits its EP's time.
    ConflictReason => domain::time::conflicts::Reason {
        /// Outside the EP's working hours on that day.
        OutsideWorkingHours = "OUTSIDE_WORKING_HOURS",
        /// The EP is away then (leave, training, sickness...; which, only their calendar says).
        EpUnavailable = "EP_UNAVAILABLE",
        /// A bank holiday, a service closure day or a day the school is closed.
        Closure = "CLOSURE",
        /// School work in a school holiday.
        OutsideTerm = "OUTSIDE_TERM",
    }
}

mirror! {
    /// A role held through a membership.
    Role => domain::access::Role {
        /// Runs the service's diary: contracts, allocation, visits, every school's balance.
        ServiceAdmin = "SERVICE_ADMIN",
        /// An educational psychologist (or trainee or assistant) of the service.
        Psychologist = "PSYCHOLOGIST",
        /// A school's Special Educational Needs Co-ordinator.
        Senco = "SENCO",
        /// A headteacher, deputy, or senior mental health lead.
        SchoolLeader = "SCHOOL_LEADER",
        /// Teachers, teaching assistants, ELSAs.
        SchoolStaff = "SCHOOL_STAFF",
        /// A partner front-end calling with its own credentials.
        PartnerClient = "PARTNER_CLIENT",
    }
}

mirror! {
    /// What a partner client may do.
    PartnerScope => domain::access::PartnerScope {
        /// Read the schools the client may see.
        SchoolsRead = "SCHOOLS_READ",
        /// Read bookings at those schools.
        BookingsRead = "BOOKINGS_READ",
        /// Book and cancel EP time at those schools.
        BookingsWrite = "BOOKINGS_WRITE",
        /// See free slots (no booking details).
        AvailabilityRead = "AVAILABILITY_READ",
        /// See SEMH audit figures across the service's schools (aggregates only).
        AuditsRead = "AUDITS_READ",
    }
}

mirror! {
    Phase => domain::model::Phase {
        EarlyYears = "EARLY_YEARS",
        Primary = "PRIMARY",
        Secondary = "SECONDARY",
        AllThrough = "ALL_THROUGH",
        Special = "SPECIAL",
        /// A pupil referral unit.
        Pru = "PRU",
        Post16 = "POST_16",
    }
}

mirror! {
    SchoolStatus => domain::model::SchoolStatus {
        Open = "OPEN",
        Closed = "CLOSED",
        Archived = "ARCHIVED",
    }
}

mirror! {
    PersonStatus => domain::model::PersonStatus {
        /// Invited; has not yet set a password.
        Invited = "INVITED",
        Active = "ACTIVE",
        /// Cannot sign in; every session has ended.
        Disabled = "DISABLED",
    }
}

mirror! {
    PartnerClientStatus => domain::model::PartnerClientStatus {
        Active = "ACTIVE",
        Disabled = "DISABLED",
    }
}

mirror! {
    ActorKind => domain::model::ActorKind {
        Person = "PERSON",
        PartnerClient = "PARTNER_CLIENT",
        /// The service itself (the command line, a scheduled job).
        System = "SYSTEM",
        /// Nobody signed in (a failed sign-in).
        Anonymous = "ANONYMOUS",
    }
}

mirror! {
    FundingStream => domain::model::FundingStream {
        /// The school pays; it draws down the school's balance.
        Traded = "TRADED",
        /// The free allocation the council gives every school.
        Core = "CORE",
        /// Legally required work; never draws down traded time.
        Statutory = "STATUTORY",
    }
}

mirror! {
    PeriodKind => domain::model::PeriodKind {
        AcademicYear = "ACADEMIC_YEAR",
        FinancialYear = "FINANCIAL_YEAR",
    }
}

mirror! {
    ContractStatus => domain::model::ContractStatus {
        Draft = "DRAFT",
        Active = "ACTIVE",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
}

mirror! {
    OverbookingPolicy => domain::model::OverbookingPolicy {
        /// A booking beyond the school's remaining time is refused.
        HardStop = "HARD_STOP",
        /// It is made, and the payload carries a warning.
        AllowWithWarning = "ALLOW_WITH_WARNING",
        /// Only an administrator may make it, with a reason.
        AdminOverride = "ADMIN_OVERRIDE",
    }
}

mirror! {
    SpreadPeriod => domain::model::SpreadPeriod {
        Terms = "TERMS",
        HalfTerms = "HALF_TERMS",
    }
}

mirror! {
    ClosureKind => domain::model::ClosureKind {
        BankHoliday = "BANK_HOLIDAY",
        ServiceClosure = "SERVICE_CLOSURE",
        SchoolClosure = "SCHOOL_CLOSURE",
    }
}

mirror! {
    ExceptionKind => domain::model::ExceptionKind {
        Leave = "LEAVE",
        Training = "TRAINING",
        Sickness = "SICKNESS",
        Closure = "CLOSURE",
        Other = "OTHER",
    }
}

mirror! {
    BookingKind => domain::model::BookingKind {
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

mirror! {
    BookingMode => domain::model::BookingMode {
        InPerson = "IN_PERSON",
        Online = "ONLINE",
        Phone = "PHONE",
    }
}

mirror! {
    BookingStatus => domain::model::BookingStatus {
        Tentative = "TENTATIVE",
        Confirmed = "CONFIRMED",
        Delivered = "DELIVERED",
        Cancelled = "CANCELLED",
        NoShow = "NO_SHOW",
    }
}

mirror! {
    CancelledFor => domain::model::CancelledFor {
        /// The school cancelled: a late cancellation is charged under the policy.
        School = "SCHOOL",
        /// The EP cancelled: never charged.
        Ep = "EP",
        /// The service cancelled: never charged.
        Service = "SERVICE",
    }
}

mirror! {
    LedgerKind => domain::model::LedgerKind {
        Booked = "BOOKED",
        Released = "RELEASED",
        Delivered = "DELIVERED",
        LateCancellation = "LATE_CANCELLATION",
        Adjustment = "ADJUSTMENT",
    }
}

mirror! {
    TimeCategory => domain::model::TimeCategory {
        /// Time with people: meetings, consultations, observation.
        Direct = "DIRECT",
        /// Preparation and write-up.
        Preparation = "PREPARATION",
    }
}

/// Converts a list of API enum values into domain values.
pub fn all<A: Copy + Into<D>, D>(values: &[A]) -> Vec<D> {
    values.iter().map(|v| (*v).into()).collect()
}
