//! Term time: a service's terms and half-terms as one calendar, read in one statement. A term
//! split into half-terms is taught in its halves, so the week between them (half-term) is a
//! holiday like the weeks between terms. Availability, booking and the summary all ask this
//! calendar, so that they cannot disagree about what is term time.

use chrono::{Datelike, NaiveDate, Weekday};
use sea_orm::ConnectionTrait;

use super::DateRange;
use crate::entities::term;
use crate::error::DomainResult;
use crate::ids::ServiceId;
use crate::model::SpreadPeriod;

/// A named span of days: a term, a half-term, or the days outside every term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub name: String,
    pub range: DateRange,
}

/// Why a day is not term time, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub day: NaiveDate,
    /// The taught span that ended before it, and the one that starts after it.
    pub after: Option<Span>,
    pub before: Option<Span>,
}

impl Holiday {
    pub fn describe(&self) -> String {
        let day = self.day.format("%a %-d %b %Y");
        match (&self.after, &self.before) {
            (Some(a), Some(b)) => format!(
                "{day} is in a school holiday ({} ends on {}; {} starts on {})",
                a.name,
                a.range.ends_on.format("%a %-d %b"),
                b.name,
                b.range.starts_on.format("%a %-d %b")
            ),
            (Some(a), None) => format!(
                "{day} is after the last term of the calendar ({} ends on {})",
                a.name,
                a.range.ends_on.format("%a %-d %b %Y")
            ),
            (None, Some(b)) => format!(
                "{day} is before the first term of the calendar ({} starts on {})",
                b.name,
                b.range.starts_on.format("%a %-d %b %Y")
            ),
            (None, None) => format!("{day} is outside term time"),
        }
    }
}

/// The service's terms, half-terms and what is taught.
#[derive(Clone, Debug, Default)]
pub struct TermCalendar {
    terms: Vec<Span>,
    halves: Vec<Span>,
    /// The spans that are taught: a term's halves where it has them, otherwise the term.
    taught: Vec<Span>,
}

impl TermCalendar {
    /// Every term of a service (as kept with its calendar: one statement).
    pub async fn load(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Self> {
        Ok(super::ServiceCalendar::of(conn, service).await?.terms().clone())
    }

    pub fn from_rows(rows: &[term::Model]) -> Self {
        let span = |t: &term::Model| Span {
            name: t.name.clone(),
            range: DateRange {
                starts_on: t.starts_on,
                ends_on: t.ends_on,
            },
        };
        let terms: Vec<Span> = rows.iter().filter(|t| t.parent_term_id.is_none()).map(span).collect();
        let halves: Vec<Span> = rows.iter().filter(|t| t.parent_term_id.is_some()).map(span).collect();
        let mut taught = Vec::new();
        for t in rows.iter().filter(|t| t.parent_term_id.is_none()) {
            let own: Vec<Span> = rows
                .iter()
                .filter(|h| h.parent_term_id == Some(t.id))
                .map(span)
                .collect();
            if own.is_empty() {
                taught.push(span(t));
            } else {
                taught.extend(own);
            }
        }
        taught.sort_by_key(|s| s.range.starts_on);
        Self { terms, halves, taught }
    }

    /// Whether the service keeps an academic calendar (without one, every day is term time).
    pub fn is_kept(&self) -> bool {
        !self.taught.is_empty()
    }

    /// The spans taught, in order: each term's halves, or the term where it has none.
    pub fn taught(&self) -> &[Span] {
        &self.taught
    }

    /// The terms, in order.
    pub fn terms(&self) -> &[Span] {
        &self.terms
    }

    /// Whether a day is taught (always, without a calendar).
    pub fn is_term_time(&self, day: NaiveDate) -> bool {
        !self.is_kept() || self.taught.iter().any(|s| s.range.contains(day))
    }

    /// The holiday a day falls in, if it is not term time.
    pub fn holiday(&self, day: NaiveDate) -> Option<Holiday> {
        if self.is_term_time(day) {
            return None;
        }
        Some(Holiday {
            day,
            after: self.taught.iter().rev().find(|s| s.range.ends_on < day).cloned(),
            before: self.taught.iter().find(|s| s.range.starts_on > day).cloned(),
        })
    }

    /// Weekdays taught within a range (all weekdays, without a calendar).
    pub fn taught_weekdays(&self, range: DateRange) -> i64 {
        if !self.is_kept() {
            return weekdays(range);
        }
        self.taught
            .iter()
            .filter_map(|s| intersect(s.range, range))
            .map(weekdays)
            .sum()
    }

    /// The terms (or half-terms) that meet a range, in order.
    pub fn periods(&self, over: SpreadPeriod, range: DateRange) -> Vec<Span> {
        let spans = match over {
            SpreadPeriod::Terms => &self.terms,
            SpreadPeriod::HalfTerms if self.halves.is_empty() => &self.terms,
            SpreadPeriod::HalfTerms => &self.halves,
        };
        spans.iter().filter(|s| s.range.overlaps(&range)).cloned().collect()
    }
}

/// The days two ranges share.
pub fn intersect(a: DateRange, b: DateRange) -> Option<DateRange> {
    let starts_on = a.starts_on.max(b.starts_on);
    let ends_on = a.ends_on.min(b.ends_on);
    (starts_on <= ends_on).then_some(DateRange { starts_on, ends_on })
}

/// Monday to Friday days in a range.
pub fn weekdays(range: DateRange) -> i64 {
    let days = range.days();
    let full_weeks = days / 7;
    let mut n = full_weeks * 5;
    let mut d = range.starts_on + chrono::Duration::days(full_weeks * 7);
    while d <= range.ends_on {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            n += 1;
        }
        d = match d.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    n
}

/// Shares a whole number out in proportion to weights, so that the shares add up to it exactly
/// (largest remainder: each gets the floor of its share, and the minutes left over go to the
/// largest fractions, earlier ones first on a tie). Without weight, everything goes to the first.
pub fn apportion(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0 {
        let mut out = vec![0; weights.len()];
        out[0] = total;
        return out;
    }
    let mut shares: Vec<i64> = weights.iter().map(|w| total * w / sum).collect();
    let mut left = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((total * weights[i]) % sum));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AcademicYearId, TermId};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn row(name: &str, parent: Option<TermId>, s: NaiveDate, e: NaiveDate) -> term::Model {
        term::Model {
            id: TermId::new(),
            service_id: ServiceId::new(),
            academic_year_id: AcademicYearId::new(),
            parent_term_id: parent,
            name: name.into(),
            starts_on: s,
            ends_on: e,
        }
    }

    #[test]
    fn half_term_is_a_holiday_inside_a_term() {
        let spring = row("Spring", None, d(2027, 1, 4), d(2027, 3, 26));
        let rows = vec![
            spring.clone(),
            row("Spring 1", Some(spring.id), d(2027, 1, 4), d(2027, 2, 12)),
            row("Spring 2", Some(spring.id), d(2027, 2, 22), d(2027, 3, 26)),
        ];
        let cal = TermCalendar::from_rows(&rows);
        assert!(cal.is_term_time(d(2027, 2, 12)));
        assert!(!cal.is_term_time(d(2027, 2, 16)));
        assert!(cal.is_term_time(d(2027, 2, 22)));
        let holiday = cal.holiday(d(2027, 2, 16)).unwrap().describe();
        assert!(holiday.contains("Spring 1 ends on Fri 12 Feb"), "{holiday}");
        assert!(holiday.contains("Spring 2 starts on Mon 22 Feb"), "{holiday}");
        assert!(!cal.is_term_time(d(2027, 4, 1)));
        // Without a calendar every day is term time.
        assert!(TermCalendar::default().is_term_time(d(2027, 8, 10)));
    }

    #[test]
    fn weekdays_are_counted_in_ranges() {
        // 4 to 10 January 2027 is Monday to Sunday.
        let week = DateRange {
            starts_on: d(2027, 1, 4),
            ends_on: d(2027, 1, 10),
        };
        assert_eq!(weekdays(week), 5);
        let fortnight_and_a_day = DateRange {
            starts_on: d(2027, 1, 4),
            ends_on: d(2027, 1, 18),
        };
        assert_eq!(weekdays(fortnight_and_a_day), 11);
    }

    #[test]
    fn shares_add_up_exactly() {
        assert_eq!(apportion(3023, &[1, 1, 1]), vec![1008, 1008, 1007]);
        assert_eq!(apportion(3023, &[1, 1, 1]).iter().sum::<i64>(), 3023);
        assert_eq!(apportion(100, &[0, 0]), vec![100, 0]);
        assert_eq!(apportion(10, &[70, 35, 0]), vec![7, 3, 0]);
        for total in [0, 1, 7, 390, 3023, 99_999] {
            let weights = [13, 7, 29, 0, 5];
            assert_eq!(apportion(total, &weights).iter().sum::<i64>(), total);
        }
    }
}
