//! Times for tests: London wall-clock times relative to this week.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;

/// A London wall-clock time as an instant.
pub fn london(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    London
        .from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("a time of day")))
        .earliest()
        .expect("a London time")
        .with_timezone(&Utc)
}

/// The Monday `weeks` weeks after this week's.
pub fn monday_in(weeks: i64) -> NaiveDate {
    let today = Utc::now().with_timezone(&London).date_naive();
    today - Duration::days(i64::from(today.weekday().num_days_from_monday())) + Duration::weeks(weeks)
}

/// An instant as GraphQL's `DateTime`.
pub fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}
