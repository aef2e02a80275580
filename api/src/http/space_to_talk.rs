//! The parents' Space to Talk pages: plain HTML served by scps, for a phone as much as a
//! computer, in plain English, with no JavaScript and no account.
//!
//! `GET /space-to-talk/{token}` shows a school's free times and a short form; posting it books
//! one and sends the parent on to their own manage page, `/space-to-talk/manage/{token}`, where
//! they can move or cancel it. The token in the path is the only credential (a wrong, expired or
//! revoked one answers the same "this link does not work" page), forms carry a CSRF token bound
//! to it, and both are rate-limited per link and per address. Pages are never cached, never
//! framed, and send no referrer, so the token does not leak to other sites.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use domain::DomainError;
use domain::ids::SpaceToTalkSlotId;
use domain::model::{BookingMode, ContactMethod, SpaceToTalkStatus};
use domain::secrets;
use domain::space_to_talk::booking::{JUST_TAKEN, Parent};
use domain::space_to_talk::{SlotView, links};

use super::middleware::RequestId;
use crate::app::Services;
use crate::kv::Key;
use crate::metrics::REQUEST_STATEMENTS;

/// Links that do not work, allowed per address in a window (someone trying tokens), and
/// requests per link (someone hammering one).
const FAILURES_PER_ADDRESS: i64 = 200;
const GETS_PER_LINK: i64 = 300;
const POSTS_PER_LINK: i64 = 60;
const WINDOW: Duration = Duration::from_secs(600);

const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:1.125rem;line-height:1.5;color:#0b0c0c;background:#fff}\
main{max-width:40rem;margin:0 auto;padding:1rem}\
h1{font-size:1.75rem;line-height:1.2;margin:.5rem 0 1rem}\
h2{font-size:1.35rem;margin:1.5rem 0 .5rem}\
p{margin:0 0 1rem}\
.lead{color:#3b3b3b}\
fieldset{border:0;padding:0;margin:0 0 1.25rem}\
legend{font-weight:700;font-size:1.2rem;margin-bottom:.5rem}\
.option{display:flex;align-items:flex-start;gap:.6rem;padding:.6rem;border:2px solid #b1b4b6;border-radius:.3rem;margin-bottom:.5rem}\
.option input{width:1.5rem;height:1.5rem;margin:.1rem 0 0;flex:none}\
label{font-weight:700;display:block;margin-bottom:.25rem}\
.option label{font-weight:400;margin:0}\
.field{margin-bottom:1.25rem}\
.hint{color:#484949;margin:0 0 .4rem;font-weight:400}\
input[type=text],input[type=tel],input[type=email],textarea{width:100%;font:inherit;padding:.5rem;border:2px solid #0b0c0c;border-radius:0}\
textarea{min-height:5rem}\
input:focus,textarea:focus,button:focus,a:focus{outline:3px solid #ffdd00;outline-offset:0;box-shadow:inset 0 0 0 2px #0b0c0c}\
button{font:inherit;font-weight:700;background:#00703c;color:#fff;border:0;border-bottom:2px solid #002d18;padding:.6rem 1.2rem;cursor:pointer;min-height:2.75rem}\
button.secondary{background:#f3f2f1;color:#0b0c0c;border-bottom-color:#929191}\
button.warning{background:#d4351c;border-bottom-color:#55150b}\
.error-summary{border:4px solid #d4351c;padding:1rem;margin-bottom:1.5rem}\
.error-summary h2{margin-top:0}\
.error{color:#d4351c;font-weight:700;margin:0 0 .4rem}\
.notice{border-left:8px solid #1d70b8;background:#f3f2f1;padding:1rem;margin-bottom:1.5rem}\
.done{border:4px solid #00703c;padding:1rem;margin-bottom:1.5rem}\
.done h2,.notice h2{margin-top:0}\
a{color:#1d70b8}\
dl{margin:0 0 1rem}dt{font-weight:700}dd{margin:0 0 .75rem}";

/// The stylesheet's digest for the Content-Security-Policy, worked out once.
fn css_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes())))
}

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    page_of("Space to Talk", status, title, body)
}

/// A page of one of the pages reached through a link (`site` ends its title).
pub(super) fn page_of(site: &str, status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex, nofollow\">\
<title>{} - {}</title><style>{CSS}</style></head>\
<body><main id=\"main\">{body}</main></body></html>",
        esc(title),
        esc(site)
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .insert_header((
            "Content-Security-Policy",
            format!(
                "default-src 'none'; style-src 'sha256-{}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                css_hash()
            ),
        ))
        .body(html)
}

pub(super) fn not_found() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "<h1>This link does not work</h1>\
<p>The link may have expired, or the school may have replaced it.</p>\
<p>Please ask the school for a new link.</p>",
    )
}

pub(super) fn busy() -> HttpResponse {
    let mut res = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Please wait a moment",
        "<h1>Please wait a moment</h1><p>There have been a lot of requests from here. Please try again in a few minutes.</p>",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    res
}

pub(super) fn broken(request_id: &str) -> HttpResponse {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        &format!(
            "<h1>Something went wrong</h1><p>Sorry, we could not do that just now. Please try again later, or contact the school.</p><p class=\"hint\">Reference: {}</p>",
            esc(request_id)
        ),
    )
}

pub(super) fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// The CSRF token of a link's forms: bound to the link, useless without it.
fn csrf_for(token: &str) -> String {
    secrets::token_digest(&format!("space-to-talk-form:{token}"))[..32].to_owned()
}

fn address_key(req: &HttpRequest, services: &Services) -> Key {
    let address = super::graphql::client_address(req, services.config.http.trust_forwarded_for).unwrap_or_default();
    Key::new("stt_address", &secrets::token_digest(&address)[..24])
}

/// Counts a request against its link; false when the link, or the address (after too many
/// links that did not work), is over its limit.
pub(super) async fn within_limits(req: &HttpRequest, services: &Services, token: &str, post: bool) -> bool {
    let (failures, _) = services.kv.peek(&address_key(req, services)).await;
    if failures >= FAILURES_PER_ADDRESS {
        return false;
    }
    let (area, limit) = if post {
        ("stt_link_post", POSTS_PER_LINK)
    } else {
        ("stt_link_get", GETS_PER_LINK)
    };
    let (n, _) = services
        .kv
        .bump(&Key::new(area, &secrets::token_digest(token)[..24]), WINDOW)
        .await;
    n <= limit
}

/// An answer, counting a link that did not work against the address that tried it.
pub(super) async fn counted(req: &HttpRequest, services: &Services, res: HttpResponse) -> HttpResponse {
    if res.status() == StatusCode::NOT_FOUND {
        services.kv.bump(&address_key(req, services), WINDOW).await;
    }
    res
}

/// Runs a page's work counting the SQL statements it issues and, outside production, says how
/// many in `x-sql-statements`, as the GraphQL endpoint does (the benchmark reads it).
pub(super) async fn with_statements(services: &Services, work: impl Future<Output = HttpResponse>) -> HttpResponse {
    let statements = Arc::new(AtomicU64::new(0));
    let mut res = REQUEST_STATEMENTS.scope(statements.clone(), work).await;
    if !services.config.is_production() {
        res.headers_mut().insert(
            HeaderName::from_static("x-sql-statements"),
            HeaderValue::from(statements.load(Ordering::Relaxed)),
        );
    }
    res
}

/// "Tuesday 22 December 2026, 10:00 to 10:45".
fn when(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let a = from.with_timezone(&tz);
    let b = to.with_timezone(&tz);
    format!(
        "{}, {} to {}",
        a.format("%A %-d %B %Y"),
        a.format("%H:%M"),
        b.format("%H:%M")
    )
}

fn how(mode: BookingMode, location: Option<&str>) -> String {
    match (mode, location) {
        (BookingMode::InPerson, Some(l)) => format!("In person: {l}"),
        (BookingMode::InPerson, None) => "In person at the school".to_owned(),
        (BookingMode::Phone, _) => "By phone: the psychologist will call you".to_owned(),
        (BookingMode::Online, _) => "Online: the school will send you the details".to_owned(),
    }
}

/// What a parent typed, kept to show the form again.
#[derive(Default)]
struct Form {
    csrf: String,
    slot: String,
    name: String,
    phone: String,
    email: String,
    contact: String,
    topic: String,
}

pub(super) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Reads `a=b&c=d` from a form post; `None` when it is not one.
/// A form posted through a link: within the link's limits, form-encoded, and carrying the CSRF
/// token bound to that link. Otherwise the answer to give instead ("busy", or the same page as
/// a link that does not work).
async fn posted_form(req: &HttpRequest, services: &Services, token: &str, body: &[u8]) -> Result<Form, HttpResponse> {
    if !within_limits(req, services, token, true).await {
        return Err(busy());
    }
    read_form(req, body)
        .filter(|f| f.csrf == csrf_for(token))
        .ok_or_else(not_found)
}

fn read_form(req: &HttpRequest, body: &[u8]) -> Option<Form> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut form = Form::default();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v)?;
        let field = match percent_decode(k)?.as_str() {
            "csrf" => &mut form.csrf,
            "slot" => &mut form.slot,
            "name" => &mut form.name,
            "phone" => &mut form.phone,
            "email" => &mut form.email,
            "contact" => &mut form.contact,
            "topic" => &mut form.topic,
            _ => continue,
        };
        *field = v;
    }
    Some(form)
}

fn slot_of(form: &Form) -> Option<SpaceToTalkSlotId> {
    uuid::Uuid::parse_str(form.slot.trim()).ok().map(SpaceToTalkSlotId)
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A problem with one field, for the error summary and beside the field.
struct Problem {
    field: &'static str,
    message: String,
}

fn problems_of(errors: Vec<domain::FieldError>) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|e| {
            let (field, label) = match e.field.first().map(String::as_str) {
                Some("displayName") => ("name", "Your name"),
                Some("phone") => ("phone", "Phone number"),
                Some("email") => ("email", "Email address"),
                Some("preferredContact") => ("contact-phone", "How to contact you"),
                Some("topic") => ("topic", "What you would like to talk about"),
                _ => ("slot-0", "Time"),
            };
            Problem {
                field,
                message: format!("{label}: {}", e.message),
            }
        })
        .collect()
}

fn error_summary(problems: &[Problem]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-title\"><h2 id=\"error-title\">There is a problem</h2><ul>",
    );
    for p in problems {
        let _ = write!(s, "<li><a href=\"#{}\">{}</a></li>", p.field, esc(&p.message));
    }
    s.push_str("</ul></div>");
    s
}

fn slot_options(tz: Tz, slots: &[SlotView], chosen: &str, legend: &str, problems: &[Problem]) -> String {
    let error = problems.iter().find(|p| p.field == "slot-0");
    let mut s = format!("<fieldset><legend>{}</legend>", esc(legend));
    if let Some(e) = error {
        let _ = write!(s, "<p class=\"error\" id=\"slot-error\">{}</p>", esc(&e.message));
    }
    for (i, v) in slots.iter().enumerate() {
        let value = v.row.id.0.simple().to_string();
        let checked = if value == chosen.trim() { " checked" } else { "" };
        let _ = write!(
            s,
            "<div class=\"option\"><input type=\"radio\" id=\"slot-{i}\" name=\"slot\" value=\"{value}\"{checked}><label for=\"slot-{i}\">{}<br><span class=\"hint\">{}</span></label></div>",
            esc(&when(tz, v.row.starts_at, v.row.ends_at)),
            esc(&how(v.mode, v.location.as_deref())),
        );
    }
    s.push_str("</fieldset>");
    s
}

fn text_field(
    id: &'static str,
    label: &str,
    kind: &str,
    value: &str,
    extra: &str,
    hint: Option<&str>,
    problems: &[Problem],
) -> String {
    let error = problems.iter().find(|p| p.field == id);
    let mut described = Vec::new();
    let mut s = format!("<div class=\"field\"><label for=\"{id}\">{}</label>", esc(label));
    if let Some(h) = hint {
        let _ = write!(s, "<p class=\"hint\" id=\"{id}-hint\">{}</p>", esc(h));
        described.push(format!("{id}-hint"));
    }
    if let Some(e) = error {
        let _ = write!(s, "<p class=\"error\" id=\"{id}-error\">{}</p>", esc(&e.message));
        described.push(format!("{id}-error"));
    }
    let aria = if described.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", described.join(" "))
    };
    let invalid = if error.is_some() { " aria-invalid=\"true\"" } else { "" };
    if kind == "textarea" {
        let _ = write!(
            s,
            "<textarea id=\"{id}\" name=\"{id}\"{aria}{invalid}{extra}>{}</textarea></div>",
            esc(value)
        );
    } else {
        let _ = write!(
            s,
            "<input type=\"{kind}\" id=\"{id}\" name=\"{id}\" value=\"{}\"{aria}{invalid}{extra}></div>",
            esc(value)
        );
    }
    s
}

fn booking_page(
    status: StatusCode,
    token: &str,
    opened: &links::Opened,
    slots: &[SlotView],
    form: &Form,
    problems: &[Problem],
    taken: bool,
) -> HttpResponse {
    let mut body = String::from("<h1>Book a Space to Talk session</h1>");
    let _ = write!(
        body,
        "<p class=\"lead\">For parents and carers at {}, with {}.</p>",
        esc(&opened.school_name),
        esc(&opened.service_name)
    );
    body.push_str(
        "<p>Space to Talk is a short, confidential conversation with an educational psychologist about how your child is learning and feeling, and how to support them. You do not need to prepare anything.</p>",
    );
    if taken {
        let _ = write!(
            body,
            "<div class=\"notice\" role=\"alert\"><h2>That time has gone</h2><p>{}</p></div>",
            esc(JUST_TAKEN)
        );
    }
    body.push_str(&error_summary(problems));
    if slots.is_empty() {
        body.push_str("<h2>No free times</h2><p>There are no free times at the moment. Please ask the school when there will be more.</p>");
        return page(status, "Book a Space to Talk session", &body);
    }
    let contact = if form.contact.is_empty() {
        "PHONE"
    } else {
        form.contact.as_str()
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/space-to-talk/{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token),
        csrf_for(token)
    );
    body.push_str(&slot_options(opened.zone, slots, &form.slot, "Choose a time", problems));
    body.push_str("<h2>About you</h2>");
    body.push_str(&text_field(
        "name",
        "Your name",
        "text",
        &form.name,
        " autocomplete=\"name\" maxlength=\"80\"",
        Some("What the psychologist should call you. A first name is fine."),
        problems,
    ));
    body.push_str(&text_field(
        "phone",
        "Phone number",
        "tel",
        &form.phone,
        " autocomplete=\"tel\" maxlength=\"30\"",
        Some("Give a phone number or an email address, or both."),
        problems,
    ));
    body.push_str(&text_field(
        "email",
        "Email address",
        "email",
        &form.email,
        " autocomplete=\"email\" maxlength=\"254\" spellcheck=\"false\"",
        None,
        problems,
    ));
    let contact_error = problems.iter().find(|p| p.field == "contact-phone");
    body.push_str("<fieldset><legend>How should the psychologist contact you?</legend>");
    if let Some(e) = contact_error {
        let _ = write!(body, "<p class=\"error\">{}</p>", esc(&e.message));
    }
    for (value, label, id) in [
        ("PHONE", "By phone", "contact-phone"),
        ("EMAIL", "By email", "contact-email"),
    ] {
        let checked = if contact == value { " checked" } else { "" };
        let _ = write!(
            body,
            "<div class=\"option\"><input type=\"radio\" id=\"{id}\" name=\"contact\" value=\"{value}\"{checked}><label for=\"{id}\">{label}</label></div>"
        );
    }
    body.push_str("</fieldset>");
    body.push_str(&text_field(
        "topic",
        "What would you like to talk about? (optional)",
        "textarea",
        &form.topic,
        " maxlength=\"200\" rows=\"3\"",
        Some("A few words are enough. Only write what you are happy for the school and the psychologist to read, and please do not write your child's full name."),
        problems,
    ));
    body.push_str("<button type=\"submit\">Book this time</button></form>");
    page(status, "Book a Space to Talk session", &body)
}

async fn open_with_slots(services: &Services, token: &str) -> Result<(links::Opened, Vec<SlotView>), DomainError> {
    let opened = links::open(&services.db, token).await?;
    let slots = links::slots(&services.db, &opened).await?;
    Ok((opened, slots))
}

/// `GET /space-to-talk/{token}`: the school's free times and the form.
pub async fn booking(req: HttpRequest, path: web::Path<String>, services: web::Data<Services>) -> HttpResponse {
    with_statements(&services, async {
        let res = booking_page_for(&req, path.into_inner(), &services).await;
        counted(&req, &services, res).await
    })
    .await
}

async fn booking_page_for(req: &HttpRequest, token: String, services: &Services) -> HttpResponse {
    if !within_limits(req, services, &token, false).await {
        return busy();
    }
    match open_with_slots(services, &token).await {
        Ok((opened, slots)) => booking_page(StatusCode::OK, &token, &opened, &slots, &Form::default(), &[], false),
        Err(DomainError::NotFound) => not_found(),
        Err(e) => failed(e, &request_id(req)),
    }
}

pub(super) fn failed(e: DomainError, request_id: &str) -> HttpResponse {
    match e {
        DomainError::NotFound => not_found(),
        DomainError::RateLimited { .. } => busy(),
        DomainError::Internal(internal) => {
            tracing::error!(request_id, context = internal.context, error = %internal.cause, "internal error");
            broken(request_id)
        }
        other => {
            tracing::warn!(request_id, error = %other, "space to talk page refused");
            broken(request_id)
        }
    }
}

pub(super) fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .finish()
}

/// `POST /space-to-talk/{token}`: books the chosen time.
pub async fn book(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    services: web::Data<Services>,
) -> HttpResponse {
    with_statements(&services, async {
        let res = book_for(&req, path.into_inner(), &body, &services).await;
        counted(&req, &services, res).await
    })
    .await
}

async fn book_for(req: &HttpRequest, token: String, body: &[u8], services: &Services) -> HttpResponse {
    let rid = request_id(req);
    let form = match posted_form(req, services, &token, body).await {
        Ok(f) => f,
        Err(answer) => return answer,
    };
    let parent = Parent {
        display_name: form.name.clone(),
        phone: optional(&form.phone),
        email: optional(&form.email),
        preferred_contact: match form.contact.as_str() {
            "EMAIL" => Some(ContactMethod::Email),
            "PHONE" => Some(ContactMethod::Phone),
            _ => None,
        },
        topic: optional(&form.topic),
    };
    let result = match slot_of(&form) {
        Some(slot) => links::book(&services.db, &token, slot, parent, &rid).await,
        None => Err(DomainError::invalid(
            "slotId",
            domain::FieldErrorCode::Required,
            "choose a time",
        )),
    };
    match result {
        Ok(done) => see_other(format!("/space-to-talk/manage/{}?done=booked", done.manage_token)),
        Err(DomainError::Invalid(errors)) => match open_with_slots(services, &token).await {
            Ok((opened, slots)) => booking_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &opened,
                &slots,
                &form,
                &problems_of(errors),
                false,
            ),
            Err(e) => failed(e, &rid),
        },
        Err(DomainError::Conflict(_)) => match open_with_slots(services, &token).await {
            Ok((opened, slots)) => {
                let kept = Form {
                    slot: String::new(),
                    ..form
                };
                booking_page(StatusCode::CONFLICT, &token, &opened, &slots, &kept, &[], true)
            }
            Err(e) => failed(e, &rid),
        },
        Err(e) => failed(e, &rid),
    }
}

fn manage_page(
    status: StatusCode,
    token: &str,
    m: &links::Managed,
    slots: &[SlotView],
    done: Option<&str>,
    problems: &[Problem],
    taken: bool,
) -> HttpResponse {
    let b = &m.booking.row;
    let mut body = String::from("<h1>Your Space to Talk booking</h1>");
    match done {
        Some("booked") => body.push_str(
            "<div class=\"done\" role=\"status\"><h2>You are booked</h2><p>Please keep the address of this page (bookmark it or save it): you can come back to it to change or cancel your booking.</p></div>",
        ),
        Some("moved") => body.push_str(
            "<div class=\"done\" role=\"status\"><h2>Your booking has moved</h2><p>Your new time is below. Keep using this page to change or cancel it.</p></div>",
        ),
        Some("cancelled") => body.push_str(
            "<div class=\"done\" role=\"status\"><h2>Your booking is cancelled</h2><p>The time is free for someone else. You can book again with the school's link.</p></div>",
        ),
        _ => {}
    }
    if taken {
        let _ = write!(
            body,
            "<div class=\"notice\" role=\"alert\"><h2>That time has gone</h2><p>{}</p></div>",
            esc(JUST_TAKEN)
        );
    }
    body.push_str(&error_summary(problems));
    let state = match b.status {
        SpaceToTalkStatus::Booked => "Booked",
        SpaceToTalkStatus::Cancelled => "Cancelled",
        SpaceToTalkStatus::Moved => "Moved to another time",
        SpaceToTalkStatus::Attended => "Held",
        SpaceToTalkStatus::DidNotAttend => "Missed",
    };
    let _ = write!(
        body,
        "<dl><dt>When</dt><dd>{}</dd><dt>Where</dt><dd>{}</dd><dt>School</dt><dd>{}</dd><dt>Name</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd></dl>",
        esc(&when(m.zone, b.starts_at, b.ends_at)),
        esc(&how(m.booking.mode, m.booking.location.as_deref())),
        esc(&m.school_name),
        esc(&b.display_name),
        state
    );
    if m.changeable {
        let csrf = csrf_for(token);
        body.push_str("<h2>Change the time</h2>");
        if slots.is_empty() {
            body.push_str("<p>There are no other free times at the moment.</p>");
        } else {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/space-to-talk/manage/{}/move\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">",
                esc(token)
            );
            body.push_str(&slot_options(m.zone, slots, "", "Choose a new time", problems));
            body.push_str("<button type=\"submit\" class=\"secondary\">Move to this time</button></form>");
        }
        let _ = write!(
            body,
            "<h2>Cancel</h2><p>If you cannot come, please cancel so that someone else can have the time.</p>\
<form method=\"post\" action=\"/space-to-talk/manage/{}/cancel\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\" class=\"warning\">Cancel my booking</button></form>",
            esc(token)
        );
    }
    page(status, "Your Space to Talk booking", &body)
}

async fn managed_with_slots(
    services: &Services,
    token: &str,
    request_id: &str,
) -> Result<(links::Managed, Vec<SlotView>), DomainError> {
    let m = links::manage(&services.db, token, request_id).await?;
    let slots = if m.changeable {
        let own = m.booking.row.slot_id;
        links::move_options(&services.db, &m)
            .await?
            .into_iter()
            .filter(|s| s.row.id != own)
            .collect()
    } else {
        Vec::new()
    };
    Ok((m, slots))
}

#[derive(serde::Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /space-to-talk/manage/{token}`: the parent's own booking.
pub async fn manage(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Done>,
    services: web::Data<Services>,
) -> HttpResponse {
    with_statements(&services, async {
        let res = manage_for(&req, path.into_inner(), query.into_inner(), &services).await;
        counted(&req, &services, res).await
    })
    .await
}

async fn manage_for(req: &HttpRequest, token: String, query: Done, services: &Services) -> HttpResponse {
    let rid = request_id(req);
    if !within_limits(req, services, &token, false).await {
        return busy();
    }
    let done = query
        .done
        .as_deref()
        .filter(|d| matches!(*d, "booked" | "moved" | "cancelled"));
    match managed_with_slots(services, &token, &rid).await {
        Ok((m, slots)) => manage_page(StatusCode::OK, &token, &m, &slots, done, &[], false),
        Err(e) => failed(e, &rid),
    }
}

/// `POST /space-to-talk/manage/{token}/cancel`.
pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    services: web::Data<Services>,
) -> HttpResponse {
    with_statements(&services, async {
        let res = cancel_for(&req, path.into_inner(), &body, &services).await;
        counted(&req, &services, res).await
    })
    .await
}

async fn cancel_for(req: &HttpRequest, token: String, body: &[u8], services: &Services) -> HttpResponse {
    let rid = request_id(req);
    if let Err(answer) = posted_form(req, services, &token, body).await {
        return answer;
    }
    match links::cancel(&services.db, &token, &rid).await {
        Ok(_) => see_other(format!("/space-to-talk/manage/{token}?done=cancelled")),
        Err(DomainError::Invalid(errors)) => match managed_with_slots(services, &token, &rid).await {
            Ok((m, slots)) => manage_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &m,
                &slots,
                None,
                &problems_of(errors),
                false,
            ),
            Err(e) => failed(e, &rid),
        },
        Err(e) => failed(e, &rid),
    }
}

/// `POST /space-to-talk/manage/{token}/move`.
pub async fn move_to(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    services: web::Data<Services>,
) -> HttpResponse {
    with_statements(&services, async {
        let res = move_for(&req, path.into_inner(), &body, &services).await;
        counted(&req, &services, res).await
    })
    .await
}

async fn move_for(req: &HttpRequest, token: String, body: &[u8], services: &Services) -> HttpResponse {
    let rid = request_id(req);
    let form = match posted_form(req, services, &token, body).await {
        Ok(f) => f,
        Err(answer) => return answer,
    };
    let result = match slot_of(&form) {
        Some(slot) => links::move_to(&services.db, &token, slot, &rid).await,
        None => Err(DomainError::invalid(
            "slotId",
            domain::FieldErrorCode::Required,
            "choose a new time",
        )),
    };
    match result {
        Ok(_) => see_other(format!("/space-to-talk/manage/{token}?done=moved")),
        Err(e @ (DomainError::Invalid(_) | DomainError::Conflict(_))) => {
            let (problems, taken) = match e {
                DomainError::Invalid(errors) => (problems_of(errors), false),
                _ => (Vec::new(), true),
            };
            let status = if taken {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            match managed_with_slots(services, &token, &rid).await {
                Ok((m, slots)) => manage_page(status, &token, &m, &slots, None, &problems, taken),
                Err(e) => failed(e, &rid),
            }
        }
        Err(e) => failed(e, &rid),
    }
}
