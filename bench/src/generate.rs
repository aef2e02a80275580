//! The data generator: services of schools, EPs and SENCOs with several academic years of EP
//! time, deterministic from a seed (and the day it is generated for), written with multi-row
//! INSERTs in one transaction per service.
//!
//! It writes the rows the domain would write for the same history made through its operations
//! (`scps demo` makes a small one that way): the same defaults, the same ledger entries for each
//! booking, delivery, cancellation and no-show, the same audit entries, and nothing the domain
//! would refuse (no overlapping bookings of an EP, no travel-buffer clashes, no school work in
//! holidays, on bank holidays or in an EP's leave). A test checks the result against the domain's
//! own invariants through the API.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, TransactionTrait};

use domain::access::Role;
use domain::entities::*;
use domain::ids::*;
use domain::model::*;
use domain::time::local_to_utc;

mod consultations;
mod reflective;
mod semh;
mod space_to_talk;

pub use space_to_talk::{STT_SLOTS, has_space_to_talk, space_to_talk_link_token};

/// Everyone generated signs in with this password (one argon2 hash, computed once).
pub const PASSWORD: &str = "bench-password-2026";
/// The request id the generated audit entries carry.
const REQUEST_ID: &str = "bench-seed";
const ZONE: Tz = chrono_tz::Europe::London;
const DAY_MINUTES: i32 = 390;
const PRICE_PER_DAY_PENCE: i64 = 45_000;
const TRAVEL_BUFFER_MINUTES: i32 = 15;
const NOTICE_HOURS: i64 = 48;

/// The size of what is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub services: usize,
    pub schools: usize,
    pub eps: usize,
    pub years: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// One service, 60 schools, 10 EPs, one academic year.
    S,
    /// One service, 400 schools, 60 EPs, three academic years.
    L,
    /// Twenty services of L's size.
    Xl,
}

impl Scale {
    pub fn shape(self) -> Shape {
        match self {
            Scale::S => Shape {
                services: 1,
                schools: 60,
                eps: 10,
                years: 1,
            },
            Scale::L => Shape {
                services: 1,
                schools: 400,
                eps: 60,
                years: 3,
            },
            Scale::Xl => Shape {
                services: 20,
                schools: 400,
                eps: 60,
                years: 3,
            },
        }
    }
}

pub fn admin_email(service: usize) -> String {
    format!("admin.s{service}@bench.invalid")
}
pub fn ep_email(service: usize, ep: usize) -> String {
    format!("ep{ep:03}.s{service}@bench.invalid")
}
pub fn senco_email(service: usize, school: usize) -> String {
    format!("senco{school:04}.s{service}@bench.invalid")
}
pub fn staff_email(service: usize, school: usize, k: usize) -> String {
    format!("staff{school:04}-{k}.s{service}@bench.invalid")
}
/// Members of staff generated per school (they take places on reflective sessions).
pub const STAFF_PER_SCHOOL: usize = 3;
pub fn school_name(service: usize, school: usize) -> String {
    let kinds = [
        "Primary School",
        "Academy",
        "High School",
        "Infant School",
        "Special School",
        "Learning Centre",
    ];
    format!("Bench {} {school:04} (S{service})", kinds[school % kinds.len()])
}

/// What was written.
#[derive(Debug, Default, Clone)]
pub struct Written {
    pub rows: HashMap<&'static str, usize>,
}

impl Written {
    fn add(&mut self, table: &'static str, n: usize) {
        *self.rows.entry(table).or_default() += n;
    }
    pub fn total(&self) -> usize {
        self.rows.values().sum()
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rows: Vec<_> = self.rows.iter().collect();
        rows.sort();
        for (t, n) in rows {
            writeln!(f, "  {t:<24} {n:>9}")?;
        }
        write!(f, "  {:<24} {:>9}", "total", self.total())
    }
}

/// Deterministic ids: time-ordered (v7) with the row's own time and random bits from the seed.
struct Ids {
    rng: StdRng,
}

impl Ids {
    fn at(&mut self, at: DateTime<Utc>) -> uuid::Uuid {
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &bytes).into_uuid()
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn nth_monday(y: i32, m: u32, last: bool) -> NaiveDate {
    let mut d = if last {
        let next = if m == 12 { date(y + 1, 1, 1) } else { date(y, m + 1, 1) };
        next - Duration::days(1)
    } else {
        date(y, m, 1)
    };
    while d.weekday() != Weekday::Mon {
        d = if last {
            d - Duration::days(1)
        } else {
            d + Duration::days(1)
        };
    }
    d
}

fn easter(y: i32) -> NaiveDate {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(y, month as u32, day as u32)
}

/// The bank holidays of England and Wales in the academic year starting in September of `y`.
fn bank_holidays(y: i32) -> Vec<(NaiveDate, &'static str)> {
    let weekday_on_or_after = |d: NaiveDate| {
        let mut d = d;
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            d += Duration::days(1);
        }
        d
    };
    let christmas_off = weekday_on_or_after(date(y, 12, 25));
    let boxing_off = weekday_on_or_after(christmas_off + Duration::days(1));
    let easter_sunday = easter(y + 1);
    vec![
        (christmas_off, "Christmas Day"),
        (boxing_off, "Boxing Day"),
        (weekday_on_or_after(date(y + 1, 1, 1)), "New Year's Day"),
        (easter_sunday - Duration::days(2), "Good Friday"),
        (easter_sunday + Duration::days(1), "Easter Monday"),
        (nth_monday(y + 1, 5, false), "Early May bank holiday"),
        (nth_monday(y + 1, 5, true), "Spring bank holiday"),
        (nth_monday(y + 1, 8, true), "Summer bank holiday"),
    ]
}

/// A term and its two half-terms, as the demo's calendar has them.
struct TermDates {
    name: &'static str,
    range: (NaiveDate, NaiveDate),
    halves: [(&'static str, NaiveDate, NaiveDate); 2],
}

fn terms_of(y: i32) -> [TermDates; 3] {
    [
        TermDates {
            name: "Autumn",
            range: (date(y, 9, 3), date(y, 12, 18)),
            halves: [
                ("Autumn 1", date(y, 9, 3), date(y, 10, 23)),
                ("Autumn 2", date(y, 11, 2), date(y, 12, 18)),
            ],
        },
        TermDates {
            name: "Spring",
            range: (date(y + 1, 1, 5), date(y + 1, 3, 26)),
            halves: [
                ("Spring 1", date(y + 1, 1, 5), date(y + 1, 2, 12)),
                ("Spring 2", date(y + 1, 2, 22), date(y + 1, 3, 26)),
            ],
        },
        TermDates {
            name: "Summer",
            range: (date(y + 1, 4, 12), date(y + 1, 7, 21)),
            halves: [
                ("Summer 1", date(y + 1, 4, 12), date(y + 1, 5, 21)),
                ("Summer 2", date(y + 1, 6, 1), date(y + 1, 7, 21)),
            ],
        },
    ]
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The academic year that contains `today` (September to August).
pub fn year_start(today: NaiveDate) -> i32 {
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

/// One service's rows, in the order they are inserted (references first).
#[derive(Default)]
struct Rows {
    services: Vec<service::Model>,
    people: Vec<person::Model>,
    memberships: Vec<membership::Model>,
    invitations: Vec<invitation::Model>,
    schools: Vec<school::Model>,
    partner_clients: Vec<partner_client::Model>,
    partner_client_schools: Vec<partner_client_school::Model>,
    time_settings: Vec<time_settings::Model>,
    time_units: Vec<time_unit::Model>,
    academic_years: Vec<academic_year::Model>,
    terms: Vec<term::Model>,
    closures: Vec<closure::Model>,
    contracts: Vec<contract::Model>,
    top_ups: Vec<contract_top_up::Model>,
    patterns: Vec<working_pattern::Model>,
    hours: Vec<working_hours::Model>,
    exceptions: Vec<calendar_exception::Model>,
    series: Vec<booking_series::Model>,
    bookings: Vec<booking::Model>,
    ledger: Vec<ledger_entry::Model>,
    pupils: Vec<pupil::Model>,
    consultations: Vec<consultation::Model>,
    consents: Vec<consent::Model>,
    records: Vec<consultation_record::Model>,
    actions: Vec<consultation_action::Model>,
    session_types: Vec<reflective_session_type::Model>,
    sessions: Vec<reflective_session::Model>,
    session_schools: Vec<reflective_session_school::Model>,
    registrations: Vec<reflective_registration::Model>,
    feedback: Vec<reflective_feedback::Model>,
    stt_runs: Vec<space_to_talk_run::Model>,
    stt_run_schools: Vec<space_to_talk_run_school::Model>,
    stt_slots: Vec<space_to_talk_slot::Model>,
    stt_links: Vec<space_to_talk_link::Model>,
    stt_bookings: Vec<space_to_talk_booking::Model>,
    semh_templates: Vec<semh_template::Model>,
    semh_sections: Vec<semh_section::Model>,
    semh_items: Vec<semh_item::Model>,
    semh_rounds: Vec<semh_round::Model>,
    semh_respondents: Vec<semh_respondent::Model>,
    semh_responses: Vec<semh_response::Model>,
    semh_consensus: Vec<semh_consensus::Model>,
    semh_actions: Vec<semh_action::Model>,
    audit: Vec<audit_event::Model>,
}

/// Where an EP is already booked on a day: (from, to, in person, school).
type Diary = HashMap<(PersonId, NaiveDate), Vec<(DateTime<Utc>, DateTime<Utc>, bool, Option<SchoolId>)>>;

struct Gen<'a> {
    ids: Ids,
    rows: Rows,
    service: ServiceId,
    admin: PersonId,
    hash: &'a str,
    /// "Now" for the history: everything before it has happened.
    cut: DateTime<Utc>,
    diary: Diary,
    /// Days each EP is away (leave, training, sickness).
    away: HashMap<PersonId, Vec<NaiveDate>>,
    bank: Vec<NaiveDate>,
    taught: Vec<(NaiveDate, NaiveDate)>,
}

/// One booking to place, as an administrator would ask for it.
struct Ask {
    school: Option<SchoolId>,
    ep: PersonId,
    kind: BookingKind,
    visit: Option<BookingId>,
    mode: BookingMode,
    location: Option<&'static str>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    preparation: i32,
    stream: FundingStream,
    contract: Option<ContractId>,
    status: BookingStatus,
    series: Option<BookingSeriesId>,
    created_at: DateTime<Utc>,
}

/// What then happened to a booking.
enum Then {
    Nothing,
    Delivered { preparation: i32 },
    Cancelled { at: DateTime<Utc>, reason: &'static str },
    NoShow,
}

impl<'a> Gen<'a> {
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit entry's fields, as audit::Entry has them"
    )]
    fn audit(
        &mut self,
        at: DateTime<Utc>,
        action: &str,
        object_type: &str,
        object: uuid::Uuid,
        school: Option<SchoolId>,
        detail: Option<serde_json::Value>,
        system: bool,
    ) {
        let id = AuditEventId(self.ids.at(at));
        self.rows.audit.push(audit_event::Model {
            id,
            service_id: Some(self.service),
            school_id: school,
            actor_kind: if system { ActorKind::System } else { ActorKind::Person },
            actor_person_id: (!system).then_some(self.admin),
            partner_client_id: None,
            action: action.to_owned(),
            object_type: Some(object_type.to_owned()),
            object_id: Some(object),
            request_id: Some(REQUEST_ID.to_owned()),
            occurred_at: at,
            detail: detail.map(|d| d.to_string()),
        });
    }

    fn person(&mut self, at: DateTime<Utc>, email: String, name: String) -> PersonId {
        let id = PersonId(self.ids.at(at));
        self.rows.people.push(person::Model {
            id,
            email,
            display_name: name,
            password_hash: Some(self.hash.to_owned()),
            status: PersonStatus::Active,
            created_at: at,
            updated_at: at,
            disabled_at: None,
            last_sign_in_at: None,
        });
        id
    }

    fn member(
        &mut self,
        at: DateTime<Utc>,
        person: PersonId,
        role: Role,
        school: Option<SchoolId>,
        by: Option<PersonId>,
    ) {
        let id = MembershipId(self.ids.at(at));
        self.rows.memberships.push(membership::Model {
            id,
            person_id: person,
            service_id: self.service,
            school_id: school,
            role,
            created_at: at,
            created_by: by,
            revoked_at: None,
            revoked_by: None,
        });
    }

    /// An invited person who accepted (people::invite, then identity::accept_invitation).
    fn invited(
        &mut self,
        at: DateTime<Utc>,
        email: String,
        name: String,
        role: Role,
        school: Option<SchoolId>,
    ) -> PersonId {
        let p = self.person(at, email, name);
        self.member(at, p, role, school, Some(self.admin));
        let id = InvitationId(self.ids.at(at));
        let token = format!("bench-invitation-{}", id.0);
        self.rows.invitations.push(invitation::Model {
            id,
            person_id: p,
            service_id: self.service,
            token_digest: domain::secrets::token_digest(&token),
            created_at: at,
            created_by: Some(self.admin),
            expires_at: at + Duration::days(14),
            accepted_at: Some(at + Duration::hours(1)),
        });
        self.audit(at, "person.invite", "Person", p.0, school, None, false);
        let accepted = at + Duration::hours(1);
        let row = AuditEventId(self.ids.at(accepted));
        self.rows.audit.push(audit_event::Model {
            id: row,
            service_id: Some(self.service),
            school_id: None,
            actor_kind: ActorKind::Person,
            actor_person_id: Some(p),
            partner_client_id: None,
            action: "person.accept_invitation".to_owned(),
            object_type: Some("Person".to_owned()),
            object_id: Some(p.0),
            request_id: Some(REQUEST_ID.to_owned()),
            occurred_at: accepted,
            detail: None,
        });
        p
    }

    fn school_day(&self, ep: PersonId, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
            && self.taught.iter().any(|(a, b)| *a <= d && d <= *b)
            && !self.bank.contains(&d)
            && !self.away.get(&ep).is_some_and(|days| days.contains(&d))
    }

    fn ledger(
        &mut self,
        at: DateTime<Utc>,
        b: &booking::Model,
        kind: LedgerKind,
        category: TimeCategory,
        minutes: i64,
        reason: Option<&str>,
    ) {
        if minutes == 0 {
            return;
        }
        let id = LedgerEntryId(self.ids.at(at));
        self.rows.ledger.push(ledger_entry::Model {
            id,
            service_id: b.service_id,
            school_id: b.school_id,
            ep_id: Some(b.ep_id),
            contract_id: b.contract_id,
            booking_id: Some(b.id),
            kind,
            funding_stream: b.funding_stream.unwrap_or(FundingStream::Traded),
            category,
            minutes: minutes as i32,
            applies_on: b.starts_at.with_timezone(&ZONE).date_naive(),
            reason: reason.map(str::to_owned),
            created_at: at,
            created_by: Some(self.admin),
            created_by_partner: None,
            corrects_entry_id: None,
        });
    }

    /// Places a booking as `bookings::create` would (or refuses it as it would, returning
    /// `None`), then records what happened to it.
    fn book(&mut self, ask: Ask, then: Then) -> Option<BookingId> {
        let day = ask.starts_at.with_timezone(&ZONE).date_naive();
        let school_work = ask.school.is_some() || ask.kind.is_school_work();
        if school_work && !self.school_day(ask.ep, day) {
            return None;
        }
        // Service closures (bank holidays) and the EP's own exceptions apply to all EP time.
        if self.bank.contains(&day) || self.away.get(&ask.ep).is_some_and(|days| days.contains(&day)) {
            return None;
        }
        let in_person = ask.mode == BookingMode::InPerson;
        if ask.visit.is_none() {
            let buffer = if in_person {
                Duration::minutes(i64::from(TRAVEL_BUFFER_MINUTES))
            } else {
                Duration::zero()
            };
            let taken = self.diary.entry((ask.ep, day)).or_default();
            for (from, to, other_in_person, other_school) in taken.iter() {
                let near = *from < ask.ends_at + buffer && ask.starts_at - buffer < *to;
                if !near {
                    continue;
                }
                let overlaps = *from < ask.ends_at && ask.starts_at < *to;
                let travels = *other_in_person && *other_school != ask.school;
                if overlaps || (travels && buffer > Duration::zero()) {
                    return None;
                }
            }
            taken.push((ask.starts_at, ask.ends_at, in_person, ask.school));
        }
        let chargeable = ask.school.is_some() && ask.visit.is_none();
        let direct = (ask.ends_at - ask.starts_at).num_minutes();
        let short_notice = ask.starts_at < ask.created_at + Duration::hours(24);
        let id = BookingId(self.ids.at(ask.created_at));
        let mut b = booking::Model {
            id,
            service_id: self.service,
            school_id: ask.school,
            ep_id: ask.ep,
            kind: ask.kind,
            visit_id: ask.visit,
            mode: ask.mode,
            location: ask.location.map(str::to_owned),
            starts_at: ask.starts_at,
            ends_at: ask.ends_at,
            blocked_from: ask.starts_at,
            blocked_until: ask.ends_at,
            status: ask.status,
            funding_stream: ask.school.map(|_| ask.stream),
            contract_id: if chargeable { ask.contract } else { None },
            direct_minutes: direct as i32,
            preparation_minutes: ask.preparation,
            overbooking_reason: None,
            created_at: ask.created_at,
            created_by: Some(self.admin),
            created_by_partner: None,
            updated_at: ask.created_at,
            confirmed_at: (ask.status == BookingStatus::Confirmed).then_some(ask.created_at),
            delivered_at: None,
            cancelled_at: None,
            cancelled_by: None,
            cancelled_by_partner: None,
            cancelled_for: None,
            cancellation_reason: None,
            cancellation_charged: None,
            rescheduled_from_id: None,
            rescheduled_to_id: None,
            alternative_id: None,
            short_notice_reason: short_notice.then(|| "Recorded by the generator".to_owned()),
            series_id: ask.series,
        };
        if chargeable {
            self.ledger(
                ask.created_at,
                &b,
                LedgerKind::Booked,
                TimeCategory::Direct,
                direct,
                None,
            );
            self.ledger(
                ask.created_at,
                &b,
                LedgerKind::Booked,
                TimeCategory::Preparation,
                i64::from(ask.preparation),
                None,
            );
        }
        self.audit(
            ask.created_at,
            "booking.create",
            "Booking",
            id.0,
            ask.school,
            Some(serde_json::json!({ "kind": ask.kind.as_str(), "epId": ask.ep })),
            false,
        );
        let held = (direct, i64::from(ask.preparation));
        match then {
            Then::Nothing => {}
            Then::Delivered { preparation } => {
                let at = ask.ends_at + Duration::hours(2);
                if chargeable {
                    self.ledger(at, &b, LedgerKind::Released, TimeCategory::Direct, -held.0, None);
                    self.ledger(at, &b, LedgerKind::Released, TimeCategory::Preparation, -held.1, None);
                    self.ledger(at, &b, LedgerKind::Delivered, TimeCategory::Direct, direct, None);
                    self.ledger(
                        at,
                        &b,
                        LedgerKind::Delivered,
                        TimeCategory::Preparation,
                        i64::from(preparation),
                        None,
                    );
                }
                b.status = BookingStatus::Delivered;
                b.delivered_at = Some(at);
                b.preparation_minutes = preparation;
                b.updated_at = at;
                self.audit(
                    at,
                    "booking.deliver",
                    "Booking",
                    id.0,
                    ask.school,
                    Some(serde_json::json!({ "directMinutes": direct, "preparationMinutes": preparation })),
                    false,
                );
            }
            Then::Cancelled { at, reason } => {
                let late = at > ask.starts_at - Duration::hours(NOTICE_HOURS);
                let charged = self.cancel(&mut b, at, reason, if late { 100 } else { 0 }, held, chargeable);
                self.audit(
                    at,
                    "booking.cancel",
                    "Booking",
                    id.0,
                    ask.school,
                    Some(serde_json::json!({ "for": "SCHOOL", "chargedMinutes": charged })),
                    false,
                );
                self.free(&b, day);
            }
            Then::NoShow => {
                let at = ask.starts_at + Duration::minutes(30);
                let charged = self.cancel(&mut b, at, "The school did not attend", 100, held, chargeable);
                b.status = BookingStatus::NoShow;
                self.audit(
                    at,
                    "booking.no_show",
                    "Booking",
                    id.0,
                    ask.school,
                    Some(serde_json::json!({ "chargedMinutes": charged })),
                    false,
                );
            }
        }
        self.rows.bookings.push(b);
        Some(id)
    }

    /// `cancel_row`: releases what the booking holds and charges the school its share.
    fn cancel(
        &mut self,
        b: &mut booking::Model,
        at: DateTime<Utc>,
        reason: &str,
        percent: i64,
        held: (i64, i64),
        chargeable: bool,
    ) -> i64 {
        let mut charged = 0;
        if chargeable {
            self.ledger(at, b, LedgerKind::Released, TimeCategory::Direct, -held.0, Some(reason));
            self.ledger(
                at,
                b,
                LedgerKind::Released,
                TimeCategory::Preparation,
                -held.1,
                Some(reason),
            );
            let (direct, prep) = if percent <= 0 || b.funding_stream == Some(FundingStream::Statutory) {
                (0, 0)
            } else {
                let total = held.0 + held.1;
                let charged = (total * percent + 50) / 100;
                let direct = if total > 0 { charged * held.0 / total } else { 0 };
                (direct, charged - direct)
            };
            self.ledger(
                at,
                b,
                LedgerKind::LateCancellation,
                TimeCategory::Direct,
                direct,
                Some(reason),
            );
            self.ledger(
                at,
                b,
                LedgerKind::LateCancellation,
                TimeCategory::Preparation,
                prep,
                Some(reason),
            );
            charged = direct + prep;
        }
        b.status = BookingStatus::Cancelled;
        b.cancelled_at = Some(at);
        b.cancelled_by = Some(self.admin);
        b.cancelled_for = Some(CancelledFor::School);
        b.cancellation_reason = Some(reason.to_owned());
        b.cancellation_charged = Some(charged > 0);
        b.updated_at = at;
        charged
    }

    /// A cancelled booking no longer holds its time in the EP's diary.
    fn free(&mut self, b: &booking::Model, day: NaiveDate) {
        if b.visit_id.is_some() {
            return;
        }
        if let Some(taken) = self.diary.get_mut(&(b.ep_id, day)) {
            taken.retain(|(from, to, _, _)| !(*from == b.starts_at && *to == b.ends_at));
        }
    }

    /// What happens to a booking that starts at `start`, given a number that varies by school
    /// and week: most past bookings are delivered, a few cancelled late or missed; a few future
    /// ones cancelled in good time.
    fn fate(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        created: DateTime<Utc>,
        n: usize,
        preparation: i32,
    ) -> Then {
        if end + Duration::hours(2) <= self.cut {
            match n % 23 {
                3 => Then::Cancelled {
                    at: start - Duration::hours(20),
                    reason: "The school asked to cancel at short notice",
                },
                11 => Then::NoShow,
                _ => Then::Delivered {
                    preparation: if n.is_multiple_of(2) {
                        preparation
                    } else {
                        preparation + 15
                    },
                },
            }
        } else if start > self.cut && n % 19 == 5 {
            let at = (created + Duration::days(3)).min(self.cut - Duration::hours(1));
            Then::Cancelled {
                at,
                reason: "The school no longer needs this visit",
            }
        } else {
            Then::Nothing
        }
    }
}

/// Generates `shape` into a migrated, empty database.
pub async fn generate(db: &DatabaseConnection, shape: Shape, seed: u64, today: NaiveDate) -> anyhow::Result<Written> {
    let existing = domain::identity::all_services(db)
        .await
        .map_err(|e| anyhow::anyhow!("reading services: {e:?}"))?;
    if !existing.is_empty() {
        anyhow::bail!("the database has services already; generate into an empty one");
    }
    let hash = tokio::task::spawn_blocking(|| domain::secrets::hash_password(PASSWORD))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    let mut written = Written::default();
    for s in 0..shape.services {
        let rows = service_rows(s, shape, seed, today, &hash);
        write(db, rows, &mut written).await?;
    }
    // A database that grew to this size would have its planner statistics: without them the
    // planner guesses (on PostgreSQL it chose 24 ms bitmap scans over 0.2 ms index scans at L).
    #[allow(clippy::disallowed_methods, reason = "planner statistics after a bulk load")]
    sea_orm::ConnectionTrait::execute_unprepared(db, "ANALYZE").await?;
    Ok(written)
}

fn service_rows(s: usize, shape: Shape, seed: u64, today: NaiveDate, hash: &str) -> Rows {
    let mut rng = StdRng::seed_from_u64(seed ^ ((s as u64 + 1) << 32));
    let ids = Ids {
        rng: StdRng::seed_from_u64(rng.next_u64()),
    };
    let y_now = year_start(today);
    let first_year = y_now - (shape.years as i32 - 1);
    let t0 = local_to_utc(ZONE, date(first_year, 8, 1), hm(9, 0));
    let mut g = Gen {
        ids,
        rows: Rows::default(),
        service: ServiceId(uuid::Uuid::nil()),
        admin: PersonId(uuid::Uuid::nil()),
        hash,
        cut: local_to_utc(ZONE, today, hm(0, 0)),
        diary: HashMap::new(),
        away: HashMap::new(),
        bank: Vec::new(),
        taught: Vec::new(),
    };

    // The service, its administrator and settings (services::create, then settings::update).
    g.service = ServiceId(g.ids.at(t0));
    g.rows.services.push(service::Model {
        id: g.service,
        name: format!("Bench Educational Psychology Service {s:02} (generated)"),
        time_zone: ZONE.name().to_owned(),
        created_at: t0,
        updated_at: t0,
        // The database's triggers stamp it as the calendar is written.
        calendar_stamp: 0,
    });
    g.admin = g.person(t0, admin_email(s), format!("Bench Administrator {s:02}"));
    let admin = g.admin;
    g.member(t0, admin, Role::ServiceAdmin, None, None);
    g.rows.time_settings.push(time_settings::Model {
        service_id: g.service,
        cancellation_notice_hours: NOTICE_HOURS as i32,
        late_cancellation_charge_percent: 100,
        ep_cancellation_requires_alternative: true,
        overbooking_policy: OverbookingPolicy::AllowWithWarning,
        travel_buffer_minutes: TRAVEL_BUFFER_MINUTES,
        minimum_notice_hours: 24,
        slot_step_minutes: 15,
        even_use_over: SpreadPeriod::Terms,
        under_use_tolerance_percent: 15,
        updated_at: t0,
        term_time_policy: TermTimePolicy::Refuse,
        schools_may_book: true,
        school_booking_kinds: domain::time::settings::join_kinds(domain::time::settings::DEFAULT_SCHOOL_KINDS),
        school_booking_within_visits: false,
    });
    let sid = g.service;
    g.audit(t0, "service.create", "Service", sid.0, None, None, true);
    g.audit(t0, "time_settings.update", "Service", sid.0, None, None, false);
    let mut day_unit = TimeUnitId(uuid::Uuid::nil());
    for (name, minutes) in [("day", 390), ("half-day", 195), ("session", 180), ("hour", 60)] {
        let id = TimeUnitId(g.ids.at(t0));
        if name == "day" {
            day_unit = id;
        }
        g.rows.time_units.push(time_unit::Model {
            id,
            service_id: sid,
            name: name.to_owned(),
            minutes,
            created_at: t0,
            archived_at: None,
        });
    }

    // Academic years with their terms, half-terms and bank holidays.
    let mut years = Vec::new();
    for y in first_year..=y_now {
        let at = t0;
        let year = AcademicYearId(g.ids.at(at));
        g.rows.academic_years.push(academic_year::Model {
            id: year,
            service_id: sid,
            name: format!("{}/{:02}", y, (y + 1) % 100),
            starts_on: date(y, 9, 1),
            ends_on: date(y + 1, 8, 31),
            created_at: at,
        });
        for t in terms_of(y) {
            let parent = TermId(g.ids.at(at));
            g.rows.terms.push(term::Model {
                id: parent,
                service_id: sid,
                academic_year_id: year,
                parent_term_id: None,
                name: t.name.to_owned(),
                starts_on: t.range.0,
                ends_on: t.range.1,
            });
            for (name, a, b) in t.halves {
                let id = TermId(g.ids.at(at));
                g.rows.terms.push(term::Model {
                    id,
                    service_id: sid,
                    academic_year_id: year,
                    parent_term_id: Some(parent),
                    name: name.to_owned(),
                    starts_on: a,
                    ends_on: b,
                });
                g.taught.push((a, b));
            }
        }
        g.audit(at, "academic_year.create", "AcademicYear", year.0, None, None, false);
        for (d, reason) in bank_holidays(y) {
            let id = ClosureId(g.ids.at(at));
            g.rows.closures.push(closure::Model {
                id,
                service_id: sid,
                school_id: None,
                kind: ClosureKind::BankHoliday,
                starts_on: d,
                ends_on: d,
                reason: Some(reason.to_owned()),
                created_at: at,
            });
            g.bank.push(d);
            g.audit(at, "closure.create", "Closure", id.0, None, None, false);
        }
        years.push((y, year));
    }

    // Schools, EPs with their working patterns, SENCOs and school leaders.
    let phases = [
        Phase::Primary,
        Phase::Secondary,
        Phase::Primary,
        Phase::EarlyYears,
        Phase::Special,
        Phase::Primary,
        Phase::Pru,
        Phase::AllThrough,
        Phase::Post16,
    ];
    let mut schools = Vec::new();
    for i in 0..shape.schools {
        let at = t0 + Duration::minutes(1);
        let id = SchoolId(g.ids.at(at));
        g.rows.schools.push(school::Model {
            id,
            service_id: sid,
            name: school_name(s, i),
            urn: format!("{}", 800_000 + i),
            phase: phases[i % phases.len()],
            status: SchoolStatus::Open,
            created_at: at,
            updated_at: at,
            archived_at: None,
        });
        g.audit(at, "school.create", "School", id.0, Some(id), None, false);
        schools.push(id);
    }
    let mut eps = Vec::new();
    for e in 0..shape.eps {
        let at = t0 + Duration::minutes(2);
        let title = if e % 5 == 0 { "Dr " } else { "" };
        let p = g.invited(
            at,
            ep_email(s, e),
            format!("{title}Bench EP {e:03}"),
            Role::Psychologist,
            None,
        );
        let pattern = WorkingPatternId(g.ids.at(at));
        g.rows.patterns.push(working_pattern::Model {
            id: pattern,
            service_id: sid,
            ep_id: p,
            effective_from: date(first_year, 9, 1),
            effective_until: None,
            fte_hundredths: 100,
            created_at: at,
            created_by: Some(admin),
        });
        for weekday in 1..=5 {
            let id = g.ids.at(at);
            g.rows.hours.push(working_hours::Model {
                id,
                pattern_id: pattern,
                weekday,
                starts_at: hm(8, 30),
                ends_at: hm(17, 0),
            });
        }
        g.audit(
            at,
            "working_pattern.set",
            "WorkingPattern",
            pattern.0,
            None,
            None,
            false,
        );
        eps.push(p);
    }
    // Who may take a place on a reflective session, per school: its staff and its SENCO.
    let mut people_of: Vec<Vec<PersonId>> = Vec::new();
    for (i, school) in schools.clone().into_iter().enumerate() {
        let at = t0 + Duration::minutes(3);
        let p = g.invited(
            at,
            senco_email(s, i),
            format!("Bench SENCO {i:04}"),
            Role::Senco,
            Some(school),
        );
        let mut people = Vec::new();
        for k in 0..STAFF_PER_SCHOOL {
            people.push(g.invited(
                at,
                staff_email(s, i, k),
                format!("Bench Teacher {i:04}-{k}"),
                Role::SchoolStaff,
                Some(school),
            ));
        }
        people.push(p);
        people_of.push(people);
        if i % 7 == 6 && i + 1 < schools.len() {
            // A SENCO of two schools (people::grant).
            let second = schools[i + 1];
            g.member(at, p, Role::Senco, Some(second), Some(admin));
            let m = g.rows.memberships.last().map(|m| m.id.0).unwrap_or_default();
            g.audit(
                at,
                "membership.grant",
                "Membership",
                m,
                Some(second),
                Some(serde_json::json!({ "personId": p, "role": "SENCO" })),
                false,
            );
        }
        if i % 4 == 0 {
            g.invited(
                at,
                format!("leader{i:04}.s{s}@bench.invalid"),
                format!("Bench Headteacher {i:04}"),
                Role::SchoolLeader,
                Some(school),
            );
        }
    }
    // A partner client limited to three schools.
    {
        let at = t0 + Duration::minutes(4);
        let id = PartnerClientId(g.ids.at(at));
        g.rows.partner_clients.push(partner_client::Model {
            id,
            service_id: sid,
            name: format!("Bench Council Portal {s:02}"),
            client_id: format!("pc_bench_{s:02}_{}", &id.0.simple().to_string()[..12]),
            secret_digest: domain::secrets::token_digest(&format!("bench-secret-{}", id.0)),
            secret_version: 1,
            scopes: "availability:read bookings:read schools:read".to_owned(),
            limited_to_schools: true,
            status: PartnerClientStatus::Active,
            created_at: at,
            created_by: Some(admin),
            updated_at: at,
            secret_rotated_at: at,
        });
        for school in schools.iter().take(3) {
            g.rows.partner_client_schools.push(partner_client_school::Model {
                partner_client_id: id,
                school_id: *school,
                service_id: sid,
            });
        }
        g.audit(at, "partner_client.create", "PartnerClient", id.0, None, None, false);
    }

    let session_types = g.session_types(t0 + Duration::minutes(5));
    let facilitators: Vec<PersonId> = (0..schools.len().div_ceil(4))
        .map(|c| eps[(c * 4) % eps.len()])
        .collect();
    let mut reflective_n = 0;

    // Each year: the EPs' leave, contracts and top-ups, then the year's bookings.
    let mut meetings = Vec::new();
    for (y, year) in years {
        let made = local_to_utc(ZONE, date(y, 8, 20), hm(9, 0));
        for (e, ep) in eps.clone().into_iter().enumerate() {
            let spring2 = monday_of(date(y + 1, 2, 22)) + Duration::weeks(1 + (e % 4) as i64);
            let mut away = vec![(ExceptionKind::Leave, spring2, 5, "Annual leave")];
            away.push((
                ExceptionKind::Training,
                monday_of(date(y + 1, 4, 12)) + Duration::weeks(2) + Duration::days(4),
                1,
                "Training day",
            ));
            if e % 5 == 0 {
                away.push((
                    ExceptionKind::Sickness,
                    monday_of(date(y, 11, 2)) + Duration::weeks(3) + Duration::days(1),
                    2,
                    "Unwell",
                ));
            }
            for (kind, from, days, reason) in away {
                let id = CalendarExceptionId(g.ids.at(made));
                g.rows.exceptions.push(calendar_exception::Model {
                    id,
                    service_id: sid,
                    ep_id: ep,
                    kind,
                    starts_at: local_to_utc(ZONE, from, hm(0, 0)),
                    ends_at: local_to_utc(ZONE, from + Duration::days(days), hm(0, 0)),
                    reason: Some(reason.to_owned()),
                    created_at: made,
                    created_by: Some(admin),
                    withdrawn_at: None,
                });
                g.audit(
                    made,
                    "calendar_exception.create",
                    "CalendarException",
                    id.0,
                    None,
                    None,
                    false,
                );
                let list = g.away.entry(ep).or_default();
                for d in 0..days {
                    list.push(from + Duration::days(d));
                }
            }
        }

        let mut traded = Vec::new();
        for (i, school) in schools.iter().enumerate() {
            let days: i64 = rng.random_range(8..=16);
            let mk = |g: &mut Gen<'_>, stream: FundingStream, days: i64, price: Option<i64>| {
                let id = ContractId(g.ids.at(made));
                let qty = (days * 100) as i32;
                g.rows.contracts.push(contract::Model {
                    id,
                    service_id: sid,
                    school_id: *school,
                    period_kind: PeriodKind::AcademicYear,
                    starts_on: date(y, 9, 1),
                    ends_on: date(y + 1, 8, 31),
                    academic_year_id: Some(year),
                    funding_stream: stream,
                    unit_id: day_unit,
                    quantity_hundredths: qty,
                    minutes: domain::time::contracts::minutes_for(i64::from(qty), DAY_MINUTES) as i32,
                    price_pence: price,
                    link_ep_id: Some(eps[i % eps.len()]),
                    status: ContractStatus::Active,
                    created_at: made,
                    created_by: Some(admin),
                    updated_at: made,
                    unit_minutes: DAY_MINUTES,
                });
                g.audit(made, "contract.create", "Contract", id.0, Some(*school), None, false);
                id
            };
            let c = mk(&mut g, FundingStream::Traded, days, Some(days * PRICE_PER_DAY_PENCE));
            traded.push(c);
            if i % 3 == 0 {
                mk(&mut g, FundingStream::Core, 1, None);
            }
            let top_up_at = local_to_utc(ZONE, date(y + 1, 1, 12), hm(10, 0));
            if i % 5 == 0 && top_up_at < g.cut {
                let id = TopUpId(g.ids.at(top_up_at));
                let minutes = domain::time::contracts::minutes_for(200, DAY_MINUTES) as i32;
                g.rows.top_ups.push(contract_top_up::Model {
                    id,
                    service_id: sid,
                    school_id: *school,
                    contract_id: c,
                    quantity_hundredths: 200,
                    minutes,
                    price_pence: Some(2 * PRICE_PER_DAY_PENCE),
                    reason: "Two more days agreed for the spring".to_owned(),
                    created_at: top_up_at,
                    created_by: Some(admin),
                });
                if let Some(row) = g.rows.contracts.iter_mut().find(|r| r.id == c) {
                    row.updated_at = top_up_at;
                }
                g.audit(
                    top_up_at,
                    "contract.top_up",
                    "Contract",
                    c.0,
                    Some(*school),
                    Some(serde_json::json!({ "topUpId": id, "minutes": minutes })),
                    false,
                );
            }
        }

        // Fortnightly half-day visits per term with the link EP, some made as a series; a
        // consultation inside every third school's visits; a planning meeting per term online;
        // statutory assessments; EP training sessions.
        let mut n = 0usize;
        for term in terms_of(y) {
            let (from, to) = term.range;
            for (i, school) in schools.iter().enumerate() {
                let e = i % eps.len();
                let ep = eps[e];
                let k = i / eps.len();
                let weekday = ((k / 2) % 5) as u32 + 1;
                let parity = (k % 2) as i64;
                let pm = (k / 10) % 2 == 1;
                let (start_t, end_t) = if pm {
                    (hm(13, 15), hm(16, 30))
                } else {
                    (hm(9, 0), hm(12, 15))
                };
                let series = (parity == 0 && i % 3 == 0).then(|| {
                    let id = BookingSeriesId(g.ids.at(made));
                    g.rows.series.push(booking_series::Model {
                        id,
                        service_id: sid,
                        school_id: *school,
                        ep_id: ep,
                        kind: BookingKind::Visit,
                        mode: BookingMode::InPerson,
                        location: Some("School office".to_owned()),
                        weekday: weekday as i32,
                        starts_at: start_t,
                        ends_at: end_t,
                        every_weeks: 2,
                        starts_on: from,
                        ends_on: to,
                        created_at: made,
                        created_by: Some(admin),
                    });
                    id
                });
                let dates = domain::time::bookings::series::dates_of(
                    domain::time::DateRange {
                        starts_on: from,
                        ends_on: to,
                    },
                    weekday,
                    1,
                );
                let mut made_in_series = 0;
                for (w, d) in dates.into_iter().enumerate() {
                    if (w as i64) % 2 != parity {
                        continue;
                    }
                    n += 1;
                    let starts_at = local_to_utc(ZONE, d, start_t);
                    let ends_at = local_to_utc(ZONE, d, end_t);
                    let status = if series.is_none() && starts_at > g.cut + Duration::weeks(4) {
                        BookingStatus::Tentative
                    } else {
                        BookingStatus::Confirmed
                    };
                    let fate = g.fate(starts_at, ends_at, made, i * 7 + w, 30);
                    let plain = matches!(fate, Then::Nothing | Then::Delivered { .. });
                    let delivered = matches!(fate, Then::Delivered { .. });
                    let Some(visit) = g.book(
                        Ask {
                            school: Some(*school),
                            ep,
                            kind: BookingKind::Visit,
                            visit: None,
                            mode: BookingMode::InPerson,
                            location: Some("School office"),
                            starts_at,
                            ends_at,
                            preparation: 30,
                            stream: FundingStream::Traded,
                            contract: Some(traded[i]),
                            status,
                            series,
                            created_at: made,
                        },
                        fate,
                    ) else {
                        continue;
                    };
                    made_in_series += 1;
                    if i % 3 == 0 && plain && status == BookingStatus::Confirmed {
                        let start = starts_at + Duration::minutes(30);
                        let end = start + Duration::minutes(75);
                        let booked = g.book(
                            Ask {
                                school: Some(*school),
                                ep,
                                kind: BookingKind::Consultation,
                                visit: Some(visit),
                                mode: BookingMode::InPerson,
                                location: Some("Meeting room"),
                                starts_at: start,
                                ends_at: end,
                                preparation: 30,
                                stream: FundingStream::Traded,
                                contract: None,
                                status: BookingStatus::Confirmed,
                                series: None,
                                created_at: made,
                            },
                            if delivered {
                                Then::Delivered { preparation: 30 }
                            } else {
                                Then::Nothing
                            },
                        );
                        if let Some(booking) = booked {
                            meetings.push(consultations::Meeting {
                                school: *school,
                                ep,
                                booking,
                                starts_at: start,
                                ends_at: end,
                                booked_at: made,
                                delivered,
                            });
                        }
                    }
                }
                if let Some(id) = series {
                    g.audit(
                        made,
                        "booking_series.create",
                        "BookingSeries",
                        id.0,
                        Some(*school),
                        Some(serde_json::json!({ "booked": made_in_series, "skipped": 0 })),
                        false,
                    );
                }

                // One online planning meeting per school per term, in the afternoon.
                let week = 3 + (k / 5) as i64;
                let day = monday_of(from) + Duration::weeks(week) + Duration::days((k % 5) as i64);
                let starts_at = local_to_utc(ZONE, day, hm(14, 0));
                let ends_at = starts_at + Duration::minutes(60);
                n += 1;
                let fate = g.fate(starts_at, ends_at, made, i * 5 + week as usize, 15);
                g.book(
                    Ask {
                        school: Some(*school),
                        ep,
                        kind: BookingKind::PlanningMeeting,
                        visit: None,
                        mode: BookingMode::Online,
                        location: None,
                        starts_at,
                        ends_at,
                        preparation: 15,
                        stream: FundingStream::Traded,
                        contract: Some(traded[i]),
                        status: BookingStatus::Confirmed,
                        series: None,
                        created_at: made,
                    },
                    fate,
                );
                // Reflective sessions and audit support for some schools (Space to Talk is
                // always a slot of a run: see `space_to_talk`).
                if i % 4 == 2 {
                    let kind = [
                        BookingKind::AuditSupport,
                        BookingKind::ReflectiveSession,
                        BookingKind::AuditSupport,
                    ][(i / 4) % 3];
                    let day = monday_of(from) + Duration::weeks(week + 2) + Duration::days((k % 5) as i64);
                    let starts_at = local_to_utc(ZONE, day, hm(15, 15));
                    let ends_at = starts_at + Duration::minutes(45);
                    let fate = g.fate(starts_at, ends_at, made, i * 3 + 1, 15);
                    g.book(
                        Ask {
                            school: Some(*school),
                            ep,
                            kind,
                            visit: None,
                            mode: BookingMode::Online,
                            location: None,
                            starts_at,
                            ends_at,
                            preparation: 15,
                            stream: FundingStream::Traded,
                            contract: Some(traded[i]),
                            status: BookingStatus::Confirmed,
                            series: None,
                            created_at: made,
                        },
                        fate,
                    );
                }
                // Statutory assessments (no contract: statutory work never draws down traded time).
                if i % 7 == 1 {
                    let day = monday_of(from) + Duration::weeks(5) + Duration::days(4);
                    let starts_at = local_to_utc(ZONE, day, hm(9, 0) + Duration::minutes(((k % 3) * 120) as i64));
                    let ends_at = starts_at + Duration::minutes(90);
                    let fate = g.fate(starts_at, ends_at, made, i + 2, 60);
                    g.book(
                        Ask {
                            school: Some(*school),
                            ep,
                            kind: BookingKind::Other,
                            visit: None,
                            mode: BookingMode::InPerson,
                            location: Some("EHC needs assessment"),
                            starts_at,
                            ends_at,
                            preparation: 60,
                            stream: FundingStream::Statutory,
                            contract: None,
                            status: BookingStatus::Confirmed,
                            series: None,
                            created_at: made,
                        },
                        fate,
                    );
                }
            }
            // Each EP's training afternoon in each half-term (no school, no ledger).
            for (e, ep) in eps.clone().into_iter().enumerate() {
                for (_, a, _) in term.halves {
                    let day = monday_of(a) + Duration::weeks(2) + Duration::days(4);
                    let starts_at = local_to_utc(ZONE, day, hm(13, 30) + Duration::minutes(((e % 2) * 30) as i64));
                    let ends_at = starts_at + Duration::minutes(120);
                    let then = if ends_at + Duration::hours(2) <= g.cut {
                        Then::Delivered { preparation: 0 }
                    } else {
                        Then::Nothing
                    };
                    g.book(
                        Ask {
                            school: None,
                            ep,
                            kind: BookingKind::Training,
                            visit: None,
                            mode: BookingMode::InPerson,
                            location: Some("Service office"),
                            starts_at,
                            ends_at,
                            preparation: 0,
                            stream: FundingStream::Traded,
                            contract: None,
                            status: BookingStatus::Confirmed,
                            series: None,
                            created_at: made,
                        },
                        then,
                    );
                }
            }
            // Reflective sessions for the clusters of four neighbouring schools.
            let clusters: Vec<Vec<reflective::Member>> = schools
                .chunks(4)
                .enumerate()
                .map(|(c, chunk)| {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(k, school)| reflective::Member {
                            school: *school,
                            contract: traded[c * 4 + k],
                            people: people_of[c * 4 + k].clone(),
                        })
                        .collect()
                })
                .collect();
            for (h, (_, a, b)) in term.halves.iter().enumerate() {
                g.reflective_half(
                    (*a, *b),
                    h == 1,
                    &clusters,
                    &facilitators,
                    &session_types,
                    made,
                    &mut reflective_n,
                );
            }
        }
        let _ = n;
    }
    g.consultations(meetings, &schools, &eps);
    let sencos: Vec<PersonId> = people_of.iter().filter_map(|p| p.last().copied()).collect();
    g.space_to_talk(s, &schools, &sencos, &eps);
    g.semh(&schools, &people_of, t0 + Duration::minutes(4));
    g.rows
}

/// Rows per INSERT: well inside both databases' limits on bound parameters.
fn chunk_for(columns: usize) -> usize {
    (16_000 / columns).clamp(1, 1000)
}

async fn insert_all<M, A>(
    txn: &sea_orm::DatabaseTransaction,
    table: &'static str,
    rows: Vec<M>,
    written: &mut Written,
) -> anyhow::Result<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    use sea_orm::Iterable;
    let n = rows.len();
    if n == 0 {
        return Ok(());
    }
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let mut rows = rows.into_iter().map(IntoActiveModel::into_active_model).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(chunk_for(columns)).collect();
        #[allow(
            clippy::disallowed_methods,
            reason = "the generator writes its rows in bulk, outside the door by design"
        )]
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .map_err(|e| anyhow::anyhow!("inserting into {table}: {e}"))?;
    }
    written.add(table, n);
    Ok(())
}

async fn write(db: &DatabaseConnection, r: Rows, written: &mut Written) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    insert_all(&txn, "services", r.services, written).await?;
    insert_all(&txn, "people", r.people, written).await?;
    insert_all(&txn, "schools", r.schools, written).await?;
    insert_all(&txn, "memberships", r.memberships, written).await?;
    insert_all(&txn, "invitations", r.invitations, written).await?;
    insert_all(&txn, "partner_clients", r.partner_clients, written).await?;
    insert_all(&txn, "partner_client_schools", r.partner_client_schools, written).await?;
    insert_all(&txn, "time_settings", r.time_settings, written).await?;
    insert_all(&txn, "time_units", r.time_units, written).await?;
    insert_all(&txn, "academic_years", r.academic_years, written).await?;
    // Half-terms name their term: parents first (they come first in each year).
    let (parents, halves): (Vec<_>, Vec<_>) = r.terms.into_iter().partition(|t| t.parent_term_id.is_none());
    insert_all(&txn, "terms", parents, written).await?;
    insert_all(&txn, "terms", halves, written).await?;
    insert_all(&txn, "closures", r.closures, written).await?;
    insert_all(&txn, "contracts", r.contracts, written).await?;
    insert_all(&txn, "contract_top_ups", r.top_ups, written).await?;
    insert_all(&txn, "working_patterns", r.patterns, written).await?;
    insert_all(&txn, "working_hours", r.hours, written).await?;
    insert_all(&txn, "calendar_exceptions", r.exceptions, written).await?;
    insert_all(&txn, "booking_series", r.series, written).await?;
    // Visits before what lies inside them.
    let (outer, inner): (Vec<_>, Vec<_>) = r.bookings.into_iter().partition(|b| b.visit_id.is_none());
    insert_all(&txn, "bookings", outer, written).await?;
    insert_all(&txn, "bookings", inner, written).await?;
    insert_all(&txn, "ledger_entries", r.ledger, written).await?;
    insert_all(&txn, "pupils", r.pupils, written).await?;
    // A review names the consultation it reviews: earlier cycles first.
    let mut consultations = r.consultations;
    consultations.sort_by_key(|c| c.cycle);
    insert_all(&txn, "consultations", consultations, written).await?;
    insert_all(&txn, "consents", r.consents, written).await?;
    insert_all(&txn, "consultation_records", r.records, written).await?;
    insert_all(&txn, "consultation_actions", r.actions, written).await?;
    insert_all(&txn, "reflective_session_types", r.session_types, written).await?;
    insert_all(&txn, "reflective_sessions", r.sessions, written).await?;
    insert_all(&txn, "reflective_session_schools", r.session_schools, written).await?;
    insert_all(&txn, "reflective_registrations", r.registrations, written).await?;
    insert_all(&txn, "reflective_feedback", r.feedback, written).await?;
    insert_all(&txn, "space_to_talk_runs", r.stt_runs, written).await?;
    insert_all(&txn, "space_to_talk_run_schools", r.stt_run_schools, written).await?;
    insert_all(&txn, "space_to_talk_slots", r.stt_slots, written).await?;
    insert_all(&txn, "space_to_talk_links", r.stt_links, written).await?;
    insert_all(&txn, "space_to_talk_bookings", r.stt_bookings, written).await?;
    insert_all(&txn, "semh_templates", r.semh_templates, written).await?;
    insert_all(&txn, "semh_sections", r.semh_sections, written).await?;
    insert_all(&txn, "semh_items", r.semh_items, written).await?;
    insert_all(&txn, "semh_rounds", r.semh_rounds, written).await?;
    insert_all(&txn, "semh_respondents", r.semh_respondents, written).await?;
    insert_all(&txn, "semh_responses", r.semh_responses, written).await?;
    insert_all(&txn, "semh_consensus", r.semh_consensus, written).await?;
    // A carried-forward priority names the one it carries.
    let (first, carried): (Vec<_>, Vec<_>) = r.semh_actions.into_iter().partition(|a| a.carried_from_id.is_none());
    insert_all(&txn, "semh_actions", first, written).await?;
    insert_all(&txn, "semh_actions", carried, written).await?;
    insert_all(&txn, "audit_events", r.audit, written).await?;
    txn.commit().await?;
    Ok(())
}

/// Opens (creating an SQLite file or a PostgreSQL database if needed) and migrates a database
/// for the generator.
pub async fn prepare(url: &str, fresh: bool) -> anyhow::Result<DatabaseConnection> {
    use migration::MigratorTrait;
    if url.starts_with("postgres") {
        ensure_postgres_database(url).await?;
    }
    if fresh && let Some(path) = domain::db::sqlite_path(url) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let db = domain::db::connect(url, 4, None).await?;
    if fresh && domain::db::is_postgres(&db) {
        #[allow(
            clippy::disallowed_methods,
            reason = "a scratch benchmark database is emptied before it is generated"
        )]
        sea_orm::ConnectionTrait::execute_unprepared(&db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public").await?;
    }
    migration::Migrator::up(&db, None).await?;
    Ok(db)
}

/// Creates a PostgreSQL database if it is missing.
async fn ensure_postgres_database(url: &str) -> anyhow::Result<()> {
    let (base, name) = url
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("a database URL ends with /name"))?;
    let name = name.split('?').next().unwrap_or(name);
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("use a plain database name (letters, digits, _)");
    }
    let admin = domain::db::connect(&format!("{base}/postgres"), 1, None).await?;
    #[allow(clippy::disallowed_methods, reason = "creating the benchmark's scratch database")]
    let _ = sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
    admin.close().await?;
    Ok(())
}
