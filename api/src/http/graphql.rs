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
use crate::graphql::Context;
use crate::graphql::errors::label_remaining;
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
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return reply(
                StatusCode::BAD_REQUEST,
                kind,
                error_body("The request body could not be read.", "BAD_REQUEST"),
            );
        };
        if body.len() + chunk.len() > limit {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                kind,
                error_body(
                    &format!("The request body is larger than {limit} bytes."),
                    "PAYLOAD_TOO_LARGE",
                ),
            );
        }
        body.extend_from_slice(&chunk);
    }
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
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> Option<String> {
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

    let verified = match bearer(req) {
        Err(()) => return unauthenticated(kind),
        Ok(None) => None,
        Ok(Some(token)) => match REQUEST_STATEMENTS
            .scope(statements.clone(), services.auth.verify(&services.db, token))
            .await
        {
            Ok(v) => Some(v),
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
    if services.config.is_production() && caller.is_none() {
        request = request.disable_introspection();
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

    let failed_before_execution = response.data == async_graphql::Value::Null && !response.errors.is_empty();
    let status = if failed_before_execution && kind == GRAPHQL_RESPONSE {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_value(&response) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            error_body("Internal error.", "INTERNAL")
        }
    };
    let mut out = HttpResponse::build(status);
    out.content_type(kind)
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if !services.config.is_production() {
        out.insert_header(("x-sql-statements", count.to_string()));
    }
    out.body(body.to_string())
}
