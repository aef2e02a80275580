//! The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) for partner clients: a client
//! id and secret, given in HTTP Basic or in the form body, become an access token carrying the
//! client's scopes.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use domain::{DomainError, tenancy};

use crate::app::Services;
use crate::kv::Key;

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Attempts allowed per client id in a window, before it is slowed down.
const ATTEMPTS: i64 = 20;
const WINDOW: Duration = Duration::from_secs(300);

fn error(status: actix_web::http::StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": code, "error_description": description }))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

pub async fn token(req: HttpRequest, body: web::Bytes, services: web::Data<Services>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form: TokenRequest = if content_type.starts_with("application/x-www-form-urlencoded") {
        match serde_urlencoded_form(&body) {
            Some(f) => f,
            None => return error(StatusCode::BAD_REQUEST, "invalid_request", "the form could not be read"),
        }
    } else if content_type.starts_with("application/json") {
        match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(_) => return error(StatusCode::BAD_REQUEST, "invalid_request", "the JSON could not be read"),
        }
    } else {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send application/x-www-form-urlencoded or application/json",
        );
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let basic = basic_credentials(&req);
    let used_basic = basic.is_some();
    let Some((client_id, secret)) = basic.or(match (form.client_id, form.client_secret) {
        (Some(i), Some(s)) => Some((i, s)),
        _ => None,
    }) else {
        let mut refused = error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client credentials are required",
        );
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"scps\""),
        );
        return refused;
    };
    // Each attempt counts until it succeeds, so that attempts sent together cannot all slip under
    // the limit.
    let key = Key::new("oauth", &domain::secrets::token_digest(&client_id));
    let (attempts, wait) = services.kv.bump(&key, WINDOW).await;
    if attempts > ATTEMPTS {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            &format!("too many attempts; try again in {} seconds", wait.as_secs().max(1)),
        );
    }
    match tenancy::partners::authenticate(&services.db, &client_id, &secret).await {
        Ok(client) => {
            services.kv.unbump(&key).await;
            let scope = client.row.scopes.clone();
            match services
                .auth
                .issue_for_client(client.row.id, client.row.secret_version, scope.clone())
            {
                Ok(issued) => HttpResponse::Ok()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(serde_json::json!({
                        "access_token": issued.token,
                        "token_type": "Bearer",
                        "expires_in": services.auth.access_ttl().as_secs(),
                        "scope": scope,
                    })),
                Err(e) => {
                    tracing::error!(error = %e, "could not issue a partner token");
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "the token could not be issued",
                    )
                }
            }
        }
        Err(DomainError::Unauthenticated) => {
            let mut refused = error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "the client id or secret is wrong, or the client is disabled",
            );
            if used_basic {
                // RFC 6749, section 5.2: say which scheme to authenticate with.
                refused.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Basic realm=\"scps\""),
                );
            }
            refused
        }
        Err(e) => {
            tracing::error!(error = %e, "partner authentication failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the token could not be issued",
            )
        }
    }
}

/// Reads `a=b&c=d` (percent-decoded, `+` as space).
fn serde_urlencoded_form(body: &[u8]) -> Option<TokenRequest> {
    let text = std::str::from_utf8(body).ok()?;
    let mut form = TokenRequest::default();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v)?;
        match percent_decode(k)?.as_str() {
            "grant_type" => form.grant_type = Some(v),
            "client_id" => form.client_id = Some(v),
            "client_secret" => form.client_secret = Some(v),
            _ => {}
        }
    }
    Some(form)
}

fn percent_decode(s: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded() {
        let f = serde_urlencoded_form(b"grant_type=client_credentials&client_id=pc_1&client_secret=a%2Bb+c").unwrap();
        assert_eq!(f.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(f.client_id.as_deref(), Some("pc_1"));
        assert_eq!(f.client_secret.as_deref(), Some("a+b c"));
        assert!(serde_urlencoded_form(b"client_id=%zz").is_none());
    }
}
