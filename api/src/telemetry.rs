//! Logging: one subscriber for the process, JSON in production, with the request id on every
//! line (from the request span). Statement logging from the database driver is kept at warn:
//! statements carry values, and values can be personal data.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Config, LogFormat};

/// The filter: the configured one, with the database driver quietened unless asked for.
pub fn filter(configured: &str) -> EnvFilter {
    let mut spec = configured.to_owned();
    for quiet in ["sqlx", "sea_orm", "sea_orm_migration"] {
        if !configured.contains(quiet) {
            spec.push_str(&format!(",{quiet}=warn"));
        }
    }
    EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"))
}

/// Sets up logging once; later calls (tests start many servers) do nothing.
pub fn init(config: &Config) {
    let filter = filter(&config.log_filter);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer().compact()).try_init(),
    };
}
