//! The floor: the SQL statements scps issues for a request, issued directly.
//!
//! An scps of the same build runs in this process on the same database with a connection that
//! records every statement (with its values); each operation is asked once, as the runner asks
//! it, and the statements it ran are kept. The replay sends exactly those statements, in order,
//! through sqlx (prepared and cached per connection, as pgbench -M prepared does) from as many
//! clients as the runner uses, and counts a request per complete list.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use serde_json::json;

pub struct Floor {
    /// PostgreSQL only: on SQLite the statements are recorded but not replayed (values are
    /// inlined, and SQLite keeps UUIDs as blobs that inlined text would not match).
    pool: Option<sqlx::PgPool>,
    captured: HashMap<&'static str, Vec<String>>,
}

impl Floor {
    /// Captures the statements of the SENCO home, the bookings list and the time summary.
    pub(super) async fn capture(url: &str, w: &super::World) -> anyhow::Result<Option<Floor>> {
        let settings = scps::Settings {
            bind: Some("127.0.0.1:0".into()),
            database_url: Some(url.to_owned()),
            jwt_secret: Some(super::JWT_SECRET.into()),
            log: Some("warn".into()),
            migrate_on_start: Some(false),
            ..scps::Settings::default()
        };
        let config = settings.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut services = scps::Services::build(config).await?;
        let recording = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let observer: domain::db::StatementObserver = {
            let (recording, seen) = (recording.clone(), seen.clone());
            Arc::new(move |info| {
                if recording.load(Ordering::SeqCst)
                    && let Ok(mut s) = seen.lock()
                {
                    s.push(info.statement.to_string());
                }
            })
        };
        services.db = domain::db::connect(url, 4, Some(observer)).await?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let app = scps::Application::with_listener(services, listener)?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = tokio::spawn(app.run());
        let http = reqwest::Client::new();
        let mut captured = HashMap::new();
        // Exactly the requests the runner times.
        let asks = [super::Op::SencoHome, super::Op::BookingsList, super::Op::TimeSummary]
            .map(|op| (op.name(), op.graphql(w, 0, op.rows(w))));
        for (name, (token, query, vars)) in asks {
            // Once to warm any cache the server keeps, then once recorded.
            for record in [false, true] {
                if let Ok(mut s) = seen.lock() {
                    s.clear();
                }
                recording.store(record, Ordering::SeqCst);
                let resp = http
                    .post(format!("{base}/graphql"))
                    .bearer_auth(token.as_deref().unwrap_or_default())
                    .json(&json!({ "query": query, "variables": vars }))
                    .send()
                    .await?;
                let body: serde_json::Value = resp.json().await?;
                recording.store(false, Ordering::SeqCst);
                if body.get("errors").is_some() {
                    anyhow::bail!("{name} failed while capturing its SQL: {body}");
                }
            }
            let statements = seen.lock().map(|s| s.clone()).unwrap_or_default();
            captured.insert(name, statements);
        }
        handle.abort();
        let pool = if url.starts_with("postgres") {
            Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(16)
                    .connect(url)
                    .await?,
            )
        } else {
            None
        };
        Ok(Some(Floor { pool, captured }))
    }

    pub fn statements_of(&self, op: &str) -> Option<&Vec<String>> {
        self.captured.get(op)
    }

    /// Requests per second when the statements are issued directly by `clients` clients.
    pub async fn replay(&self, statements: &[String], clients: usize, seconds: f64) -> anyhow::Result<Option<f64>> {
        let Some(pool) = &self.pool else {
            return Ok(None);
        };
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        // The statements scps itself issued, replayed verbatim; a write it made (the audit of a
        // read of children's records) is replayed as an insert that yields to the row already
        // there: the same probe of the key, no second row.
        let statements: Arc<Vec<String>> = Arc::new(
            statements
                .iter()
                .map(|s| {
                    if s.trim_start().starts_with("INSERT") {
                        format!("{s} ON CONFLICT DO NOTHING")
                    } else {
                        s.clone()
                    }
                })
                .collect(),
        );
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (pool, stop, done, statements) = (pool.clone(), stop.clone(), done.clone(), statements.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    for s in statements.iter() {
                        sqlx::query(sqlx::AssertSqlSafe(s.clone())).fetch_all(&pool).await?;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, sqlx::Error>(())
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await??;
        }
        Ok(Some(
            done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
        ))
    }

    pub fn dump(&self) -> String {
        let mut out = String::new();
        let mut names: Vec<_> = self.captured.keys().collect();
        names.sort();
        for n in names {
            out.push_str(&format!("-- {n}: {} statements\n", self.captured[n].len()));
            for s in &self.captured[n] {
                out.push_str(s);
                out.push_str(";\n");
            }
        }
        out
    }

    pub async fn close(self) {
        if let Some(p) = self.pool {
            p.close().await;
        }
    }
}
