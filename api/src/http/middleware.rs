//! Middleware: a request id on every request (accepted from the caller when well formed, made
//! otherwise), in a tracing span and in the `x-request-id` response header.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use crate::app::Services;

/// The id of the request being served.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn acceptable(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = super::route_name(req.path());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route);
    let started = Instant::now();
    let services = req.app_data::<web::Data<Services>>().cloned();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    if let Some(s) = services {
        s.metrics.http(route, status);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        )
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_tidy_request_ids_are_accepted() {
        assert!(super::acceptable("0190a5f2-7b1c-7d00-8000-000000000000"));
        assert!(!super::acceptable("short"));
        assert!(!super::acceptable("has spaces in it here"));
        assert!(!super::acceptable(&"x".repeat(65)));
    }
}
