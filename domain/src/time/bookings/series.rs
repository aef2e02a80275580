//! Series of visits: a weekly or fortnightly visit on one weekday, for a term or a range of
//! dates, made in one call. Each visit is its own booking through the same rules; holidays,
//! closures and bank holidays are skipped, and so is any date the EP is not free, each with its
//! reason. The rest of a series can be moved to other hours, or cancelled, in one call.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::cancel::{Cancelled, cancel_in};
use super::for_change;
use super::place::{Booked, NewBooking, create_in};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{booking, booking_series, school};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingSeriesId, PersonId, SchoolId, TermId};
use crate::model::{BookingKind, BookingMode, BookingStatus, CancelledFor, ClosureKind, FundingStream};
use crate::time::{DateRange, Day, ServiceCalendar, local_to_utc, service_zone};
use crate::values;

/// The most visits one series makes (a year of weekly visits).
pub const MAX_VISITS: usize = 53;

pub struct NewSeries {
    pub school_id: SchoolId,
    pub ep_id: PersonId,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: u32,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
    /// 1: weekly; 2: fortnightly.
    pub every_weeks: u32,
    /// A term (its dates), or dates.
    pub term_id: Option<TermId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub mode: BookingMode,
    pub location: Option<String>,
    pub preparation_minutes: i32,
    pub funding_stream: Option<FundingStream>,
}

/// A date of a series that was not booked, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub date: NaiveDate,
    pub reason: String,
}

pub struct SeriesMade {
    pub series: booking_series::Model,
    pub booked: Vec<Booked>,
    pub skipped: Vec<Skipped>,
}

/// Why a booking attempt failed, as words for the skipped list (no personal data: the messages
/// of the booking rules are already shaped for the caller).
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

/// Makes a series of visits. Dates that cannot be booked are reported, not fatal; anything
/// else (the caller may not book this EP at this school at all) refuses the whole series.
pub async fn create(db: &Db, caller: &Caller, input: NewSeries) -> DomainResult<SeriesMade> {
    let mut p = Problems::new();
    if !(1..=7).contains(&input.weekday) {
        p.add(
            "weekday",
            FieldErrorCode::OutOfRange,
            "must be 1 (Monday) to 7 (Sunday)",
        );
    }
    if !(1..=4).contains(&input.every_weeks) {
        p.add("everyWeeks", FieldErrorCode::OutOfRange, "must be 1 (weekly) to 4");
    }
    if input.ends_at <= input.starts_at {
        p.add("endsAt", FieldErrorCode::OutOfRange, "must be after the start");
    }
    let location = p
        .check(values::optional_text("location", input.location.as_deref(), 200))
        .flatten();
    p.finish()?;
    let txn = db::begin_write(db).await?;
    // Who may book this EP at this school is each visit's rule; the series itself is the
    // caller's to make only where they book (its row goes through the booking door).
    let school = Door::seen(&txn, caller).get::<school::Entity>(input.school_id).await?;
    let service = school.service_id;
    let range = match (input.term_id, input.from, input.to) {
        (Some(term), None, None) => {
            let t = Door::service(&txn, service)
                .get::<crate::entities::term::Entity>(term)
                .await
                .map_err(|_| DomainError::invalid("termId", FieldErrorCode::NotFound, "no such term"))?;
            DateRange {
                starts_on: t.starts_on,
                ends_on: t.ends_on,
            }
        }
        (None, Some(from), Some(to)) => {
            crate::parse_all!(from = Day::parse("from", from), to = Day::parse("to", to));
            DateRange::new("to", from.get(), to.get())?
        }
        _ => {
            return Err(DomainError::invalid(
                "termId",
                FieldErrorCode::Required,
                "give a term, or from and to dates",
            ));
        }
    };
    let dates = dates_of(range, input.weekday, input.every_weeks);
    if dates.len() > MAX_VISITS {
        return Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            format!("a series makes at most {MAX_VISITS} visits"),
        ));
    }
    let cal = ServiceCalendar::of(&txn, service).await?;
    let (tz, policies, terms) = (cal.tz, cal.policies(), cal.terms());
    let closures = cal.closures_between(range, Some(&[school.id]));
    let series = Door::open(&txn, caller, Action::ManageBookings)
        .await?
        .insert(booking_series::ActiveModel {
            id: Set(BookingSeriesId::new()),
            service_id: Set(service),
            school_id: Set(school.id),
            ep_id: Set(input.ep_id),
            kind: Set(BookingKind::Visit),
            mode: Set(input.mode),
            location: Set(location.clone()),
            weekday: Set(input.weekday as i32),
            starts_at: Set(input.starts_at),
            ends_at: Set(input.ends_at),
            every_weeks: Set(input.every_weeks as i32),
            starts_on: Set(range.starts_on),
            ends_on: Set(range.ends_on),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
        })
        .await?;
    let mut booked = Vec::new();
    let mut skipped = Vec::new();
    for date in dates {
        if let Some(c) = closures.iter().find(|c| c.starts_on <= date && date <= c.ends_on) {
            let what = match c.kind {
                ClosureKind::BankHoliday => "a bank holiday",
                ClosureKind::ServiceClosure => "a service closure day",
                ClosureKind::SchoolClosure => "a day the school is closed",
            };
            skipped.push(Skipped {
                date,
                reason: what.to_owned(),
            });
            continue;
        }
        if policies.term_time_policy != crate::model::TermTimePolicy::Allow
            && let Some(h) = terms.holiday(date)
        {
            skipped.push(Skipped {
                date,
                reason: h.describe(),
            });
            continue;
        }
        let request = NewBooking {
            service_id: Some(service),
            school_id: Some(school.id),
            ep_id: input.ep_id,
            kind: BookingKind::Visit,
            visit_id: None,
            mode: input.mode,
            location: location.clone(),
            starts_at: local_to_utc(tz, date, input.starts_at),
            ends_at: local_to_utc(tz, date, input.ends_at),
            preparation_minutes: input.preparation_minutes,
            funding_stream: input.funding_stream,
            status: BookingStatus::Confirmed,
            overbooking_reason: None,
            short_notice_reason: None,
        };
        // Each date in a savepoint of its own: a date that cannot be booked leaves nothing behind.
        let point = txn.begin().await?;
        match create_in(&point, caller, request, Some(series.id)).await {
            Ok(b) => {
                point.commit().await?;
                booked.push(b);
            }
            Err(e) => {
                point.rollback().await?;
                match why(&e) {
                    Some(reason) => skipped.push(Skipped { date, reason }),
                    None => return Err(e),
                }
            }
        }
    }
    audit::log(
        &txn,
        caller,
        Entry::new("booking_series.create", "BookingSeries", series.id)
            .in_school(service, Some(school.id))
            .detail(serde_json::json!({ "booked": booked.len(), "skipped": skipped.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(SeriesMade {
        series,
        booked,
        skipped,
    })
}

/// The dates of a weekday in a range, every `every` weeks from the first.
pub fn dates_of(range: DateRange, weekday: u32, every: u32) -> Vec<NaiveDate> {
    let mut first = range.starts_on;
    while first.weekday().number_from_monday() != weekday {
        first = match first.succ_opt() {
            Some(d) => d,
            None => return Vec::new(),
        };
        if first > range.ends_on {
            return Vec::new();
        }
    }
    let mut out = Vec::new();
    let mut d = first;
    while d <= range.ends_on && out.len() <= MAX_VISITS {
        out.push(d);
        d += Duration::weeks(i64::from(every.max(1)));
    }
    out
}

/// A series the caller can see, with its open bookings from a date, for a change.
async fn rest_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: BookingSeriesId,
    from: NaiveDate,
) -> DomainResult<(booking_series::Model, Vec<booking::Model>)> {
    let series =
        door::for_change::<booking_series::Entity, _>(conn, caller, id, Action::ViewBookings, Action::ManageBookings)
            .await?;
    let tz = service_zone(conn, series.service_id).await?;
    let from_instant = local_to_utc(tz, from, NaiveTime::MIN);
    let rows = Door::open(conn, caller, Action::ViewBookings)
        .await?
        .find::<booking::Entity>()
        .filter(booking::Column::SeriesId.eq(id))
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .filter(booking::Column::StartsAt.gte(from_instant))
        .order_by_asc(booking::Column::StartsAt)
        .all(conn)
        .await?;
    Ok((series, rows))
}

/// Cancels every open visit of a series from a date on, each under the cancellation policy,
/// in one transaction.
pub async fn cancel_rest(
    db: &Db,
    caller: &Caller,
    id: BookingSeriesId,
    from: NaiveDate,
    reason: &str,
    cancelled_for: Option<CancelledFor>,
) -> DomainResult<Vec<Cancelled>> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let from = Day::parse("from", from)?.get();
    let txn = db::begin_write(db).await?;
    let (series, rows) = rest_of(&txn, caller, id, from).await?;
    let mut cancelled = Vec::new();
    for row in rows {
        let b = for_change(&txn, caller, row.id, Action::CancelBookings).await?;
        let door = Door::open(&txn, caller, Action::CancelBookings).await?;
        cancelled.push(cancel_in(&door, caller, b, cancelled_for, None, reason.clone()).await?);
    }
    audit::log(
        &txn,
        caller,
        Entry::new("booking_series.cancel", "BookingSeries", series.id)
            .in_school(series.service_id, Some(series.school_id))
            .detail(serde_json::json!({ "from": from, "cancelled": cancelled.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(cancelled)
}

/// Moves every open visit of a series from a date on to other hours of the same days, in one
/// transaction: all of them, or none (the dates that cannot move are named).
pub async fn move_rest(
    db: &Db,
    caller: &Caller,
    id: BookingSeriesId,
    from: NaiveDate,
    starts_at: NaiveTime,
    ends_at: NaiveTime,
) -> DomainResult<Vec<super::Rescheduled>> {
    if ends_at <= starts_at {
        return Err(DomainError::invalid(
            "endsAt",
            FieldErrorCode::OutOfRange,
            "must be after the start",
        ));
    }
    let from = Day::parse("from", from)?.get();
    let txn = db::begin_write(db).await?;
    let (series, rows) = rest_of(&txn, caller, id, from).await?;
    let tz = service_zone(&txn, series.service_id).await?;
    let mut moved = Vec::new();
    let mut problems = Problems::new();
    for (i, row) in rows.into_iter().enumerate() {
        let date = row.starts_at.with_timezone(&tz).date_naive();
        let input = super::Reschedule {
            id: row.id,
            starts_at: local_to_utc(tz, date, starts_at),
            ends_at: local_to_utc(tz, date, ends_at),
            ep_id: None,
            reason: Some("The series moved".into()),
        };
        match super::change::reschedule_in(&txn, caller, input).await {
            Ok(r) => moved.push(r),
            Err(e) => match why(&e) {
                Some(reason) => problems.add(
                    &format!("dates.{i}"),
                    FieldErrorCode::NotAllowed,
                    format!("{date}: {reason}"),
                ),
                None => return Err(e),
            },
        }
    }
    problems.finish()?;
    let mut change: booking_series::ActiveModel = series.clone().into();
    change.starts_at = Set(starts_at);
    change.ends_at = Set(ends_at);
    Door::open(&txn, caller, Action::ManageBookings)
        .await?
        .update(change)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("booking_series.move", "BookingSeries", series.id)
            .in_school(series.service_id, Some(series.school_id))
            .detail(serde_json::json!({ "from": from, "moved": moved.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(moved)
}

/// A series the caller can see.
pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: BookingSeriesId,
) -> DomainResult<booking_series::Model> {
    Door::open(conn, caller, Action::ViewBookings)
        .await?
        .get::<booking_series::Entity>(id)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fortnightly_dates_start_on_the_first_weekday() {
        let spring = DateRange {
            starts_on: d(2027, 1, 4),
            ends_on: d(2027, 2, 12),
        };
        // Thursdays, fortnightly, from Monday 4 January.
        assert_eq!(
            dates_of(spring, 4, 2),
            vec![d(2027, 1, 7), d(2027, 1, 21), d(2027, 2, 4)]
        );
        assert_eq!(dates_of(spring, 1, 1).len(), 6);
    }
}
