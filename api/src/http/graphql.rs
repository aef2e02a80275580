//! GraphQL over HTTP: POST with a JSON body, or GET for queries only (a mutation over GET is
//! refused). Other content types are refused, so a form post from another site cannot act for a
//! signed-in browser. Browsers asking for HTML get GraphiQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use futures_util::StreamExt;

use domain::access::Caller;

use super::assets;
use super::middleware::RequestId;
use crate::app::Services;
use crate::auth::Refused;
use crate::graphql::Context;
use crate::graphql::errors::label_remaining;
use crate::graphql::limits::{self, Caps, Refusal};
use crate::graphql::loaders::Loaders;
use crate::metrics::{self, REQUEST_STATEMENTS};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn error_body(message: &str, code: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn reply(status: StatusCode, content_type: &str, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// The response media type the client prefers: the GraphQL-over-HTTP one if it asks for it.
fn response_type(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    }
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The type of the operation a request will run, if it can be told.
fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n).map(|o| o.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|o| o.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The name of the operation a request runs: the one it names, or the only one its document has.
fn operation_name(request: &mut async_graphql::Request) -> Option<String> {
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    match &request.parsed_query().ok()?.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.keys().next().map(|n| n.to_string()),
        _ => None,
    }
}

pub async fn get(req: HttpRequest, services: web::Data<Services>) -> HttpResponse {
    let qs = req.query_string();
    if wants_html(&req) && !qs.contains("query=") {
        return assets::page();
    }
    let kind = response_type(&req);
    let mut request = match async_graphql::http::parse_query_string(qs) {
        Ok(r) => r,
        Err(_) => {
            return reply(
                StatusCode::BAD_REQUEST,
                kind,
                error_body("The query string is not a GraphQL request.", "BAD_REQUEST"),
            );
        }
    };
    // async-graphql reads `operation_name`; the GraphQL-over-HTTP spelling is `operationName`.
    if let Ok(params) = web::Query::<std::collections::HashMap<String, String>>::from_query(qs)
        && let Some(name) = params.get("operationName")
    {
        request.operation_name = Some(name.clone());
    }
    if let Err(refusal) = limits::check_raw(&request.query, &request.variables) {
        return refuse(kind, &refusal);
    }
    let name = request.operation_name.clone();
    let mutation = match request.parsed_query() {
        Ok(doc) => match operation_type(doc, name.as_deref()) {
            Some(t) => t == OperationType::Mutation,
            None => doc
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Mutation),
        },
        Err(_) => false, // execution reports the parse error
    };
    if mutation {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "POST"))
            .content_type(kind)
            .body(error_body("Mutations must be sent with POST.", "METHOD_NOT_ALLOWED").to_string());
    }
    execute(&req, &services, request).await
}

pub async fn post(req: HttpRequest, mut payload: web::Payload, services: web::Data<Services>) -> HttpResponse {
    let kind = response_type(&req);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            kind,
            error_body("Send the request as application/json.", "UNSUPPORTED_MEDIA_TYPE"),
        );
    }
    let limit = services.config.http.max_body_bytes;
    let deadline = services.config.http.body_timeout;
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return Err(reply(
                    StatusCode::BAD_REQUEST,
                    kind,
                    error_body("The request body could not be read.", "BAD_REQUEST"),
                ));
            };
            if body.len() + chunk.len() > limit {
                return Err(reply(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    kind,
                    error_body(
                        &format!("The request body is larger than {limit} bytes."),
                        "PAYLOAD_TOO_LARGE",
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    // The body must arrive within its deadline, so that a slow sender cannot hold a worker's
    // connection (the request timeout only starts once the body is in).
    let body = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(refused)) => return refused,
        Err(_) => {
            let mut r = reply(
                StatusCode::REQUEST_TIMEOUT,
                kind,
                error_body(
                    &format!("The request body did not arrive within {} seconds.", deadline.as_secs()),
                    "REQUEST_TIMEOUT",
                ),
            );
            r.headers_mut()
                .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            return r;
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return reply(
                StatusCode::BAD_REQUEST,
                kind,
                error_body(
                    "The body is not a GraphQL request: a JSON object with `query`, and optionally `variables` and `operationName`.",
                    "BAD_REQUEST",
                ),
            );
        }
    };
    if let Err(refusal) = limits::check_raw(&request.query, &request.variables) {
        return refuse(kind, &refusal);
    }
    execute(&req, &services, request).await
}

pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .json(error_body(
            "Use GET for queries or POST for anything.",
            "METHOD_NOT_ALLOWED",
        ))
}

pub(super) fn bearer(req: &HttpRequest) -> Result<Option<&str>, ()> {
    match req.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(v) => {
            let v = v.to_str().map_err(|_| ())?;
            let (scheme, token) = v.split_once(' ').ok_or(())?;
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
                Ok(Some(token.trim()))
            } else {
                Err(())
            }
        }
    }
}

/// The caller's address: the connection's peer, or, behind a trusted proxy, the address that
/// proxy added last to `X-Forwarded-For` (earlier entries are the caller's own to choose).
pub(crate) fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> Option<String> {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    forwarded
        .map(str::to_owned)
        .or_else(|| req.peer_addr().map(|a| a.ip().to_string()))
}

/// An answer to a request that failed before it ran: no `data` entry at all (GraphQL over HTTP),
/// and, for the GraphQL-over-HTTP media type, a 4xx status.
fn before_execution(kind: &str, errors: serde_json::Value) -> HttpResponse {
    let status = if kind == GRAPHQL_RESPONSE {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    reply(status, kind, serde_json::json!({ "errors": errors }))
}

fn refuse(kind: &str, refusal: &Refusal) -> HttpResponse {
    let mut extensions = serde_json::json!({ "code": refusal.code });
    if let Some((cost, limit)) = refusal.cost {
        extensions["cost"] = cost.into();
        extensions["limit"] = limit.into();
    }
    before_execution(
        kind,
        serde_json::json!([{ "message": refusal.message, "extensions": extensions }]),
    )
}

/// Whether a caller may introspect the schema in production: service administrators and
/// partner clients (everyone else reads the published `schema.graphql`).
fn may_introspect(caller: &Caller) -> bool {
    caller.principal.partner_client_id().is_some()
        || caller
            .principal
            .memberships
            .iter()
            .any(|m| m.role == domain::access::Role::ServiceAdmin)
}

/// The first `Retry-After` an error asks for, if any.
fn retry_after(errors: &[async_graphql::ServerError]) -> Option<u64> {
    errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        if ext.get("code") != Some(&async_graphql::Value::from("RATE_LIMITED")) {
            return None;
        }
        match ext.get("retryAfterSeconds") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => Some(1),
        }
    })
}

fn unauthenticated(kind: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .content_type(kind)
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            error_body(
                "The access token is missing, malformed, expired or revoked.",
                "UNAUTHENTICATED",
            )
            .to_string(),
        )
}

async fn execute(req: &HttpRequest, services: &Services, mut request: async_graphql::Request) -> HttpResponse {
    let kind = response_type(req);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let statements = Arc::new(AtomicU64::new(0));

    // Parse once and price the document before anything runs (no extension on the per-field
    // path). The raw document was checked for nesting before this.
    let variables = std::mem::take(&mut request.variables);
    let chosen = request.operation_name.clone();
    let analysis = match request.parsed_query() {
        Ok(doc) => services.cost.analyse(doc, chosen.as_deref(), &variables),
        Err(e) => {
            let code = if e.message.contains("recursion") {
                "QUERY_TOO_COMPLEX"
            } else {
                "GRAPHQL_PARSE_FAILED"
            };
            let mut e = e.clone();
            e.extensions.get_or_insert_with(Default::default).set("code", code);
            return before_execution(kind, serde_json::json!([e]));
        }
    };
    request.variables = variables;
    let http = &services.config.http;
    let caps = Caps {
        max_cost: http.max_query_cost,
        max_aliases: http.max_aliases,
        max_root_fields: http.max_root_fields,
    };
    if let Err(refusal) = limits::check_analysis(&analysis, &caps) {
        return refuse(kind, &refusal);
    }

    let verified = match bearer(req) {
        Err(()) => return unauthenticated(kind),
        Ok(None) => None,
        Ok(Some(token)) => match REQUEST_STATEMENTS
            .scope(statements.clone(), services.auth.verify(&services.db, token))
            .await
        {
            Ok(v) => Some(v),
            // The database could not be asked (a full pool, a restart): the token may be fine,
            // so the caller must not be told to sign in again.
            Err(reason @ Refused::Database(_)) => {
                tracing::warn!(%reason, "could not check a bearer token");
                let mut busy = reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    kind,
                    error_body("The service is busy; try again in a moment.", "SERVICE_UNAVAILABLE"),
                );
                busy.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                return busy;
            }
            Err(reason) => {
                tracing::info!(%reason, "bearer token refused");
                return unauthenticated(kind);
            }
        },
    };
    let (caller, session) = match verified {
        Some(v) => (Some(Caller::new(v.principal, request_id.clone())), v.session),
        None => (None, None),
    };
    if services.config.is_production() && analysis.introspection {
        match &caller {
            None => {
                return refuse(
                    kind,
                    &Refusal {
                        message: "Sign in first: introspection needs an access token.".into(),
                        code: "UNAUTHENTICATED",
                        cost: None,
                    },
                );
            }
            Some(c) if !may_introspect(c) => {
                return refuse(
                    kind,
                    &Refusal {
                        message: "Introspection is for service administrators and partner clients; the schema is published as schema.graphql.".into(),
                        code: "FORBIDDEN",
                        cost: None,
                    },
                );
            }
            Some(_) => {}
        }
    }
    if let Some(c) = &caller {
        request = request.data(Loaders::new(&services.db, c, statements.clone()));
    }
    let operation = metrics::operation_label(operation_name(&mut request).as_deref());
    let client_ip = client_address(req, services.config.http.trust_forwarded_for);
    request = request.data(Context {
        services: services.clone(),
        caller,
        session,
        request_id: request_id.clone(),
        client_ip,
    });

    let started = Instant::now();
    let limit = services.config.http.request_timeout;
    let run = REQUEST_STATEMENTS.scope(statements.clone(), services.schema.execute(request));
    // Past the limit the work is dropped, and with it any open transaction (rolled back).
    let Ok(mut response) = tokio::time::timeout(limit, run).await else {
        tracing::warn!(limit_seconds = limit.as_secs(), "request timed out");
        services
            .metrics
            .graphql(&operation, false, started.elapsed(), statements.load(Ordering::Relaxed));
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            kind,
            error_body("The request took too long and was stopped.", "TIMEOUT"),
        );
    };
    label_remaining(&mut response.errors);
    let count = statements.load(Ordering::Relaxed);
    services
        .metrics
        .graphql(&operation, response.errors.is_empty(), started.elapsed(), count);

    // Errors with no path came before execution (validation); then there is no `data` at all.
    let failed_before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if failed_before_execution {
        return before_execution(kind, serde_json::json!(response.errors));
    }
    let body = match serde_json::to_string(&response) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            error_body("Internal error.", "INTERNAL").to_string()
        }
    };
    let cap = services.config.http.max_response_bytes;
    if body.len() > cap {
        tracing::warn!(bytes = body.len(), cap, "response over the cap refused");
        return before_execution(
            kind,
            serde_json::json!([{
                "message": format!("The answer would be larger than {cap} bytes; ask for less (smaller pages, fewer fields)."),
                "extensions": { "code": "RESPONSE_TOO_LARGE" }
            }]),
        );
    }
    let mut out = HttpResponse::Ok();
    out.content_type(kind)
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(seconds) = retry_after(&response.errors) {
        out.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    if !services.config.is_production() {
        out.insert_header(("x-sql-statements", count.to_string()));
    }
    out.body(body)
}
