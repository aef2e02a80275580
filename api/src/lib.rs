//! The scps service: configuration, the command line, the HTTP server, authentication and the
//! GraphQL API. It turns requests into calls on `domain` and results into API types; the rules
//! live in `domain`.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod graphql;
pub mod http;
pub mod kv;
pub mod metrics;
pub mod telemetry;

pub use app::{Application, Services};
pub use config::{Config, Settings};

/// Installs the process-wide cryptography providers (for tokens and for HTTPS to an identity
/// provider). Safe to call more than once.
pub fn install_crypto() {
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let _ = rustls::crypto::ring::default_provider().install_default();
}
