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

text_enum! {
    /// Whether a consultation is about a named child (formal: consent first) or not.
    pub enum ConsultationKind {
        /// About an unnamed child, a group, a class or the whole school: nothing identifying.
        Professional = "PROFESSIONAL",
        /// About one child, who has a pupil record; needs valid consent.
        Formal = "FORMAL",
    }
}

text_enum! {
    /// Where a consultation is in its life. The legal steps between these are the table in
    /// `consultations::states`.
    pub enum ConsultationStatus {
        Requested = "REQUESTED",
        NeedsInformation = "NEEDS_INFORMATION",
        Accepted = "ACCEPTED",
        Scheduled = "SCHEDULED",
        Held = "HELD",
        RecordShared = "RECORD_SHARED",
        ReviewDue = "REVIEW_DUE",
        Closed = "CLOSED",
        Declined = "DECLINED",
        Withdrawn = "WITHDRAWN",
    }
}

text_enum! {
    pub enum ConcernArea {
        Semh = "SEMH",
        CognitionAndLearning = "COGNITION_AND_LEARNING",
        CommunicationAndInteraction = "COMMUNICATION_AND_INTERACTION",
        SensoryAndPhysical = "SENSORY_AND_PHYSICAL",
        Other = "OTHER",
    }
}

text_enum! {
    pub enum ConsultationOutcome {
        /// The hoped-for outcomes were reached.
        Resolved = "RESOLVED",
        /// A further assess-plan-do-review cycle follows (the review is its own consultation).
        ContinuedInReview = "CONTINUED_IN_REVIEW",
        /// Referred on to another service or to statutory assessment.
        ReferredOn = "REFERRED_ON",
        NoFurtherAction = "NO_FURTHER_ACTION",
    }
}

text_enum! {
    /// A pupil's year group.
    pub enum YearGroup {
        Nursery = "NURSERY",
        Reception = "RECEPTION",
        Year1 = "YEAR_1",
        Year2 = "YEAR_2",
        Year3 = "YEAR_3",
        Year4 = "YEAR_4",
        Year5 = "YEAR_5",
        Year6 = "YEAR_6",
        Year7 = "YEAR_7",
        Year8 = "YEAR_8",
        Year9 = "YEAR_9",
        Year10 = "YEAR_10",
        Year11 = "YEAR_11",
        Year12 = "YEAR_12",
        Year13 = "YEAR_13",
        Post19 = "POST_19",
    }
}

text_enum! {
    /// Who gave consent.
    pub enum ConsentGiver {
        Parent = "PARENT",
        Carer = "CARER",
        /// The young person themselves (from about 12 or 13).
        YoungPerson = "YOUNG_PERSON",
        /// For a looked-after child.
        SocialWorker = "SOCIAL_WORKER",
    }
}

text_enum! {
    pub enum ConsentMethod {
        Written = "WRITTEN",
        Electronic = "ELECTRONIC",
        /// Given by word of mouth and noted by the person recording it.
        Verbal = "VERBAL",
    }
}

text_enum! {
    /// Who writes up a consultation.
    pub enum RecordFormat {
        EpReport = "EP_REPORT",
        SchoolMinutes = "SCHOOL_MINUTES",
    }
}

text_enum! {
    pub enum ActionStatus {
        Open = "OPEN",
        Done = "DONE",
        Dropped = "DROPPED",
    }
}

text_enum! {
    /// How long a child's record is kept.
    pub enum RetentionRule {
        /// Until the child's 25th birthday.
        Age25 = "AGE_25",
        /// Date of birth plus 31 years.
        BirthPlus31 = "BIRTH_PLUS_31",
    }
}

text_enum! {
    /// The shape of a reflective session type.
    pub enum ReflectiveFormat {
        ReflectingTeam = "REFLECTING_TEAM",
        SolutionCircle = "SOLUTION_CIRCLE",
        ElsaSupervision = "ELSA_SUPERVISION",
        SencoSupervision = "SENCO_SUPERVISION",
        /// A format of the service's own.
        Other = "OTHER",
    }
}

text_enum! {
    /// How a reflective session's facilitator time is charged to the schools taking part.
    pub enum ReflectiveCharging {
        /// All to one school (for a cluster, the school named as charged).
        OneSchool = "ONE_SCHOOL",
        /// Split evenly across the invited schools.
        SplitEvenly = "SPLIT_EVENLY",
        /// Split by the number of each school's staff who attended.
        ByAttendance = "BY_ATTENDANCE",
        NotCharged = "NOT_CHARGED",
    }
}

text_enum! {
    pub enum ReflectiveStatus {
        Scheduled = "SCHEDULED",
        Held = "HELD",
        Cancelled = "CANCELLED",
    }
}

text_enum! {
    /// A place on a reflective session.
    pub enum PlaceStatus {
        Registered = "REGISTERED",
        /// On the waiting list, in order.
        Waiting = "WAITING",
        Cancelled = "CANCELLED",
    }
}

text_enum! {
    /// A participant's role in a reflective session.
    pub enum ReflectiveRole {
        /// Brings the situation and leaves with a next step.
        Presenter = "PRESENTER",
        Facilitator = "FACILITATOR",
        Reflector = "REFLECTOR",
        Timekeeper = "TIMEKEEPER",
        Recorder = "RECORDER",
        Observer = "OBSERVER",
    }
}

text_enum! {
    /// A run of Space to Talk slots.
    pub enum SpaceToTalkRunStatus {
        Open = "OPEN",
        Cancelled = "CANCELLED",
    }
}

text_enum! {
    /// A Space to Talk slot: free to book, booked, or withdrawn with its run.
    pub enum SpaceToTalkSlotStatus {
        Free = "FREE",
        Booked = "BOOKED",
        Withdrawn = "WITHDRAWN",
    }
}

text_enum! {
    /// A parent's Space to Talk booking.
    pub enum SpaceToTalkStatus {
        Booked = "BOOKED",
        /// Moved to another slot (the new booking names this one).
        Moved = "MOVED",
        Cancelled = "CANCELLED",
        Attended = "ATTENDED",
        DidNotAttend = "DID_NOT_ATTEND",
    }
}

text_enum! {
    /// How a parent or carer prefers to be reached.
    pub enum ContactMethod {
        Phone = "PHONE",
        Email = "EMAIL",
    }
}

text_enum! {
    /// Who made a Space to Talk booking.
    pub enum SpaceToTalkBookedVia {
        /// The school (or the service) booked on the parent's behalf.
        School = "SCHOOL",
        /// The parent, through the school's booking link.
        ParentLink = "PARENT_LINK",
    }
}

text_enum! {
    /// In which capacity someone cancelled or moved a Space to Talk booking.
    pub enum SpaceToTalkActor {
        Parent = "PARENT",
        School = "SCHOOL",
        Ep = "EP",
        Service = "SERVICE",
    }
}

text_enum! {
    /// A version of an SEMH audit template: a draft can change; a published version never does.
    pub enum SemhTemplateStatus {
        Draft = "DRAFT",
        Published = "PUBLISHED",
        /// No new rounds; rounds already on it keep it.
        Retired = "RETIRED",
    }
}

text_enum! {
    /// An audit round: open for responses, or submitted (read-only).
    pub enum SemhRoundStatus {
        Open = "OPEN",
        Submitted = "SUBMITTED",
    }
}

text_enum! {
    /// Who gave a set of responses in a round.
    pub enum SemhRespondentKind {
        /// One member of staff, answering for themselves.
        Individual = "INDIVIDUAL",
        /// A named group (a department, a phase team): the group, not its people.
        Group = "GROUP",
        /// A table of a whole-staff session, entered by its facilitator through the table's link.
        Table = "TABLE",
    }
}

text_enum! {
    /// Where a rating sits for comparisons and the service's picture.
    pub enum SemhBand {
        Red = "RED",
        Amber = "AMBER",
        Green = "GREEN",
        /// Don't know, or no view.
        Unknown = "UNKNOWN",
    }
}

text_enum! {
    /// A priority of the action plan.
    pub enum SemhActionStatus {
        Open = "OPEN",
        InProgress = "IN_PROGRESS",
        Done = "DONE",
        Dropped = "DROPPED",
        /// Not finished at the next round of the same template, and carried into it.
        CarriedForward = "CARRIED_FORWARD",
    }
}
