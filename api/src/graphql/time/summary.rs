//! The administrator's summary of time per school and per EP.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use domain::time::summary;

use super::contracts::Balance;
use super::not_found_if_bad;
use super::settings::TimeUnit;
use crate::graphql::context;
use crate::graphql::enums::FundingStream;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::{Person, School};

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum UseFlag {
    /// Behind an even spread of the purchase across the periods so far.
    UnderUsing,
    /// More used than purchased.
    OverAllocation,
}

impl From<summary::Flag> for UseFlag {
    fn from(f: summary::Flag) -> Self {
        match f {
            summary::Flag::UnderUsing => Self::UnderUsing,
            summary::Flag::OverAllocation => Self::OverAllocation,
        }
    }
}

#[derive(SimpleObject)]
pub struct SummaryPeriod {
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    /// The days of the range outside every term: entries dated there count here (no purchase
    /// falls in it).
    pub outside_term: bool,
}

#[derive(SimpleObject)]
pub struct StreamSummary {
    pub funding_stream: FundingStream,
    pub unit: Option<TimeUnit>,
    pub balance: Balance,
    /// Per period (term or half-term, then outside term), in the order of
    /// `TimeSummary.periods`; each term's purchase is its share by taught weekdays, and the
    /// shares add up to the whole.
    pub by_period: Vec<Balance>,
    pub flags: Vec<UseFlag>,
}

#[derive(SimpleObject)]
pub struct SchoolTimeSummary {
    pub school: School,
    pub link_ep_ids: Vec<ID>,
    pub streams: Vec<StreamSummary>,
    pub flags: Vec<UseFlag>,
}

#[derive(SimpleObject)]
pub struct StreamBalance {
    pub funding_stream: FundingStream,
    pub balance: Balance,
}

#[derive(SimpleObject)]
pub struct EpTimeSummary {
    pub ep: Person,
    pub balance: Balance,
    pub by_period: Vec<Balance>,
    pub by_stream: Vec<StreamBalance>,
}

#[derive(SimpleObject)]
pub struct TimeSummary {
    pub starts_on: Date,
    pub ends_on: Date,
    pub periods: Vec<SummaryPeriod>,
    pub schools: Vec<SchoolTimeSummary>,
    pub eps: Vec<EpTimeSummary>,
}

fn summary_of(s: summary::Summary) -> TimeSummary {
    TimeSummary {
        starts_on: Date(s.range.starts_on),
        ends_on: Date(s.range.ends_on),
        periods: s
            .periods
            .iter()
            .map(|p| SummaryPeriod {
                name: p.name.clone(),
                starts_on: Date(p.range.starts_on),
                ends_on: Date(p.range.ends_on),
                outside_term: p.outside_term,
            })
            .collect(),
        schools: s
            .schools
            .into_iter()
            .map(|row| SchoolTimeSummary {
                link_ep_ids: row.link_ep_ids.iter().map(|p| ids::encode("Person", *p)).collect(),
                flags: row.flags.iter().map(|f| (*f).into()).collect(),
                streams: row
                    .streams
                    .into_iter()
                    .map(|st| {
                        // Units as the contract was sold them.
                        let unit_minutes = st.unit_minutes;
                        StreamSummary {
                            funding_stream: st.funding_stream.into(),
                            balance: Balance::of(&st.balance, unit_minutes),
                            by_period: st.by_period.iter().map(|b| Balance::of(b, unit_minutes)).collect(),
                            flags: st.flags.iter().map(|f| (*f).into()).collect(),
                            unit: st.unit.map(TimeUnit),
                        }
                    })
                    .collect(),
                school: School(row.school),
            })
            .collect(),
        eps: s
            .eps
            .into_iter()
            .map(|e| EpTimeSummary {
                balance: Balance::of(&e.balance, None),
                by_period: e.by_period.iter().map(|b| Balance::of(b, None)).collect(),
                by_stream: e
                    .by_stream
                    .iter()
                    .map(|(stream, b)| StreamBalance {
                        funding_stream: (*stream).into(),
                        balance: Balance::of(b, None),
                    })
                    .collect(),
                ep: Person(e.ep),
            })
            .collect(),
    }
}

#[derive(InputObject)]
pub struct TimeSummaryInput {
    pub service_id: ID,
    /// The period as an academic year (with per-term figures)...
    pub academic_year_id: Option<ID>,
    /// ...or as dates.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub school_ids: Option<Vec<ID>>,
    pub ep_ids: Option<Vec<ID>>,
    pub funding_stream: Option<FundingStream>,
}

#[derive(Default)]
pub struct SummaryQuery;

#[Object]
impl SummaryQuery {
    /// Per school and per EP: purchased, booked, delivered and remaining time, by funding stream
    /// and period, with flags for schools behind or over their allocation.
    #[graphql(complexity = 500)]
    async fn time_summary(&self, ctx: &Context<'_>, input: TimeSummaryInput) -> Result<TimeSummary> {
        let c = context::of(ctx)?;
        let q = summary::Query {
            service_id: not_found_if_bad(ids::expect("serviceId", "Service", &input.service_id)).or_gql(c)?,
            academic_year_id: ids::expect_opt("input.academicYearId", "AcademicYear", input.academic_year_id.as_ref())
                .or_gql(c)?,
            from: input.from.map(|d| d.0),
            to: input.to.map(|d| d.0),
            school_ids: input
                .school_ids
                .as_deref()
                .map(|s| ids::expect_all("input.schoolIds", "School", s))
                .transpose()
                .or_gql(c)?,
            ep_ids: input
                .ep_ids
                .as_deref()
                .map(|s| ids::expect_all("input.epIds", "Person", s))
                .transpose()
                .or_gql(c)?,
            funding_stream: input.funding_stream.map(Into::into),
        };
        let s = summary::summary(c.db(), c.caller()?, q).await.or_gql(c)?;
        Ok(summary_of(s))
    }
}
