//! The page a table's facilitator opens at a whole-staff SEMH audit session: plain HTML served by
//! scps, for a phone or a laptop, with no JavaScript and no account.
//!
//! `GET /semh/tables/{token}` shows the round's statements, section by section, with the
//! template's answers as radio buttons, a short evidence note (and ideas, where the template asks
//! for them) and the table's answers so far; posting it saves the answers given (a statement
//! left unanswered keeps its earlier answer). The token is the only credential: a wrong or
//! expired link, or one whose round is submitted, answers the same "this link does not work"
//! page. Forms carry a CSRF token bound to the link, and requests are rate-limited per link and
//! per address, as the parents' Space to Talk pages are (they share their page and limits).

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use domain::DomainError;
use domain::secrets;
use domain::semh::rounds::{Answer, MAX_NOTE};
use domain::semh::tables::{self, Opened};

use super::space_to_talk::{
    busy, counted, esc, failed, not_found, page_of, percent_decode, request_id, see_other, with_statements,
    within_limits,
};
use crate::app::Services;

const SITE: &str = "SEMH audit";

fn csrf_for(token: &str) -> String {
    secrets::token_digest(&format!("semh-table-form:{token}"))[..32].to_owned()
}

/// What a facilitator posted: each statement's answer, evidence and ideas, by its number.
#[derive(Default)]
struct Form {
    csrf: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn read_form(req: &HttpRequest, body: &[u8]) -> Option<Form> {
    let form_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut form = Form::default();
    for pair in text.split('&').filter(|p| !p.is_empty()).take(2000) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k)?, percent_decode(v)?);
        if k == "csrf" {
            form.csrf = v;
        } else {
            form.fields.push((k, v));
        }
    }
    Some(form)
}

/// The form as the table's saved answers (a fresh page), or as posted (after a problem).
fn form_of(opened: &Opened) -> Form {
    let mut form = Form::default();
    for (i, item) in opened.template.items.iter().enumerate() {
        if let Some(r) = opened.responses.iter().find(|r| r.item_id == item.id) {
            form.fields.push((format!("r-{i}"), r.rating.clone()));
            form.fields
                .push((format!("e-{i}"), r.evidence.clone().unwrap_or_default()));
            form.fields
                .push((format!("x-{i}"), r.ideas.clone().unwrap_or_default()));
        }
    }
    form
}

fn table_page(
    status: StatusCode,
    token: &str,
    opened: &Opened,
    form: &Form,
    problems: &[String],
    saved: bool,
) -> HttpResponse {
    let t = &opened.template;
    let table = opened.table.label.as_deref().unwrap_or("Your table");
    let mut body = format!(
        "<h1>{}: {}</h1><p class=\"lead\">{}. {}</p>",
        esc(table),
        esc(&opened.round.title),
        esc(&opened.school_name),
        esc(&t.row.name)
    );
    body.push_str(
        "<p>Talk each statement through as a table, then choose the answer your table agrees on. \
         Add a short note of what you noticed if it helps. Never write a pupil's or a colleague's name. \
         You can save and come back to this page until the session ends.</p>",
    );
    if saved {
        body.push_str(
            "<div class=\"done\" role=\"status\"><h2>Saved</h2><p>Your table's answers are saved. You can change them until the session ends.</p></div>",
        );
    }
    if !problems.is_empty() {
        body.push_str(
            "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-title\"><h2 id=\"error-title\">There is a problem</h2><ul>",
        );
        for p in problems {
            let _ = write!(body, "<li>{}</li>", esc(p));
        }
        body.push_str("</ul></div>");
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/semh/tables/{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token),
        csrf_for(token)
    );
    let mut n = 0;
    for section in &t.sections {
        let _ = write!(body, "<h2>{}</h2>", esc(&section.title));
        for item in t.items_of(section.id) {
            let Some(i) = t.items.iter().position(|x| x.id == item.id) else {
                continue;
            };
            n += 1;
            let chosen = form.get(&format!("r-{i}"));
            let _ = write!(body, "<fieldset><legend>{n}. {}</legend>", esc(&item.text));
            for (k, point) in t.scale.iter().enumerate() {
                let checked = if point.key == chosen { " checked" } else { "" };
                let _ = write!(
                    body,
                    "<div class=\"option\"><input type=\"radio\" id=\"r-{i}-{k}\" name=\"r-{i}\" value=\"{}\"{checked}><label for=\"r-{i}-{k}\">{}</label></div>",
                    esc(&point.key),
                    esc(&point.label)
                );
            }
            let _ = write!(
                body,
                "<div class=\"field\"><label for=\"e-{i}\">What your table noticed (optional)</label><textarea id=\"e-{i}\" name=\"e-{i}\" maxlength=\"{MAX_NOTE}\">{}</textarea></div>",
                esc(form.get(&format!("e-{i}")))
            );
            if t.row.asks_ideas {
                let _ = write!(
                    body,
                    "<div class=\"field\"><label for=\"x-{i}\">Ideas (optional)</label><textarea id=\"x-{i}\" name=\"x-{i}\" maxlength=\"{MAX_NOTE}\">{}</textarea></div>",
                    esc(form.get(&format!("x-{i}")))
                );
            }
            body.push_str("</fieldset>");
        }
    }
    body.push_str("<button type=\"submit\">Save our answers</button></form>");
    page_of(SITE, status, &format!("{table}: {}", opened.round.title), &body)
}

#[derive(Deserialize)]
pub struct Done {
    saved: Option<String>,
}

/// `GET /semh/tables/{token}`: the round's statements and the table's answers so far.
pub async fn table(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Done>,
    services: web::Data<Services>,
) -> HttpResponse {
    let token = path.into_inner();
    let res = with_statements(&services, async {
        if !within_limits(&req, &services, &token, false).await {
            return busy();
        }
        match tables::open(&services.db, &token).await {
            Ok(opened) => table_page(
                StatusCode::OK,
                &token,
                &opened,
                &form_of(&opened),
                &[],
                query.saved.is_some(),
            ),
            Err(e) => failed(e, &request_id(&req)),
        }
    })
    .await;
    counted(&req, &services, res).await
}

/// `POST /semh/tables/{token}`: saves the answers given.
pub async fn save(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    services: web::Data<Services>,
) -> HttpResponse {
    let token = path.into_inner();
    let res = with_statements(&services, save_for(&req, &token, &body, &services)).await;
    counted(&req, &services, res).await
}

async fn save_for(req: &HttpRequest, token: &str, body: &[u8], services: &Services) -> HttpResponse {
    let rid = request_id(req);
    if !within_limits(req, services, token, true).await {
        return busy();
    }
    let Some(form) = read_form(req, body).filter(|f| f.csrf == csrf_for(token)) else {
        return not_found();
    };
    let opened = match tables::open(&services.db, token).await {
        Ok(o) => o,
        Err(e) => return failed(e, &rid),
    };
    let note = |name: String| Some(form.get(&name).trim().to_owned()).filter(|v| !v.is_empty());
    let answers: Vec<Answer> = opened
        .template
        .items
        .iter()
        .enumerate()
        .filter(|(i, _)| !form.get(&format!("r-{i}")).is_empty())
        .map(|(i, item)| Answer {
            item_id: item.id,
            rating: form.get(&format!("r-{i}")).to_owned(),
            evidence: note(format!("e-{i}")),
            ideas: note(format!("x-{i}")),
        })
        .collect();
    if answers.is_empty() {
        let problems = ["Choose your table's answer to at least one statement.".to_owned()];
        return table_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            token,
            &opened,
            &form,
            &problems,
            false,
        );
    }
    match tables::respond(&services.db, token, answers, &rid).await {
        Ok(_) => see_other(format!("/semh/tables/{token}?saved=1")),
        Err(DomainError::Invalid(errors)) => {
            let problems: Vec<String> = errors
                .iter()
                .map(|e| {
                    let n = e.field.get(1).and_then(|i| i.parse::<usize>().ok()).map(|i| i + 1);
                    match n {
                        Some(n) => format!("Statement {n}: {}", e.message),
                        None => e.message.clone(),
                    }
                })
                .collect();
            table_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                token,
                &opened,
                &form,
                &problems,
                false,
            )
        }
        Err(e) => failed(e, &rid),
    }
}
