//! Free slots: from EPs' working patterns, less exceptions, closures, school holidays, existing
//! bookings (with their buffers) and a minimum notice; generated on the service's local clock,
//! so that a 09:00 start stays 09:00 across the clock changes.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};

use super::terms::TermCalendar;
use super::{DateRange, ServiceCalendar, bookings, calendar, local_date, local_to_utc};
use crate::access::{Action, Caller};
use crate::door::{self, Door};
use crate::entities::{booking, contract, school};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingId, PersonId, SchoolId, ServiceId};
use crate::model::{BookingKind, BookingMode, BookingStatus, ClosureKind, ContractStatus, TermTimePolicy};

/// The longest range one availability search covers.
pub const MAX_RANGE_DAYS: i64 = 62;

pub struct Search {
    pub ep_id: Option<PersonId>,
    pub school_id: Option<SchoolId>,
    /// Needed only when searching by EP and the caller is in several services.
    pub service_id: Option<ServiceId>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub duration_minutes: i64,
    pub kind: BookingKind,
    pub mode: BookingMode,
}

/// A free slot: an EP, a time, and the visit it would sit in (if it is inside one).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ep_id: PersonId,
    pub school_id: Option<SchoolId>,
    pub visit_id: Option<BookingId>,
}

type Span = (DateTime<Utc>, DateTime<Utc>);

/// `spans` without `cut`.
fn subtract(spans: Vec<Span>, cut: Span) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len() + 1);
    for (s, e) in spans {
        if cut.1 <= s || e <= cut.0 {
            out.push((s, e));
            continue;
        }
        if s < cut.0 {
            out.push((s, cut.0));
        }
        if cut.1 < e {
            out.push((cut.1, e));
        }
    }
    out
}

/// A stretch of working time, with the instant its slot grid starts from (the local start of the
/// working period it belongs to), so that a 09:00 start gives 09:00, 11:00... whatever the zone
/// and season.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    origin: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// `stretches` without `cut`.
fn cut_out(stretches: Vec<Stretch>, cut: Span) -> Vec<Stretch> {
    let mut out = Vec::with_capacity(stretches.len() + 1);
    for st in stretches {
        for (from, to) in subtract(vec![(st.from, st.to)], cut) {
            out.push(Stretch {
                origin: st.origin,
                from,
                to,
            });
        }
    }
    out
}

/// A booking a slot must keep clear of: its span, and whether the EP travels to or from it.
#[derive(Clone, Copy, Debug)]
struct Busy {
    span: Span,
    /// An in-person booking at another place than the slot's.
    elsewhere: bool,
}

/// Slots of `duration` on each stretch's grid (every `step` minutes from its origin), from
/// `not_before`, that overlap no busy time and lie at least `buffer` from busy time elsewhere.
fn slots_in(
    stretches: &[Stretch],
    busy: &[Busy],
    duration: Duration,
    buffer: Duration,
    step: i64,
    not_before: DateTime<Utc>,
) -> Vec<Span> {
    let step = Duration::minutes(step.max(1));
    let mut out = Vec::new();
    for st in stretches {
        let earliest = st.from.max(not_before);
        // The first grid point at or after the earliest start.
        let behind = (earliest - st.origin).num_minutes().max(0);
        let steps = (behind + step.num_minutes() - 1) / step.num_minutes();
        let mut at = st.origin + Duration::minutes(steps * step.num_minutes());
        while at + duration <= st.to {
            let end = at + duration;
            let clear = busy.iter().all(|b| {
                let gap = if b.elsewhere { buffer } else { Duration::zero() };
                !(b.span.0 < end + gap && at - gap < b.span.1)
            });
            if at >= earliest && clear {
                out.push((at, end));
            }
            at += step;
        }
    }
    out
}

/// EPs who work with a school in a range: link EPs of its live contracts, and EPs with visits
/// there.
async fn school_eps(
    conn: &impl ConnectionTrait,
    school: &school::Model,
    range: DateRange,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<PersonId>> {
    let door = Door::service(conn, school.service_id);
    let linked: Vec<Option<PersonId>> = door
        .find::<contract::Entity>()
        .select_only()
        .column(contract::Column::LinkEpId)
        .filter(contract::Column::SchoolId.eq(school.id))
        .filter(contract::Column::Status.eq(ContractStatus::Active))
        .filter(contract::Column::StartsOn.lte(range.ends_on))
        .filter(contract::Column::EndsOn.gte(range.starts_on))
        .into_tuple()
        .all(conn)
        .await?;
    let visiting: Vec<PersonId> = door
        .find::<booking::Entity>()
        .select_only()
        .column(booking::Column::EpId)
        .filter(booking::Column::SchoolId.eq(school.id))
        .filter(booking::Column::Kind.eq(BookingKind::Visit))
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .filter(booking::Column::StartsAt.lt(to))
        .filter(booking::Column::EndsAt.gt(from))
        .into_tuple()
        .all(conn)
        .await?;
    let all: BTreeSet<PersonId> = linked.into_iter().flatten().chain(visiting).collect();
    Ok(all.into_iter().collect())
}

/// Free slots for an EP, or for a school (its EPs), within a range.
pub async fn search(conn: &impl ConnectionTrait, caller: &Caller, q: Search) -> DomainResult<Vec<Slot>> {
    super::plausible("from", q.from)?;
    super::plausible("to", q.to)?;
    let mut p = Problems::new();
    match (q.ep_id, q.school_id) {
        (Some(_), Some(_)) => p.add(
            "schoolId",
            FieldErrorCode::Invalid,
            "give an EP or a school, not both: a school's free slots are those of the EPs who work with it",
        ),
        (None, None) => p.add(
            "epId",
            FieldErrorCode::Required,
            "give an EP (their free slots) or a school (the free slots of the EPs who work with it)",
        ),
        _ => {}
    }
    if q.to <= q.from {
        p.add("to", FieldErrorCode::OutOfRange, "must be after from");
    } else if (q.to - q.from).num_days() > MAX_RANGE_DAYS {
        p.add(
            "to",
            FieldErrorCode::OutOfRange,
            format!("a search covers at most {MAX_RANGE_DAYS} days"),
        );
    }
    if !(bookings::MIN_BOOKING_MINUTES..=bookings::MAX_BOOKING_MINUTES).contains(&q.duration_minutes) {
        p.add(
            "durationMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 5 and 720 minutes",
        );
    }
    p.finish()?;
    let access = caller.principal.static_access(Action::ViewAvailability);

    let (service, school, eps) = match (q.school_id, q.ep_id) {
        (Some(school_id), _) => {
            let s = door::for_reading::<school::Entity, _>(
                conn,
                caller,
                school_id,
                door::Sight::Any,
                Action::ViewAvailability,
            )
            .await?;
            (s.service_id, Some(s), None)
        }
        (None, Some(ep)) => {
            let service = match q.service_id {
                Some(s) => s,
                None => {
                    let mine = access.all_services();
                    match (mine.len(), mine.iter().next()) {
                        (1, Some(s)) => *s,
                        _ => {
                            return Err(DomainError::invalid(
                                "serviceId",
                                FieldErrorCode::Required,
                                "say which service",
                            ));
                        }
                    }
                }
            };
            if !access.permits(service, None, Some(ep)) {
                return Err(caller.principal.refusal(Action::ViewAvailability, service, None));
            }
            if !super::is_ep(conn, service, ep).await? {
                return Err(DomainError::NotFound);
            }
            (service, None, Some(vec![ep]))
        }
        (None, None) => {
            return Err(DomainError::invalid(
                "epId",
                FieldErrorCode::Required,
                "give an EP or a school",
            ));
        }
    };

    let cal = ServiceCalendar::of(conn, service).await?;
    let (tz, policies) = (cal.tz, cal.policies());
    let days = DateRange::new("to", local_date(tz, q.from), local_date(tz, q.to))?;
    let eps = match (eps, &school) {
        (Some(eps), _) => eps,
        (None, Some(s)) => school_eps(conn, s, days, q.from, q.to).await?,
        (None, None) => Vec::new(),
    };
    if eps.is_empty() {
        return Ok(Vec::new());
    }
    let school_id = school.as_ref().map(|s| s.id);
    let school_ids: Vec<SchoolId> = school_id.into_iter().collect();
    let closures = cal.closures_between(days, Some(&school_ids));
    let closed = |d: NaiveDate| {
        closures.iter().any(|c| {
            DateRange {
                starts_on: c.starts_on,
                ends_on: c.ends_on,
            }
            .contains(d)
                && (c.kind != ClosureKind::SchoolClosure || school.is_some())
        })
    };
    // School work keeps to term time (half-terms are holidays), as booking does.
    let school_work = q.kind.is_school_work() || school.is_some();
    let every_day = TermCalendar::default();
    let terms = if school_work && policies.term_time_policy != TermTimePolicy::Allow {
        cal.terms()
    } else {
        &every_day
    };
    let patterns = cal.patterns_between(&eps, days.starts_on, days.ends_on);
    let exceptions = calendar::exceptions_between(conn, service, &eps, q.from, q.to).await?;
    let buffer = if q.mode == BookingMode::InPerson {
        Duration::minutes(i64::from(policies.travel_buffer_minutes))
    } else {
        Duration::zero()
    };
    let held = bookings::holding_time(
        conn,
        service,
        &eps,
        q.from - Duration::hours(12) - buffer,
        q.to + Duration::hours(12) + buffer,
    )
    .await?;

    let not_before = (Utc::now() + Duration::hours(i64::from(policies.minimum_notice_hours))).max(q.from);
    let duration = Duration::minutes(q.duration_minutes);
    let step = i64::from(policies.slot_step_minutes.max(5));

    let mut slots = Vec::new();
    for ep in eps {
        // Working time, day by day, on the local clock.
        let mut working: Vec<Stretch> = Vec::new();
        let mut day = days.starts_on;
        while day <= days.ends_on {
            if terms.is_term_time(day) && !closed(day) {
                for pattern in patterns.iter().filter(|p| p.row.ep_id == ep) {
                    for h in pattern.hours_on(day) {
                        let origin = local_to_utc(tz, day, h.starts_at);
                        let from = origin.max(q.from);
                        let to = local_to_utc(tz, day, h.ends_at).min(q.to);
                        if from < to {
                            working.push(Stretch { origin, from, to });
                        }
                    }
                }
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        for x in exceptions.iter().filter(|x| x.ep_id == ep) {
            working = cut_out(working, (x.starts_at, x.ends_at));
        }
        let mine: Vec<&crate::entities::booking::Model> = held.iter().filter(|b| b.ep_id == ep).collect();
        let top_level: Vec<Busy> = mine
            .iter()
            .filter(|b| b.visit_id.is_none())
            .map(|b| Busy {
                span: (b.blocked_from, b.blocked_until),
                // Searching by EP the slot's place is not known: every in-person booking needs
                // travel to or from it.
                elsewhere: b.mode == BookingMode::InPerson
                    && (school_id.is_none() || bookings::different_places(b.school_id, school_id)),
            })
            .collect();
        for (s, e) in slots_in(&working, &top_level, duration, buffer, step, not_before) {
            slots.push(Slot {
                starts_at: s,
                ends_at: e,
                ep_id: ep,
                school_id,
                visit_id: None,
            });
        }
        // Time inside the EP's open visits (at this school, when searching by school).
        if q.kind != BookingKind::Visit {
            for visit in mine.iter().filter(|b| {
                b.kind == BookingKind::Visit
                    && b.status.is_open()
                    && school.as_ref().is_none_or(|s| b.school_id == Some(s.id))
            }) {
                let inside: Vec<Busy> = mine
                    .iter()
                    .filter(|b| b.visit_id == Some(visit.id))
                    .map(|b| Busy {
                        span: (b.blocked_from, b.blocked_until),
                        elsewhere: false,
                    })
                    .collect();
                let stretch = Stretch {
                    origin: visit.starts_at,
                    from: visit.starts_at.max(q.from),
                    to: visit.ends_at.min(q.to),
                };
                if stretch.from >= stretch.to {
                    continue;
                }
                for (s, e) in slots_in(&[stretch], &inside, duration, Duration::zero(), step, not_before) {
                    slots.push(Slot {
                        starts_at: s,
                        ends_at: e,
                        ep_id: ep,
                        school_id: visit.school_id,
                        visit_id: Some(visit.id),
                    });
                }
            }
        }
    }
    slots.sort();
    Ok(slots)
}

/// The name of the list of free slots in its cursors (a cursor of another list is refused).
pub const LIST: &str = "available_slots";

/// Where a slot lies in the list of free slots: its start and its EP. A cursor is a position in
/// time, so it stays valid whatever was booked since.
pub fn position(slot: &Slot) -> crate::page::Position {
    crate::page::Position {
        key: Some(slot.starts_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        id: slot.ep_id.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn subtracting_splits_and_trims() {
        let day = vec![(at("2026-01-05T09:00:00Z"), at("2026-01-05T17:00:00Z"))];
        let lunch = (at("2026-01-05T12:00:00Z"), at("2026-01-05T13:00:00Z"));
        assert_eq!(
            subtract(day.clone(), lunch),
            vec![
                (at("2026-01-05T09:00:00Z"), at("2026-01-05T12:00:00Z")),
                (at("2026-01-05T13:00:00Z"), at("2026-01-05T17:00:00Z"))
            ]
        );
        let all_day = (at("2026-01-05T00:00:00Z"), at("2026-01-06T00:00:00Z"));
        assert!(subtract(day, all_day).is_empty());
    }

    fn stretch(from: &str, to: &str) -> Stretch {
        Stretch {
            origin: at(from),
            from: at(from),
            to: at(to),
        }
    }

    fn starts(slots: &[Span]) -> Vec<String> {
        slots.iter().map(|(s, _)| s.format("%H:%M").to_string()).collect()
    }

    #[test]
    fn slots_step_from_the_start_of_the_working_period() {
        // Working 09:07 to 11:00: the grid starts at 09:07, not on the quarter hour of UTC.
        let work = [stretch("2026-01-05T09:07:00Z", "2026-01-05T11:00:00Z")];
        let slots = slots_in(
            &work,
            &[],
            Duration::minutes(30),
            Duration::zero(),
            15,
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(
            starts(&slots),
            vec!["09:07", "09:22", "09:37", "09:52", "10:07", "10:22"]
        );
        // Cut by leave until 09:40, the grid still steps from 09:07.
        let cut = cut_out(work.to_vec(), (at("2026-01-05T08:00:00Z"), at("2026-01-05T09:40:00Z")));
        let slots = slots_in(
            &cut,
            &[],
            Duration::minutes(30),
            Duration::zero(),
            15,
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(starts(&slots), vec!["09:52", "10:07", "10:22"]);
    }

    #[test]
    fn one_travel_buffer_lies_between_places_and_none_at_the_same_place() {
        let work = [stretch("2026-01-05T09:00:00Z", "2026-01-05T14:00:00Z")];
        let booked = (at("2026-01-05T11:00:00Z"), at("2026-01-05T12:00:00Z"));
        let elsewhere = [Busy {
            span: booked,
            elsewhere: true,
        }];
        let here = [Busy {
            span: booked,
            elsewhere: false,
        }];
        let after = |busy: &[Busy]| {
            let slots = slots_in(
                &work,
                busy,
                Duration::minutes(60),
                Duration::minutes(15),
                15,
                at("2026-01-01T00:00:00Z"),
            );
            starts(&slots)
                .into_iter()
                .find(|s| s.as_str() >= "12:00")
                .unwrap_or_default()
        };
        assert_eq!(
            after(&elsewhere),
            "12:15",
            "one buffer after a booking at another school"
        );
        assert_eq!(after(&here), "12:00", "no buffer at the same school");
    }
}
