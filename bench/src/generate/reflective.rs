//! Reflective-team sessions for the generated history, as `reflective::sessions`, `places` and
//! `feedback` would have written them: the service's four usual session types; for each cluster
//! of four neighbouring schools a reflecting team in the first half of each term and, for every
//! third cluster, ELSA supervision in the second; each session one booking of its facilitator's
//! time (at no school, the cluster's shares charged at the hold, split evenly); places taken by
//! the schools' staff and SENCOs up to the capacity and a waiting list after it; the sessions
//! held with attendance, roles, the presenter's next step and anonymous feedback.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use domain::entities::*;
use domain::ids::*;
use domain::model::*;

use super::{Ask, Gen, Then, ZONE, hm, local_to_utc, monday_of};

/// A school taking part: its id, its traded contract this year, and the people who may take
/// places (its staff and its SENCO).
#[derive(Clone)]
pub(super) struct Member {
    pub school: SchoolId,
    pub contract: ContractId,
    pub people: Vec<PersonId>,
}

impl Gen<'_> {
    /// The usual four session types (`types::ensure_defaults`), made when the service was.
    pub(super) fn session_types(&mut self, at: DateTime<Utc>) -> Vec<reflective_session_type::Model> {
        let mut out = Vec::new();
        for (i, (name, format, minutes, capacity, phases)) in domain::reflective::types::DEFAULTS.iter().enumerate() {
            let phases: Vec<_> = phases
                .iter()
                .map(|(n, m)| serde_json::json!({ "name": n, "minutes": m }))
                .collect();
            let row = reflective_session_type::Model {
                id: ReflectiveSessionTypeId(self.ids.at(at)),
                service_id: self.service,
                name: (*name).to_owned(),
                format: *format,
                default_minutes: *minutes,
                default_capacity: *capacity,
                phases: serde_json::Value::Array(phases).to_string(),
                created_at: at + Duration::milliseconds(i as i64),
            };
            out.push(row.clone());
            self.rows.session_types.push(row);
        }
        let sid = self.service;
        self.audit(
            at,
            "reflective_type.defaults",
            "Service",
            sid.0,
            None,
            Some(serde_json::json!({ "types": out.len() })),
            false,
        );
        out
    }

    /// One half-term's sessions for each cluster.
    #[allow(clippy::too_many_arguments, reason = "the half-term, its clusters and who runs them")]
    pub(super) fn reflective_half(
        &mut self,
        half: (NaiveDate, NaiveDate),
        second_half: bool,
        clusters: &[Vec<Member>],
        facilitators: &[PersonId],
        types: &[reflective_session_type::Model],
        made: DateTime<Utc>,
        n: &mut usize,
    ) {
        for (c, members) in clusters.iter().enumerate() {
            let ty = if !second_half {
                &types[0]
            } else if c.is_multiple_of(3) {
                &types[2]
            } else {
                continue;
            };
            *n += 1;
            let ep = facilitators[c % facilitators.len()];
            let minutes = i64::from(ty.default_minutes);
            let in_person = !second_half;
            // The third week of the half, on the cluster's weekday; the next day if that is taken.
            let mut placed = None;
            for shift in 0..5 {
                let day = monday_of(half.0) + Duration::weeks(2) + Duration::days(((c + shift) % 5) as i64);
                if day > half.1 {
                    continue;
                }
                let ends_at = local_to_utc(ZONE, day, hm(17, 0));
                let starts_at = ends_at - Duration::minutes(minutes);
                let cancelled = *n % 17 == 3 && starts_at < self.cut;
                let held = !cancelled && ends_at + Duration::hours(2) <= self.cut;
                let then = if cancelled {
                    Then::Cancelled {
                        at: starts_at - Duration::days(6),
                        reason: "Too few could come this time",
                    }
                } else if held {
                    Then::Delivered { preparation: 0 }
                } else {
                    Then::Nothing
                };
                let booked = self.book(
                    Ask {
                        school: None,
                        ep,
                        kind: BookingKind::ReflectiveSession,
                        visit: None,
                        mode: if in_person {
                            BookingMode::InPerson
                        } else {
                            BookingMode::Online
                        },
                        location: in_person.then_some("Staff room"),
                        starts_at,
                        ends_at,
                        preparation: 0,
                        stream: FundingStream::Traded,
                        contract: None,
                        status: BookingStatus::Confirmed,
                        series: None,
                        created_at: made,
                    },
                    then,
                );
                if let Some(b) = booked {
                    placed = Some((b, starts_at, ends_at, cancelled, held));
                    break;
                }
            }
            let Some((booking, starts_at, ends_at, cancelled, held)) = placed else {
                continue;
            };
            self.session(
                ty, members, ep, booking, starts_at, ends_at, in_person, cancelled, held, made, *n,
            );
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "a session's facts, as scheduled and as it went"
    )]
    fn session(
        &mut self,
        ty: &reflective_session_type::Model,
        members: &[Member],
        ep: PersonId,
        booking: BookingId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        in_person: bool,
        cancelled: bool,
        held: bool,
        made: DateTime<Utc>,
        n: usize,
    ) {
        let id = ReflectiveSessionId(self.ids.at(made));
        let status = if cancelled {
            ReflectiveStatus::Cancelled
        } else if held {
            ReflectiveStatus::Held
        } else {
            ReflectiveStatus::Scheduled
        };
        let updated = if cancelled {
            starts_at - Duration::days(6)
        } else if held {
            ends_at + Duration::hours(2)
        } else {
            made
        };
        let schools: Vec<SchoolId> = members.iter().map(|m| m.school).collect();
        self.rows.sessions.push(reflective_session::Model {
            id,
            service_id: self.service,
            type_id: ty.id,
            school_id: None,
            facilitator_id: ep,
            co_facilitator_id: None,
            starts_at,
            ends_at,
            mode: if in_person {
                BookingMode::InPerson
            } else {
                BookingMode::Online
            },
            location: in_person.then(|| "Staff room".to_owned()),
            capacity: ty.default_capacity,
            charging: ReflectiveCharging::SplitEvenly,
            charged_school_id: None,
            booking_id: Some(booking),
            status,
            created_by: Some(self.admin),
            created_at: made,
            updated_at: updated,
        });
        for s in &schools {
            let row = ReflectiveSessionSchoolId(self.ids.at(made));
            self.rows.session_schools.push(reflective_session_school::Model {
                id: row,
                service_id: self.service,
                session_id: id,
                school_id: *s,
                facilitator_id: ep,
            });
        }
        self.audit(
            made,
            "reflective_session.schedule",
            "ReflectiveSession",
            id.0,
            None,
            Some(serde_json::json!({
                "bookingId": booking,
                "schools": schools.len(),
                "capacity": ty.default_capacity,
                "charging": "SPLIT_EVENLY",
            })),
            false,
        );

        // Places, taken in turn across the schools over the weeks before the session.
        let wanted = if held || cancelled { 6 + n % 5 } else { n % 12 };
        let pool: Vec<(SchoolId, PersonId)> = (0..)
            .map_while(|k: usize| {
                let m = &members[k % members.len()];
                let p = m.people.get(k / members.len())?;
                Some((m.school, *p))
            })
            .take(members.iter().map(|m| m.people.len()).sum())
            .collect();
        let opened = (starts_at - Duration::weeks(5)).max(made);
        let mut registered = 0;
        let mut waiting = 0;
        let mut attended_schools = Vec::new();
        for (k, (school, person)) in pool.into_iter().take(wanted).enumerate() {
            let at = (opened + Duration::hours(7 * k as i64 + (n % 5) as i64)).min(starts_at - Duration::hours(1));
            let rid = ReflectiveRegistrationId(self.ids.at(at));
            let (place, position) = if registered < ty.default_capacity {
                registered += 1;
                (PlaceStatus::Registered, None)
            } else {
                waiting += 1;
                (PlaceStatus::Waiting, Some(waiting))
            };
            let came = held && place == PlaceStatus::Registered && (k + n) % 6 != 5;
            let role = match (held, place, k) {
                (_, PlaceStatus::Registered, 0) => Some(ReflectiveRole::Presenter),
                (_, PlaceStatus::Registered, 1) => Some(ReflectiveRole::Timekeeper),
                (true, PlaceStatus::Registered, _) => Some(ReflectiveRole::Reflector),
                _ => None,
            };
            let feedback = came && (k + n) % 3 != 2;
            self.rows.registrations.push(reflective_registration::Model {
                id: rid,
                service_id: self.service,
                school_id: school,
                session_id: id,
                person_id: person,
                facilitator_id: ep,
                status: place,
                waiting_position: position,
                role,
                attended: (held && place == PlaceStatus::Registered).then_some(came),
                next_step: (came && role == Some(ReflectiveRole::Presenter))
                    .then(|| "Try a two-minute check-in at the door each morning".to_owned()),
                feedback_given: feedback,
                registered_by: Some(person),
                created_at: at,
                updated_at: if held { ends_at + Duration::hours(2) } else { at },
            });
            self.audit(
                at,
                "reflective_place.register",
                "ReflectiveRegistration",
                rid.0,
                Some(school),
                Some(serde_json::json!({ "sessionId": id, "status": place.as_str() })),
                false,
            );
            if came {
                attended_schools.push(school);
            }
            if feedback {
                let given = ends_at + Duration::hours(20);
                let fid = ReflectiveFeedbackId(self.ids.at(given));
                self.rows.feedback.push(reflective_feedback::Model {
                    id: fid,
                    service_id: self.service,
                    session_id: id,
                    type_id: ty.id,
                    facilitator_id: ep,
                    rating: 3 + ((k + n) % 3) as i32,
                    comment: k
                        .is_multiple_of(2)
                        .then(|| "Helpful to hear how others see it".to_owned()),
                    given_on: given.with_timezone(&ZONE).date_naive(),
                });
            }
        }
        if !held {
            return;
        }
        // The facilitator's time, charged to the cluster's schools in even shares.
        let at = ends_at + Duration::hours(2);
        let minutes = (ends_at - starts_at).num_minutes();
        let day = starts_at.with_timezone(&ZONE).date_naive();
        let shares = domain::reflective::sessions::shares(
            ReflectiveCharging::SplitEvenly,
            &schools,
            None,
            &attended_schools,
            minutes,
        );
        for (school, share) in &shares {
            let contract = members.iter().find(|m| m.school == *school).map(|m| m.contract);
            let lid = LedgerEntryId(self.ids.at(at));
            self.rows.ledger.push(ledger_entry::Model {
                id: lid,
                service_id: self.service,
                school_id: Some(*school),
                ep_id: Some(ep),
                contract_id: contract,
                booking_id: Some(booking),
                kind: LedgerKind::Delivered,
                funding_stream: FundingStream::Traded,
                category: TimeCategory::Direct,
                minutes: *share as i32,
                applies_on: day,
                reason: Some("Share of a reflective session".to_owned()),
                created_at: at,
                created_by: Some(self.admin),
                created_by_partner: None,
                corrects_entry_id: None,
            });
        }
        self.audit(
            at,
            "reflective_session.hold",
            "ReflectiveSession",
            id.0,
            None,
            Some(serde_json::json!({
                "attended": attended_schools.len(),
                "directMinutes": minutes,
                "shares": shares.iter().map(|(s, m)| serde_json::json!({ "schoolId": s, "minutes": m })).collect::<Vec<_>>(),
            })),
            false,
        );
    }
}
