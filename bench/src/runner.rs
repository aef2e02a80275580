//! The load runner: generates a database, starts `scps serve` on it, and drives each operation
//! at several concurrencies with a small tokio + reqwest client, recording latencies in an HDR
//! histogram, the SQL statements per request (the server's `x-sql-statements` header, sent
//! outside production) and the server's resident memory. For three reads it also replays the
//! SQL statements scps issued, directly through sqlx (prepared), at the same concurrency: the
//! floor that scps is compared with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::generate::{self, Scale};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Scale S, a few requests per operation: statement counts against the budgets (CI).
    Ci,
    /// The full table: 1, 8, 32 and 128 clients, timed, with the floor.
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "full")]
    pub profile: Profile,
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: Backend,
    /// Default: S for the ci profile, L for full.
    #[arg(long, value_enum)]
    pub scale: Option<Scale>,
    /// Default: an SQLite file under target/bench, or postgres://postgres@127.0.0.1:5432/scps_bench_<scale>.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, default_value_t = 18)]
    pub seed: u64,
    /// The scps binary. Default: target/release/scps (full) or target/debug/scps (ci), built if missing.
    #[arg(long)]
    pub scps: Option<PathBuf>,
    /// Concurrencies, comma-separated. Default: 1,8,32,128 (full) or 1,4 (ci).
    #[arg(long, value_delimiter = ',')]
    pub clients: Option<Vec<usize>>,
    /// Seconds per operation and concurrency (full profile).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Use the database as it is when it already holds generated data.
    #[arg(long)]
    pub reuse: bool,
    /// Redis for the server (PostgreSQL runs), e.g. redis://127.0.0.1:6379.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Where the markdown table goes (appended as a section per run).
    #[arg(long, default_value = "bench/RESULTS.md")]
    pub out: PathBuf,
    /// Also write the SQL of the SENCO home, bookings list and time summary to target/bench/statements.sql.
    #[arg(long)]
    pub dump_sql: bool,
    /// Only these operations (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
}

/// The statements per request each operation may use (the CI guard). Raise one only with a
/// reason in the commit that does.
pub const BUDGETS: &[(&str, u64)] = &[
    // 21 before the SENCO home showed open consultations (one page, then pupils, consents,
    // records, actions and bookings for the whole page, and the audit of the formal ones' reads)
    // and the actions due; 28 to 30 by school until the service's calendar (settings, terms,
    // closures, patterns and hours) was kept in memory under its stamp, 22 to 24 since (a page
    // with no pupil or no booking skips a read).
    ("senco_home", 24),
    // The calendar kept in memory took 2 statements from the summary, 5 from each availability
    // search and 4 from each booking.
    ("time_summary", 9),
    ("bookings_list", 4),
    ("availability_ep", 5),
    ("availability_school", 7),
    ("create_booking", 7),
    ("race_100", 7),
    ("sign_in", 5),
    ("senco_book_consultation", 25),
    ("ep_consultations", 11),
    ("reflective_upcoming", 7),
    ("reflective_race", 10),
    // A school's upcoming sessions: the bookings, their EPs, schools, slots and runs (mode and
    // location), one batch each, whatever the list's length.
    ("stt_upcoming", 7),
    // A round's results (after the three of signing in): the round, its version's row, sections
    // and items, its responses and consensus (once for the results, once as listed) and its plan,
    // whatever the number of staff who answered.
    ("semh_round_results", 9),
    // A version across the service (after signing in): the version's row, sections and items,
    // each school's latest round, their consensus, respondents and schools one statement each,
    // and the naming setting, whatever the number of schools.
    ("semh_service_picture", 9),
    // The parent's booking page through the school's link: the link, its school and service, the
    // zone, and the free slots with their runs, whatever the number of slots.
    ("stt_booking_page", 7),
    // A parent books a time through the link: the page's reads, the slot taken, the booking and
    // its audit entry, answered with a redirect to the manage page.
    ("stt_book_on_page", 11),
];

/// The signing secret of the server under test (and of the floor's in-process twin).
const JWT_SECRET: &str = "scps-bench-signing-secret-not-for-production-0123456789";

const SENCO_HOME: &str = "query SencoHome($school: ID!, $now: DateTime!, $weekEnd: DateTime!, $dueBy: Date!, $n: Int!) { \
  school(id: $school) { id name \
    balance { fundingStream balance { purchasedMinutes usedMinutes remainingMinutes } } \
    bookings(first: $n, from: $now, statuses: [TENTATIVE, CONFIRMED]) { edges { node { id startsAt endsAt kind status ep { displayName } } } } } \
  availability(first: 20, input: { schoolId: $school, from: $now, to: $weekEnd, durationMinutes: 60 }) { edges { node { startsAt endsAt epId } } } \
  consultations(first: $n, filter: { schoolId: $school, openOnly: true }) { edges { node { id kind status cycle reviewOn \
    ep { displayName } booking { startsAt endsAt status } pupil { initials yearGroup } consentValidToday \
    actions { id description owner dueOn status } } } } \
  consultationActions(first: $n, schoolId: $school, dueBy: $dueBy) { edges { node { id consultationId description owner dueOn status } } } }";

const SENCO_BOOK_CONSULTATION: &str = "mutation SencoBook($school: ID!, $ep: ID!, $at: DateTime!) { \
  requestConsultation(input: { schoolId: $school, kind: PROFESSIONAL, areasOfConcern: [SEMH], \
    strengths: \"A settled class with a new teacher\", hopedOutcomes: \"Ideas for calmer transitions\", \
    slot: { epId: $ep, startsAt: $at, mode: ONLINE } }) { \
  result { consultation { id status booking { id startsAt endsAt } } warnings } userErrors { field code message } } }";

const REFLECTIVE_UPCOMING: &str = "query ReflectiveUpcoming($school: ID!, $n: Int!) { \
  upcomingReflectiveSessions(schoolId: $school, withFreePlaces: false, first: $n) { edges { node { id startsAt endsAt \
    capacity freePlaces registeredCount waitingCount mode location sessionType { name } facilitator { displayName } \
    schools { name } registrations { id status role waitingPosition person { displayName } } } } } }";

const REFLECTIVE_REGISTER: &str = "mutation Register($session: ID!, $person: ID!) { \
  registerForReflectiveSession(input: { sessionId: $session, personId: $person }) { \
  result { registration { id status waitingPosition } session { freePlaces } } userErrors { field code message } } }";

const STT_UPCOMING: &str = "query SttUpcoming($school: ID!) { \
  upcomingSpaceToTalkSessions(schoolId: $school) { id startsAt endsAt status mode location bookedVia \
    displayName phone email preferredContact topic ep { displayName } school { name } } }";

const STT_UPCOMING_ALL: &str = "query SttUpcomingAll { \
  upcomingSpaceToTalkSessions { id startsAt endsAt status mode location bookedVia \
    displayName phone email preferredContact topic ep { displayName } school { name } } }";

const SEMH_ROUND_RESULTS: &str = "query SemhResults($round: ID!) { semhRound(id: $round) { id title status submittedAt \
  template { name scale { key label colour band } sections { title items { id text } } } \
  results { respondents overall { key count } overallConsensus { key count } \
    sections { title counts { key count } consensus { key count } } \
    items { itemId counts { key count } responses consensus spread } mostDivergentItemIds } \
  consensus { itemId rating note } actions { id priority status ownerRole dueOn carriedFromId } } }";

const SEMH_SERVICE_PICTURE: &str = "query SemhPicture($template: ID!) { semhServicePicture(templateId: $template) { \
  namesSchools groups { phase shown schools respondents schoolNames items { itemId bands { red amber green unknown } } } } }";

const EP_CONSULTATIONS: &str = "query EpConsultations($ep: ID!, $n: Int!) { \
  consultations(first: $n, filter: { epId: $ep, openOnly: true }) { edges { node { id kind status cycle reviewOn \
    school { name } booking { startsAt endsAt status } pupil { initials yearGroup } consentValidToday \
    actions { id dueOn status } } } } }";

const TIME_SUMMARY: &str = "query TimeSummary($service: ID!, $schools: [ID!], $from: Date!, $to: Date!) { timeSummary(input: { serviceId: $service, schoolIds: $schools, from: $from, to: $to }) { \
  startsOn endsOn schools { school { name } flags streams { fundingStream balance { purchasedMinutes usedMinutes remainingMinutes } } } \
  eps { ep { displayName } balance { bookedMinutes deliveredMinutes } } } }";

const BOOKINGS_LIST: &str = "query Bookings($n: Int!) { bookings(first: $n) { edges { node { id startsAt endsAt kind status school { name } ep { displayName } } } } }";

const AVAILABILITY_EP: &str = "query AvailabilityEp($service: ID!, $ep: ID!, $from: DateTime!, $to: DateTime!) { \
  availability(first: 100, input: { serviceId: $service, epId: $ep, from: $from, to: $to, durationMinutes: 60 }) { edges { node { startsAt endsAt epId } } } }";

const AVAILABILITY_SCHOOL: &str = "query AvailabilitySchool($school: ID!, $from: DateTime!, $to: DateTime!) { \
  availability(first: 100, input: { schoolId: $school, from: $from, to: $to, durationMinutes: 60 }) { edges { node { startsAt endsAt epId } } } }";

const CREATE_BOOKING: &str = "mutation Book($service: ID!, $ep: ID!, $from: DateTime!, $to: DateTime!) { \
  createBooking(input: { serviceId: $service, epId: $ep, kind: TRAINING, mode: ONLINE, startsAt: $from, endsAt: $to }) { \
  result { booking { id } } userErrors { code message } } }";

const ISSUE_LINK: &str = "mutation IssueLink($school: ID!) { issueSpaceToTalkLink(input: { schoolId: $school, validDays: 7 }) { \
  result { token } userErrors { field code message } } }";

const SIGN_IN: &str = "mutation SignIn($email: String!, $password: String!) { signIn(input: { email: $email, password: $password }) { \
  session { accessToken } userErrors { code message } } }";

/// A parents' booking link the runner uses: its token (the generator's, or issued at start-up),
/// its forms' CSRF token and the number of free times its page showed.
struct SttLink {
    token: String,
    csrf: String,
    free: usize,
}

/// Ids and tokens the operations use.
struct World {
    base: String,
    admin: String,
    service: String,
    /// (SENCO token, their school's id, their email).
    sencos: Vec<(String, String, String)>,
    eps: Vec<String>,
    /// (EP token, their person id) of the first few EPs.
    ep_sessions: Vec<(String, String)>,
    /// Free slots SENCOs book consultations in: (index into `sencos`, EP id, start).
    consult_slots: Vec<(usize, String, String)>,
    consult_slot: AtomicU64,
    schools: Vec<String>,
    /// The reflecting-team session type, free hours of EPs for sessions (EP id, start), and the
    /// staff of the SENCOs' schools (index into `sencos`, person id).
    reflective_type: String,
    reflective_slots: Vec<(String, String)>,
    staff: Vec<(usize, String)>,
    /// The eight-principles template, and a submitted round of each SENCO's school (index into
    /// `sencos`, round id).
    semh_template: String,
    semh_rounds: Vec<(usize, String)>,
    /// Actions due by this date show on the SENCO home (a fortnight on).
    due_by: String,
    now: String,
    week_end: String,
    month_from: String,
    month_to: String,
    /// The first free day for uncontended bookings (past the generated years).
    free_day: NaiveDate,
    slot: AtomicU64,
    /// A client that does not follow redirects: a parent's booking answers 303 (to the manage page).
    pages: reqwest::Client,
    /// The parents' booking links of the schools with Space to Talk.
    stt_links: Vec<SttLink>,
    /// Free times parents book through the links: (index into `stt_links`, the slot's value on
    /// the page), interleaved across the schools.
    stt_slots: Vec<(usize, String)>,
    stt_slot: AtomicU64,
    /// This academic year, for the time summary.
    pub year_from: String,
    pub year_to: String,
}

impl World {
    fn slot_times(&self, n: u64) -> (String, String, usize) {
        // 30-minute online slots, 16 a day per EP, past every generated calendar.
        let ep = (n as usize) % self.eps.len();
        let k = n / self.eps.len() as u64;
        let day = self.free_day + Days::days((k / 16) as i64);
        let start = domain::time::local_to_utc(
            chrono_tz::Europe::London,
            day,
            chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        ) + Days::minutes(30 * (k % 16) as i64);
        (start.to_rfc3339(), (start + Days::minutes(30)).to_rfc3339(), ep)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    SencoHome,
    TimeSummary,
    BookingsList,
    AvailabilityEp,
    AvailabilitySchool,
    CreateBooking,
    SignIn,
    SencoBookConsultation,
    EpConsultations,
    ReflectiveUpcoming,
    SttUpcoming,
    SemhRoundResults,
    SemhServicePicture,
    SttBookingPage,
    SttBookOnPage,
}

/// What one call sends: a GraphQL request, or a parent's page (a GET, or a POST of its form).
enum Request {
    Graphql(Option<String>, &'static str, Value),
    Page(String, Option<Vec<(&'static str, String)>>),
}

impl Op {
    const ALL: [Op; 15] = [
        Op::SencoHome,
        Op::TimeSummary,
        Op::BookingsList,
        Op::AvailabilityEp,
        Op::AvailabilitySchool,
        Op::CreateBooking,
        Op::SignIn,
        Op::SencoBookConsultation,
        Op::EpConsultations,
        Op::ReflectiveUpcoming,
        Op::SttUpcoming,
        Op::SemhRoundResults,
        Op::SemhServicePicture,
        Op::SttBookingPage,
        Op::SttBookOnPage,
    ];
    fn name(self) -> &'static str {
        match self {
            Op::SencoHome => "senco_home",
            Op::TimeSummary => "time_summary",
            Op::BookingsList => "bookings_list",
            Op::AvailabilityEp => "availability_ep",
            Op::AvailabilitySchool => "availability_school",
            Op::CreateBooking => "create_booking",
            Op::SignIn => "sign_in",
            Op::SencoBookConsultation => "senco_book_consultation",
            Op::EpConsultations => "ep_consultations",
            Op::ReflectiveUpcoming => "reflective_upcoming",
            Op::SttUpcoming => "stt_upcoming",
            Op::SemhRoundResults => "semh_round_results",
            Op::SemhServicePicture => "semh_service_picture",
            Op::SttBookingPage => "stt_booking_page",
            Op::SttBookOnPage => "stt_book_on_page",
        }
    }

    /// The request for the `n`th call.
    fn request(self, w: &World, n: u64, rows: i64) -> Request {
        match self {
            // The growth check's short list is the link with the fewest free times, its long
            // one the link with the most; otherwise the calls go round the links.
            Op::SttBookingPage => {
                let by_free = |most: bool| {
                    (0..w.stt_links.len()).max_by_key(|i| {
                        let f = w.stt_links[*i].free as i64;
                        if most { f } else { -f }
                    })
                };
                let k = match rows {
                    10 => by_free(false),
                    r if r > 100 => by_free(true),
                    _ => Some((n as usize) % w.stt_links.len().max(1)),
                };
                let token = k.and_then(|k| w.stt_links.get(k)).map_or("", |l| l.token.as_str());
                Request::Page(format!("/space-to-talk/{token}"), None)
            }
            Op::SttBookOnPage => {
                let k = w.stt_slot.fetch_add(1, Ordering::Relaxed) as usize;
                // Past the free times found, the booking is refused (and counted as an error).
                let (link, slot) = w
                    .stt_slots
                    .get(k)
                    .or(w.stt_slots.last())
                    .cloned()
                    .unwrap_or((0, String::new()));
                let (token, csrf) = w
                    .stt_links
                    .get(link)
                    .map_or((String::new(), String::new()), |l| (l.token.clone(), l.csrf.clone()));
                Request::Page(
                    format!("/space-to-talk/{token}"),
                    Some(vec![
                        ("csrf", csrf),
                        ("slot", slot),
                        ("name", format!("Runner Parent {k:05} (fictional)")),
                        ("phone", String::new()),
                        ("email", format!("runner{k:05}@bench.invalid")),
                        ("contact", "EMAIL".to_owned()),
                        ("topic", String::new()),
                    ]),
                )
            }
            graphql => {
                let (token, query, variables) = graphql.graphql(w, n, rows);
                Request::Graphql(token, query, variables)
            }
        }
    }

    /// The rows a timed request asks for: a page of 100, or the time summary of every school
    /// (issue 18's "time summary for 400 schools").
    fn rows(self, w: &World) -> i64 {
        if self == Op::TimeSummary {
            w.schools.len() as i64
        } else {
            100
        }
    }

    /// The GraphQL request for the `n`th call: (token, query, variables).
    fn graphql(self, w: &World, n: u64, rows: i64) -> (Option<String>, &'static str, Value) {
        let senco = &w.sencos[(n as usize) % w.sencos.len()];
        match self {
            Op::SencoHome => (
                Some(senco.0.clone()),
                SENCO_HOME,
                json!({ "school": senco.1, "now": w.now, "weekEnd": w.week_end, "dueBy": w.due_by, "n": rows }),
            ),
            Op::TimeSummary => {
                let schools: Option<Vec<&String>> =
                    (rows < w.schools.len() as i64).then(|| w.schools.iter().take(rows as usize).collect());
                (
                    Some(w.admin.clone()),
                    TIME_SUMMARY,
                    json!({ "service": w.service, "schools": schools, "from": w.year_from, "to": w.year_to }),
                )
            }
            Op::BookingsList => (Some(w.admin.clone()), BOOKINGS_LIST, json!({ "n": rows })),
            Op::AvailabilityEp => (
                Some(w.admin.clone()),
                AVAILABILITY_EP,
                json!({ "service": w.service, "ep": w.eps[(n as usize) % w.eps.len()], "from": w.month_from, "to": w.month_to }),
            ),
            Op::AvailabilitySchool => (
                Some(senco.0.clone()),
                AVAILABILITY_SCHOOL,
                json!({ "school": senco.1, "from": w.month_from, "to": w.month_to }),
            ),
            Op::CreateBooking => {
                let (from, to, ep) = w.slot_times(w.slot.fetch_add(1, Ordering::Relaxed));
                (
                    Some(w.admin.clone()),
                    CREATE_BOOKING,
                    json!({ "service": w.service, "ep": w.eps[ep], "from": from, "to": to }),
                )
            }
            Op::SignIn => (
                None,
                SIGN_IN,
                json!({ "email": senco.2, "password": generate::PASSWORD }),
            ),
            Op::SencoBookConsultation => {
                let k = w.consult_slot.fetch_add(1, Ordering::Relaxed) as usize;
                // Past the slots found free, the request is refused (and counted as an error).
                let (who, ep, at) = w.consult_slots.get(k).cloned().unwrap_or_else(|| {
                    w.consult_slots
                        .last()
                        .cloned()
                        .unwrap_or((0, String::new(), w.now.clone()))
                });
                let s = &w.sencos[who % w.sencos.len().max(1)];
                (
                    Some(s.0.clone()),
                    SENCO_BOOK_CONSULTATION,
                    json!({ "school": s.1, "ep": ep, "at": at }),
                )
            }
            Op::EpConsultations => {
                let (token, ep) = &w.ep_sessions[(n as usize) % w.ep_sessions.len()];
                (Some(token.clone()), EP_CONSULTATIONS, json!({ "ep": ep, "n": rows }))
            }
            Op::ReflectiveUpcoming => (
                Some(senco.0.clone()),
                REFLECTIVE_UPCOMING,
                json!({ "school": senco.1, "n": rows }),
            ),
            // Past a hundred rows (the growth check's long list): the administrator's view of
            // every school's upcoming sessions in the service, not one school's few.
            Op::SttUpcoming if rows > 100 => (Some(w.admin.clone()), STT_UPCOMING_ALL, json!({})),
            Op::SttUpcoming => {
                // The SENCOs of schools with Space to Talk runs (every list holds sessions).
                let with: Vec<usize> = (0..w.sencos.len())
                    .filter(|i| generate::has_space_to_talk(*i))
                    .collect();
                let s = &w.sencos[with.get((n as usize) % with.len().max(1)).copied().unwrap_or(0)];
                (Some(s.0.clone()), STT_UPCOMING, json!({ "school": s.1 }))
            }
            Op::SemhRoundResults => {
                let (who, round) = w
                    .semh_rounds
                    .get((n as usize) % w.semh_rounds.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                let s = &w.sencos[who % w.sencos.len().max(1)];
                (Some(s.0.clone()), SEMH_ROUND_RESULTS, json!({ "round": round }))
            }
            Op::SemhServicePicture => (
                Some(w.admin.clone()),
                SEMH_SERVICE_PICTURE,
                json!({ "template": w.semh_template }),
            ),
            Op::SttBookingPage | Op::SttBookOnPage => (None, "{ __typename }", json!({})),
        }
    }
}

/// Form encoding (`application/x-www-form-urlencoded`).
fn form_encode(fields: &[(&str, String)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A parent's page: a GET must answer the page (200), a POST of its form the redirect to the
/// manage page (303). The body is kept as text (the start of it, for a failure's note).
async fn page(w: &World, path: &str, form: Option<&[(&str, String)]>) -> Answer {
    let url = format!("{}{path}", w.base);
    let req = match form {
        None => w.pages.get(url),
        Some(f) => w
            .pages
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(f)),
    };
    let resp = match req.send().await {
        Ok(resp) => resp,
        Err(e) => return Answer::none(&e),
    };
    let statements = resp
        .headers()
        .get("x-sql-statements")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let ok = if form.is_some() { status == 303 } else { status == 200 };
    Answer {
        ok,
        statements,
        body: Value::String(format!("{status}: {}", text.chars().take(300).collect::<String>())),
    }
}

/// Every `value` of the inputs named `name` on a page, in order.
fn input_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" value=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = html.get(i + needle.len()..)?;
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// Sends one call of an operation.
async fn send(http: &reqwest::Client, w: &World, request: Request) -> Answer {
    match request {
        Request::Graphql(token, query, vars) => post(http, w, token.as_deref(), query, &vars).await,
        Request::Page(path, form) => page(w, &path, form.as_deref()).await,
    }
}

/// One answer: whether it was right, and the statements it cost.
struct Answer {
    ok: bool,
    statements: Option<u64>,
    body: Value,
}

impl Answer {
    /// A request that got no answer at all, and why.
    fn none(e: &reqwest::Error) -> Self {
        Self {
            ok: false,
            statements: None,
            body: json!({ "no answer": e.to_string() }),
        }
    }
}

/// The runner's HTTP client. It lets a pooled connection go after 2 s idle, before the server's
/// keep-alive of 5 s closes it, so that no request is sent on a connection the server is closing
/// (between cells, connections sit idle while the next one is prepared).
fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(2))
}

async fn post(http: &reqwest::Client, w: &World, token: Option<&str>, query: &str, variables: &Value) -> Answer {
    let mut req = http
        .post(format!("{}/graphql", w.base))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = match req.send().await {
        Ok(resp) => resp,
        Err(e) => return Answer::none(&e),
    };
    let statements = resp
        .headers()
        .get("x-sql-statements")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .unwrap_or_else(|e| json!({ "status": status.as_u16(), "not JSON": e.to_string() }));
    let errors = body
        .get("errors")
        .is_some_and(|e| !e.as_array().is_none_or(|a| a.is_empty()));
    let user_errors = find_user_errors(&body);
    Answer {
        ok: status.is_success() && !errors && !user_errors && !body["data"].is_null(),
        statements,
        body,
    }
}

fn find_user_errors(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| (k == "userErrors" && v.as_array().is_some_and(|a| !a.is_empty())) || find_user_errors(v)),
        Value::Array(a) => a.iter().any(find_user_errors),
        _ => false,
    }
}

/// The figures of one operation at one concurrency.
pub struct Cell {
    pub op: String,
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    /// Sign-ins the server turned away with RATE_LIMITED (its load shedding, not a failure):
    /// counted apart, out of the latencies and the throughput.
    pub shed: u64,
    pub seconds: f64,
    pub hist: Histogram<u64>,
    pub statements_min: u64,
    pub statements_max: u64,
    pub rss_max_kb: u64,
    pub floor_rps: Option<f64>,
    pub note: String,
}

impl Cell {
    fn new(op: &str, clients: usize) -> Self {
        Self {
            op: op.to_owned(),
            clients,
            requests: 0,
            errors: 0,
            shed: 0,
            seconds: 0.0,
            hist: new_hist(),
            statements_min: u64::MAX,
            statements_max: 0,
            rss_max_kb: 0,
            floor_rps: None,
            note: String::new(),
        }
    }

    /// Requests answered per second (shed sign-ins left out).
    fn rps(&self) -> f64 {
        (self.requests - self.shed) as f64 / self.seconds.max(1e-9)
    }
}

fn new_hist() -> Histogram<u64> {
    // Microseconds, 1 us to 10 minutes, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable_hist()))
}

#[allow(clippy::panic, reason = "a histogram with valid fixed bounds cannot fail to build")]
fn unreachable_hist() -> Histogram<u64> {
    panic!("hdrhistogram refused fixed bounds")
}

#[derive(Clone, Copy)]
enum Budget {
    Seconds(f64),
    PerClient(u64),
}

/// Samples the server's resident set while a cell runs.
fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn drive(
    http: &reqwest::Client,
    w: &Arc<World>,
    op: Op,
    clients: usize,
    budget: Budget,
    pid: u32,
    rows: i64,
) -> Cell {
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut max = 0;
            while sampling.load(Ordering::Relaxed) {
                max = max.max(rss_kb(pid, "VmRSS:"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            max.max(rss_kb(pid, "VmRSS:"))
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, w, counter, stop) = (http.clone(), w.clone(), counter.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = new_hist();
            let (mut errors, mut shed, mut smin, mut smax, mut done) = (0u64, 0u64, u64::MAX, 0u64, 0u64);
            let mut first_error: Option<String> = None;
            loop {
                if let Budget::PerClient(n) = budget
                    && done >= n
                {
                    break;
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let request = op.request(&w, n, rows);
                let t = Instant::now();
                let a = send(&http, &w, request).await;
                done += 1;
                // Past its hash queue the server answers sign-ins at once with RATE_LIMITED
                // rather than queue them without bound: its designed answer to the load.
                if op == Op::SignIn && a.body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
                    shed += 1;
                    continue;
                }
                let _ = hist.record((t.elapsed().as_micros() as u64).max(1));
                if !a.ok {
                    errors += 1;
                    if first_error.is_none() {
                        first_error = Some(a.body.to_string().chars().take(300).collect());
                    }
                }
                if let Some(s) = a.statements {
                    smin = smin.min(s);
                    smax = smax.max(s);
                }
            }
            (hist, errors, shed, smin, smax, done, first_error)
        }));
    }
    if let Budget::Seconds(s) = budget {
        tokio::time::sleep(Duration::from_secs_f64(s)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut cell = Cell::new(op.name(), clients);
    for t in tasks {
        if let Ok((hist, errors, shed, smin, smax, done, first_error)) = t.await {
            let _ = cell.hist.add(&hist);
            cell.errors += errors;
            cell.shed += shed;
            cell.requests += done;
            cell.statements_min = cell.statements_min.min(smin);
            cell.statements_max = cell.statements_max.max(smax);
            if cell.note.is_empty()
                && let Some(e) = first_error
            {
                cell.note = e;
            }
        }
    }
    cell.seconds = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    cell.rss_max_kb = sampler.await.unwrap_or(0);
    if cell.shed > 0 && cell.note.is_empty() {
        cell.note = format!("{} of {} shed with RATE_LIMITED", cell.shed, cell.requests);
    }
    cell
}

/// 100 clients ask for the same slot at once, `rounds` times: exactly one may win each.
async fn race(http: &reqwest::Client, w: &Arc<World>, rounds: usize, pid: u32) -> (Cell, bool) {
    let mut cell = Cell::new("race_100", 100);
    let mut all_single = true;
    let started = Instant::now();
    for _ in 0..rounds {
        let (from, to, ep) = w.slot_times(w.slot.fetch_add(1, Ordering::Relaxed));
        let vars = json!({ "service": w.service, "ep": w.eps[ep], "from": from, "to": to });
        let barrier = Arc::new(tokio::sync::Barrier::new(100));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (http, w, vars, barrier) = (http.clone(), w.clone(), vars.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let a = post(&http, &w, Some(&w.admin), CREATE_BOOKING, &vars).await;
                (t.elapsed(), a)
            }));
        }
        let mut winners = 0;
        for t in tasks {
            if let Ok((took, a)) = t.await {
                let _ = cell.hist.record((took.as_micros() as u64).max(1));
                cell.requests += 1;
                if !a.body["data"]["createBooking"]["result"].is_null() {
                    winners += 1;
                } else if a.body["data"]["createBooking"]["userErrors"]
                    .as_array()
                    .is_none_or(|e| e.is_empty())
                    && a.body.get("errors").is_none()
                {
                    cell.errors += 1;
                }
                if let Some(s) = a.statements {
                    cell.statements_min = cell.statements_min.min(s);
                    cell.statements_max = cell.statements_max.max(s);
                }
            }
        }
        if winners != 1 {
            all_single = false;
            cell.note = format!("a round had {winners} winners");
        }
    }
    cell.seconds = started.elapsed().as_secs_f64();
    cell.rss_max_kb = rss_kb(pid, "VmRSS:");
    if all_single {
        cell.note = format!("{rounds} rounds, exactly one winner each");
    }
    (cell, all_single)
}

fn default_url(backend: Backend, scale: Scale) -> String {
    let name = format!("{scale:?}").to_lowercase();
    match backend {
        Backend::Sqlite => format!("sqlite://target/bench/scps-bench-{name}.sqlite"),
        Backend::Postgres => format!("postgres://postgres@127.0.0.1:5432/scps_bench_{name}"),
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn ensure_binary(profile: Profile, given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let (path, release) = match profile {
        Profile::Full => (PathBuf::from("target/release/scps"), true),
        Profile::Ci => (PathBuf::from("target/debug/scps"), false),
    };
    if !path.exists() {
        println!("building {} ...", path.display());
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", "scps", "--locked"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().await?;
        if !status.success() {
            anyhow::bail!("could not build scps");
        }
    }
    Ok(path)
}

struct Server {
    _child: Child,
    pid: u32,
    base: String,
}

async fn start_server(binary: &Path, url: &str, redis: Option<&str>) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCPS_BIND", format!("127.0.0.1:{port}"))
        .env("SCPS_DATABASE_URL", url)
        .env("SCPS_ENV", "development")
        .env("SCPS_LOG", "warn")
        .env("SCPS_MIGRATE_ON_START", "false")
        // Sign-in limits count per address: the runner names a different one per request.
        .env("SCPS_TRUST_FORWARDED_FOR", "true")
        .env("SCPS_JWT_SECRET", JWT_SECRET)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null());
    if let Some(r) = redis {
        cmd.env("SCPS_REDIS_URL", r);
    }
    let child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(Server {
                _child: child,
                pid,
                base,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("scps did not start on {base}")
}

async fn sign_in(http: &reqwest::Client, w: &World, email: &str) -> anyhow::Result<String> {
    let a = post(
        http,
        w,
        None,
        SIGN_IN,
        &json!({ "email": email, "password": generate::PASSWORD }),
    )
    .await;
    a.body["data"]["signIn"]["session"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("could not sign in as {email}: {}", a.body))
}

async fn world(
    http: &reqwest::Client,
    base: String,
    schools_total: usize,
    extra_links: usize,
) -> anyhow::Result<World> {
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let now = Utc::now();
    let mut w = World {
        base,
        admin: String::new(),
        service: String::new(),
        sencos: Vec::new(),
        eps: Vec::new(),
        ep_sessions: Vec::new(),
        consult_slots: Vec::new(),
        consult_slot: AtomicU64::new(0),
        schools: Vec::new(),
        reflective_type: String::new(),
        reflective_slots: Vec::new(),
        staff: Vec::new(),
        semh_template: String::new(),
        semh_rounds: Vec::new(),
        due_by: (today + Days::days(14)).to_string(),
        now: now.to_rfc3339(),
        week_end: domain::time::local_to_utc(
            chrono_tz::Europe::London,
            monday + Days::days(5),
            chrono::NaiveTime::MIN,
        )
        .to_rfc3339(),
        month_from: domain::time::local_to_utc(
            chrono_tz::Europe::London,
            monday + Days::weeks(1),
            chrono::NaiveTime::MIN,
        )
        .to_rfc3339(),
        month_to: domain::time::local_to_utc(
            chrono_tz::Europe::London,
            monday + Days::weeks(5),
            chrono::NaiveTime::MIN,
        )
        .to_rfc3339(),
        free_day: NaiveDate::from_ymd_opt(generate::year_start(today) + 2, 10, 1).unwrap_or(today)
            + Days::days((now.timestamp() / 60 % 500) * 7),
        slot: AtomicU64::new(0),
        pages: client().redirect(reqwest::redirect::Policy::none()).build()?,
        stt_links: Vec::new(),
        stt_slots: Vec::new(),
        stt_slot: AtomicU64::new(0),
        year_from: format!("{}-09-01", generate::year_start(today)),
        year_to: format!("{}-08-31", generate::year_start(today) + 1),
    };
    w.admin = sign_in(http, &w, &generate::admin_email(0)).await?;
    let v = post(http, &w, Some(&w.admin), "{ viewer { services { id } } }", &json!({})).await;
    w.service = v.body["data"]["viewer"]["services"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no service: {}", v.body))?
        .to_owned();
    let mut named: Vec<(String, String)> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = post(
            http,
            &w,
            Some(&w.admin),
            "query($a: String) { schools(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id name } } } }",
            &json!({ "a": after }),
        )
        .await;
        let p = &page.body["data"]["schools"];
        for e in p["edges"].as_array().into_iter().flatten() {
            if let (Some(id), Some(name)) = (e["node"]["id"].as_str(), e["node"]["name"].as_str()) {
                named.push((name.to_owned(), id.to_owned()));
            }
        }
        if p["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    by_name.extend(named.iter().cloned());
    let people = post(
        http,
        &w,
        Some(&w.admin),
        "{ people(first: 100, filter: { role: PSYCHOLOGIST }) { edges { node { id } } } }",
        &json!({}),
    )
    .await;
    w.eps = people.body["data"]["people"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect();
    if w.eps.is_empty() {
        anyhow::bail!("no EPs found: {}", people.body);
    }
    // SENCOs of the first sixteen schools (each sign-in is a deliberate argon2 check).
    for i in 0..schools_total.min(16) {
        let email = generate::senco_email(0, i);
        let token = sign_in(http, &w, &email).await?;
        let name = generate::school_name(0, i);
        let school = by_name
            .get(&name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no school named {name}"))?;
        w.sencos.push((token, school, email));
    }
    w.schools = named.into_iter().map(|(_, id)| id).collect();
    for e in 0..w.eps.len().min(4) {
        let token = sign_in(http, &w, &generate::ep_email(0, e)).await?;
        let me = post(http, &w, Some(&token), "{ viewer { person { id } } }", &json!({})).await;
        let id = me.body["data"]["viewer"]["person"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no person for EP {e}: {}", me.body))?
            .to_owned();
        w.ep_sessions.push((token, id));
    }
    w.consult_slots = consultation_slots(http, &w, monday).await;
    reflective_world(http, &mut w, monday).await?;
    semh_world(http, &mut w).await?;
    stt_world(http, &mut w, extra_links).await?;
    Ok(w)
}

/// The parents' booking links of the SENCOs' schools with Space to Talk, and the free times
/// their pages show, for parents to book. The generator's link of each school is known by its
/// token (derived from the school's place in the service; only its digest is stored); `extra`
/// more per school are issued through the API by its SENCO, so that the full profile's reads
/// stay inside each link's rate limit.
async fn stt_world(http: &reqwest::Client, w: &mut World, extra: usize) -> anyhow::Result<()> {
    let mut per_school: Vec<Vec<(usize, String)>> = Vec::new();
    for i in (0..w.sencos.len()).filter(|i| generate::has_space_to_talk(*i)) {
        let mut tokens = vec![generate::space_to_talk_link_token(0, i)];
        for _ in 0..extra {
            let (senco, school, _) = &w.sencos[i];
            let a = post(http, w, Some(senco), ISSUE_LINK, &json!({ "school": school })).await;
            let token = a.body["data"]["issueSpaceToTalkLink"]["result"]["token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("could not issue a link for school {i}: {}", a.body))?;
            tokens.push(token.to_owned());
        }
        let mut mine = Vec::new();
        for (k, token) in tokens.into_iter().enumerate() {
            let html = w
                .pages
                .get(format!("{}/space-to-talk/{token}", w.base))
                .send()
                .await?
                .text()
                .await?;
            let free = input_values(&html, "slot");
            // A page with no free time has no form: nothing to book there.
            let Some(csrf) = input_values(&html, "csrf").pop() else {
                continue;
            };
            if k == 0 {
                mine = free.iter().map(|s| (w.stt_links.len(), s.clone())).collect();
            }
            w.stt_links.push(SttLink {
                token,
                csrf,
                free: free.len(),
            });
        }
        per_school.push(mine);
    }
    if w.stt_links.is_empty() {
        anyhow::bail!("no Space to Talk booking page with free times");
    }
    let longest = per_school.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in &per_school {
            if let Some(s) = list.get(i) {
                w.stt_slots.push(s.clone());
            }
        }
    }
    Ok(())
}

/// The eight-principles template and a submitted round of each SENCO's school.
async fn semh_world(http: &reqwest::Client, w: &mut World) -> anyhow::Result<()> {
    let t = post(
        http,
        w,
        Some(&w.admin),
        "query($s: ID!) { semhTemplates(serviceId: $s) { id starter } }",
        &json!({ "s": w.service }),
    )
    .await;
    w.semh_template = t.body["data"]["semhTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["starter"] == domain::semh::starters::EIGHT_PRINCIPLES)
        .and_then(|t| t["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no eight-principles template: {}", t.body))?
        .to_owned();
    for (k, (token, school, _)) in w.sencos.iter().enumerate() {
        let r = post(
            http,
            w,
            Some(token),
            "query($s: ID!) { semhRounds(schoolId: $s) { id status } }",
            &json!({ "s": school }),
        )
        .await;
        if let Some(id) = r.body["data"]["semhRounds"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["status"] == "SUBMITTED")
            .and_then(|r| r["id"].as_str())
        {
            w.semh_rounds.push((k, id.to_owned()));
        }
    }
    if w.semh_rounds.is_empty() {
        anyhow::bail!("no submitted SEMH rounds at the SENCOs' schools");
    }
    Ok(())
}

/// What the reflective race needs: the session type, free hours of EPs in term (after the
/// weeks the SENCOs book consultations in) and the staff of the SENCOs' schools.
async fn reflective_world(http: &reqwest::Client, w: &mut World, monday: NaiveDate) -> anyhow::Result<()> {
    let types = post(
        http,
        w,
        Some(&w.admin),
        "query($s: ID!) { reflectiveSessionTypes(serviceId: $s) { id name } }",
        &json!({ "s": w.service }),
    )
    .await;
    w.reflective_type = types.body["data"]["reflectiveSessionTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == "Reflecting team")
        .and_then(|t| t["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no reflecting-team type: {}", types.body))?
        .to_owned();
    let mut taken: Vec<(String, String)> = Vec::new();
    for week in 9..=12 {
        if w.reflective_slots.len() >= 12 {
            break;
        }
        let from = domain::time::local_to_utc(
            chrono_tz::Europe::London,
            monday + Days::weeks(week),
            chrono::NaiveTime::MIN,
        );
        let Some((token, school, _)) = w.sencos.first() else {
            break;
        };
        let a = post(
            http,
            w,
            Some(token),
            "query($s: ID!, $f: DateTime!, $t: DateTime!) { availability(first: 100, input: { schoolId: $s, from: $f, to: $t, durationMinutes: 90 }) { edges { node { startsAt epId visitId } } } }",
            &json!({ "s": school, "f": from.to_rfc3339(), "t": (from + Days::weeks(1)).to_rfc3339() }),
        )
        .await;
        for e in a.body["data"]["availability"]["edges"].as_array().into_iter().flatten() {
            let (Some(ep), Some(at)) = (e["node"]["epId"].as_str(), e["node"]["startsAt"].as_str()) else {
                continue;
            };
            if !e["node"]["visitId"].is_null() {
                continue;
            }
            // One a day per EP: never two of the runner's sessions at once.
            let day = at.get(..10).unwrap_or(at).to_owned();
            if w.reflective_slots.len() < 12 && !taken.iter().any(|(x, d)| x == ep && *d == day) {
                taken.push((ep.to_owned(), day));
                w.reflective_slots.push((ep.to_owned(), at.to_owned()));
            }
        }
    }
    for (k, (_, school, _)) in w.sencos.iter().enumerate() {
        let people = post(
            http,
            w,
            Some(&w.admin),
            "query($s: ID!) { people(first: 20, filter: { role: SCHOOL_STAFF, schoolId: $s }) { edges { node { id } } } }",
            &json!({ "s": school }),
        )
        .await;
        for e in people.body["data"]["people"]["edges"].as_array().into_iter().flatten() {
            if let Some(id) = e["node"]["id"].as_str() {
                w.staff.push((k, id.to_owned()));
            }
        }
    }
    Ok(())
}

/// Twenty SENCOs' registrations of their staff race for the last three places of a fresh
/// cluster session, `rounds` times: exactly three may get in, the rest wait in order.
async fn reflective_race(http: &reqwest::Client, w: &Arc<World>, rounds: usize, pid: u32) -> (Cell, bool) {
    let mut cell = Cell::new("reflective_race", 20);
    let mut fair = true;
    let started = Instant::now();
    let schools: Vec<&String> = w.sencos.iter().map(|s| &s.1).collect();
    if w.staff.len() < 25 {
        cell.note = format!("only {} staff to race", w.staff.len());
        return (cell, false);
    }
    for round in 0..rounds {
        let Some((ep, at)) = w.reflective_slots.get(round) else {
            cell.note = format!("no free hour for round {round}");
            return (cell, false);
        };
        let made = post(
            http,
            w,
            Some(&w.admin),
            "mutation($i: ScheduleReflectiveSessionInput!) { scheduleReflectiveSession(input: $i) { result { session { id } } userErrors { field code message } } }",
            &json!({ "i": { "typeId": w.reflective_type, "schoolIds": schools, "startsAt": at, "mode": "ONLINE", "facilitatorId": ep, "capacity": 8 } }),
        )
        .await;
        let Some(session) = made.body["data"]["scheduleReflectiveSession"]["result"]["session"]["id"].as_str() else {
            cell.note = format!("could not schedule: {}", made.body).chars().take(300).collect();
            return (cell, false);
        };
        // Five places go first, one at a time; then twenty race for the last three.
        for (k, person) in w.staff.iter().take(5) {
            let a = post(
                http,
                w,
                Some(&w.sencos[*k].0),
                REFLECTIVE_REGISTER,
                &json!({ "session": session, "person": person }),
            )
            .await;
            if !a.ok {
                cell.errors += 1;
            }
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(20));
        let mut tasks = Vec::new();
        for (k, person) in w.staff.iter().skip(5).take(20).cloned() {
            let (http, w, barrier) = (http.clone(), w.clone(), barrier.clone());
            let vars = json!({ "session": session, "person": person });
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let a = post(&http, &w, Some(&w.sencos[k].0), REFLECTIVE_REGISTER, &vars).await;
                (t.elapsed(), a)
            }));
        }
        let (mut registered, mut positions) = (0, Vec::new());
        for t in tasks {
            if let Ok((took, a)) = t.await {
                let _ = cell.hist.record((took.as_micros() as u64).max(1));
                cell.requests += 1;
                let r = &a.body["data"]["registerForReflectiveSession"]["result"]["registration"];
                match r["status"].as_str() {
                    Some("REGISTERED") => registered += 1,
                    Some("WAITING") => positions.push(r["waitingPosition"].as_i64().unwrap_or(0)),
                    _ => cell.errors += 1,
                }
                if let Some(s) = a.statements {
                    cell.statements_min = cell.statements_min.min(s);
                    cell.statements_max = cell.statements_max.max(s);
                }
            }
        }
        positions.sort_unstable();
        if registered != 3 || positions != (1..=17).collect::<Vec<i64>>() {
            fair = false;
            cell.note = format!("a round let {registered} in, waiting {positions:?}");
        }
    }
    cell.seconds = started.elapsed().as_secs_f64();
    cell.rss_max_kb = rss_kb(pid, "VmRSS:");
    if fair {
        cell.note = format!("{rounds} rounds, exactly three in and seventeen waiting in order each");
    }
    (cell, fair)
}

/// Free hours the SENCOs' schools may book, none overlapping another for the same EP, as many
/// per school as its remaining allocation allows (a meeting with preparation and write-up
/// holds 150 minutes), interleaved across the schools.
async fn consultation_slots(http: &reqwest::Client, w: &World, monday: NaiveDate) -> Vec<(usize, String, String)> {
    use chrono::DateTime;
    type Spans = Vec<(DateTime<Utc>, DateTime<Utc>)>;
    let mut taken: BTreeMap<String, Spans> = BTreeMap::new();
    let mut per_school: Vec<Vec<(usize, String, String)>> = Vec::new();
    for (k, (token, school, _)) in w.sencos.iter().enumerate() {
        let balance = post(
            http,
            w,
            Some(token),
            "query($s: ID!) { school(id: $s) { balance { fundingStream balance { remainingMinutes } } } }",
            &json!({ "s": school }),
        )
        .await;
        let remaining: i64 = balance.body["data"]["school"]["balance"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["fundingStream"] == "TRADED")
            .filter_map(|b| b["balance"]["remainingMinutes"].as_i64())
            .sum();
        let room = usize::try_from(remaining / 150 - 1).unwrap_or(0).min(12);
        let mut mine = Vec::new();
        for week in 1..=8 {
            if mine.len() >= room {
                break;
            }
            let from = domain::time::local_to_utc(
                chrono_tz::Europe::London,
                monday + Days::weeks(week),
                chrono::NaiveTime::MIN,
            );
            let a = post(
                http,
                w,
                Some(token),
                "query($s: ID!, $f: DateTime!, $t: DateTime!) { availability(first: 100, input: { schoolId: $s, from: $f, to: $t, durationMinutes: 60 }) { edges { node { startsAt endsAt epId visitId } } } }",
                &json!({ "s": school, "f": from.to_rfc3339(), "t": (from + Days::weeks(1)).to_rfc3339() }),
            )
            .await;
            for e in a.body["data"]["availability"]["edges"].as_array().into_iter().flatten() {
                let n = &e["node"];
                // Time inside a visit is the visit's (booked with its visitId): the runner books
                // free time outside visits only.
                if !n["visitId"].is_null() {
                    continue;
                }
                let (Some(ep), Some(a), Some(b)) = (
                    n["epId"].as_str(),
                    n["startsAt"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
                    n["endsAt"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
                ) else {
                    continue;
                };
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                let list = taken.entry(ep.to_owned()).or_default();
                if mine.len() < room && !list.iter().any(|(x, y)| *x < b && a < *y) {
                    list.push((a, b));
                    mine.push((k, ep.to_owned(), a.to_rfc3339()));
                }
            }
        }
        per_school.push(mine);
    }
    let mut out = Vec::new();
    let longest = per_school.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for list in &per_school {
            if let Some(s) = list.get(i) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// Runs the benchmark; returns whether every check held.
pub async fn run(args: RunArgs) -> anyhow::Result<bool> {
    scps::install_crypto();
    let scale = args.scale.unwrap_or(match args.profile {
        Profile::Ci => Scale::S,
        Profile::Full => Scale::L,
    });
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| default_url(args.backend, scale));
    let binary = ensure_binary(args.profile, args.scps.clone()).await?;
    let shape = scale.shape();
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let reuse = args.reuse && {
        let db = generate::prepare(&url, false).await?;
        let has = !domain::identity::all_services(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .is_empty();
        db.close().await?;
        has
    };
    if !reuse {
        let t = Instant::now();
        let db = generate::prepare(&url, true).await?;
        let written = generate::generate(&db, shape, args.seed, today).await?;
        db.close().await?;
        println!(
            "generated {scale:?} into {url} in {:.1} s:\n{written}",
            t.elapsed().as_secs_f64()
        );
    }

    let server = start_server(&binary, &url, args.redis_url.as_deref()).await?;
    let http = client().build()?;
    // The full profile's thousands of page reads need more links than the generator's one per
    // school (each link answers a few hundred reads in ten minutes).
    let extra_links = if args.profile == Profile::Full { 30 } else { 0 };
    let w = Arc::new(world(&http, server.base.clone(), shape.schools, extra_links).await?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kb = rss_kb(server.pid, "VmRSS:");
    let wanted = |op: &str| args.only.as_ref().is_none_or(|o| o.iter().any(|x| x == op));

    let mut ok = true;
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    match args.profile {
        Profile::Ci => {
            if args.dump_sql
                && let Some(f) = floor::Floor::capture(&url, &w).await?
            {
                std::fs::write("target/bench/statements.sql", f.dump())?;
                println!("statements written to target/bench/statements.sql");
                f.close().await;
            }
            let levels = args.clients.clone().unwrap_or_else(|| vec![1, 4]);
            for op in Op::ALL.into_iter().filter(|o| wanted(o.name())) {
                for &c in &levels {
                    let rows = op.rows(&w);
                    let cell = drive(
                        &http,
                        &w,
                        op,
                        c,
                        // Each booking takes a free slot of its own: a few suffice.
                        Budget::PerClient(
                            if matches!(op, Op::SignIn | Op::SencoBookConsultation | Op::SttBookOnPage) {
                                2
                            } else {
                                5
                            },
                        ),
                        server.pid,
                        rows,
                    )
                    .await;
                    cells.push(cell);
                }
            }
            if wanted("race_100") {
                let (cell, single) = race(&http, &w, 2, server.pid).await;
                if !single {
                    problems.push(format!("race_100: {}", cell.note));
                }
                cells.push(cell);
            }
            if wanted("reflective_race") {
                let (cell, fair) = reflective_race(&http, &w, 2, server.pid).await;
                if !fair {
                    problems.push(format!("reflective_race: {}", cell.note));
                }
                cells.push(cell);
            }
            // Statements must not grow with the rows a list returns.
            for op in [
                Op::SencoHome,
                Op::BookingsList,
                Op::TimeSummary,
                Op::EpConsultations,
                Op::ReflectiveUpcoming,
                Op::SttUpcoming,
                Op::SttBookingPage,
            ] {
                if !wanted(op.name()) {
                    continue;
                }
                // Space to Talk's upcoming sessions take no page size: a school's few against
                // the whole service's; the booking page, the link with the fewest free times
                // against the one with the most (see `Op::request`).
                let long = if matches!(op, Op::SttUpcoming | Op::SttBookingPage) {
                    1000
                } else {
                    100
                };
                let small = drive(&http, &w, op, 1, Budget::PerClient(3), server.pid, 10).await;
                let large = drive(&http, &w, op, 1, Budget::PerClient(3), server.pid, long).await;
                println!(
                    "{:<20} statements with 10 rows: {}, with {long} rows: {}",
                    op.name(),
                    small.statements_min,
                    large.statements_min
                );
                // A page whose lists sit at two depths (the SENCO home's bookings and
                // consultations) can have two loader batches merge by luck: one statement fewer
                // in one request. Growth with the rows shows as the large page's fewest above the
                // small page's most.
                if large.statements_min > small.statements_max {
                    problems.push(format!(
                        "{}: {}-{} statements for 10 rows but {}-{} for 100",
                        op.name(),
                        small.statements_min,
                        small.statements_max,
                        large.statements_min,
                        large.statements_max
                    ));
                }
            }
        }
        Profile::Full => {
            let levels = args.clients.clone().unwrap_or_else(|| vec![1, 8, 32, 128]);
            let floor = floor::Floor::capture(&url, &w).await?;
            if let Some(f) = &floor {
                let path = args.out.with_extension("floor.sql");
                std::fs::write(&path, f.dump())?;
                println!("the floor's statements are in {}", path.display());
            }
            for op in Op::ALL.into_iter().filter(|o| wanted(o.name())) {
                // Each booking takes a free slot of its own, of as many as were found, shared
                // out over the concurrencies; a concurrency the slots left cannot serve is not
                // run (it would book taken slots and time refusals).
                let supply = match op {
                    Op::SencoBookConsultation => Some(w.consult_slots.len()),
                    Op::SttBookOnPage => Some(w.stt_slots.len()),
                    _ => None,
                };
                let per = supply.map(|n| (n / levels.iter().sum::<usize>().max(1)).max(1));
                let mut left = supply.unwrap_or(0);
                for &c in &levels {
                    let budget = match per {
                        Some(per) if left < per * c => {
                            let mut cell = Cell::new(op.name(), c);
                            cell.note = format!("not run: {left} free slots left for {c} clients");
                            println!("{:<20} {:>4} clients  {}", cell.op, c, cell.note);
                            cells.push(cell);
                            continue;
                        }
                        Some(per) => {
                            left -= per * c;
                            Budget::PerClient(per as u64)
                        }
                        None => Budget::Seconds(args.seconds),
                    };
                    let mut cell = drive(&http, &w, op, c, budget, server.pid, op.rows(&w)).await;
                    if let Some(f) = &floor
                        && let Some(statements) = f.statements_of(op.name())
                    {
                        cell.floor_rps = f.replay(statements, c, args.seconds).await?;
                    }
                    println!(
                        "{:<20} {:>4} clients {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  {} statements  {} errors{}",
                        cell.op,
                        c,
                        cell.rps(),
                        cell.hist.value_at_quantile(0.5) as f64 / 1000.0,
                        cell.hist.value_at_quantile(0.99) as f64 / 1000.0,
                        cell.statements_max,
                        cell.errors,
                        cell.floor_rps
                            .map(|f| format!("  floor {f:.1} req/s"))
                            .unwrap_or_default()
                    );
                    cells.push(cell);
                }
            }
            if wanted("race_100") {
                let (cell, single) = race(&http, &w, 10, server.pid).await;
                if !single {
                    problems.push(format!("race_100: {}", cell.note));
                }
                cells.push(cell);
            }
            if wanted("reflective_race") {
                let (cell, fair) = reflective_race(&http, &w, 10, server.pid).await;
                if !fair {
                    problems.push(format!("reflective_race: {}", cell.note));
                }
                cells.push(cell);
            }
            if let Some(f) = floor {
                f.close().await;
            }
        }
    }
    let peak_kb = rss_kb(server.pid, "VmHWM:");
    drop(server);

    for c in &cells {
        // One sign-in at a time never passes the hash queue, and a server that sheds every
        // sign-in serves none: either is a failure, not load shedding.
        if c.shed > 0 && (c.clients == 1 || c.shed == c.requests) {
            problems.push(format!("{} at {} clients: {}", c.op, c.clients, c.note));
        }
        if c.errors > 0 && c.op != "race_100" && c.op != "reflective_race" {
            problems.push(format!(
                "{} at {} clients: {} failed requests, e.g. {}",
                c.op, c.clients, c.errors, c.note
            ));
        }
        // Counted one request at a time, and the fewest of several: a DataLoader's batch can
        // still split when a slow (debug) build takes longer than the loader's delay to queue a
        // level's keys, and a count that depends on timing would make CI flake. A regression
        // raises every request's count, the fewest included.
        if let Some((_, budget)) = BUDGETS.iter().find(|(name, _)| *name == c.op)
            && (c.clients == 1 || c.op == "race_100" || c.op == "reflective_race")
            && c.statements_min > *budget
            && c.statements_min != u64::MAX
        {
            problems.push(format!(
                "{}: {} statements per request, over its budget of {budget}",
                c.op, c.statements_min
            ));
        }
    }
    let table = render(&args, &binary, scale, &url, &cells, idle_kb, peak_kb);
    println!("\n{table}");
    if args.profile == Profile::Full {
        append(&args.out, &table)?;
    }
    for p in &problems {
        eprintln!("FAIL: {p}");
        ok = false;
    }
    Ok(ok)
}

fn append(path: &Path, table: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    if fresh {
        writeln!(
            f,
            "# scps benchmark results\n\nWritten by `cargo run -p scps-bench --release -- run` (newest last).\n"
        )?;
    }
    writeln!(f, "{table}")?;
    Ok(())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let mem = rss_meminfo();
    format!("{cpus} CPUs ({model}), {mem} MiB RAM")
}

fn rss_meminfo() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .unwrap_or(0)
        / 1024
}

fn render(
    args: &RunArgs,
    binary: &Path,
    scale: Scale,
    url: &str,
    cells: &[Cell],
    idle_kb: u64,
    peak_kb: u64,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let shown_url = url.split('@').next_back().unwrap_or(url);
    let _ = writeln!(
        out,
        "## {:?} on {:?}, scale {:?} ({})\n\n{} · {} · `{}` · idle RSS {:.1} MiB, peak RSS (VmHWM) {:.1} MiB\n",
        args.profile,
        args.backend,
        scale,
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        shown_url,
        args.scps
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| binary.display().to_string()),
        idle_kb as f64 / 1024.0,
        peak_kb as f64 / 1024.0,
    );
    let _ = writeln!(
        out,
        "| operation | clients | requests | req/s | p50 ms | p95 ms | p99 ms | SQL/request | RSS max MiB | floor req/s | scps/floor | errors | note |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for c in cells {
        let q = |p: f64| c.hist.value_at_quantile(p) as f64 / 1000.0;
        let stmts = if c.statements_max == 0 {
            "-".to_owned()
        } else if c.statements_min == c.statements_max {
            c.statements_max.to_string()
        } else {
            format!("{}-{}", c.statements_min, c.statements_max)
        };
        let (floor, ratio) = match c.floor_rps {
            Some(f) if c.rps() > 0.0 => (format!("{f:.0}"), format!("{:.2}", f / c.rps())),
            _ => ("".into(), "".into()),
        };
        let note = c.note.replace('|', "/").chars().take(80).collect::<String>();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {} | {} | {} | {} |",
            c.op,
            c.clients,
            c.requests,
            c.rps(),
            q(0.5),
            q(0.95),
            q(0.99),
            stmts,
            c.rss_max_kb as f64 / 1024.0,
            floor,
            ratio,
            c.errors,
            note,
        );
    }
    out
}

pub mod floor;
