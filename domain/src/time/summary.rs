//! The administrator's view of EP time: per school and per EP, what was purchased, booked,
//! delivered and what remains, split by funding stream, direct and preparation time, and
//! period; with flags for schools behind an even spread or over their allocation. A constant
//! number of statements, however many schools.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::contracts::{self, Contract};
use super::ledger::{self, Balance};
use super::terms::{TermCalendar, apportion, intersect};
use super::{DateRange, Day, ServiceCalendar, local_date, settings};
use crate::access::{Action, Caller, Role};
use crate::door::Door;
use crate::entities::{membership, person, school, time_unit};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{AcademicYearId, PersonId, SchoolId, ServiceId};
use crate::model::{FundingStream, SpreadPeriod};

pub struct Query {
    pub service_id: ServiceId,
    /// The period: an academic year (with its terms), or dates.
    pub academic_year_id: Option<AcademicYearId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub school_ids: Option<Vec<SchoolId>>,
    pub ep_ids: Option<Vec<PersonId>>,
    pub funding_stream: Option<FundingStream>,
}

/// A period the use is spread over (a term or half-term).
#[derive(Clone, Debug)]
pub struct Period {
    pub name: String,
    pub range: DateRange,
    /// The days of the range outside every term (their entries count here).
    pub outside_term: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// Behind an even spread of the purchase across the periods so far.
    UnderUsing,
    /// More used than purchased.
    OverAllocation,
}

/// One funding stream of one school.
#[derive(Clone, Debug)]
pub struct StreamFigures {
    pub funding_stream: FundingStream,
    /// The unit of the school's contract in this stream (the first, if several).
    pub unit: Option<time_unit::Model>,
    /// The unit's minutes when that contract was sold.
    pub unit_minutes: Option<i32>,
    pub balance: Balance,
    pub by_period: Vec<Balance>,
    pub flags: Vec<Flag>,
}

#[derive(Clone, Debug)]
pub struct SchoolFigures {
    pub school: school::Model,
    pub link_ep_ids: Vec<PersonId>,
    pub streams: Vec<StreamFigures>,
    pub flags: Vec<Flag>,
}

#[derive(Clone, Debug)]
pub struct EpFigures {
    pub ep: person::Model,
    pub balance: Balance,
    pub by_period: Vec<Balance>,
    pub by_stream: Vec<(FundingStream, Balance)>,
}

#[derive(Clone, Debug)]
pub struct Summary {
    pub service_id: ServiceId,
    pub range: DateRange,
    pub periods: Vec<Period>,
    pub schools: Vec<SchoolFigures>,
    pub eps: Vec<EpFigures>,
}

/// Sums for one row of the summary: in all, per period, per stream (for EPs), and the unit of
/// the contract (for schools).
#[derive(Clone, Debug)]
struct Totals {
    all: Balance,
    by_period: Vec<Balance>,
    by_stream: BTreeMap<FundingStream, Balance>,
    unit: Option<time_unit::Model>,
    unit_minutes: Option<i32>,
}

impl Totals {
    fn new(periods: usize) -> Self {
        Self {
            all: Balance::default(),
            by_period: vec![Balance::default(); periods],
            by_stream: BTreeMap::new(),
            unit: None,
            unit_minutes: None,
        }
    }

    fn add(&mut self, period: Option<usize>, sum: &ledger::GroupedSum, minutes: i64) {
        self.all.add(sum.kind, sum.category, minutes);
        if let Some(p) = period.and_then(|i| self.by_period.get_mut(i)) {
            p.add(sum.kind, sum.category, minutes);
        }
    }
}

/// How a contract's purchase is shared out over time: by taught weekdays, in the spread
/// periods (terms or half-terms) its period meets, with largest remainders so that the shares
/// add up to the purchase exactly. Without an academic calendar, by weekdays of the period.
struct Shares {
    /// Each period the contract meets (clipped to the contract), its taught weekdays, its share.
    parts: Vec<(DateRange, i64, i64)>,
}

impl Shares {
    fn of(c: &Contract, terms: &TermCalendar, over: SpreadPeriod) -> Self {
        let period = c.period();
        let mut ranges: Vec<DateRange> = terms
            .periods(over, period)
            .into_iter()
            .filter_map(|s| intersect(s.range, period))
            .collect();
        if ranges.is_empty() {
            ranges.push(period);
        }
        let weights: Vec<i64> = ranges.iter().map(|r| terms.taught_weekdays(*r)).collect();
        let shares = apportion(c.purchased_minutes(), &weights);
        Self {
            parts: ranges
                .into_iter()
                .zip(weights)
                .zip(shares)
                .map(|((r, w), s)| (r, w, s))
                .collect(),
        }
    }

    /// The part of the purchase that falls in a range: whole shares for the periods inside it, a
    /// share by taught weekdays of a period it cuts (the only place a minute is rounded).
    fn within(&self, range: DateRange, terms: &TermCalendar) -> i64 {
        self.parts
            .iter()
            .map(|(part, weight, share)| match intersect(*part, range) {
                None => 0,
                Some(cut) if cut == *part => *share,
                Some(_) if *weight == 0 => 0,
                Some(cut) => share * terms.taught_weekdays(cut) / weight,
            })
            .sum()
    }
}

/// The share of a purchase due by `today`: each period's share, in full once it has ended and in
/// part while it runs.
fn expected_by(due: &[(i64, DateRange)], today: NaiveDate) -> i64 {
    let sum: f64 = due
        .iter()
        .map(|(share, range)| {
            let done = if today > range.ends_on {
                1.0
            } else if today < range.starts_on {
                0.0
            } else {
                ((today - range.starts_on).num_days() + 1) as f64 / range.days() as f64
            };
            *share as f64 * done
        })
        .sum();
    sum.round() as i64
}

fn flags_for(
    stream: FundingStream,
    balance: &Balance,
    due: &[(i64, DateRange)],
    today: NaiveDate,
    tolerance_percent: i32,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    if stream == FundingStream::Statutory {
        return flags;
    }
    let expected = expected_by(due, today);
    if expected > 0 && (balance.used() as f64) < expected as f64 * (1.0 - f64::from(tolerance_percent) / 100.0) {
        flags.push(Flag::UnderUsing);
    }
    if balance.used() > balance.purchased {
        flags.push(Flag::OverAllocation);
    }
    flags
}

pub async fn summary(conn: &impl ConnectionTrait, caller: &Caller, q: Query) -> DomainResult<Summary> {
    let service = q.service_id;
    let door = Door::open(conn, caller, Action::ViewLedger).await?;
    let access = door.access();
    if !access.touches_service(service) {
        return Err(caller.principal.refusal(Action::ViewLedger, service, None));
    }
    let whole_service = access.permits_service_wide(service);
    let cal = ServiceCalendar::of(conn, service).await?;
    let (tz, policies, terms) = (cal.tz, cal.policies(), cal.terms());
    let range = match (q.academic_year_id, q.from, q.to) {
        (Some(year), None, None) => {
            let y = settings::academic_year(conn, service, year).await.map_err(|_| {
                DomainError::invalid(
                    "academicYearId",
                    FieldErrorCode::NotFound,
                    "no such academic year in this service",
                )
            })?;
            DateRange::new("academicYearId", y.year.starts_on, y.year.ends_on)?
        }
        (None, Some(from), Some(to)) => {
            crate::parse_all!(from = Day::parse("from", from), to = Day::parse("to", to));
            let range = DateRange::new("to", from.get(), to.get())?;
            if range.days() > 800 {
                return Err(DomainError::invalid(
                    "to",
                    FieldErrorCode::OutOfRange,
                    "a summary covers at most 800 days",
                ));
            }
            range
        }
        (Some(_), _, _) => {
            return Err(DomainError::invalid(
                "from",
                FieldErrorCode::Invalid,
                "give an academic year, or from and to dates, not both",
            ));
        }
        _ => {
            return Err(DomainError::invalid(
                "academicYearId",
                FieldErrorCode::Required,
                "give an academic year, or from and to dates",
            ));
        }
    };
    // The periods the range is read in (the service's terms or half-terms, clipped to the
    // range), and then the days outside every term, so that every minute lands in one.
    let mut periods: Vec<Period> = terms
        .periods(policies.even_use_over, range)
        .into_iter()
        .filter_map(|t| {
            intersect(t.range, range).map(|r| Period {
                name: t.name,
                range: r,
                outside_term: false,
            })
        })
        .collect();
    let outside = periods.len();
    if terms.is_kept() {
        periods.push(Period {
            name: "Outside term".into(),
            range,
            outside_term: true,
        });
    }

    // Which schools: in reach, optionally narrowed.
    let mut school_q = door
        .find::<school::Entity>()
        .filter(school::Column::ServiceId.eq(service));
    if let Some(ids) = &q.school_ids {
        school_q = school_q.filter(school::Column::Id.is_in(ids.iter().copied()));
    }
    let schools = school_q.order_by_asc(school::Column::Name).all(conn).await?;
    let school_ids: Vec<SchoolId> = schools.iter().map(|s| s.id).collect();
    // Every school of the service: asked for as such, not as a list of all their ids.
    let narrowed = (!whole_service || q.school_ids.is_some()).then_some(&school_ids[..]);

    // Which EPs: everyone for administrators, oneself for an EP, nobody for a school.
    let rules = Door::service(conn, service);
    let mut ep_q = rules
        .find::<membership::Entity>()
        .filter(membership::Column::Role.eq(Role::Psychologist))
        .filter(membership::Column::RevokedAt.is_null());
    if !whole_service {
        let me: Vec<PersonId> = caller
            .principal
            .person_id()
            .into_iter()
            .filter(|p| access.calendars.contains(&(service, *p)))
            .collect();
        ep_q = ep_q.filter(membership::Column::PersonId.is_in(me));
    }
    if let Some(ids) = &q.ep_ids {
        ep_q = ep_q.filter(membership::Column::PersonId.is_in(ids.iter().copied()));
    }
    let ep_ids: BTreeSet<PersonId> = ep_q.all(conn).await?.into_iter().map(|m| m.person_id).collect();
    let ep_people = rules
        .find::<person::Entity>()
        .filter(person::Column::Id.is_in(ep_ids.iter().copied()))
        .order_by_asc(person::Column::DisplayName)
        .all(conn)
        .await?;

    let bounds: Vec<(NaiveDate, NaiveDate)> = periods
        .iter()
        .filter(|p| !p.outside_term)
        .map(|p| (p.range.starts_on, p.range.ends_on))
        .collect();
    let sums = ledger::grouped_sums(
        conn,
        ledger::SumsOf {
            service,
            from: range.starts_on,
            to: range.ends_on,
            periods: &bounds,
            schools: narrowed,
            // Schools' figures are whole whichever EPs are asked for; the EP rows are narrowed
            // below.
            eps: None,
            stream: q.funding_stream,
        },
    )
    .await?;
    let contracts: Vec<Contract> = contracts::in_period(conn, service, range, narrowed, q.funding_stream).await?;

    let today = local_date(tz, Utc::now());
    let tolerance = policies.under_use_tolerance_percent;

    // Schools: purchases from contracts, shared out over the periods, the rest from the ledger.
    let mut by_stream: BTreeMap<(SchoolId, FundingStream), Totals> = BTreeMap::new();
    for c in &contracts {
        let shares = Shares::of(c, terms, policies.even_use_over);
        let entry = by_stream
            .entry((c.row.school_id, c.row.funding_stream))
            .or_insert_with(|| Totals::new(periods.len()));
        entry.all.purchased += shares.within(range, terms);
        for (p, totals) in periods.iter().zip(entry.by_period.iter_mut()) {
            if !p.outside_term {
                totals.purchased += shares.within(p.range, terms);
            }
        }
        entry.unit.get_or_insert_with(|| c.unit.clone());
        entry.unit_minutes.get_or_insert(c.row.unit_minutes);
    }
    let mut eps: BTreeMap<PersonId, Totals> = BTreeMap::new();
    for s in &sums {
        let minutes = s.minutes.unwrap_or(0);
        // An entry dated in no term counts outside term.
        let period = s
            .term_index
            .and_then(|i| usize::try_from(i).ok())
            .or((outside < periods.len()).then_some(outside));
        if let Some(school) = s.school_id {
            by_stream
                .entry((school, s.funding_stream))
                .or_insert_with(|| Totals::new(periods.len()))
                .add(period, s, minutes);
        }
        if let Some(ep) = s.ep_id.filter(|e| ep_ids.contains(e)) {
            let totals = eps.entry(ep).or_insert_with(|| Totals::new(periods.len()));
            totals.add(period, s, minutes);
            totals
                .by_stream
                .entry(s.funding_stream)
                .or_default()
                .add(s.kind, s.category, minutes);
        }
    }
    let school_rows = schools
        .into_iter()
        .map(|school| {
            let mut streams: Vec<StreamFigures> = by_stream
                .range((school.id, FundingStream::Traded)..)
                .take_while(|((s, _), _)| *s == school.id)
                .map(|((_, stream), totals)| {
                    let due: Vec<(i64, DateRange)> = periods
                        .iter()
                        .zip(&totals.by_period)
                        .filter(|(p, _)| !p.outside_term)
                        .map(|(p, b)| (b.purchased, p.range))
                        .collect();
                    StreamFigures {
                        funding_stream: *stream,
                        unit: totals.unit.clone(),
                        unit_minutes: totals.unit_minutes,
                        balance: totals.all,
                        by_period: totals.by_period.clone(),
                        flags: flags_for(*stream, &totals.all, &due, today, tolerance),
                    }
                })
                .collect();
            streams.sort_by_key(|s| s.funding_stream);
            let mut flags: Vec<Flag> = streams.iter().flat_map(|s| s.flags.iter().copied()).collect();
            flags.sort();
            flags.dedup();
            let link_ep_ids = contracts
                .iter()
                .filter(|c| c.row.school_id == school.id)
                .filter_map(|c| c.row.link_ep_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            SchoolFigures {
                school,
                link_ep_ids,
                streams,
                flags,
            }
        })
        .collect();

    let ep_rows = ep_people
        .into_iter()
        .map(|ep| {
            let totals = eps.remove(&ep.id).unwrap_or_else(|| Totals::new(periods.len()));
            EpFigures {
                ep,
                balance: totals.all,
                by_period: totals.by_period,
                by_stream: totals.by_stream.into_iter().collect(),
            }
        })
        .collect();

    Ok(Summary {
        service_id: service,
        range,
        periods,
        schools: school_rows,
        eps: ep_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn range(s: NaiveDate, e: NaiveDate) -> DateRange {
        DateRange {
            starts_on: s,
            ends_on: e,
        }
    }

    fn three_terms() -> Vec<(i64, DateRange)> {
        vec![
            (1300, range(d(2026, 9, 1), d(2026, 12, 18))),
            (1300, range(d(2027, 1, 4), d(2027, 3, 26))),
            (1300, range(d(2027, 4, 12), d(2027, 7, 21))),
        ]
    }

    #[test]
    fn an_even_spread_is_due_term_by_term() {
        let terms = three_terms();
        assert_eq!(expected_by(&terms, d(2026, 8, 1)), 0);
        assert_eq!(expected_by(&terms, d(2027, 1, 1)), 1300);
        assert_eq!(expected_by(&terms, d(2027, 8, 1)), 3900);
    }

    #[test]
    fn schools_behind_or_over_are_flagged() {
        let terms = three_terms();
        let mut b = Balance {
            purchased: 3900,
            ..Balance::default()
        };
        b.add(
            crate::model::LedgerKind::Delivered,
            crate::model::TimeCategory::Direct,
            390,
        );
        // After the first term, 1300 was due and only 390 used.
        assert_eq!(
            flags_for(FundingStream::Traded, &b, &terms, d(2027, 1, 1), 15),
            vec![Flag::UnderUsing]
        );
        b.add(
            crate::model::LedgerKind::Booked,
            crate::model::TimeCategory::Direct,
            3900,
        );
        assert_eq!(
            flags_for(FundingStream::Traded, &b, &terms, d(2027, 1, 1), 15),
            vec![Flag::OverAllocation]
        );
        assert!(flags_for(FundingStream::Statutory, &b, &terms, d(2027, 1, 1), 15).is_empty());
    }
}
