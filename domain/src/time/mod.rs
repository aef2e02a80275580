//! EP time: what schools bought (contracts), when EPs work (patterns, exceptions, the academic
//! calendar), what is booked (one bookings table for every kind of EP time), and the
//! append-only ledger every balance is summed from.

pub mod availability;
pub mod bookings;
pub mod calendar;
pub mod conflicts;
pub mod contracts;
pub mod ledger;
pub mod service_calendar;
pub mod settings;
pub mod summary;
pub mod terms;

pub use service_calendar::ServiceCalendar;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter};

use crate::access::Role;
use crate::door::Door;
use crate::entities::{membership, service};
use crate::error::{DomainError, DomainResult, FieldError, FieldErrorCode};
use crate::ids::{PersonId, ServiceId};

/// The instant a local wall-clock time names in `tz`. In the spring gap (a time that does not
/// exist) it moves forward by the gap; in the autumn overlap (a time that happens twice) it takes
/// the first.
pub fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Clocks go forward by at most two hours anywhere; find the first valid minute.
            (1..=180)
                .find_map(|m| tz.from_local_datetime(&(naive + Duration::minutes(m))).earliest())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
        }
    }
}

/// The local date of an instant.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The service's time zone.
pub async fn service_zone(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Tz> {
    zone_of(&Door::service(conn, service).get::<service::Entity>(service).await?)
}

/// The time zone a service row names.
fn zone_of(row: &service::Model) -> DomainResult<Tz> {
    row.time_zone
        .parse::<Tz>()
        .map_err(|_| DomainError::internal("service time zone", crate::values::UnknownValue(row.time_zone.clone())))
}

/// Whether the person is an EP of the service (an active PSYCHOLOGIST membership).
pub async fn is_ep(conn: &impl ConnectionTrait, service: ServiceId, person: PersonId) -> DomainResult<bool> {
    Ok(Door::service(conn, service)
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::Role.eq(Role::Psychologist))
        .filter(membership::Column::RevokedAt.is_null())
        .count(conn)
        .await?
        > 0)
}

/// Refuses unless the person is an EP of the service.
pub async fn require_ep(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    person: PersonId,
    field: &str,
) -> DomainResult<()> {
    if is_ep(conn, service, person).await? {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            FieldErrorCode::NotFound,
            "no such EP in this service",
        ))
    }
}

/// Whole minutes between two instants.
pub fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_minutes()
}

/// The years the service plans in: anything outside them is a typo, and calendar arithmetic on
/// it could overflow.
pub const YEARS: std::ops::Range<i32> = 2000..2100;

/// A date the service can plan with (in 2000 to 2099). Every date an operation is given is
/// checked into one of these first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(NaiveDate);

impl Day {
    pub fn parse(field: &str, date: NaiveDate) -> Result<Self, FieldError> {
        use chrono::Datelike;
        if YEARS.contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(FieldError::new(
                field,
                FieldErrorCode::OutOfRange,
                "must be a date between the years 2000 and 2099",
            ))
        }
    }
    pub fn get(self) -> NaiveDate {
        self.0
    }
}

/// An instant the service can plan with: in 2000 to 2099, on a whole minute. Every instant a
/// booking or calendar operation is given is checked into one of these first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(DateTime<Utc>);

impl Instant {
    pub fn parse(field: &str, at: DateTime<Utc>) -> Result<Self, FieldError> {
        plausible(field, at).and_then(|t| whole_minute(field, t)).map(Self)
    }
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

/// Refuses instants outside the years the service can plan in (2000 to 2099): they are typos,
/// and calendar arithmetic on them could overflow.
pub fn plausible(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    use chrono::Datelike;
    if YEARS.contains(&at.year()) {
        Ok(at)
    } else {
        Err(FieldError::new(
            field,
            FieldErrorCode::OutOfRange,
            "must be between the years 2000 and 2099",
        ))
    }
}

/// Refuses instants that are not on a whole minute: bookings are planned in minutes.
pub fn whole_minute(field: &str, at: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    use chrono::Timelike;
    if at.second() != 0 || at.nanosecond() != 0 {
        return Err(FieldError::new(
            field,
            FieldErrorCode::Invalid,
            "must be on a whole minute",
        ));
    }
    Ok(at)
}

/// A local date range, inclusive at both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl DateRange {
    pub fn new(field: &str, starts_on: NaiveDate, ends_on: NaiveDate) -> DomainResult<Self> {
        if ends_on < starts_on {
            return Err(DomainError::invalid(
                field,
                FieldErrorCode::OutOfRange,
                "must not end before it starts",
            ));
        }
        Ok(Self { starts_on, ends_on })
    }
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.starts_on <= d && d <= self.ends_on
    }
    pub fn within(&self, outer: &DateRange) -> bool {
        outer.starts_on <= self.starts_on && self.ends_on <= outer.ends_on
    }
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.starts_on <= other.ends_on && other.starts_on <= self.ends_on
    }
    pub fn days(&self) -> i64 {
        (self.ends_on - self.starts_on).num_days() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn london_times_map_to_utc_across_both_clock_changes() {
        let tz = chrono_tz::Europe::London;
        // Winter: GMT. Summer: BST, one hour ahead.
        assert_eq!(
            local_to_utc(tz, d(2026, 3, 27), t(9, 0)).to_rfc3339(),
            "2026-03-27T09:00:00+00:00"
        );
        assert_eq!(
            local_to_utc(tz, d(2026, 3, 30), t(9, 0)).to_rfc3339(),
            "2026-03-30T08:00:00+00:00"
        );
        // 01:30 on 29 March 2026 does not exist: it moves to 02:00 BST (01:00 UTC).
        assert_eq!(
            local_to_utc(tz, d(2026, 3, 29), t(1, 30)).to_rfc3339(),
            "2026-03-29T01:00:00+00:00"
        );
        // 01:30 on 25 October 2026 happens twice: the first is 01:30 BST (00:30 UTC).
        assert_eq!(
            local_to_utc(tz, d(2026, 10, 25), t(1, 30)).to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
        assert_eq!(local_date(tz, "2026-06-30T23:30:00Z".parse().unwrap()), d(2026, 7, 1));
    }

    #[test]
    fn date_ranges_check_their_order() {
        assert!(DateRange::new("period", d(2026, 9, 1), d(2026, 8, 31)).is_err());
        let year = DateRange::new("year", d(2026, 9, 1), d(2027, 7, 31)).unwrap();
        let term = DateRange::new("term", d(2026, 9, 1), d(2026, 12, 18)).unwrap();
        assert!(term.within(&year));
        assert!(!year.within(&term));
        assert_eq!(term.days(), 109);
    }
}
