//! The consultation area's closed sets of values, with the domain's names.

use crate::graphql::enums::mirror;

mirror! {
    /// Whether a consultation is about a named child.
    ConsultationKind => domain::model::ConsultationKind {
        /// About an unnamed child, a group, a class or the whole school: nothing identifying is stored.
        Professional = "PROFESSIONAL",
        /// About one child (a pseudonymous pupil record); needs valid consent first.
        Formal = "FORMAL",
    }
}

mirror! {
    /// Where a consultation is in its life (`consultationSteps` lists what may happen from each).
    ConsultationStatus => domain::model::ConsultationStatus {
        Requested = "REQUESTED",
        /// The EP or service asked the school for more information.
        NeedsInformation = "NEEDS_INFORMATION",
        Accepted = "ACCEPTED",
        /// The meeting is booked.
        Scheduled = "SCHEDULED",
        /// The meeting took place; the record is being written.
        Held = "HELD",
        /// The school can see the record and its actions.
        RecordShared = "RECORD_SHARED",
        /// The review date has come.
        ReviewDue = "REVIEW_DUE",
        Closed = "CLOSED",
        Declined = "DECLINED",
        Withdrawn = "WITHDRAWN",
    }
}

mirror! {
    /// An area of special educational need.
    ConcernArea => domain::model::ConcernArea {
        /// Social, emotional and mental health.
        Semh = "SEMH",
        CognitionAndLearning = "COGNITION_AND_LEARNING",
        CommunicationAndInteraction = "COMMUNICATION_AND_INTERACTION",
        SensoryAndPhysical = "SENSORY_AND_PHYSICAL",
        Other = "OTHER",
    }
}

mirror! {
    ConsultationOutcome => domain::model::ConsultationOutcome {
        Resolved = "RESOLVED",
        /// Another assess-plan-do-review cycle follows, as its own consultation.
        ContinuedInReview = "CONTINUED_IN_REVIEW",
        ReferredOn = "REFERRED_ON",
        NoFurtherAction = "NO_FURTHER_ACTION",
    }
}

mirror! {
    YearGroup => domain::model::YearGroup {
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

mirror! {
    /// Who gave consent.
    ConsentGiver => domain::model::ConsentGiver {
        Parent = "PARENT",
        Carer = "CARER",
        /// The young person themselves (from about 12 or 13).
        YoungPerson = "YOUNG_PERSON",
        /// A social worker, for a looked-after child.
        SocialWorker = "SOCIAL_WORKER",
    }
}

mirror! {
    ConsentMethod => domain::model::ConsentMethod {
        Written = "WRITTEN",
        Electronic = "ELECTRONIC",
        Verbal = "VERBAL",
    }
}

mirror! {
    /// Who writes the consultation up.
    RecordFormat => domain::model::RecordFormat {
        EpReport = "EP_REPORT",
        SchoolMinutes = "SCHOOL_MINUTES",
    }
}

mirror! {
    ActionStatus => domain::model::ActionStatus {
        Open = "OPEN",
        Done = "DONE",
        Dropped = "DROPPED",
    }
}

mirror! {
    /// How long a child's record is kept.
    RetentionRule => domain::model::RetentionRule {
        /// Until the child's 25th birthday.
        Age25 = "AGE_25",
        /// Date of birth plus 31 years.
        BirthPlus31 = "BIRTH_PLUS_31",
    }
}

/// What the EP or service decides about a request.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriageDecision {
    Accept,
    Decline,
    AskForInformation,
}

impl From<TriageDecision> for domain::consultations::requests::Decision {
    fn from(d: TriageDecision) -> Self {
        match d {
            TriageDecision::Accept => Self::Accept,
            TriageDecision::Decline => Self::Decline,
            TriageDecision::AskForInformation => Self::AskForInformation,
        }
    }
}
