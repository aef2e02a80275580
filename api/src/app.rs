//! Building and running the service: the database (migrated if asked), Redis or its fallback,
//! the token verifier, the GraphQL schema and the HTTP server, bound to a listener the caller
//! may choose (tests bind port 0).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use migration::{Migrator, MigratorTrait};

use domain::db::{self, Db};

use crate::auth::{Auth, SharedAuth};
use crate::config::Config;
use crate::graphql::{self, ApiSchema};
use crate::http;
use crate::kv::Kv;
use crate::metrics::{self, Metrics};

/// Everything a request may need, shared by all workers.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub auth: SharedAuth,
    pub kv: Kv,
    pub metrics: Arc<Metrics>,
    pub schema: ApiSchema,
    /// What documents cost, from the schema (see [`graphql::limits`]).
    pub cost: Arc<graphql::limits::cost::CostModel>,
    /// Bounds the password hashes running at once.
    pub hash_gate: Arc<domain::secrets::HashGate>,
}

/// Opens the database, counting every statement in the metrics (and against the request
/// running on the task, when there is one).
pub async fn connect_database(config: &Config, metrics: Arc<Metrics>) -> anyhow::Result<Db> {
    let observer: db::StatementObserver = Arc::new(move |info| {
        metrics.statement(info.failed);
        metrics::count_request_statement();
    });
    db::connect(
        config.database.url.expose(),
        config.database.max_connections,
        Some(observer),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the database at {}: {e}", config.database))
}

/// Applies pending migrations. On PostgreSQL an advisory lock keeps replicas that start together
/// from migrating at the same time.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = db::connect(config.database.url.expose(), 1, None)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database at {}: {e}", config.database))?;
    db::migration_lock(&db, true).await?;
    let result = Migrator::up(&db, None).await;
    db::migration_lock(&db, false).await?;
    result?;
    db.close().await?;
    Ok(())
}

impl Services {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let config = Arc::new(config);
        if config.migrate_on_start {
            migrate(&config).await?;
        }
        let metrics = Arc::new(Metrics::default());
        let db = connect_database(&config, metrics.clone()).await?;
        let kv = match &config.redis_url {
            None => Kv::memory(),
            Some(url) => Kv::connect(url.expose())
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach Redis (SCPS_REDIS_URL): {}", e.category()))?,
        };
        let auth = Arc::new(Auth::new(&config.auth).await.map_err(anyhow::Error::msg)?);
        let schema = graphql::build_schema(&config.http, config.is_production());
        let cost = Arc::new(graphql::limits::cost::CostModel::new(&schema.sdl()));
        // A caller waits at most a couple of seconds for a turn to check a password.
        let hash_gate = Arc::new(domain::secrets::HashGate::new(
            config.http.password_hashes_at_once,
            config.http.password_hash_queue,
            std::time::Duration::from_secs(2).min(config.http.request_timeout),
        ));
        Ok(Self {
            config,
            db,
            auth,
            kv,
            metrics,
            schema,
            cost,
            hash_gate,
        })
    }
}

/// A server bound to its listener, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    services: Services,
}

impl Application {
    /// Binds the configured address.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (SCPS_BIND): {e}", config.bind))?;
        let services = Services::build(config).await?;
        Self::with_listener(services, listener)
    }

    /// Serves on a listener the caller bound (tests use port 0).
    pub fn with_listener(services: Services, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = services.clone();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8);
        let http_config = &services.config.http;
        // actix caps connections per worker; the total is shared out between them.
        let per_worker = http_config.max_connections.div_ceil(workers).max(1);
        // Behind a trusted proxy every connection comes from the proxy: no per-address cap.
        let per_address = (!http_config.trust_forwarded_for).then_some(http_config.max_connections_per_address);
        let counts = http::middleware::ConnectionCounts::default();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .configure(http::routes)
                .wrap(actix_web::middleware::from_fn(http::middleware::request_context))
        })
        .on_connect(move |conn, data| {
            if let (Some(cap), Some(stream)) = (per_address, conn.downcast_ref::<actix_web::rt::net::TcpStream>())
                && let Ok(peer) = stream.peer_addr()
            {
                data.insert(counts.open(peer.ip(), cap));
            }
        })
        .max_connections(per_worker)
        .workers(workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self { port, server, services })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Runs until the server stops (SIGTERM or SIGINT lets requests in flight finish).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future, for running in the background (tests).
    pub fn into_server(self) -> Server {
        self.server
    }
}
