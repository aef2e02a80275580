//! Bookings: blocks of an EP's time, and their confirmation, cancellation, moves and delivery.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::booking;
use domain::ids::BookingId;
use domain::time::bookings;

use super::{load_person, load_school, not_found_if_bad};
use crate::graphql::context;
use crate::graphql::enums::{self, BookingKind, BookingMode, BookingStatus, CancelledFor, FundingStream};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::tenancy::{Person, School};

/// Whether this request's caller sees bookings' free text.
fn free_text(ctx: &Context<'_>) -> Result<bool> {
    Ok(bookings::shows_free_text(context::of(ctx)?.caller()?))
}

/// A block of an EP's time: a visit, a consultation, a Space to Talk slot, a reflective session...
pub struct Booking(pub booking::Model);

#[Object]
impl Booking {
    pub async fn id(&self) -> ID {
        ids::encode("Booking", self.0.id)
    }
    async fn kind(&self) -> BookingKind {
        self.0.kind.into()
    }
    async fn status(&self) -> BookingStatus {
        self.0.status.into()
    }
    async fn mode(&self) -> BookingMode {
        self.0.mode.into()
    }
    /// Where, in words (not shown to partner clients).
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(free_text(ctx)?.then_some(self.0.location.as_deref()).flatten())
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// The EP's time this holds (its own span: travel between places is kept free between
    /// neighbouring bookings).
    async fn blocked_from(&self) -> DateTime<Utc> {
        self.0.blocked_from
    }
    async fn blocked_until(&self) -> DateTime<Utc> {
        self.0.blocked_until
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.ep_id)
    }
    /// The EP, where the caller can see people.
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, Some(self.0.ep_id)).await
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|s| ids::encode("School", s))
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, self.0.school_id).await
    }
    /// The visit this booking sits inside.
    async fn visit_id(&self) -> Option<ID> {
        self.0.visit_id.map(|v| ids::encode("Booking", v))
    }
    async fn funding_stream(&self) -> Option<FundingStream> {
        self.0.funding_stream.map(Into::into)
    }
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|v| ids::encode("Contract", v))
    }
    async fn direct_minutes(&self) -> i32 {
        self.0.direct_minutes
    }
    async fn preparation_minutes(&self) -> i32 {
        self.0.preparation_minutes
    }
    /// An administrator's reason for booking beyond the school's allocation (not shown to
    /// partner clients).
    async fn overbooking_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(free_text(ctx)?
            .then_some(self.0.overbooking_reason.as_deref())
            .flatten())
    }
    /// Why an administrator booked inside the minimum notice or in the past (not shown to
    /// partner clients).
    async fn short_notice_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(free_text(ctx)?
            .then_some(self.0.short_notice_reason.as_deref())
            .flatten())
    }
    /// The series of visits this booking was made in.
    async fn series_id(&self) -> Option<ID> {
        self.0.series_id.map(|v| ids::encode("VisitSeries", v))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Who cancelled, when, why (not shown to partner clients) and on whose behalf.
    async fn cancellation(&self, ctx: &Context<'_>) -> Result<Option<Cancellation>> {
        let shows_reason = free_text(ctx)?;
        Ok(self.0.cancelled_at.map(|at| Cancellation {
            cancelled_at: at,
            cancelled_by_id: self.0.cancelled_by.map(|p| ids::encode("Person", p)),
            cancelled_by_partner_client_id: self.0.cancelled_by_partner.map(|p| ids::encode("PartnerClient", p)),
            cancelled_for: self.0.cancelled_for.map(Into::into),
            reason: self.0.cancellation_reason.clone().filter(|_| shows_reason),
            charged: self.0.cancellation_charged.unwrap_or(false),
            alternative_booking_id: self.0.alternative_id.map(|b| ids::encode("Booking", b)),
        }))
    }
    async fn rescheduled_from_id(&self) -> Option<ID> {
        self.0.rescheduled_from_id.map(|b| ids::encode("Booking", b))
    }
    async fn rescheduled_to_id(&self) -> Option<ID> {
        self.0.rescheduled_to_id.map(|b| ids::encode("Booking", b))
    }
    /// For a visit: the bookings inside it, by time.
    #[graphql(complexity = "crate::graphql::page_cost(first, None, child_complexity)")]
    async fn items(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let filter = bookings::Filter {
            visit_id: Some(self.0.id),
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
        connection(ctx, rows).await
    }
}

#[derive(SimpleObject)]
pub struct Cancellation {
    pub cancelled_at: DateTime<Utc>,
    pub cancelled_by_id: Option<ID>,
    pub cancelled_by_partner_client_id: Option<ID>,
    pub cancelled_for: Option<CancelledFor>,
    pub reason: Option<String>,
    /// Whether the school's time was drawn down.
    pub charged: bool,
    pub alternative_booking_id: Option<ID>,
}

#[derive(InputObject, Default)]
pub struct BookingFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub visit_id: Option<ID>,
    pub series_id: Option<ID>,
    /// Bookings that end after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Bookings that start before this instant.
    pub to: Option<DateTime<Utc>>,
    pub statuses: Option<Vec<BookingStatus>>,
    pub kinds: Option<Vec<BookingKind>>,
}

#[derive(InputObject)]
pub struct CreateBookingInput {
    /// Needed only when neither a school nor a visit says which service.
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub ep_id: ID,
    pub kind: BookingKind,
    /// A visit of the same EP this booking sits inside.
    pub visit_id: Option<ID>,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    /// Where, in words; never a child's or parent's details.
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[graphql(default)]
    pub preparation_minutes: i32,
    /// Default TRADED.
    pub funding_stream: Option<FundingStream>,
    #[graphql(default_with = "BookingStatus::Confirmed")]
    pub status: BookingStatus,
    /// Under the ADMIN_OVERRIDE policy: an administrator's reason for booking beyond the
    /// school's allocation.
    pub overbooking_reason: Option<String>,
    /// An administrator's reason for booking inside the minimum notice, or in the past (to
    /// record work already done). Schools and partners book with notice.
    pub short_notice_reason: Option<String>,
}

#[derive(InputObject)]
pub struct BookingIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CancelBookingInput {
    pub id: ID,
    pub reason: String,
    /// Administrators say on whose behalf; others cancel as themselves.
    pub cancelled_for: Option<CancelledFor>,
    /// When an EP cancels: the alternative booking offered to the school.
    pub alternative_booking_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RescheduleBookingInput {
    pub id: ID,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Move the booking to another EP.
    pub ep_id: Option<ID>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct RecordDeliveryInput {
    pub id: ID,
    /// Default: as booked.
    pub direct_minutes: Option<i32>,
    pub preparation_minutes: Option<i32>,
}

#[derive(InputObject)]
pub struct RecordNoShowInput {
    pub id: ID,
    pub reason: String,
}

payload!(BookingPayload { booking: Booking });

/// A booking made, with what the caller should know.
#[derive(SimpleObject)]
pub struct BookingMade {
    pub booking: Booking,
    /// E.g. outside the EP's working hours, or over the allocation under a warn-only policy.
    pub warnings: Vec<String>,
}

payload!(CreateBookingPayload { result: BookingMade });

#[derive(SimpleObject)]
pub struct BookingCancelled {
    pub booking: Booking,
    /// Minutes drawn down from the school's time by the cancellation policy.
    pub charged_minutes: i64,
}

payload!(CancelBookingPayload {
    result: BookingCancelled
});

#[derive(SimpleObject)]
pub struct BookingRescheduled {
    /// The old booking, now cancelled, linked to the new one.
    pub previous: Booking,
    pub booking: Booking,
    pub warnings: Vec<String>,
}

payload!(RescheduleBookingPayload {
    result: BookingRescheduled
});

/// What cancelling a booking now would charge, and to whom (nothing is cancelled).
#[derive(SimpleObject)]
pub struct CancellationQuote {
    pub booking_id: ID,
    /// On whose behalf the cancellation would be (as asked, or as the caller cancels).
    pub cancelled_for: CancelledFor,
    /// Inside the policy's notice window.
    pub late: bool,
    /// Until when cancelling charges nothing.
    pub free_until: DateTime<Utc>,
    /// The share charged, in percent.
    pub charge_percent: i32,
    /// Minutes the school's allocation would lose (statutory work never touches school time).
    pub charged_minutes: i64,
}

/// A page of bookings as a connection, with the schools and EPs its rows refer to read ahead
/// (one statement each, when the selection asks for them: see `loaders::prime`).
pub async fn connection(ctx: &Context<'_>, rows: domain::page::Page<booking::Model>) -> Result<Conn<Booking>> {
    crate::graphql::loaders::prime(
        ctx,
        ("school", rows.items.iter().filter_map(|(_, b)| b.school_id).collect()),
        ("ep", rows.items.iter().map(|(_, b)| b.ep_id).collect()),
    )
    .await?;
    Ok(page::connection(rows, Booking))
}

#[derive(Default)]
pub struct BookingsQuery;

#[Object]
impl BookingsQuery {
    /// Bookings the caller can see, by start time.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        filter: Option<BookingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Booking>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = bookings::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            ep_id: ids::expect_opt("filter.epId", "Person", f.ep_id.as_ref()).or_gql(c)?,
            visit_id: ids::expect_opt("filter.visitId", "Booking", f.visit_id.as_ref()).or_gql(c)?,
            series_id: ids::expect_opt("filter.seriesId", "VisitSeries", f.series_id.as_ref()).or_gql(c)?,
            from: f.from,
            to: f.to,
            statuses: f.statuses.map(|s| enums::all(&s)),
            kinds: f.kinds.map(|k| enums::all(&k)),
        };
        let rows = bookings::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        connection(ctx, rows).await
    }

    /// What cancelling a booking now would charge, to whom, before you cancel. Administrators
    /// may ask for a `cancelledFor` (without one: as the school).
    async fn cancellation_quote(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        cancelled_for: Option<CancelledFor>,
    ) -> Result<CancellationQuote> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("bookingId", "Booking", &booking_id)).or_gql(c)?;
        let q = bookings::quote(c.db(), c.caller()?, id, cancelled_for.map(Into::into))
            .await
            .or_gql(c)?;
        Ok(CancellationQuote {
            booking_id,
            cancelled_for: q.cancelled_for.into(),
            late: q.late,
            free_until: q.free_until,
            charge_percent: i32::try_from(q.charge_percent).unwrap_or(100),
            charged_minutes: q.charged_minutes,
        })
    }

    async fn booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        let c = context::of(ctx)?;
        let id = not_found_if_bad(ids::expect("id", "Booking", &id)).or_gql(c)?;
        bookings::get(c.db(), c.caller()?, id).await.map(Booking).or_gql(c)
    }
}

#[derive(Default)]
pub struct BookingsMutation;

#[Object]
impl BookingsMutation {
    /// Books EP time. A clash with the EP's other bookings is `CONFLICT`.
    async fn create_booking(&self, ctx: &Context<'_>, input: CreateBookingInput) -> Result<CreateBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let new = bookings::NewBooking {
                service_id: ids::expect_opt("serviceId", "Service", input.service_id.as_ref())?,
                school_id: ids::expect_opt("schoolId", "School", input.school_id.as_ref())?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                kind: input.kind.into(),
                visit_id: ids::expect_opt("visitId", "Booking", input.visit_id.as_ref())?,
                mode: input.mode.into(),
                location: input.location,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                preparation_minutes: input.preparation_minutes,
                funding_stream: input.funding_stream.map(Into::into),
                status: input.status.into(),
                overbooking_reason: input.overbooking_reason,
                short_notice_reason: input.short_notice_reason,
            };
            bookings::create(c.db(), caller, new).await
        }
        .await;
        Ok(payload_of(c, result, |b| BookingMade {
            booking: Booking(b.booking),
            warnings: b.warnings,
        })?
        .into())
    }

    async fn confirm_booking(&self, ctx: &Context<'_>, input: BookingIdInput) -> Result<BookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        Ok(payload_of(c, bookings::confirm(c.db(), c.caller()?, id).await, Booking)?.into())
    }

    /// Cancels a booking, applying the service's cancellation policy.
    async fn cancel_booking(&self, ctx: &Context<'_>, input: CancelBookingInput) -> Result<CancelBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let result = async {
            let cancel = bookings::Cancel {
                id,
                reason: input.reason,
                cancelled_for: input.cancelled_for.map(Into::into),
                alternative_booking_id: ids::expect_opt(
                    "alternativeBookingId",
                    "Booking",
                    input.alternative_booking_id.as_ref(),
                )?,
            };
            bookings::cancel(c.db(), caller, cancel).await
        }
        .await;
        Ok(payload_of(c, result, |r| BookingCancelled {
            booking: Booking(r.booking),
            charged_minutes: r.charged_minutes,
        })?
        .into())
    }

    /// Moves a booking: the new time is booked and the old cancelled, together or not at all.
    async fn reschedule_booking(
        &self,
        ctx: &Context<'_>,
        input: RescheduleBookingInput,
    ) -> Result<RescheduleBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let result = async {
            let r = bookings::Reschedule {
                id,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                reason: input.reason,
            };
            bookings::reschedule(c.db(), caller, r).await
        }
        .await;
        Ok(payload_of(c, result, |r| BookingRescheduled {
            previous: Booking(r.old),
            booking: Booking(r.new.booking),
            warnings: r.new.warnings,
        })?
        .into())
    }

    /// Records that a booking took place, with the minutes spent.
    async fn record_delivery(&self, ctx: &Context<'_>, input: RecordDeliveryInput) -> Result<BookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        let d = bookings::Delivery {
            id,
            direct_minutes: input.direct_minutes,
            preparation_minutes: input.preparation_minutes,
        };
        Ok(payload_of(c, bookings::deliver(c.db(), c.caller()?, d).await, Booking)?.into())
    }

    /// Records that the school did not attend (charged as a late cancellation).
    async fn record_no_show(&self, ctx: &Context<'_>, input: RecordNoShowInput) -> Result<CancelBookingPayload> {
        let c = context::of(ctx)?;
        let id: BookingId = not_found_if_bad(ids::expect("id", "Booking", &input.id)).or_gql(c)?;
        Ok(payload_of(
            c,
            bookings::no_show(c.db(), c.caller()?, id, &input.reason).await,
            |r| BookingCancelled {
                booking: Booking(r.booking),
                charged_minutes: r.charged_minutes,
            },
        )?
        .into())
    }
}
