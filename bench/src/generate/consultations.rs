//! Consultations for the generated history, as `consultations::requests`, `consent`, `meeting`
//! and `records` would have written them: each consultation booking the visits hold is one
//! consultation (formal ones about a pupil the school holds, with consent recorded before the
//! meeting), the meetings held have a record with agreed actions (shared with the school a few
//! days on, with a review six weeks after the meeting), reviews chain to the consultation they
//! review, and this term's requests still wait for an EP.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use domain::entities::*;
use domain::ids::*;
use domain::model::*;

use super::{Gen, ZONE};

/// A consultation meeting the visits hold (a CONSULTATION booking), to become a consultation.
pub(super) struct Meeting {
    pub school: SchoolId,
    pub ep: PersonId,
    pub booking: BookingId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub booked_at: DateTime<Utc>,
    pub delivered: bool,
}

const AREAS: [&str; 5] = [
    "SEMH",
    "COGNITION_AND_LEARNING",
    "COMMUNICATION_AND_INTERACTION",
    "SEMH SENSORY_AND_PHYSICAL",
    "COGNITION_AND_LEARNING COMMUNICATION_AND_INTERACTION",
];

const YEARS: [(YearGroup, i32); 8] = [
    (YearGroup::Reception, 5),
    (YearGroup::Year2, 7),
    (YearGroup::Year4, 9),
    (YearGroup::Year6, 11),
    (YearGroup::Year7, 12),
    (YearGroup::Year9, 14),
    (YearGroup::Year10, 15),
    (YearGroup::Year3, 8),
];

const ACTIONS: [(&str, &str); 6] = [
    ("Try a visual timetable for the morning routine", "Class teacher"),
    ("Meet the family to share the plan", "SENCO"),
    (
        "Five minutes of check-in time with a trusted adult daily",
        "Teaching assistant",
    ),
    ("Pre-teach the week's key vocabulary", "Class teacher"),
    ("Send the EP a short update before the review", "SENCO"),
    ("Adjust seating and offer movement breaks", "Class teacher"),
];

/// A consultation row with the defaults a request has.
#[allow(clippy::too_many_arguments, reason = "the fields a request sets")]
fn request_row(
    g: &mut Gen<'_>,
    school: SchoolId,
    ep: Option<PersonId>,
    kind: ConsultationKind,
    pupil: Option<PupilId>,
    n: usize,
    at: DateTime<Utc>,
    status: ConsultationStatus,
) -> consultation::Model {
    let id = ConsultationId(g.ids.at(at));
    g.audit(
        at,
        "consultation.request",
        "Consultation",
        id.0,
        Some(school),
        Some(serde_json::json!({ "kind": kind.as_str() })),
        false,
    );
    consultation::Model {
        id,
        service_id: g.service,
        school_id: school,
        ep_id: ep,
        kind,
        status,
        pupil_id: pupil,
        previous_id: None,
        cycle: 1,
        areas: AREAS[n % AREAS.len()].to_owned(),
        strengths: Some("Kind to peers; enjoys practical tasks".to_owned()),
        tried: Some("Small-group work and a reward chart for a term".to_owned()),
        hoped_outcomes: Some("Settles to work more quickly and asks for help".to_owned()),
        preferred_times: n.is_multiple_of(2).then(|| "Tuesday or Thursday mornings".to_owned()),
        funding_stream: FundingStream::Traded,
        booking_id: None,
        triage_note: None,
        outcome: None,
        review_on: None,
        requested_by: Some(g.admin),
        created_at: at,
        updated_at: at,
        closed_at: None,
        content_destroyed_at: None,
    }
}

impl Gen<'_> {
    fn pupil(&mut self, school: SchoolId, n: usize, at: DateTime<Utc>) -> PupilId {
        let (year_group, age) = YEARS[n % YEARS.len()];
        let local = at.with_timezone(&ZONE).date_naive();
        let dob =
            NaiveDate::from_ymd_opt(local.year() - age, 1 + (n % 12) as u32, 1 + (n % 28) as u32).unwrap_or(local);
        let id = PupilId(self.ids.at(at));
        let initials: String = [b'A' + (n % 26) as u8, b'A' + ((n / 26 + 7) % 26) as u8]
            .iter()
            .map(|b| char::from(*b))
            .collect();
        self.rows.pupils.push(pupil::Model {
            id,
            service_id: self.service,
            school_id: school,
            initials,
            year_group,
            date_of_birth: dob,
            school_reference: Some(format!("P{:05}", n)),
            destroy_after: domain::consultations::pupils::destroy_after(RetentionRule::Age25, dob),
            created_at: at,
            created_by: Some(self.admin),
        });
        self.audit(at, "pupil.create", "Pupil", id.0, Some(school), None, false);
        id
    }

    fn consent(&mut self, c: &consultation::Model, pupil: PupilId, n: usize, at: DateTime<Utc>) {
        let given_on = at.with_timezone(&ZONE).date_naive();
        let id = ConsentId(self.ids.at(at));
        let (given_by, relationship) = match n % 7 {
            3 => (ConsentGiver::Carer, "Foster carer"),
            5 => (ConsentGiver::YoungPerson, "The young person"),
            _ => (ConsentGiver::Parent, "Mother"),
        };
        self.rows.consents.push(consent::Model {
            id,
            service_id: self.service,
            school_id: c.school_id,
            consultation_id: c.id,
            pupil_id: pupil,
            given_by,
            relationship: Some(relationship.to_owned()),
            given_on,
            method: if n.is_multiple_of(3) {
                ConsentMethod::Electronic
            } else {
                ConsentMethod::Written
            },
            covers_ep_involvement: true,
            share_with: n.is_multiple_of(4).then(|| "School nursing team".to_owned()),
            expires_on: given_on.checked_add_months(chrono::Months::new(24)).unwrap_or(given_on),
            withdrawn_on: None,
            withdrawal_reason: None,
            recorded_by: Some(self.admin),
            recorded_at: at,
        });
        self.audit(at, "consent.record", "Consent", id.0, Some(c.school_id), None, false);
    }

    /// The record of a meeting held, with its actions; shared a few days later when that has
    /// happened. Returns whether it was shared.
    fn record(&mut self, c: &mut consultation::Model, m: &Meeting, n: usize) -> bool {
        let written = m.ends_at + Duration::days(1);
        let shared_at = m.ends_at + Duration::days(3);
        let shared = shared_at <= self.cut;
        self.rows.records.push(consultation_record::Model {
            consultation_id: c.id,
            service_id: self.service,
            school_id: c.school_id,
            ep_id: Some(m.ep),
            attendees: serde_json::json!([
                { "name": "Bench SENCO", "role": "SENCO" },
                { "name": "Class teacher", "role": "Class teacher" },
                { "name": "Parent", "role": "Parent" },
            ])
            .to_string(),
            strengths: Some("Warm relationships with staff; good recall of stories".to_owned()),
            concerns: Some("Finds transitions hard; avoids written tasks".to_owned()),
            hypotheses: Some("Anxiety about getting things wrong drives the avoidance".to_owned()),
            format: if n.is_multiple_of(2) {
                RecordFormat::EpReport
            } else {
                RecordFormat::SchoolMinutes
            },
            private_notes: Some("Follow up on the reading assessment".to_owned()),
            written_by: Some(m.ep),
            updated_at: if shared { shared_at } else { written },
            shared_at: shared.then_some(shared_at),
        });
        self.audit(
            written,
            "consultation.record",
            "Consultation",
            c.id.0,
            Some(c.school_id),
            None,
            false,
        );
        let meeting_day = m.starts_at.with_timezone(&ZONE).date_naive();
        for k in 0..(2 + n % 3) {
            let (description, owner) = ACTIONS[(n + k) % ACTIONS.len()];
            let due_on = meeting_day + Duration::weeks(2 + 2 * k as i64);
            let due_at = super::local_to_utc(ZONE, due_on, super::hm(16, 0));
            let status = if due_at < self.cut && !(n + k).is_multiple_of(3) {
                ActionStatus::Done
            } else {
                ActionStatus::Open
            };
            let id = ConsultationActionId(self.ids.at(written));
            let updated = if status == ActionStatus::Done { due_at } else { written };
            self.rows.actions.push(consultation_action::Model {
                id,
                service_id: self.service,
                school_id: c.school_id,
                consultation_id: c.id,
                description: description.to_owned(),
                owner: owner.to_owned(),
                due_on,
                status,
                progress: (status == ActionStatus::Done).then(|| "Done; going well".to_owned()),
                shared,
                created_at: written,
                updated_at: updated,
            });
            self.audit(
                written,
                "consultation_action.create",
                "ConsultationAction",
                id.0,
                Some(c.school_id),
                None,
                false,
            );
        }
        c.status = ConsultationStatus::Held;
        c.updated_at = written;
        if shared {
            c.status = ConsultationStatus::RecordShared;
            c.review_on = Some(meeting_day + Duration::weeks(6));
            c.updated_at = shared_at;
            self.audit(
                shared_at,
                "consultation.share",
                "Consultation",
                c.id.0,
                Some(c.school_id),
                None,
                false,
            );
        }
        shared
    }

    /// Every consultation meeting becomes a consultation, and this term's requests wait.
    pub(super) fn consultations(&mut self, meetings: Vec<Meeting>, schools: &[SchoolId], link: &[PersonId]) {
        let mut by_school: HashMap<SchoolId, Vec<Meeting>> = HashMap::new();
        for m in meetings {
            by_school.entry(m.school).or_default().push(m);
        }
        for (i, school) in schools.iter().enumerate() {
            let mut list = by_school.remove(school).unwrap_or_default();
            list.sort_by_key(|m| m.starts_at);
            // The pupil whose last consultation this school's next one may review, and when
            // that one's meeting ended.
            let mut last_of_pupil: Option<(PupilId, usize, DateTime<Utc>)> = None;
            for (n, m) in list.iter().enumerate() {
                let seed = i * 31 + n;
                let formal = !seed.is_multiple_of(3);
                // Every other formal consultation reviews the last one held for its pupil, asked
                // for once that one's record is shared.
                let review = last_of_pupil.filter(|(_, idx, ended)| {
                    formal
                        && seed.is_multiple_of(2)
                        && self.rows.consultations[*idx].status == ConsultationStatus::RecordShared
                        && *ended + Duration::days(11) < m.starts_at
                        && *ended + Duration::days(4) < self.cut
                });
                let asked = match review {
                    Some((_, _, ended)) => ended + Duration::days(4),
                    None => m.booked_at - Duration::days(14),
                };
                let pupil = match (formal, review) {
                    (false, _) => None,
                    (true, Some((p, _, _))) => Some(p),
                    (true, None) => Some(self.pupil(*school, seed, asked)),
                };
                let kind = if formal {
                    ConsultationKind::Formal
                } else {
                    ConsultationKind::Professional
                };
                let mut c = request_row(
                    self,
                    *school,
                    Some(m.ep),
                    kind,
                    pupil,
                    seed,
                    asked,
                    ConsultationStatus::Scheduled,
                );
                if let Some((_, idx, _)) = review {
                    let prev = &mut self.rows.consultations[idx];
                    c.previous_id = Some(prev.id);
                    c.cycle = prev.cycle + 1;
                    prev.status = ConsultationStatus::Closed;
                    prev.outcome = Some(ConsultationOutcome::ContinuedInReview);
                    prev.closed_at = Some(asked);
                    prev.updated_at = asked;
                    let (pid, sid) = (prev.id, prev.school_id);
                    self.audit(
                        asked,
                        "consultation.close",
                        "Consultation",
                        pid.0,
                        Some(sid),
                        None,
                        false,
                    );
                } else if let Some(p) = pupil {
                    // Consent is recorded with the request (a review relies on the first's).
                    self.consent(&c, p, seed, asked);
                }
                let scheduled = m.booked_at.max(asked + Duration::days(1));
                c.booking_id = Some(m.booking);
                c.updated_at = scheduled;
                self.audit(
                    scheduled,
                    "consultation.schedule",
                    "Consultation",
                    c.id.0,
                    Some(*school),
                    Some(serde_json::json!({ "bookingId": m.booking })),
                    false,
                );
                if m.delivered {
                    self.audit(
                        m.ends_at + Duration::hours(2),
                        "consultation.hold",
                        "Consultation",
                        c.id.0,
                        Some(*school),
                        None,
                        false,
                    );
                    let shared = self.record(&mut c, m, seed);
                    // Some loops close once the review has come and gone.
                    if let Some(review) = c.review_on.filter(|_| shared)
                        && seed % 4 == 1
                    {
                        let closed = super::local_to_utc(ZONE, review + Duration::days(7), super::hm(12, 0));
                        if closed < self.cut {
                            c.status = ConsultationStatus::Closed;
                            c.outcome = Some(ConsultationOutcome::Resolved);
                            c.closed_at = Some(closed);
                            c.updated_at = closed;
                            self.audit(
                                closed,
                                "consultation.close",
                                "Consultation",
                                c.id.0,
                                Some(*school),
                                None,
                                false,
                            );
                        }
                    }
                }
                if let Some(p) = pupil.filter(|_| m.delivered) {
                    last_of_pupil = Some((p, self.rows.consultations.len(), m.ends_at));
                }
                self.rows.consultations.push(c);
            }
            // Requests made in the last weeks, still with the EP.
            let waiting = 1 + i % 3;
            for k in 0..waiting {
                let seed = i * 17 + k;
                let at = self.cut - Duration::days(3 + 9 * k as i64) - Duration::hours((i % 7) as i64);
                let (status, note) = match seed % 5 {
                    1 => (
                        ConsultationStatus::NeedsInformation,
                        Some("Could you say what has been tried at home?"),
                    ),
                    2 | 3 => (ConsultationStatus::Accepted, None),
                    4 if k > 0 => (
                        ConsultationStatus::Declined,
                        Some("A speech and language referral fits better"),
                    ),
                    _ => (ConsultationStatus::Requested, None),
                };
                let formal = seed.is_multiple_of(2);
                let pupil = formal.then(|| self.pupil(*school, 1000 + seed, at));
                let kind = if formal {
                    ConsultationKind::Formal
                } else {
                    ConsultationKind::Professional
                };
                let ep = (status != ConsultationStatus::Requested).then(|| link[i % link.len()]);
                let mut c = request_row(self, *school, ep, kind, pupil, seed, at, status);
                if let Some(p) = pupil {
                    self.consent(&c, p, seed, at);
                }
                if status != ConsultationStatus::Requested {
                    let triaged = at + Duration::hours(20);
                    c.triage_note = note.map(str::to_owned);
                    c.updated_at = triaged;
                    if status == ConsultationStatus::Declined {
                        c.closed_at = Some(triaged);
                    }
                    self.audit(
                        triaged,
                        "consultation.triage",
                        "Consultation",
                        c.id.0,
                        Some(*school),
                        Some(serde_json::json!({ "to": status.as_str() })),
                        false,
                    );
                }
                self.rows.consultations.push(c);
            }
        }
    }
}
