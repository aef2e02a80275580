//! GraphiQL, served from the binary: no CDN (school networks, and this service's hosts, may have
//! no internet). The assets are vendored from npm by `api/assets/graphiql/update.sh`.

use actix_web::{HttpResponse, web};

const INDEX: &str = include_str!("../../assets/graphiql/index.html");

/// The page's security policy: its own scripts only; styles and fonts as GraphiQL builds them.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("content-security-policy", PAGE_POLICY))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(INDEX)
}

fn asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match name {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "init.js" => (
            include_bytes!("../../assets/graphiql/init.js"),
            "text/javascript; charset=utf-8",
        ),
        "LICENSES.txt" => (
            include_bytes!("../../assets/graphiql/LICENSES.txt"),
            "text/plain; charset=utf-8",
        ),
        _ => return None,
    })
}

pub async fn file(name: web::Path<String>) -> HttpResponse {
    match asset(&name) {
        Some((bytes, content_type)) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("cache-control", "public, max-age=86400"))
            .insert_header(("x-content-type-options", "nosniff"))
            .body(bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
