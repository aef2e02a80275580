//! CSV exports for finance, fetched with the caller's token and under the same reach as the API:
//! the time summary (`GET /exports/time-summary.csv`) and a school's ledger
//! (`GET /exports/ledger.csv`), and a school's SEMH audit round for its governors' report
//! (`GET /exports/semh-round.csv`). The columns are stable; the README lists them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;

use domain::access::{Action, Caller};
use domain::semh::{results, rounds};
use domain::time::{ledger, summary};
use domain::{DomainError, FieldErrorCode};

use super::middleware::RequestId;
use crate::app::Services;
use crate::graphql::ids;

/// The time summary's columns: one row per school, funding stream and period ("all" first).
pub const SUMMARY_COLUMNS: &[&str] = &[
    "school_id",
    "school_name",
    "school_urn",
    "funding_stream",
    "period",
    "period_starts_on",
    "period_ends_on",
    "purchased_minutes",
    "booked_minutes",
    "delivered_minutes",
    "late_cancellation_minutes",
    "adjusted_minutes",
    "used_minutes",
    "remaining_minutes",
    "unit_minutes",
    "flags",
];

/// The ledger's columns: one row per entry, oldest first.
pub const LEDGER_COLUMNS: &[&str] = &[
    "entry_id",
    "applies_on",
    "school_id",
    "contract_id",
    "booking_id",
    "kind",
    "funding_stream",
    "category",
    "minutes",
    "reason",
    "created_at",
];

/// A round's results: one row per item, in the template's order. Ratings are counted by band so
/// that the columns are the same whatever the template's scale.
pub const SEMH_ROUND_COLUMNS: &[&str] = &[
    "section",
    "item_number",
    "item",
    "consensus_rating",
    "consensus_label",
    "consensus_band",
    "consensus_note",
    "responses",
    "red",
    "amber",
    "green",
    "dont_know",
    "spread",
];

/// One CSV field: quoted when it must be, and never read as a formula by a spreadsheet.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv(columns: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn problem(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }).to_string())
}

fn refused(e: DomainError, request_id: &str) -> HttpResponse {
    match e {
        DomainError::NotFound => problem(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found."),
        DomainError::Forbidden => problem(StatusCode::FORBIDDEN, "FORBIDDEN", "You may not do this."),
        DomainError::Refused(m) => problem(StatusCode::FORBIDDEN, "FORBIDDEN", &m),
        DomainError::Unauthenticated => problem(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "Sign in first."),
        DomainError::Invalid(problems) => {
            let text = problems
                .iter()
                .map(|p| format!("{}: {}", p.field.join("."), p.message))
                .collect::<Vec<_>>()
                .join("; ");
            problem(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &text)
        }
        DomainError::Conflict(m) => problem(StatusCode::CONFLICT, "CONFLICT", &m),
        DomainError::RateLimited { .. } => problem(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "Too many requests."),
        DomainError::Internal(i) => {
            tracing::error!(request_id, context = i.context, error = %i.cause, "internal error");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &format!("Internal error. Quote request {request_id} when reporting it."),
            )
        }
    }
}

/// The caller of a request with a bearer token (exports need one).
async fn caller_of(req: &HttpRequest, services: &Services) -> Result<Caller, HttpResponse> {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let unauthenticated = || {
        problem(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Send the access token as Authorization: Bearer <token>.",
        )
    };
    let Ok(Some(token)) = super::graphql::bearer(req) else {
        return Err(unauthenticated());
    };
    match services.auth.verify(&services.db, token).await {
        Ok(v) => Ok(Caller::new(v.principal, request_id)),
        Err(reason) => {
            tracing::info!(%reason, "bearer token refused");
            Err(unauthenticated())
        }
    }
}

fn attachment(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// A global id of a kind, or a bad-input refusal naming the parameter.
fn id_of<T: From<uuid::Uuid>>(param: &str, kind: &str, value: &str) -> Result<T, DomainError> {
    ids::expect(param, kind, &async_graphql::ID(value.to_owned()))
        .map_err(|_| DomainError::invalid(param, FieldErrorCode::Invalid, format!("is not the id of a {kind}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryParams {
    service_id: String,
    academic_year_id: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

pub async fn time_summary(
    req: HttpRequest,
    params: Result<web::Query<SummaryParams>, actix_web::Error>,
    services: web::Data<Services>,
) -> HttpResponse {
    let caller = match caller_of(&req, &services).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(web::Query(p)) = params else {
        return problem(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "Give serviceId, and academicYearId or from and to (YYYY-MM-DD).",
        );
    };
    let result = async {
        let q = summary::Query {
            service_id: id_of("serviceId", "Service", &p.service_id)?,
            academic_year_id: p
                .academic_year_id
                .as_deref()
                .map(|y| id_of("academicYearId", "AcademicYear", y))
                .transpose()?,
            from: p.from,
            to: p.to,
            school_ids: None,
            ep_ids: None,
            funding_stream: None,
        };
        summary::summary(&services.db, &caller, q).await
    }
    .await;
    let s = match result {
        Ok(s) => s,
        Err(e) => return refused(e, &caller.request_id),
    };
    let mut rows = Vec::new();
    for school in &s.schools {
        let flags: Vec<&str> = school
            .flags
            .iter()
            .map(|f| match f {
                summary::Flag::UnderUsing => "UNDER_USING",
                summary::Flag::OverAllocation => "OVER_ALLOCATION",
            })
            .collect();
        for stream in &school.streams {
            let periods = std::iter::once(("all".to_owned(), s.range, &stream.balance)).chain(
                s.periods
                    .iter()
                    .zip(&stream.by_period)
                    .map(|(p, b)| (p.name.clone(), p.range, b)),
            );
            for (name, range, b) in periods {
                rows.push(vec![
                    ids::encode("School", school.school.id).0,
                    school.school.name.clone(),
                    school.school.urn.clone(),
                    stream.funding_stream.as_str().to_owned(),
                    name,
                    range.starts_on.to_string(),
                    range.ends_on.to_string(),
                    b.purchased.to_string(),
                    b.booked.to_string(),
                    b.delivered.to_string(),
                    b.late_cancellation.to_string(),
                    b.adjusted.to_string(),
                    b.used().to_string(),
                    b.remaining().to_string(),
                    stream.unit_minutes.map(|u| u.to_string()).unwrap_or_default(),
                    flags.join(" "),
                ]);
            }
        }
    }
    attachment("time-summary.csv", csv(SUMMARY_COLUMNS, rows))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerParams {
    school_id: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

pub async fn ledger(
    req: HttpRequest,
    params: Result<web::Query<LedgerParams>, actix_web::Error>,
    services: web::Data<Services>,
) -> HttpResponse {
    let caller = match caller_of(&req, &services).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(web::Query(p)) = params else {
        return problem(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "Give schoolId, and optionally from and to (YYYY-MM-DD).",
        );
    };
    let result = async {
        let filter = ledger::Filter {
            school_id: Some(id_of("schoolId", "School", &p.school_id)?),
            from: p.from,
            to: p.to,
            ..Default::default()
        };
        ledger::export(&services.db, &caller, filter).await
    }
    .await;
    let entries = match result {
        Ok(e) => e,
        Err(e) => return refused(e, &caller.request_id),
    };
    let rows = entries
        .into_iter()
        .map(|e| {
            vec![
                ids::encode("LedgerEntry", e.id).0,
                e.applies_on.to_string(),
                e.school_id.map(|s| ids::encode("School", s).0).unwrap_or_default(),
                e.contract_id.map(|c| ids::encode("Contract", c).0).unwrap_or_default(),
                e.booking_id.map(|b| ids::encode("Booking", b).0).unwrap_or_default(),
                e.kind.as_str().to_owned(),
                e.funding_stream.as_str().to_owned(),
                e.category.as_str().to_owned(),
                e.minutes.to_string(),
                e.reason.unwrap_or_default(),
                e.created_at.to_rfc3339(),
            ]
        })
        .collect();
    attachment("ledger.csv", csv(LEDGER_COLUMNS, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_never_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("-30"), "-30", "a negative number stays a number");
        assert_eq!(csv(&["a", "b"], vec![vec!["1".into(), "x".into()]]), "a,b\r\n1,x\r\n");
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SemhRoundParams {
    round_id: String,
}

pub async fn semh_round(
    req: HttpRequest,
    params: Result<web::Query<SemhRoundParams>, actix_web::Error>,
    services: web::Data<Services>,
) -> HttpResponse {
    let caller = match caller_of(&req, &services).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(web::Query(p)) = params else {
        return problem(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "Give roundId.");
    };
    let result = async {
        let id = id_of("roundId", "SemhRound", &p.round_id).map_err(|_| DomainError::NotFound)?;
        let view = rounds::get(&services.db, &caller, id).await?;
        let outcome = results::of(&services.db, &caller, &view).await?;
        let agreed = rounds::consensus(&services.db, &caller, &view).await?;
        match outcome {
            Some(r) => Ok((view, r, agreed)),
            // Staff who may only answer see their own responses, not the round's results.
            None => {
                Err(caller
                    .principal
                    .refusal(Action::ViewSemhRounds, view.row.service_id, Some(view.row.school_id)))
            }
        }
    }
    .await;
    let (view, outcome, agreed) = match result {
        Ok(v) => v,
        Err(e) => return refused(e, &caller.request_id),
    };
    let t = &view.template;
    let mut rows = Vec::new();
    for (n, item) in outcome.items.iter().enumerate() {
        let section = t.sections.iter().find(|s| s.id == item.section_id);
        let text = t.item(item.item_id).map(|i| i.text.clone()).unwrap_or_default();
        let point = item.consensus.as_deref().and_then(|k| t.point(k));
        let note = agreed
            .iter()
            .find(|c| c.item_id == item.item_id)
            .and_then(|c| c.note.clone())
            .unwrap_or_default();
        let mut bands = results::Bands::default();
        for (key, count) in &item.counts {
            for _ in 0..*count {
                bands.add(t.band_of(key));
            }
        }
        rows.push(vec![
            section.map(|s| s.title.clone()).unwrap_or_default(),
            (n + 1).to_string(),
            text,
            item.consensus.clone().unwrap_or_default(),
            point.map(|p| p.label.clone()).unwrap_or_default(),
            point.map(|p| p.band.as_str().to_owned()).unwrap_or_default(),
            note,
            item.responses.to_string(),
            bands.red.to_string(),
            bands.amber.to_string(),
            bands.green.to_string(),
            bands.unknown.to_string(),
            format!("{:.3}", item.spread),
        ]);
    }
    attachment("semh-round.csv", csv(SEMH_ROUND_COLUMNS, rows))
}
