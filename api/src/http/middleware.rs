//! Middleware: a request id on every request (accepted from the caller when well formed, made
//! otherwise), in a tracing span and in the `x-request-id` response header.

use std::time::Instant;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
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

/// Open connections per peer address, shared by all workers.
#[derive(Clone, Debug, Default)]
pub struct ConnectionCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One open connection's place in [`ConnectionCounts`], given back when the connection closes
/// (actix drops a connection's data with it).
#[derive(Debug)]
pub struct ConnectionSlot {
    counts: ConnectionCounts,
    ip: IpAddr,
    /// Whether this connection is beyond its address's cap: its requests are refused.
    pub over: bool,
}

impl ConnectionCounts {
    /// Counts a new connection from `ip`, over the cap if it makes more than `cap`.
    pub fn open(&self, ip: IpAddr, cap: usize) -> ConnectionSlot {
        let n = self
            .0
            .lock()
            .map(|mut m| {
                let n = m.entry(ip).or_insert(0);
                *n += 1;
                *n
            })
            .unwrap_or(0);
        ConnectionSlot {
            counts: self.clone(),
            ip,
            over: n > cap,
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.counts.0.lock()
            && let Some(n) = m.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

fn acceptable(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.conn_data::<ConnectionSlot>().is_some_and(|s| s.over) {
        let res = actix_web::HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::CONNECTION, "close"))
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(serde_json::json!({ "errors": [{
                "message": "Too many connections from this address are open; close some first.",
                "extensions": { "code": "TOO_MANY_CONNECTIONS" }
            }]}));
        return Ok(req.into_response(res));
    }
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
    let mut res = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();
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
