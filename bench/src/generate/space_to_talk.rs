//! Space to Talk for the generated history, as `space_to_talk::runs::publish`, `booking::book`,
//! `record_attendance` and `links::issue` would have written it: for every third school, a run
//! of four 45-minute slots (15 minutes apart, online, the service's default settings: no
//! draw-down, so each slot's EP time is a Space to Talk booking at no school) every third week
//! around today, each run refused as a whole where a slot would collide with the EP's diary or
//! fall on a day off; in each run the SENCO books a parent into the first slot and a parent books
//! the second through the school's link; past sessions held with attendance recorded (the EP's
//! time delivered). Every sixth school's runs are open to its neighbour too (whose SENCO books
//! the first slot); in every third run the school cancelled a parent's booking in the third slot
//! (free again), and in every third run the parent who booked through the link first took the
//! fourth slot and moved (that slot free again, the manage link with the new booking). The
//! parents are clearly fictional, with the least data that works.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use domain::entities::*;
use domain::ids::*;
use domain::model::*;

use super::{Ask, Gen, REQUEST_ID, Then, ZONE, hm, local_to_utc, monday_of};

/// Slots per run, their length and the gap after each.
pub const STT_SLOTS: i64 = 4;
const SLOT_MINUTES: i64 = 45;
const GAP_MINUTES: i64 = 15;

/// Whether the `i`th school of a service has Space to Talk runs (and a booking link).
pub fn has_space_to_talk(i: usize) -> bool {
    i.is_multiple_of(3)
}

/// The booking link token of school `school` of service `service` (only its digest is stored).
pub fn space_to_talk_link_token(service: usize, school: usize) -> String {
    format!(
        "{}bench-s{service:02}-{school:04}-not-a-secret",
        domain::space_to_talk::links::LINK_PREFIX
    )
}

const TOPICS: [&str; 4] = [
    "Sleep and bedtime routines",
    "Worries about starting secondary school",
    "Friendships at playtime",
    "Big feelings after school",
];

impl Gen<'_> {
    /// An audit entry by `actor` (a SENCO booking, a parent through a link: no person).
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit entry's fields, as audit::Entry has them"
    )]
    fn audit_by(
        &mut self,
        at: DateTime<Utc>,
        actor: Option<PersonId>,
        action: &str,
        object_type: &str,
        object: uuid::Uuid,
        school: Option<SchoolId>,
        detail: serde_json::Value,
    ) {
        let id = AuditEventId(self.ids.at(at));
        self.rows.audit.push(audit_event::Model {
            id,
            service_id: Some(self.service),
            school_id: school,
            actor_kind: if actor.is_some() {
                ActorKind::Person
            } else {
                ActorKind::Anonymous
            },
            actor_person_id: actor,
            partner_client_id: None,
            action: action.to_owned(),
            object_type: Some(object_type.to_owned()),
            object_id: Some(object),
            request_id: Some(REQUEST_ID.to_owned()),
            occurred_at: at,
            detail: Some(detail.to_string()),
        });
    }

    /// Whether an online slot fits the EP's day: a school day for them, nothing overlapping.
    fn slot_fits(&self, ep: PersonId, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        let day = from.with_timezone(&ZONE).date_naive();
        self.school_day(ep, day)
            && self
                .diary
                .get(&(ep, day))
                .is_none_or(|taken| taken.iter().all(|(a, b, _, _)| !(*a < to && from < *b)))
    }

    /// Space to Talk for the service's schools: `sencos[i]` is the SENCO of `schools[i]`.
    pub(super) fn space_to_talk(&mut self, s: usize, schools: &[SchoolId], sencos: &[PersonId], eps: &[PersonId]) {
        let cut = self.cut;
        let monday = monday_of(cut.with_timezone(&ZONE).date_naive());
        for (i, school) in schools.iter().enumerate() {
            if !has_space_to_talk(i) {
                continue;
            }
            let senco = sencos[i];
            let ep = eps[i % eps.len()];
            let mut open_to = vec![(*school, senco)];
            if i % 6 == 0
                && let (Some(next), Some(their_senco)) = (schools.get(i + 1), sencos.get(i + 1))
            {
                open_to.push((*next, *their_senco));
            }
            // The school's booking link, issued by its SENCO a month ago for a term.
            let link_at = cut - Duration::days(30);
            let link_id = SpaceToTalkLinkId(self.ids.at(link_at));
            self.rows.stt_links.push(space_to_talk_link::Model {
                id: link_id,
                service_id: self.service,
                school_id: *school,
                token_digest: domain::secrets::token_digest(&space_to_talk_link_token(s, i)),
                expires_at: cut + Duration::days(120),
                revoked_at: None,
                created_by: Some(senco),
                created_at: link_at,
            });
            self.audit_by(
                link_at,
                Some(senco),
                "space_to_talk_link.issue",
                "SpaceToTalkLink",
                link_id.0,
                Some(*school),
                serde_json::json!({ "validDays": 150 }),
            );
            for (r, week) in (-6i64..=9).step_by(3).enumerate() {
                // The first weekday of the week (from the school's own) that the whole run fits.
                let start = (0..5).find_map(|d| {
                    let day: NaiveDate = monday + Duration::weeks(week) + Duration::days((i as i64 + d) % 5);
                    let first = local_to_utc(ZONE, day, hm(13, 0));
                    (0..STT_SLOTS)
                        .all(|k| {
                            let from = first + Duration::minutes(k * (SLOT_MINUTES + GAP_MINUTES));
                            self.slot_fits(ep, from, from + Duration::minutes(SLOT_MINUTES))
                        })
                        .then_some(first)
                });
                let Some(first) = start else {
                    continue;
                };
                self.run(&open_to, ep, link_id, first, i * 7 + r);
            }
        }
    }

    /// A run open to `open_to` (schools and their SENCOs; the first holds the link).
    fn run(
        &mut self,
        open_to: &[(SchoolId, PersonId)],
        ep: PersonId,
        link: SpaceToTalkLinkId,
        first: DateTime<Utc>,
        n: usize,
    ) {
        let cut = self.cut;
        let (school, senco) = open_to[0];
        let single = open_to.len() == 1;
        let published = (first - Duration::weeks(3)).min(cut - Duration::days(2));
        let run_id = SpaceToTalkRunId(self.ids.at(published));
        let mut slots = Vec::new();
        for k in 0..STT_SLOTS {
            let from = first + Duration::minutes(k * (SLOT_MINUTES + GAP_MINUTES));
            let to = from + Duration::minutes(SLOT_MINUTES);
            let booked_by_parent = k < 2;
            // A held session's EP time is delivered when its attendance is recorded.
            let then = if booked_by_parent && to + Duration::hours(2) <= cut {
                Then::Delivered { preparation: 0 }
            } else {
                Then::Nothing
            };
            let Some(booking) = self.book(
                Ask {
                    school: None,
                    ep,
                    kind: BookingKind::SpaceToTalk,
                    visit: None,
                    mode: BookingMode::Online,
                    location: None,
                    starts_at: from,
                    ends_at: to,
                    preparation: 0,
                    stream: FundingStream::Traded,
                    contract: None,
                    status: BookingStatus::Confirmed,
                    series: None,
                    created_at: published,
                },
                then,
            ) else {
                // `slot_fits` checked the whole run first.
                continue;
            };
            slots.push(space_to_talk_slot::Model {
                id: SpaceToTalkSlotId(self.ids.at(published)),
                service_id: self.service,
                run_id,
                ep_id: ep,
                starts_at: from,
                ends_at: to,
                booking_id: Some(booking),
                status: if booked_by_parent {
                    SpaceToTalkSlotStatus::Booked
                } else {
                    SpaceToTalkSlotStatus::Free
                },
                updated_at: published,
            });
        }
        let ends_at = slots.last().map_or(first, |s| s.ends_at);
        self.rows.stt_runs.push(space_to_talk_run::Model {
            id: run_id,
            service_id: self.service,
            ep_id: ep,
            school_id: single.then_some(school),
            whole_service: false,
            mode: BookingMode::Online,
            location: None,
            slot_minutes: SLOT_MINUTES as i32,
            gap_minutes: GAP_MINUTES as i32,
            starts_at: first,
            ends_at,
            draws_down: false,
            status: SpaceToTalkRunStatus::Open,
            created_by: Some(self.admin),
            created_at: published,
            updated_at: published,
        });
        for (open, _) in open_to {
            self.rows.stt_run_schools.push(space_to_talk_run_school::Model {
                id: SpaceToTalkRunSchoolId(self.ids.at(published)),
                service_id: self.service,
                run_id,
                school_id: *open,
                ep_id: ep,
            });
        }
        let admin = self.admin;
        self.audit_by(
            published,
            Some(admin),
            "space_to_talk_run.publish",
            "SpaceToTalkRun",
            run_id.0,
            single.then_some(school),
            serde_json::json!({ "epId": ep, "slots": STT_SLOTS, "slotMinutes": SLOT_MINUTES, "schools": open_to.len(), "wholeService": false, "drawsDown": false }),
        );
        if n % 3 == 1
            && let Some(slot) = slots.get(2)
        {
            self.cancelled_by_school(school, senco, ep, run_id, slot, published, n);
        }
        for (k, slot) in slots.iter().enumerate().take(2) {
            let via_link = k == 1;
            // The SENCO's booking is for the last school the run is open to (its neighbour's).
            let (school, senco) = if via_link {
                open_to[0]
            } else {
                open_to[open_to.len() - 1]
            };
            let at = published + Duration::days(1 + k as i64);
            let id = SpaceToTalkBookingId(self.ids.at(at));
            // The parent first took the fourth slot through the link, then moved to this one.
            let moved_from = (via_link && n % 3 == 2)
                .then(|| slots.get(3))
                .flatten()
                .map(|from| self.moved_by_parent(school, ep, run_id, from, link, at, id, n * 2 + k));
            let held = slot.ends_at + Duration::hours(2) <= cut;
            let status = match (held, (n + k) % 5) {
                (false, _) => SpaceToTalkStatus::Booked,
                (true, 4) => SpaceToTalkStatus::DidNotAttend,
                (true, _) => SpaceToTalkStatus::Attended,
            };
            let recorded = held.then(|| slot.ends_at + Duration::hours(1));
            let p = n * 2 + k;
            self.rows.stt_bookings.push(space_to_talk_booking::Model {
                id,
                service_id: self.service,
                school_id: school,
                ep_id: ep,
                run_id,
                slot_id: slot.id,
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
                status,
                display_name: format!("Bench Parent {p:05} (fictional)"),
                phone: (!via_link).then(|| format!("07700 900{:03}", p % 1000)),
                email: via_link.then(|| format!("parent{p:05}@bench.invalid")),
                preferred_contact: if via_link {
                    ContactMethod::Email
                } else {
                    ContactMethod::Phone
                },
                topic: Some(TOPICS[p % TOPICS.len()].to_owned()),
                booked_via: if via_link {
                    SpaceToTalkBookedVia::ParentLink
                } else {
                    SpaceToTalkBookedVia::School
                },
                link_id: via_link.then_some(link),
                manage_digest: via_link
                    .then(|| domain::secrets::token_digest(&format!("stm_bench-manage-{}", id.0.simple()))),
                safeguarding_concern: false,
                onward_referral: held && p % 7 == 3,
                notes: None,
                notes_consented: false,
                moved_from_id: moved_from,
                moved_to_id: None,
                cancelled_at: None,
                cancelled_by: None,
                cancelled_as: None,
                cancellation_reason: None,
                attendance_recorded_at: recorded,
                created_by: (!via_link).then_some(senco),
                created_at: at,
                updated_at: recorded.unwrap_or(at),
            });
            self.audit_by(
                at,
                (!via_link).then_some(senco),
                "space_to_talk_booking.create",
                "SpaceToTalkBooking",
                id.0,
                Some(school),
                serde_json::json!({
                    "slotId": slot.id,
                    "via": if via_link { "PARENT_LINK" } else { "SCHOOL" },
                    "linkId": via_link.then_some(link),
                    "movedFromId": moved_from,
                }),
            );
            if let Some(when) = recorded {
                self.audit_by(
                    when,
                    Some(ep),
                    "space_to_talk_booking.attendance",
                    "SpaceToTalkBooking",
                    id.0,
                    Some(school),
                    serde_json::json!({
                        "status": status.as_str(),
                        "safeguardingConcern": false,
                        "onwardReferral": held && p % 7 == 3,
                        "notes": false,
                    }),
                );
            }
        }
        self.rows.stt_slots.extend(slots);
    }

    /// A parent's booking in `slot` that the school cancelled a few hours after making it (the
    /// slot is free again).
    #[allow(clippy::too_many_arguments, reason = "the booking's place, as `run` has it")]
    fn cancelled_by_school(
        &mut self,
        school: SchoolId,
        senco: PersonId,
        ep: PersonId,
        run_id: SpaceToTalkRunId,
        slot: &space_to_talk_slot::Model,
        published: DateTime<Utc>,
        n: usize,
    ) {
        let at = published + Duration::days(1) + Duration::hours(1);
        let cancelled = at + Duration::hours(2);
        let id = SpaceToTalkBookingId(self.ids.at(at));
        let p = 50_000 + n;
        let mut row = parent_row(id, self.service, school, ep, run_id, slot, p, at);
        row.phone = Some(format!("07700 900{:03}", p % 1000));
        row.created_by = Some(senco);
        row.status = SpaceToTalkStatus::Cancelled;
        row.cancelled_at = Some(cancelled);
        row.cancelled_by = Some(senco);
        row.cancelled_as = Some(SpaceToTalkActor::School);
        row.cancellation_reason = Some("The parent asked the school to cancel".to_owned());
        row.updated_at = cancelled;
        self.rows.stt_bookings.push(row);
        let via = serde_json::json!({ "slotId": slot.id, "via": "SCHOOL", "linkId": null, "movedFromId": null });
        self.audit_by(
            at,
            Some(senco),
            "space_to_talk_booking.create",
            "SpaceToTalkBooking",
            id.0,
            Some(school),
            via,
        );
        self.audit_by(
            cancelled,
            Some(senco),
            "space_to_talk_booking.cancel",
            "SpaceToTalkBooking",
            id.0,
            Some(school),
            serde_json::json!({ "as": "SCHOOL", "chargedMinutes": 0 }),
        );
    }

    /// The booking a parent made through the link in `from` and moved to booking `to` at
    /// `moved` (its slot is free again; the manage link went with the new booking). Answers its id.
    #[allow(clippy::too_many_arguments, reason = "the booking's place, as `run` has it")]
    fn moved_by_parent(
        &mut self,
        school: SchoolId,
        ep: PersonId,
        run_id: SpaceToTalkRunId,
        from: &space_to_talk_slot::Model,
        link: SpaceToTalkLinkId,
        moved: DateTime<Utc>,
        to: SpaceToTalkBookingId,
        p: usize,
    ) -> SpaceToTalkBookingId {
        let at = moved - Duration::hours(12);
        let id = SpaceToTalkBookingId(self.ids.at(at));
        let mut row = parent_row(id, self.service, school, ep, run_id, from, p, at);
        row.email = Some(format!("parent{p:05}@bench.invalid"));
        row.preferred_contact = ContactMethod::Email;
        row.booked_via = SpaceToTalkBookedVia::ParentLink;
        row.link_id = Some(link);
        row.status = SpaceToTalkStatus::Moved;
        row.moved_to_id = Some(to);
        row.cancelled_at = Some(moved);
        row.cancelled_as = Some(SpaceToTalkActor::Parent);
        row.updated_at = moved;
        self.rows.stt_bookings.push(row);
        let via = serde_json::json!({ "slotId": from.id, "via": "PARENT_LINK", "linkId": link, "movedFromId": null });
        self.audit_by(
            at,
            None,
            "space_to_talk_booking.create",
            "SpaceToTalkBooking",
            id.0,
            Some(school),
            via,
        );
        id
    }
}

/// A parent's booking in `slot`, as booked, with no contact yet (the caller adds one).
#[allow(clippy::too_many_arguments, reason = "the booking's place, as `run` has it")]
fn parent_row(
    id: SpaceToTalkBookingId,
    service: ServiceId,
    school: SchoolId,
    ep: PersonId,
    run_id: SpaceToTalkRunId,
    slot: &space_to_talk_slot::Model,
    p: usize,
    at: DateTime<Utc>,
) -> space_to_talk_booking::Model {
    space_to_talk_booking::Model {
        id,
        service_id: service,
        school_id: school,
        ep_id: ep,
        run_id,
        slot_id: slot.id,
        starts_at: slot.starts_at,
        ends_at: slot.ends_at,
        status: SpaceToTalkStatus::Booked,
        display_name: format!("Bench Parent {p:05} (fictional)"),
        phone: None,
        email: None,
        preferred_contact: ContactMethod::Phone,
        topic: Some(TOPICS[p % TOPICS.len()].to_owned()),
        booked_via: SpaceToTalkBookedVia::School,
        link_id: None,
        manage_digest: None,
        safeguarding_concern: false,
        onward_referral: false,
        notes: None,
        notes_consented: false,
        moved_from_id: None,
        moved_to_id: None,
        cancelled_at: None,
        cancelled_by: None,
        cancelled_as: None,
        cancellation_reason: None,
        attendance_recorded_at: None,
        created_by: None,
        created_at: at,
        updated_at: at,
    }
}
