//! Space to Talk's closed sets of values, with the domain's names.

use crate::graphql::enums::mirror;

mirror! {
    SpaceToTalkRunStatus => domain::model::SpaceToTalkRunStatus {
        Open = "OPEN",
        /// Withdrawn: its free slots were released.
        Cancelled = "CANCELLED",
    }
}

mirror! {
    SpaceToTalkSlotStatus => domain::model::SpaceToTalkSlotStatus {
        Free = "FREE",
        Booked = "BOOKED",
        Withdrawn = "WITHDRAWN",
    }
}

mirror! {
    /// A parent's booking.
    SpaceToTalkStatus => domain::model::SpaceToTalkStatus {
        Booked = "BOOKED",
        /// Moved to another slot (`movedToId`).
        Moved = "MOVED",
        Cancelled = "CANCELLED",
        Attended = "ATTENDED",
        DidNotAttend = "DID_NOT_ATTEND",
    }
}

mirror! {
    /// How a parent or carer prefers to be reached.
    ContactMethod => domain::model::ContactMethod {
        Phone = "PHONE",
        Email = "EMAIL",
    }
}

mirror! {
    SpaceToTalkBookedVia => domain::model::SpaceToTalkBookedVia {
        /// By the school (or the service) on the parent's behalf.
        School = "SCHOOL",
        /// By the parent, through the school's booking link.
        ParentLink = "PARENT_LINK",
    }
}

mirror! {
    /// In which capacity someone cancelled or moved a booking.
    SpaceToTalkActor => domain::model::SpaceToTalkActor {
        Parent = "PARENT",
        School = "SCHOOL",
        Ep = "EP",
        Service = "SERVICE",
    }
}
