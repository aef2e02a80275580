//! Series of visits: a weekly or fortnightly visit made in one call, and the rest of a series
//! moved or cancelled in one call.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use domain::entities::booking_series;
use domain::ids::BookingSeriesId;
use domain::time::bookings::{self, series};

use super::bookings::{BookingCancelled, BookingRescheduled};
use super::{Booking, load_person, load_school, not_found_if_bad};
use crate::graphql::context;
use crate::graphql::enums::{BookingMode, CancelledFor, FundingStream};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::{Date, LocalTime};
use crate::graphql::tenancy::{Person, School};

/// A series of visits to one school on one weekday.
pub struct VisitSeries(pub booking_series::Model);

#[Object]
impl VisitSeries {
    pub async fn id(&self) -> ID {
        ids::encode("VisitSeries", self.0.id)
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, Some(self.0.school_id)).await
    }
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, Some(self.0.ep_id)).await
    }
    /// 1 is Monday, 7 is Sunday.
    async fn weekday(&self) -> i32 {
        self.0.weekday
    }
    async fn starts_at(&self) -> LocalTime {
        LocalTime(self.0.starts_at)
    }
    async fn ends_at(&self) -> LocalTime {
        LocalTime(self.0.ends_at)
    }
    /// 1: weekly; 2: fortnightly.
    async fn every_weeks(&self) -> i32 {
        self.0.every_weeks
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
    /// The visits of the series, by time (cancelled ones included).
    #[graphql(complexity = "crate::graphql::page_cost(first, None, child_complexity)")]
    async fn visits(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let filter = bookings::Filter {
            series_id: Some(self.0.id),
            ..Default::default()
        };
        let rows = bookings::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, None, None),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, Booking))
    }
}

/// A date of a series that was not booked, and why.
#[derive(SimpleObject)]
pub struct SkippedDate {
    pub date: Date,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct VisitSeriesMade {
    pub series: VisitSeries,
    pub visits: Vec<Booking>,
    /// Holidays, closures, bank holidays, and dates the EP is not free.
    pub skipped: Vec<SkippedDate>,
}

#[derive(InputObject)]
pub struct CreateVisitSeriesInput {
    pub school_id: ID,
    pub ep_id: ID,
    /// 1 is Monday, 7 is Sunday.
    pub weekday: i32,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
    /// 1: weekly (the default); 2: fortnightly.
    #[graphql(default = 1)]
    pub every_weeks: i32,
    /// A term of the service's calendar...
    pub term_id: Option<ID>,
    /// ...or dates.
    pub from: Option<Date>,
    pub to: Option<Date>,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    pub location: Option<String>,
    #[graphql(default)]
    pub preparation_minutes: i32,
    /// Default TRADED.
    pub funding_stream: Option<FundingStream>,
}

#[derive(InputObject)]
pub struct CancelVisitSeriesInput {
    pub id: ID,
    /// The first day cancelled: every open visit of the series from it on.
    pub from: Date,
    pub reason: String,
    /// Administrators say on whose behalf.
    pub cancelled_for: Option<CancelledFor>,
}

#[derive(InputObject)]
pub struct MoveVisitSeriesInput {
    pub id: ID,
    /// The first day moved: every open visit of the series from it on.
    pub from: Date,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
}

payload!(CreateVisitSeriesPayload {
    result: VisitSeriesMade
});

#[derive(SimpleObject)]
pub struct VisitSeriesCancelled {
    pub cancelled: Vec<BookingCancelled>,
}

payload!(CancelVisitSeriesPayload {
    result: VisitSeriesCancelled
});

#[derive(SimpleObject)]
pub struct VisitSeriesMoved {
    pub moved: Vec<BookingRescheduled>,
}

payload!(MoveVisitSeriesPayload {
    result: VisitSeriesMoved
});

#[derive(Default)]
pub struct SeriesQuery;

#[Object]
impl SeriesQuery {
    async fn visit_series(&self, ctx: &Context<'_>, id: ID) -> Result<VisitSeries> {
        let c = context::of(ctx)?;
        let id: BookingSeriesId = not_found_if_bad(ids::expect("id", "VisitSeries", &id)).or_gql(c)?;
        series::get(c.db(), c.caller()?, id).await.map(VisitSeries).or_gql(c)
    }
}

#[derive(Default)]
pub struct SeriesMutation;

#[Object]
impl SeriesMutation {
    /// Makes a weekly or fortnightly visit on one weekday for a term or dates, each visit its own
    /// booking; holidays, closures, bank holidays and dates the EP is not free are skipped and
    /// listed.
    async fn create_visit_series(
        &self,
        ctx: &Context<'_>,
        input: CreateVisitSeriesInput,
    ) -> Result<CreateVisitSeriesPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let new = series::NewSeries {
                school_id: ids::expect("schoolId", "School", &input.school_id)?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                // Out-of-range numbers become values the domain refuses with its own message.
                weekday: u32::try_from(input.weekday).unwrap_or(0),
                starts_at: input.starts_at.0,
                ends_at: input.ends_at.0,
                every_weeks: u32::try_from(input.every_weeks).unwrap_or(0),
                term_id: ids::expect_opt("termId", "Term", input.term_id.as_ref())?,
                from: input.from.map(|d| d.0),
                to: input.to.map(|d| d.0),
                mode: input.mode.into(),
                location: input.location,
                preparation_minutes: input.preparation_minutes,
                funding_stream: input.funding_stream.map(Into::into),
            };
            series::create(c.db(), caller, new).await
        }
        .await;
        Ok(payload_of(c, result, |m| VisitSeriesMade {
            series: VisitSeries(m.series),
            visits: m.booked.into_iter().map(|b| Booking(b.booking)).collect(),
            skipped: m
                .skipped
                .into_iter()
                .map(|s| SkippedDate {
                    date: Date(s.date),
                    reason: s.reason,
                })
                .collect(),
        })?
        .into())
    }

    /// Cancels every open visit of a series from a date on, each under the cancellation policy.
    async fn cancel_visit_series(
        &self,
        ctx: &Context<'_>,
        input: CancelVisitSeriesInput,
    ) -> Result<CancelVisitSeriesPayload> {
        let c = context::of(ctx)?;
        let id: BookingSeriesId = not_found_if_bad(ids::expect("id", "VisitSeries", &input.id)).or_gql(c)?;
        let result = series::cancel_rest(
            c.db(),
            c.caller()?,
            id,
            input.from.0,
            &input.reason,
            input.cancelled_for.map(Into::into),
        )
        .await;
        Ok(payload_of(c, result, |all| VisitSeriesCancelled {
            cancelled: all
                .into_iter()
                .map(|r| BookingCancelled {
                    booking: Booking(r.booking),
                    charged_minutes: r.charged_minutes,
                })
                .collect(),
        })?
        .into())
    }

    /// Moves every open visit of a series from a date on to other hours of the same days: all
    /// of them, or none (the dates that cannot move are named).
    async fn move_visit_series(
        &self,
        ctx: &Context<'_>,
        input: MoveVisitSeriesInput,
    ) -> Result<MoveVisitSeriesPayload> {
        let c = context::of(ctx)?;
        let id: BookingSeriesId = not_found_if_bad(ids::expect("id", "VisitSeries", &input.id)).or_gql(c)?;
        let result = series::move_rest(
            c.db(),
            c.caller()?,
            id,
            input.from.0,
            input.starts_at.0,
            input.ends_at.0,
        )
        .await;
        Ok(payload_of(c, result, |all| VisitSeriesMoved {
            moved: all
                .into_iter()
                .map(|r| BookingRescheduled {
                    previous: Booking(r.old),
                    booking: Booking(r.new.booking),
                    warnings: r.new.warnings,
                })
                .collect(),
        })?
        .into())
    }
}
