//! Prometheus metrics: requests and latency per GraphQL operation name, HTTP responses, SQL
//! statements (in all and per request), and the database pool. Rendered as Prometheus text at
//! `/metrics`. Label values are bounded so that callers cannot grow them without limit.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency buckets, in seconds.
const LATENCY: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Statements-per-request buckets.
const STATEMENTS: &[f64] = &[1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0, 128.0];
/// The most distinct operation names kept; the rest are counted as `other`.
const MAX_OPERATIONS: usize = 200;

#[derive(Clone, Debug)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }
    fn observe(&mut self, v: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    /// (operation, outcome) -> latency.
    operations: BTreeMap<(String, &'static str), Histogram>,
    /// operation -> statements per request.
    statements: BTreeMap<String, Histogram>,
    /// (route, status) -> count.
    http: BTreeMap<(&'static str, u16), u64>,
}

/// The pool's state when metrics are read.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    statements_total: AtomicU64,
    statements_failed: AtomicU64,
}

/// An operation name fit for a label: letters, digits and underscores, at most 64 of them.
pub fn operation_label(name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            n.to_owned()
        }
        Some(_) => "invalid".to_owned(),
        None => "anonymous".to_owned(),
    }
}

impl Metrics {
    pub fn statement(&self, failed: bool) {
        self.statements_total.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.statements_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn statements_total(&self) -> u64 {
        self.statements_total.load(Ordering::Relaxed)
    }

    pub fn graphql(&self, operation: &str, ok: bool, elapsed: Duration, statements: u64) {
        let Ok(mut inner) = self.inner.lock() else { return };
        let known = inner.operations.keys().any(|(op, _)| op == operation);
        let op = if known || inner.statements.len() < MAX_OPERATIONS {
            operation.to_owned()
        } else {
            "other".to_owned()
        };
        let outcome = if ok { "ok" } else { "error" };
        inner
            .operations
            .entry((op.clone(), outcome))
            .or_insert_with(|| Histogram::new(LATENCY))
            .observe(elapsed.as_secs_f64());
        inner
            .statements
            .entry(op)
            .or_insert_with(|| Histogram::new(STATEMENTS))
            .observe(statements as f64);
    }

    pub fn http(&self, route: &'static str, status: u16) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.http.entry((route, status)).or_insert(0) += 1;
        }
    }

    pub fn render(&self, pool: PoolStats) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else { return out };
        out.push_str("# HELP scps_graphql_request_duration_seconds GraphQL requests by operation name and outcome.\n");
        out.push_str("# TYPE scps_graphql_request_duration_seconds histogram\n");
        for ((op, outcome), h) in &inner.operations {
            h.render(
                &mut out,
                "scps_graphql_request_duration_seconds",
                &format!("operation=\"{op}\",outcome=\"{outcome}\""),
            );
        }
        out.push_str("# HELP scps_graphql_sql_statements SQL statements per GraphQL request, by operation name.\n");
        out.push_str("# TYPE scps_graphql_sql_statements histogram\n");
        for (op, h) in &inner.statements {
            h.render(&mut out, "scps_graphql_sql_statements", &format!("operation=\"{op}\""));
        }
        out.push_str("# HELP scps_http_responses_total HTTP responses by route and status.\n");
        out.push_str("# TYPE scps_http_responses_total counter\n");
        for ((route, status), n) in &inner.http {
            let _ = writeln!(
                out,
                "scps_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP scps_sql_statements_total SQL statements run.\n# TYPE scps_sql_statements_total counter\n",
        );
        let _ = writeln!(out, "scps_sql_statements_total {}", self.statements_total());
        out.push_str("# HELP scps_sql_statements_failed_total SQL statements that failed.\n# TYPE scps_sql_statements_failed_total counter\n");
        let _ = writeln!(
            out,
            "scps_sql_statements_failed_total {}",
            self.statements_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP scps_db_pool_connections Connections in the database pool.\n# TYPE scps_db_pool_connections gauge\n");
        let _ = writeln!(out, "scps_db_pool_connections{{state=\"open\"}} {}", pool.size);
        let _ = writeln!(out, "scps_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(
            out,
            "scps_db_pool_connections{{state=\"in_use\"}} {}",
            pool.size.saturating_sub(pool.idle)
        );
        out.push_str(
            "# HELP scps_db_pool_max_connections The pool's limit.\n# TYPE scps_db_pool_max_connections gauge\n",
        );
        let _ = writeln!(out, "scps_db_pool_max_connections {}", pool.max);
        out
    }
}

tokio::task_local! {
    /// SQL statements run on behalf of the current request.
    pub static REQUEST_STATEMENTS: std::sync::Arc<AtomicU64>;
}

/// Counts a statement against the request running on this task, if any.
pub fn count_request_statement() {
    let _ = REQUEST_STATEMENTS.try_with(|c| c.fetch_add(1, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_and_safe() {
        assert_eq!(operation_label(Some("Schools")), "Schools");
        assert_eq!(operation_label(Some("a\"b")), "invalid");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "invalid");
        assert_eq!(operation_label(None), "anonymous");
    }

    #[test]
    fn rendering_shows_each_family() {
        let m = Metrics::default();
        m.graphql("Schools", true, Duration::from_millis(12), 3);
        m.http("graphql", 200);
        m.statement(false);
        let text = m.render(PoolStats {
            size: 2,
            idle: 1,
            max: 10,
        });
        assert!(text.contains("scps_graphql_request_duration_seconds_count{operation=\"Schools\",outcome=\"ok\"} 1"));
        assert!(text.contains("scps_graphql_sql_statements_sum{operation=\"Schools\"} 3"));
        assert!(text.contains("scps_http_responses_total{route=\"graphql\",status=\"200\"} 1"));
        assert!(text.contains("scps_sql_statements_total 1"));
        assert!(text.contains("scps_db_pool_connections{state=\"in_use\"} 1"));
    }
}
