//! `scps demo`: a freshly seeded, clearly fictional service to explore. Twelve schools of mixed
//! phases, six EPs, SENCOs, a school leader, a member of staff and a partner client; this
//! academic year's calendar, contracts, working patterns, a term of bookings and the ledger that
//! follows from them. Everything is made through the same domain operations the API uses.

use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveDate, NaiveTime, Utc, Weekday};

use domain::access::{Caller, PartnerScope, Role};
use domain::db::Db;
use domain::ids::{BookingId, PersonId, SchoolId, ServiceId};
use domain::model::{
    BookingKind, BookingMode, BookingStatus, CancelledFor, ClosureKind, ContractStatus, ExceptionKind, FundingStream,
    OverbookingPolicy, PeriodKind, Phase,
};
use domain::tenancy::{partners, people, schools, services};
use domain::time::{bookings, calendar, contracts, local_to_utc, settings};
use domain::{DomainError, identity};

mod reflective;
mod semh;
mod space_to_talk;

use crate::app::{self, Application};
use crate::config::Config;

/// Everyone in the demo signs in with this password.
pub const DEMO_PASSWORD: &str = "demo-password-2026";
const DEMO_DATABASE: &str = "sqlite://data/demo.sqlite";

const SCHOOLS: &[(&str, &str, Phase)] = &[
    ("Ashgrove Primary School (demo)", "900001", Phase::Primary),
    ("Birchfield Academy (demo)", "900002", Phase::Secondary),
    ("Cedar Lane Nursery (demo)", "900003", Phase::EarlyYears),
    ("Dunmore Special School (demo)", "900004", Phase::Special),
    ("Elmstead Infant and Junior (demo)", "900005", Phase::Primary),
    ("Foxhollow High School (demo)", "900006", Phase::Secondary),
    ("Greywater Learning Centre (demo)", "900007", Phase::Pru),
    ("Hazelmere All-Through (demo)", "900008", Phase::AllThrough),
    ("Ivybridge Sixth Form (demo)", "900009", Phase::Post16),
    ("Juniper Primary (demo)", "900010", Phase::Primary),
    ("Kestrel Park Academy (demo)", "900011", Phase::Secondary),
    ("Larkspur Primary (demo)", "900012", Phase::Primary),
];

/// A (fictional) price of a day, in pence.
const PRICE_PER_DAY_PENCE: i64 = 45_000;

/// Traded days bought by each school, in the order above.
const TRADED_DAYS: &[i64] = &[8, 6, 2, 10, 4, 8, 3, 12, 2, 5, 7, 4];

const EPS: &[(&str, &str)] = &[
    ("Dr Ada Fenwick (demo EP)", "ada.fenwick@ep.demo.invalid"),
    ("Dr Bram Okafor (demo EP)", "bram.okafor@ep.demo.invalid"),
    ("Cara Lindqvist (demo EP)", "cara.lindqvist@ep.demo.invalid"),
    ("Dev Ramanathan (demo trainee EP)", "dev.ramanathan@ep.demo.invalid"),
    ("Dr Esme Hart (demo EP)", "esme.hart@ep.demo.invalid"),
    (
        "Femi Adeyemi (demo assistant psychologist)",
        "femi.adeyemi@ep.demo.invalid",
    ),
];

struct Seeded {
    service: ServiceId,
    tokens: Vec<(String, String, String)>,
    partner: (String, String, String),
    /// A second, small service of the same deployment, which sees nothing of the first.
    other: (ServiceId, Vec<(String, String, String)>),
    /// Ashgrove's Space to Talk booking page for parents (when the demo found term time).
    parent_page: Option<String>,
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("bad demo date {y}-{m}-{d}"))
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn nth_monday(y: i32, m: u32, last: bool) -> anyhow::Result<NaiveDate> {
    let mut d = if last {
        let next = if m == 12 {
            date(y + 1, 1, 1)?
        } else {
            date(y, m + 1, 1)?
        };
        next - Days::days(1)
    } else {
        date(y, m, 1)?
    };
    while d.weekday() != Weekday::Mon {
        d = if last { d - Days::days(1) } else { d + Days::days(1) };
    }
    Ok(d)
}

/// Easter Sunday of a year (the Gregorian computus), for Good Friday and Easter Monday.
fn easter(y: i32) -> anyhow::Result<NaiveDate> {
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

/// The bank holidays of England and Wales in an academic year starting in September of `y`,
/// with the substitute days when Christmas or New Year fall at a weekend.
fn bank_holidays(y: i32) -> anyhow::Result<Vec<(NaiveDate, &'static str)>> {
    let weekday_on_or_after = |d: NaiveDate| {
        let mut d = d;
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            d += Days::days(1);
        }
        d
    };
    let christmas = date(y, 12, 25)?;
    let christmas_off = weekday_on_or_after(christmas);
    let boxing_off = weekday_on_or_after(christmas_off + Days::days(1));
    let easter_sunday = easter(y + 1)?;
    Ok(vec![
        (christmas_off, "Christmas Day"),
        (boxing_off, "Boxing Day"),
        (weekday_on_or_after(date(y + 1, 1, 1)?), "New Year's Day"),
        (easter_sunday - Days::days(2), "Good Friday"),
        (easter_sunday + Days::days(1), "Easter Monday"),
        (nth_monday(y + 1, 5, false)?, "Early May bank holiday"),
        (nth_monday(y + 1, 5, true)?, "Spring bank holiday"),
        (nth_monday(y + 1, 8, true)?, "Summer bank holiday"),
    ])
}

fn fail(e: DomainError) -> anyhow::Error {
    anyhow::anyhow!(crate::cli::describe(e))
}

async fn prepare_database(config: &mut Config, explicit: bool) -> anyhow::Result<()> {
    if !explicit {
        let path = domain::db::sqlite_path(DEMO_DATABASE).unwrap_or("data/demo.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        config.database.url = crate::config::Secret::new(DEMO_DATABASE.to_owned());
    }
    app::migrate(config).await?;
    let db = domain::db::connect(config.database.url.expose(), 2, None).await?;
    let existing = domain::identity::all_services(&db).await.map_err(fail)?;
    if !existing.is_empty() {
        anyhow::bail!(
            "the demo needs an empty database, and {} has a service already",
            config.database
        );
    }
    Ok(())
}

pub async fn run(mut config: Config, explicit_database: bool) -> anyhow::Result<()> {
    prepare_database(&mut config, explicit_database).await?;
    config.migrate_on_start = false;
    let app = Application::build(config.clone()).await?;
    let services = app.services().clone();
    println!("Seeding the demo (fictional data) into {} ...", config.database);
    let seeded = seed(&services.db, &services.auth).await?;
    let base = format!("http://{}", config.bind);
    println!();
    println!("scps demo is running. GraphiQL: {base}/graphql");
    println!(
        "Everyone signs in with the password \"{DEMO_PASSWORD}\" (signIn mutation), or use these tokens (valid 12 hours):"
    );
    println!();
    for (role, who, token) in &seeded.tokens {
        println!("  {role:<34} {who}");
        println!("  Authorization: Bearer {token}");
        println!();
    }
    let (client_id, secret, token) = &seeded.partner;
    println!("  Partner client (council portal)    client id {client_id}, secret {secret}");
    println!("  Authorization: Bearer {token}");
    println!();
    println!("Try, as the SENCO: {{ schools(first: 20) {{ edges {{ node {{ name urn phase }} }} }} }}");
    println!(
        "The demo service's id is {}.",
        crate::graphql::ids::encode("Service", seeded.service).0
    );
    if let Some(path) = &seeded.parent_page {
        println!("A parent's Space to Talk booking page at Ashgrove Primary (no account): {base}{path}");
    }
    let (other, other_tokens) = &seeded.other;
    println!();
    println!(
        "A second service in the same deployment ({}): its people see only its two schools,",
        crate::graphql::ids::encode("Service", *other).0
    );
    println!("and nobody above sees anything of it (try node(id:) with its ids).");
    println!();
    for (role, who, token) in other_tokens {
        println!("  {role:<34} {who}");
        println!("  Authorization: Bearer {token}");
        println!();
    }
    app.run().await?;
    Ok(())
}

/// Seeds the demo into a service's empty database, as `scps demo` does (the tests check what
/// it seeds).
pub async fn seed_into(services: &crate::app::Services) -> anyhow::Result<()> {
    seed(&services.db, &services.auth).await.map(|_| ())
}

async fn caller_for(db: &Db, email: &str) -> anyhow::Result<Caller> {
    let principal = identity::email_principal(db, email).await.map_err(fail)?;
    Ok(Caller::new(principal, "demo-seed"))
}

async fn person(
    db: &Db,
    admin: &Caller,
    service: ServiceId,
    name: &str,
    email: &str,
    role: Role,
    school: Option<SchoolId>,
) -> anyhow::Result<PersonId> {
    let invited = people::invite(
        db,
        admin,
        people::Invite {
            service_id: service,
            email: email.to_owned(),
            display_name: name.to_owned(),
            role,
            school_id: school,
        },
    )
    .await
    .map_err(fail)?;
    if let Some(code) = invited.invitation_code {
        people::accept_invitation(
            db,
            &domain::secrets::HashGate::single(),
            &code,
            DEMO_PASSWORD,
            Duration::from_secs(3600),
            "demo-seed",
        )
        .await
        .map_err(fail)?;
    }
    Ok(invited.person.id)
}

async fn token_for(db: &Db, auth: &crate::auth::Auth, email: &str) -> anyhow::Result<String> {
    let signed_in = identity::sign_in(
        db,
        &domain::secrets::HashGate::single(),
        email,
        DEMO_PASSWORD,
        Duration::from_secs(12 * 3600),
        "demo-seed",
    )
    .await
    .map_err(fail)?;
    Ok(auth
        .issue_for_person(
            signed_in.person.id,
            signed_in.session_id,
            Some(Duration::from_secs(12 * 3600)),
        )
        .map_err(fail)?
        .token)
}

/// The academic year that contains `today` (September to August).
fn year_start(today: NaiveDate) -> i32 {
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

async fn seed(db: &Db, auth: &crate::auth::Auth) -> anyhow::Result<Seeded> {
    let service = services::create(
        db,
        services::NewService {
            service_name: "Northmoor Educational Psychology Service (demo)".into(),
            time_zone: Some("Europe/London".into()),
            admin_email: "dana.admin@eps.demo.invalid".into(),
            admin_name: "Dana Whitlock (demo administrator)".into(),
            admin_password: DEMO_PASSWORD.into(),
        },
        true,
        "demo-seed",
    )
    .await
    .map_err(fail)?
    .service;
    let sid = service.id;
    let admin = caller_for(db, "dana.admin@eps.demo.invalid").await?;
    let tz = chrono_tz::Europe::London;

    // The academic calendar of the current year.
    let y = year_start(Utc::now().with_timezone(&tz).date_naive());
    let term = |name: &str, s: NaiveDate, e: NaiveDate, halves: Vec<settings::NewTerm>| settings::NewTerm {
        name: name.into(),
        starts_on: s,
        ends_on: e,
        half_terms: halves,
    };
    let half = |name: &str, s: NaiveDate, e: NaiveDate| settings::NewTerm {
        name: name.into(),
        starts_on: s,
        ends_on: e,
        half_terms: Vec::new(),
    };
    let year = settings::create_academic_year(
        db,
        &admin,
        settings::NewAcademicYear {
            service_id: sid,
            name: format!("{}/{:02}", y, (y + 1) % 100),
            starts_on: date(y, 9, 1)?,
            ends_on: date(y + 1, 8, 31)?,
            terms: vec![
                term(
                    "Autumn",
                    date(y, 9, 3)?,
                    date(y, 12, 18)?,
                    vec![
                        half("Autumn 1", date(y, 9, 3)?, date(y, 10, 23)?),
                        half("Autumn 2", date(y, 11, 2)?, date(y, 12, 18)?),
                    ],
                ),
                term(
                    "Spring",
                    date(y + 1, 1, 5)?,
                    date(y + 1, 3, 26)?,
                    vec![
                        half("Spring 1", date(y + 1, 1, 5)?, date(y + 1, 2, 12)?),
                        half("Spring 2", date(y + 1, 2, 22)?, date(y + 1, 3, 26)?),
                    ],
                ),
                term(
                    "Summer",
                    date(y + 1, 4, 12)?,
                    date(y + 1, 7, 21)?,
                    vec![
                        half("Summer 1", date(y + 1, 4, 12)?, date(y + 1, 5, 21)?),
                        half("Summer 2", date(y + 1, 6, 1)?, date(y + 1, 7, 21)?),
                    ],
                ),
            ],
        },
    )
    .await
    .map_err(fail)?;
    for (d, reason) in bank_holidays(y)? {
        let kind = ClosureKind::BankHoliday;
        settings::add_closure(
            db,
            &admin,
            settings::NewClosure {
                service_id: sid,
                school_id: None,
                kind,
                starts_on: d,
                ends_on: d,
                reason: Some(reason.into()),
            },
        )
        .await
        .map_err(fail)?;
    }
    // Show over-allocation as warnings rather than refusals, so that the summary has flags;
    // let SENCOs book consultations and planning meetings in their link EP's free time.
    settings::update(
        db,
        &admin,
        sid,
        settings::PolicyPatch {
            overbooking_policy: Some(OverbookingPolicy::AllowWithWarning),
            schools_may_book: Some(true),
            ..Default::default()
        },
    )
    .await
    .map_err(fail)?;

    // Schools and EPs.
    let mut school_ids = Vec::new();
    for (name, urn, phase) in SCHOOLS {
        let s = schools::create(
            db,
            &admin,
            schools::NewSchool {
                service_id: sid,
                name: (*name).into(),
                urn: (*urn).into(),
                phase: *phase,
            },
        )
        .await
        .map_err(fail)?;
        school_ids.push(s.id);
    }
    let mut eps = Vec::new();
    for (name, email) in EPS {
        eps.push(person(db, &admin, sid, name, email, Role::Psychologist, None).await?);
    }
    person(
        db,
        &admin,
        sid,
        "Sam Patel (demo SENCO)",
        "sam.patel@ashgrove.demo.invalid",
        Role::Senco,
        Some(school_ids[0]),
    )
    .await?;
    person(
        db,
        &admin,
        sid,
        "Jo Brennan (demo SENCO, two schools)",
        "jo.brennan@schools.demo.invalid",
        Role::Senco,
        Some(school_ids[1]),
    )
    .await?;
    let jo = caller_for(db, "jo.brennan@schools.demo.invalid").await?;
    people::grant(
        db,
        &admin,
        people::Grant {
            person_id: jo.principal.person_id().ok_or_else(|| anyhow::anyhow!("no person"))?,
            service_id: sid,
            role: Role::Senco,
            school_id: Some(school_ids[5]),
        },
    )
    .await
    .map_err(fail)?;
    person(
        db,
        &admin,
        sid,
        "Morgan Ellis (demo headteacher)",
        "morgan.ellis@ashgrove.demo.invalid",
        Role::SchoolLeader,
        Some(school_ids[0]),
    )
    .await?;
    person(
        db,
        &admin,
        sid,
        "Riley Shaw (demo teaching assistant)",
        "riley.shaw@ashgrove.demo.invalid",
        Role::SchoolStaff,
        Some(school_ids[0]),
    )
    .await?;

    // Working patterns: most full time, two part time.
    let this_year = date(y, 9, 1)?;
    for (i, ep) in eps.iter().enumerate() {
        let days: &[u32] = if i == 3 || i == 5 { &[1, 2, 3] } else { &[1, 2, 3, 4, 5] };
        calendar::set_pattern(
            db,
            &admin,
            calendar::NewPattern {
                service_id: sid,
                ep_id: *ep,
                effective_from: this_year,
                fte_hundredths: (days.len() * 20) as i32,
                hours: days
                    .iter()
                    .map(|d| calendar::Hours {
                        weekday: *d,
                        starts_at: time(8, 30),
                        ends_at: time(17, 0),
                    })
                    .collect(),
            },
        )
        .await
        .map_err(fail)?;
    }

    // Contracts for the year: traded for every school, core for some, each with a link EP.
    let units = settings::units(db, &admin, sid).await.map_err(fail)?;
    let day = units
        .iter()
        .find(|u| u.name == "day")
        .ok_or_else(|| anyhow::anyhow!("no day unit"))?;
    for (i, school) in school_ids.iter().enumerate() {
        let link = eps[i % eps.len()];
        contracts::create(
            db,
            &admin,
            contracts::NewContract {
                school_id: *school,
                period_kind: PeriodKind::AcademicYear,
                academic_year_id: Some(year.year.id),
                starts_on: None,
                ends_on: None,
                funding_stream: FundingStream::Traded,
                unit_id: day.id,
                quantity_hundredths: TRADED_DAYS[i] * 100,
                price_pence: Some(TRADED_DAYS[i] * PRICE_PER_DAY_PENCE),
                link_ep_id: Some(link),
                status: ContractStatus::Active,
            },
        )
        .await
        .map_err(fail)?;
        if i % 3 == 0 {
            contracts::create(
                db,
                &admin,
                contracts::NewContract {
                    school_id: *school,
                    period_kind: PeriodKind::AcademicYear,
                    academic_year_id: Some(year.year.id),
                    starts_on: None,
                    ends_on: None,
                    funding_stream: FundingStream::Core,
                    unit_id: day.id,
                    quantity_hundredths: 100,
                    price_pence: None,
                    link_ep_id: Some(link),
                    status: ContractStatus::Active,
                },
            )
            .await
            .map_err(fail)?;
        }
    }

    // A week of leave for one EP, two weeks from now.
    let today = Utc::now().with_timezone(&tz).date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let leave_start = monday + Days::weeks(2);
    calendar::add_exception(
        db,
        &admin,
        calendar::NewException {
            service_id: sid,
            ep_id: eps[2],
            kind: ExceptionKind::Leave,
            starts_at: local_to_utc(tz, leave_start, time(0, 0)),
            ends_at: local_to_utc(tz, leave_start + Days::days(5), time(0, 0)),
            reason: Some("Annual leave".into()),
        },
    )
    .await
    .map_err(fail)?;

    // A term of visits: each school every other week, half a day with its link EP; the past
    // delivered (a few cancelled late), the future confirmed, some with consultations inside.
    let mut made = 0;
    for week in -6i64..=6 {
        for (i, school) in school_ids.iter().enumerate() {
            if (week + i as i64) % 2 != 0 {
                continue;
            }
            let ep = eps[i % eps.len()];
            let weekday = if i % 6 == 3 || i % 6 == 5 {
                (i / 6) as i64 % 3
            } else {
                (i % 5) as i64
            };
            let d = monday + Days::weeks(week) + Days::days(weekday);
            let (from, to) = if i < 6 {
                (time(9, 0), time(12, 15))
            } else {
                (time(13, 15), time(16, 30))
            };
            let starts_at = local_to_utc(tz, d, from);
            let ends_at = local_to_utc(tz, d, to);
            let visit = bookings::create(
                db,
                &admin,
                bookings::NewBooking {
                    service_id: None,
                    school_id: Some(*school),
                    ep_id: ep,
                    kind: BookingKind::Visit,
                    visit_id: None,
                    mode: BookingMode::InPerson,
                    location: Some("School office".into()),
                    starts_at,
                    ends_at,
                    preparation_minutes: 30,
                    funding_stream: None,
                    status: if week > 3 {
                        BookingStatus::Tentative
                    } else {
                        BookingStatus::Confirmed
                    },
                    overbooking_reason: None,
                    short_notice_reason: (week < 1).then(|| "Recorded in the demo".to_owned()),
                },
            )
            .await;
            let visit = match visit {
                Ok(v) => v.booking,
                // Holidays (half-terms too), bank holidays, leave and clashes are refused as they
                // would be for anyone: the demo has no bookings in school holidays.
                Err(_) => continue,
            };
            made += 1;
            if week < 0 {
                if (week == -2 && i % 4 == 1) || (week == -4 && i == 7) {
                    bookings::cancel(
                        db,
                        &admin,
                        bookings::Cancel {
                            id: visit.id,
                            reason: "The school asked to cancel at short notice".into(),
                            cancelled_for: Some(CancelledFor::School),
                            alternative_booking_id: None,
                        },
                    )
                    .await
                    .map_err(fail)?;
                } else {
                    bookings::deliver(
                        db,
                        &admin,
                        bookings::Delivery {
                            id: visit.id,
                            direct_minutes: None,
                            preparation_minutes: Some(if i % 2 == 0 { 30 } else { 45 }),
                        },
                    )
                    .await
                    .map_err(fail)?;
                }
            } else if i % 3 == 0 {
                add_consultation(db, &admin, *school, ep, visit.id, starts_at).await?;
            }
        }
    }
    // Statutory assessments, which never draw down traded time.
    for (n, i) in [1usize, 4, 8].iter().enumerate() {
        let d = monday + Days::weeks(1) + Days::days(4);
        let start = local_to_utc(tz, d, time(9 + 2 * n as u32, 0));
        let _ = bookings::create(
            db,
            &admin,
            bookings::NewBooking {
                service_id: None,
                school_id: Some(school_ids[*i]),
                ep_id: eps[4],
                kind: BookingKind::Other,
                visit_id: None,
                mode: BookingMode::InPerson,
                location: Some("EHC needs assessment".into()),
                starts_at: start,
                ends_at: start + Days::minutes(90),
                preparation_minutes: 60,
                funding_stream: Some(FundingStream::Statutory),
                status: BookingStatus::Confirmed,
                overbooking_reason: None,
                short_notice_reason: None,
            },
        )
        .await;
    }
    tracing::info!(visits = made, "demo bookings made");

    // Next term's fortnightly Thursday morning visits to Cedar Lane, made in one call (half-term
    // and bank holidays skipped); then leave that falls on one of them, which the administrator
    // sees reported as a clash to clear.
    let spring = year
        .terms
        .iter()
        .map(|(t, _)| t)
        .find(|t| t.name == "Spring")
        .ok_or_else(|| anyhow::anyhow!("no spring term"))?;
    let series = bookings::series::create(
        db,
        &admin,
        bookings::series::NewSeries {
            school_id: school_ids[2],
            ep_id: eps[2],
            weekday: 4,
            starts_at: time(9, 0),
            ends_at: time(12, 0),
            every_weeks: 2,
            term_id: Some(spring.id),
            from: None,
            to: None,
            mode: BookingMode::InPerson,
            location: Some("School office".into()),
            preparation_minutes: 30,
            funding_stream: None,
        },
    )
    .await
    .map_err(fail)?;
    if let Some(second) = series.booked.get(1) {
        let day = second.booking.starts_at.with_timezone(&tz).date_naive();
        let added = calendar::add_exception(
            db,
            &admin,
            calendar::NewException {
                service_id: sid,
                ep_id: eps[2],
                kind: ExceptionKind::Training,
                starts_at: local_to_utc(tz, day, time(0, 0)),
                ends_at: local_to_utc(tz, day + Days::days(1), time(0, 0)),
                reason: Some("Training day".into()),
            },
        )
        .await
        .map_err(fail)?;
        tracing::info!(
            visits = series.booked.len(),
            skipped = series.skipped.len(),
            clashes = added.clashes.len(),
            "demo series made"
        );
    }

    seed_consultations(db, &admin, &school_ids, &eps, tz).await?;
    reflective::seed(db, &admin, sid, &school_ids, &eps, tz).await?;
    let parent_page = space_to_talk::seed(db, &admin, school_ids[0], tz).await?;
    semh::seed(db, &admin, sid, &school_ids).await?;

    // The partner client: a council portal limited to three schools.
    let issued = partners::create(
        db,
        &admin,
        partners::NewClient {
            service_id: sid,
            name: "Northmoor Council Portal (demo)".into(),
            scopes: vec![
                PartnerScope::SchoolsRead,
                PartnerScope::AvailabilityRead,
                PartnerScope::BookingsRead,
            ],
            school_ids: Some(vec![school_ids[0], school_ids[1], school_ids[2]]),
        },
    )
    .await
    .map_err(fail)?;
    let partner_token = auth
        .issue_for_client(
            issued.client.row.id,
            issued.client.row.secret_version,
            issued.client.row.scopes.clone(),
        )
        .map_err(fail)?
        .token;

    let mut tokens = Vec::new();
    for (role, email) in [
        ("Service administrator", "dana.admin@eps.demo.invalid"),
        ("EP (link EP for two schools)", EPS[0].1),
        ("SENCO of Ashgrove Primary", "sam.patel@ashgrove.demo.invalid"),
        ("SENCO of two schools", "jo.brennan@schools.demo.invalid"),
        (
            "School leader of Ashgrove Primary",
            "morgan.ellis@ashgrove.demo.invalid",
        ),
        ("School staff at Ashgrove Primary", "riley.shaw@ashgrove.demo.invalid"),
    ] {
        tokens.push((role.to_owned(), email.to_owned(), token_for(db, auth, email).await?));
    }
    Ok(Seeded {
        service: sid,
        tokens,
        partner: (issued.client.row.client_id.clone(), issued.client_secret, partner_token),
        other: seed_second_service(db, auth).await?,
        parent_page,
    })
}

/// A second, small service: an administrator, two schools and a SENCO, made as whoever runs the
/// deployment would make it (`scps service create`), to show that services never meet.
async fn seed_second_service(
    db: &Db,
    auth: &crate::auth::Auth,
) -> anyhow::Result<(ServiceId, Vec<(String, String, String)>)> {
    let admin_email = "lee.admin@southfell.demo.invalid";
    let service = services::create(
        db,
        services::NewService {
            service_name: "Southfell Psychology Service (demo, a second service)".into(),
            time_zone: Some("Europe/London".into()),
            admin_email: admin_email.into(),
            admin_name: "Lee Marsh (demo administrator, Southfell)".into(),
            admin_password: DEMO_PASSWORD.into(),
        },
        false,
        "demo-seed",
    )
    .await
    .map_err(fail)?
    .service;
    let admin = caller_for(db, admin_email).await?;
    let mut school_ids = Vec::new();
    for (name, urn, phase) in [
        ("Moorside Primary (demo, Southfell)", "910001", Phase::Primary),
        ("Tarn Bridge Academy (demo, Southfell)", "910002", Phase::Secondary),
    ] {
        let school = schools::create(
            db,
            &admin,
            schools::NewSchool {
                service_id: service.id,
                name: name.into(),
                urn: urn.into(),
                phase,
            },
        )
        .await
        .map_err(fail)?;
        school_ids.push(school.id);
    }
    let senco_email = "ash.noble@moorside.demo.invalid";
    person(
        db,
        &admin,
        service.id,
        "Ash Noble (demo SENCO, Southfell)",
        senco_email,
        Role::Senco,
        school_ids.first().copied(),
    )
    .await?;
    let mut tokens = Vec::new();
    for (role, email) in [
        ("Southfell administrator", admin_email),
        ("SENCO of Moorside Primary", senco_email),
    ] {
        tokens.push((role.to_owned(), email.to_owned(), token_for(db, auth, email).await?));
    }
    Ok((service.id, tokens))
}

async fn add_consultation(
    db: &Db,
    admin: &Caller,
    school: SchoolId,
    ep: PersonId,
    visit: BookingId,
    visit_start: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let start = visit_start + Days::minutes(30);
    bookings::create(
        db,
        admin,
        bookings::NewBooking {
            service_id: None,
            school_id: Some(school),
            ep_id: ep,
            kind: BookingKind::Consultation,
            visit_id: Some(visit),
            mode: BookingMode::InPerson,
            location: Some("Meeting room".into()),
            starts_at: start,
            ends_at: start + Days::minutes(75),
            preparation_minutes: 30,
            funding_stream: None,
            status: BookingStatus::Confirmed,
            overbooking_reason: None,
            short_notice_reason: Some("Recorded in the demo".into()),
        },
    )
    .await
    .map_err(fail)?;
    Ok(())
}

/// Consultations at Ashgrove Primary, as its SENCO and link EP would make them: a formal one
/// from request and consent to a shared record whose review has come due, and a professional one
/// the SENCO booked into a free slot of the link EP next week; a request waiting for more
/// information at Birchfield.
async fn seed_consultations(
    db: &Db,
    admin: &Caller,
    school_ids: &[SchoolId],
    eps: &[PersonId],
    tz: chrono_tz::Tz,
) -> anyhow::Result<()> {
    use domain::consultations::{consent, meeting, records, requests};
    use domain::model::{ConcernArea, ConsentGiver, ConsentMethod, ConsultationKind, RecordFormat, YearGroup};

    let senco = caller_for(db, "sam.patel@ashgrove.demo.invalid").await?;
    let ep = caller_for(db, EPS[0].1).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let ask = |kind, pupil, consent, slot| requests::NewRequest {
        school_id: school_ids[0],
        kind,
        pupil_id: None,
        pupil,
        areas: vec![ConcernArea::Semh, ConcernArea::CommunicationAndInteraction],
        answers: requests::Answers {
            strengths: Some("Kind to younger pupils; loves building things.".into()),
            tried: Some("A quiet space at lunchtime; a visual timetable.".into()),
            hoped_outcomes: Some("Settles in class after break times.".into()),
            preferred_times: Some("Tuesday or Thursday afternoons".into()),
        },
        funding_stream: None,
        ep_id: None,
        consent,
        slot,
    };

    // Formal: asked and consented seven weeks ago, held then, record shared, review now due.
    let formal = requests::request(
        db,
        &senco,
        ask(
            ConsultationKind::Formal,
            Some(domain::consultations::pupils::NewPupil {
                school_id: school_ids[0],
                initials: "JT".into(),
                year_group: YearGroup::Year4,
                date_of_birth: date(today.year() - 9, 3, 14)?,
                school_reference: Some("ASH-0042".into()),
            }),
            Some(consent::NewConsent {
                given_by: ConsentGiver::Parent,
                relationship: Some("Mother".into()),
                given_on: today - Days::weeks(8),
                method: ConsentMethod::Written,
                covers_ep_involvement: true,
                share_with: vec!["School nursing team".into()],
                expires_on: None,
            }),
            None,
        ),
    )
    .await
    .map_err(fail)?;
    let held_week = monday - Days::weeks(7);
    let mut scheduled = None;
    'find: for day in 0..5 {
        for hour in [13, 14, 15] {
            let slot = meeting::Slot {
                ep_id: None,
                starts_at: local_to_utc(tz, held_week + Days::days(day), time(hour, 30)),
                duration_minutes: None,
                mode: BookingMode::InPerson,
                location: Some("SENCO office".into()),
                short_notice_reason: Some("Recorded in the demo".into()),
                visit_id: None,
            };
            if meeting::schedule(db, admin, formal.row.id, slot).await.is_ok() {
                scheduled = Some(());
                break 'find;
            }
        }
    }
    if scheduled.is_some() {
        meeting::hold(db, &ep, formal.row.id, None).await.map_err(fail)?;
        records::write(
            db,
            &ep,
            formal.row.id,
            records::RecordInput {
                attendees: vec![
                    records::Attendee {
                        name: "Sam Patel".into(),
                        role: "SENCO".into(),
                    },
                    records::Attendee {
                        name: "Class teacher".into(),
                        role: "Year 4 teacher".into(),
                    },
                    records::Attendee {
                        name: "Parent".into(),
                        role: "Mother".into(),
                    },
                ],
                strengths: Some("Good relationships with two adults; enjoys practical tasks.".into()),
                concerns: Some("Unsettled after unstructured times; hard to return to learning.".into()),
                hypotheses: Some("Transitions are hard to predict; a known routine may help.".into()),
                format: RecordFormat::EpReport,
                review_on: None,
                private_notes: Some("Ask about the sensory profile at review.".into()),
            },
        )
        .await
        .map_err(fail)?;
        for (what, owner, weeks) in [
            ("Meet-and-greet with a named adult after lunch", "Class teacher", 2),
            ("Visual now-and-next card for transitions", "SENCO", 3),
        ] {
            records::add_action(
                db,
                &ep,
                formal.row.id,
                records::NewAction {
                    description: what.into(),
                    owner: owner.into(),
                    due_on: today + Days::weeks(weeks),
                },
            )
            .await
            .map_err(fail)?;
        }
        records::share(db, &ep, formal.row.id).await.map_err(fail)?;
    }

    // Professional: the SENCO books the link EP's first free afternoon slot next week.
    let next_week = monday + Days::weeks(1);
    'book: for day in 0..5 {
        for hour in [13, 14, 15] {
            let slot = meeting::Slot {
                ep_id: Some(eps[0]),
                starts_at: local_to_utc(tz, next_week + Days::days(day), time(hour, 0)),
                duration_minutes: None,
                mode: BookingMode::Online,
                location: None,
                short_notice_reason: None,
                visit_id: None,
            };
            if requests::request(db, &senco, ask(ConsultationKind::Professional, None, None, Some(slot)))
                .await
                .is_ok()
            {
                break 'book;
            }
        }
    }

    // Birchfield: a request the link EP asked more about.
    let waiting = requests::request(
        db,
        admin,
        requests::NewRequest {
            school_id: school_ids[1],
            ..ask(ConsultationKind::Professional, None, None, None)
        },
    )
    .await
    .map_err(fail)?;
    let birchfield_ep = caller_for(db, EPS[1 % EPS.len()].1).await?;
    requests::triage(
        db,
        &birchfield_ep,
        waiting.row.id,
        requests::Decision::AskForInformation,
        Some("Which year group is this about, and how long has it been going on?"),
        None,
    )
    .await
    .map_err(fail)?;
    Ok(())
}
