//! For the engineer on call: liveness, readiness (the database, and Redis when configured) and
//! Prometheus metrics.

use actix_web::{HttpResponse, web};
use sea_orm::DbBackend;

use crate::app::Services;
use crate::metrics::PoolStats;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok")
}

/// The process can serve: the database answers, and Redis too when configured.
pub async fn readyz(services: web::Data<Services>) -> HttpResponse {
    let database = match domain::db::ping(&services.db).await {
        Ok(()) => "ok".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            "unavailable".to_owned()
        }
    };
    let redis = if services.kv.uses_redis() {
        match services.kv.ping().await {
            Ok(()) => "ok".to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: redis does not answer");
                "unavailable".to_owned()
            }
        }
    } else {
        "not configured".to_owned()
    };
    let ready = database == "ok" && redis != "unavailable";
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": { "database": database, "redis": redis },
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

fn pool_stats(services: &Services) -> PoolStats {
    let max = services.config.database.max_connections;
    match services.db.get_database_backend() {
        DbBackend::Postgres => {
            let p = services.db.get_postgres_connection_pool();
            PoolStats {
                size: p.size(),
                idle: p.num_idle() as u32,
                max,
            }
        }
        DbBackend::Sqlite => {
            let p = services.db.get_sqlite_connection_pool();
            PoolStats {
                size: p.size(),
                idle: p.num_idle() as u32,
                max,
            }
        }
        _ => PoolStats {
            max,
            ..PoolStats::default()
        },
    }
}

pub async fn metrics(services: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(services.metrics.render(pool_stats(&services)))
}
