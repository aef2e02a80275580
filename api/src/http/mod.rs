//! HTTP: routes, middleware, and the handlers that are not GraphQL (health, readiness, metrics,
//! the OAuth token endpoint for partner clients, GraphiQL's assets).

pub mod assets;
pub mod exports;
pub mod graphql;
pub mod middleware;
pub mod oauth;
pub mod ops;
pub mod semh_tables;
pub mod space_to_talk;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::get().to(graphql::get))
            .route(web::post().to(graphql::post))
            .route(web::route().to(graphql::method_not_allowed)),
    )
    .service(web::resource("/graphql/assets/{file}").route(web::get().to(assets::file)))
    .service(web::resource("/oauth/token").route(web::post().to(oauth::token)))
    .service(web::resource("/exports/time-summary.csv").route(web::get().to(exports::time_summary)))
    .service(web::resource("/exports/ledger.csv").route(web::get().to(exports::ledger)))
    .service(web::resource("/exports/semh-round.csv").route(web::get().to(exports::semh_round)))
    .service(
        web::resource("/semh/tables/{token}")
            .route(web::get().to(semh_tables::table))
            .route(web::post().to(semh_tables::save)),
    )
    .service(web::resource("/space-to-talk/manage/{token}").route(web::get().to(space_to_talk::manage)))
    .service(web::resource("/space-to-talk/manage/{token}/cancel").route(web::post().to(space_to_talk::cancel)))
    .service(web::resource("/space-to-talk/manage/{token}/move").route(web::post().to(space_to_talk::move_to)))
    .service(
        web::resource("/space-to-talk/{token}")
            .route(web::get().to(space_to_talk::booking))
            .route(web::post().to(space_to_talk::book)),
    )
    .service(web::resource("/healthz").route(web::get().to(ops::healthz)))
    .service(web::resource("/readyz").route(web::get().to(ops::readyz)))
    .service(web::resource("/metrics").route(web::get().to(ops::metrics)));
}

/// A fixed name for a path, for metrics (never the raw path).
pub fn route_name(path: &str) -> &'static str {
    match path {
        "/graphql" => "graphql",
        "/oauth/token" => "oauth_token",
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        "/exports/time-summary.csv" => "export_time_summary",
        "/exports/ledger.csv" => "export_ledger",
        "/exports/semh-round.csv" => "export_semh_round",
        p if p.starts_with("/graphql/assets/") => "graphiql_assets",
        p if p.starts_with("/semh/tables/") => "semh_table",
        p if p.starts_with("/space-to-talk/manage/") => "space_to_talk_manage",
        p if p.starts_with("/space-to-talk/") => "space_to_talk_booking",
        _ => "other",
    }
}
