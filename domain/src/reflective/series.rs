//! A series of sessions made in one go: one a half-term (ELSA supervision meets half-termly) or
//! one a term, in the same week of each and on the same weekday and time as the first. A date on
//! a closure or in a holiday is skipped, with its reason, and the session moves on a week within
//! the same half-term (or term); so is a date the facilitator is not free. Each session is its
//! own booking of the facilitator's time, each made in a savepoint of its own, so a date that
//! cannot be booked leaves nothing behind.

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::TransactionTrait;

use super::sessions::{NewSession, schedule_in};
use super::views::SessionView;
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::reflective_session_type as session_type;
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::model::{ClosureKind, TermTimePolicy};
use crate::time::terms::Span;
use crate::time::{self, DateRange};

/// The most sessions one series makes (a year of half-terms, twice over).
pub const MAX_SESSIONS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// One in each half-term (a term without halves counts as one).
    HalfTermly,
    Termly,
}

pub struct NewSeries {
    /// The first session; the others follow it.
    pub first: NewSession,
    pub cadence: Cadence,
    /// The last day a session may fall on.
    pub until: NaiveDate,
}

/// A date of the series with no session, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub date: NaiveDate,
    pub reason: String,
}

pub struct SeriesMade {
    pub sessions: Vec<SessionView>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

/// Why a session could not be booked on a date, for the skipped list (the booking rules'
/// messages are already shaped for the caller); `None` for errors that refuse the whole series.
fn why(e: &DomainError) -> Option<String> {
    match e {
        DomainError::Invalid(problems) => Some(
            problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        DomainError::Conflict(message) => Some(message.clone()),
        _ => None,
    }
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The dates to try in each span: the first's week and weekday, then a week later each time,
/// within the span and up to `until`.
fn candidates(spans: &[Span], first: NaiveDate, until: NaiveDate) -> DomainResult<Vec<Vec<NaiveDate>>> {
    let Some(at) = spans.iter().position(|s| s.range.contains(first)) else {
        return Err(DomainError::invalid(
            "startsAt",
            FieldErrorCode::InvalidState,
            "the first session is not in term time: a series follows the terms",
        ));
    };
    let weeks = (monday_of(first) - monday_of(spans[at].range.starts_on)).num_weeks();
    let weekday = i64::from(first.weekday().num_days_from_monday());
    Ok(spans[at..]
        .iter()
        .take_while(|s| s.range.starts_on <= until)
        .take(MAX_SESSIONS)
        .map(|s| {
            let natural = monday_of(s.range.starts_on) + Duration::weeks(weeks) + Duration::days(weekday);
            (0..)
                .map(|k| natural + Duration::weeks(k))
                .take_while(|d| *d <= s.range.ends_on && *d <= until)
                .filter(|d| *d >= s.range.starts_on)
                .collect()
        })
        .collect())
}

pub async fn schedule_series(db: &Db, caller: &Caller, input: NewSeries) -> DomainResult<SeriesMade> {
    let txn = db::begin_write(db).await?;
    let ty = Door::open(&txn, caller, Action::ScheduleReflectiveSessions)
        .await?
        .get::<session_type::Entity>(input.first.type_id)
        .await
        .map_err(|e| match e {
            DomainError::NotFound => DomainError::invalid("typeId", FieldErrorCode::NotFound, "no such session type"),
            other => other,
        })?;
    let service = ty.service_id;
    let cal = time::ServiceCalendar::of(&txn, service).await?;
    let (tz, terms) = (cal.tz, cal.terms());
    let first = time::local_date(tz, input.first.starts_at);
    let clock = input.first.starts_at.with_timezone(&tz).time();
    if input.until < first || input.until > first + Duration::days(400) {
        return Err(DomainError::invalid(
            "until",
            FieldErrorCode::OutOfRange,
            "must be on or after the first session, and within 400 days of it",
        ));
    }
    if !terms.is_kept() {
        return Err(DomainError::invalid(
            "cadence",
            FieldErrorCode::InvalidState,
            "the service keeps no term dates for a series to follow",
        ));
    }
    let spans = match input.cadence {
        Cadence::HalfTermly => terms.taught(),
        Cadence::Termly => terms.terms(),
    };
    let plan = candidates(spans, first, input.until)?;
    let range = DateRange {
        starts_on: first,
        ends_on: input.until,
    };
    let closures = cal.closures_between(range, Some(&input.first.school_ids));
    let policy = cal.policies().term_time_policy;
    let mut made = SeriesMade {
        sessions: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for dates in plan {
        for date in dates {
            if let Some(c) = closures.iter().find(|c| c.starts_on <= date && date <= c.ends_on) {
                let what = match c.kind {
                    ClosureKind::BankHoliday => "a bank holiday",
                    ClosureKind::ServiceClosure => "a service closure day",
                    ClosureKind::SchoolClosure => "a day one of the schools is closed",
                };
                made.skipped.push(Skipped {
                    date,
                    reason: what.to_owned(),
                });
                continue;
            }
            if policy != TermTimePolicy::Allow
                && let Some(h) = terms.holiday(date)
            {
                made.skipped.push(Skipped {
                    date,
                    reason: h.describe(),
                });
                continue;
            }
            let mut one = input.first.clone();
            one.starts_at = time::local_to_utc(tz, date, clock);
            let point = txn.begin().await?;
            match schedule_in(&point, caller, one).await {
                Ok(s) => {
                    point.commit().await?;
                    made.warnings.extend(s.warnings);
                    made.sessions.push(s.session);
                    break;
                }
                Err(e) => {
                    point.rollback().await?;
                    match why(&e) {
                        Some(reason) => made.skipped.push(Skipped { date, reason }),
                        None => return Err(e),
                    }
                }
            }
        }
    }
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_series.schedule", "ReflectiveSessionType", ty.id)
            .in_service(service)
            .detail(serde_json::json!({
                "sessions": made.sessions.len(),
                "skipped": made.skipped.len(),
                "cadence": format!("{:?}", input.cadence),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, a: NaiveDate, b: NaiveDate) -> Span {
        Span {
            name: name.to_owned(),
            range: DateRange {
                starts_on: a,
                ends_on: b,
            },
        }
    }

    #[test]
    fn each_half_term_gets_the_first_sessions_week_and_weekday() {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let spans = [
            span("Spring 1", d(1, 4), d(2, 12)),
            span("Spring 2", d(2, 22), d(3, 26)),
            span("Summer 1", d(4, 12), d(5, 21)),
        ];
        // Wednesday of the second week.
        let plan = candidates(&spans, d(1, 13), d(5, 1)).unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0][0], d(1, 13));
        assert_eq!(plan[1][0], d(3, 3));
        assert_eq!(plan[2][0], d(4, 21));
        assert!(plan[2].iter().all(|x| *x <= d(5, 1)));
        assert!(candidates(&spans, d(2, 15), d(5, 1)).is_err(), "half-term is no start");
    }
}
