//! Free slots: from EPs' working patterns, less exceptions, closures, school holidays, existing
//! bookings (with their buffers) and a minimum notice; generated on the service's local clock,
//! so that a 09:00 start stays 09:00 across the clock changes.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::{DateRange, bookings, calendar, local_date, local_to_utc, service_zone, settings};
use crate::access::{Action, Caller};
use crate::door::{self, Door};
use crate::entities::{academic_year, booking, contract, school, term};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingId, PersonId, SchoolId, ServiceId};
use crate::model::{BookingKind, BookingMode, BookingStatus, ClosureKind, ContractStatus};

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

/// The first instant at or after `t` on the slot grid (whole multiples of `step` minutes).
fn align(t: DateTime<Utc>, step: i64) -> DateTime<Utc> {
    let minutes = t.timestamp().div_euclid(60);
    let rem = minutes.rem_euclid(step);
    let base = DateTime::<Utc>::from_timestamp(minutes * 60, 0).unwrap_or(t);
    if rem == 0 && base >= t {
        base
    } else {
        base + Duration::minutes(step - rem)
    }
}

/// Slots of `duration` on the grid inside `spans`, whose blocked range (the slot and `buffer`
/// either side) touches none of `blocked`.
fn slots_in(
    spans: &[Span],
    blocked: &[Span],
    duration: Duration,
    buffer: Duration,
    step: i64,
    not_before: DateTime<Utc>,
) -> Vec<Span> {
    let mut out = Vec::new();
    for (s, e) in spans {
        let mut at = align((*s).max(not_before), step);
        while at + duration <= *e {
            let end = at + duration;
            let (bf, bu) = (at - buffer, end + buffer);
            if !blocked.iter().any(|(x, y)| *x < bu && bf < *y) {
                out.push((at, end));
            }
            at += Duration::minutes(step);
        }
    }
    out
}

/// Whether the service keeps an academic calendar, and the term dates in a range.
async fn term_days(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    range: DateRange,
) -> DomainResult<Option<Vec<DateRange>>> {
    let door = Door::service(conn, service);
    if door.find::<academic_year::Entity>().count(conn).await? == 0 {
        return Ok(None);
    }
    let terms = door
        .find::<term::Entity>()
        .filter(term::Column::ParentTermId.is_null())
        .filter(term::Column::StartsOn.lte(range.ends_on))
        .filter(term::Column::EndsOn.gte(range.starts_on))
        .all(conn)
        .await?;
    Ok(Some(
        terms
            .into_iter()
            .map(|t| DateRange {
                starts_on: t.starts_on,
                ends_on: t.ends_on,
            })
            .collect(),
    ))
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
    if q.ep_id.is_some() == q.school_id.is_some() {
        p.add("epId", FieldErrorCode::Required, "give an EP or a school, not both");
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
                return Err(caller.principal.refusal(service, None));
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

    let tz = service_zone(conn, service).await?;
    let policies = settings::policies(conn, service).await?;
    let days = DateRange::new("to", local_date(tz, q.from), local_date(tz, q.to))?;
    let eps = match (eps, &school) {
        (Some(eps), _) => eps,
        (None, Some(s)) => school_eps(conn, s, days, q.from, q.to).await?,
        (None, None) => Vec::new(),
    };
    if eps.is_empty() {
        return Ok(Vec::new());
    }
    let school_ids: Vec<SchoolId> = school.iter().map(|s| s.id).collect();
    let closures = settings::closures_between(conn, service, days, Some(&school_ids)).await?;
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
    let in_term = match q.kind {
        BookingKind::Training | BookingKind::Other => None,
        _ => term_days(conn, service, days).await?,
    };
    let patterns = calendar::patterns_between(conn, service, &eps, days.starts_on, days.ends_on).await?;
    let exceptions = calendar::exceptions_between(conn, service, &eps, q.from, q.to).await?;
    let held = bookings::holding_time(
        conn,
        service,
        &eps,
        q.from - Duration::hours(12),
        q.to + Duration::hours(12),
    )
    .await?;

    let not_before = (Utc::now() + Duration::hours(i64::from(policies.minimum_notice_hours))).max(q.from);
    let duration = Duration::minutes(q.duration_minutes);
    let step = i64::from(policies.slot_step_minutes.max(5));
    let buffer = if q.mode == BookingMode::InPerson {
        Duration::minutes(i64::from(policies.travel_buffer_minutes))
    } else {
        Duration::zero()
    };

    let mut slots = Vec::new();
    for ep in eps {
        // Working time, day by day, on the local clock.
        let mut working: Vec<Span> = Vec::new();
        let mut day = days.starts_on;
        while day <= days.ends_on {
            let term_ok = in_term
                .as_ref()
                .is_none_or(|terms| terms.iter().any(|t| t.contains(day)));
            if term_ok && !closed(day) {
                for pattern in patterns.iter().filter(|p| p.row.ep_id == ep) {
                    for h in pattern.hours_on(day) {
                        let s = local_to_utc(tz, day, h.starts_at).max(q.from);
                        let e = local_to_utc(tz, day, h.ends_at).min(q.to);
                        if s < e {
                            working.push((s, e));
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
            working = subtract(working, (x.starts_at, x.ends_at));
        }
        let mine: Vec<&crate::entities::booking::Model> = held.iter().filter(|b| b.ep_id == ep).collect();
        let top_level: Vec<Span> = mine
            .iter()
            .filter(|b| b.visit_id.is_none())
            .map(|b| (b.blocked_from, b.blocked_until))
            .collect();
        for (s, e) in slots_in(&working, &top_level, duration, buffer, step, not_before) {
            slots.push(Slot {
                starts_at: s,
                ends_at: e,
                ep_id: ep,
                school_id: school.as_ref().map(|x| x.id),
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
                let inside: Vec<Span> = mine
                    .iter()
                    .filter(|b| b.visit_id == Some(visit.id))
                    .map(|b| (b.blocked_from, b.blocked_until))
                    .collect();
                let span = (visit.starts_at.max(q.from), visit.ends_at.min(q.to));
                if span.0 >= span.1 {
                    continue;
                }
                for (s, e) in slots_in(&[span], &inside, duration, Duration::zero(), step, not_before) {
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

    #[test]
    fn slots_keep_to_the_grid_and_clear_buffers() {
        let work = [(at("2026-01-05T09:07:00Z"), at("2026-01-05T11:00:00Z"))];
        let busy = [(at("2026-01-05T10:00:00Z"), at("2026-01-05T10:30:00Z"))];
        let slots = slots_in(
            &work,
            &busy,
            Duration::minutes(30),
            Duration::zero(),
            15,
            at("2026-01-01T00:00:00Z"),
        );
        let starts: Vec<String> = slots.iter().map(|(s, _)| s.format("%H:%M").to_string()).collect();
        assert_eq!(starts, vec!["09:15", "09:30", "10:30"]);
        let buffered = slots_in(
            &work,
            &busy,
            Duration::minutes(30),
            Duration::minutes(15),
            15,
            at("2026-01-01T00:00:00Z"),
        );
        let starts: Vec<String> = buffered.iter().map(|(s, _)| s.format("%H:%M").to_string()).collect();
        assert_eq!(
            starts,
            vec!["09:15"],
            "a 15-minute buffer keeps slots 15 minutes clear of the busy time"
        );
    }
}
