//! Configuration has one home: defaults, then `SCPS_*` environment variables, then `--flags`,
//! validated once at start into a [`Config`] value that is passed around (never read again from
//! the environment). Secrets are redacted wherever the configuration is printed.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Where the SQLite database lives when no `SCPS_DATABASE_URL` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/scps.sqlite";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (the default in development).
    Pretty,
    /// One JSON object per line (the default in production).
    Json,
}

/// The raw settings as the command line and environment give them. Every field has a flag and an
/// `SCPS_*` variable; [`Settings::validate`] turns them into a [`Config`].
#[derive(Args, Clone, Debug, Default)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "SCPS_BIND", global = true)]
    pub bind: Option<String>,
    /// Database URL: `sqlite://path/to/file.sqlite` or `postgres://user@host/db`.
    #[arg(long, env = "SCPS_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// File holding the database URL (for secrets mounted as files).
    #[arg(long, env = "SCPS_DATABASE_URL_FILE", global = true)]
    pub database_url_file: Option<PathBuf>,
    /// Largest number of pooled database connections.
    #[arg(long, env = "SCPS_DATABASE_MAX_CONNECTIONS", global = true)]
    pub database_max_connections: Option<u32>,
    /// Optional Redis URL (`redis://host:6379`); without it, in-process fallbacks are used.
    #[arg(long, env = "SCPS_REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// File holding the Redis URL.
    #[arg(long, env = "SCPS_REDIS_URL_FILE", global = true)]
    pub redis_url_file: Option<PathBuf>,
    /// `development` or `production`.
    #[arg(long, env = "SCPS_ENV", global = true, value_enum)]
    pub environment: Option<Environment>,
    /// `pretty` or `json` (default: json in production, pretty otherwise).
    #[arg(long, env = "SCPS_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter in tracing's `EnvFilter` syntax.
    #[arg(long, env = "SCPS_LOG", global = true)]
    pub log: Option<String>,
    /// Run pending migrations when `serve` starts.
    #[arg(long, env = "SCPS_MIGRATE_ON_START", global = true)]
    pub migrate_on_start: Option<bool>,
    /// Secret for signing access tokens (at least 32 bytes). Required in production.
    #[arg(long, env = "SCPS_JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// File holding the token-signing secret.
    #[arg(long, env = "SCPS_JWT_SECRET_FILE", global = true)]
    pub jwt_secret_file: Option<PathBuf>,
    /// Earlier signing secrets still accepted for verification, comma-separated (key rotation).
    #[arg(long, env = "SCPS_JWT_PREVIOUS_SECRETS", global = true, hide_env_values = true)]
    pub jwt_previous_secrets: Option<String>,
    /// File holding the earlier signing secrets, one per line or comma-separated.
    #[arg(long, env = "SCPS_JWT_PREVIOUS_SECRETS_FILE", global = true)]
    pub jwt_previous_secrets_file: Option<PathBuf>,
    /// `iss` of the tokens scps issues.
    #[arg(long, env = "SCPS_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// `aud` of the tokens scps issues.
    #[arg(long, env = "SCPS_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "SCPS_ACCESS_TOKEN_TTL_SECONDS", global = true)]
    pub access_token_ttl_seconds: Option<u64>,
    /// Lifetime of a sign-in session (its refresh tokens), in days.
    #[arg(long, env = "SCPS_REFRESH_TOKEN_TTL_DAYS", global = true)]
    pub refresh_token_ttl_days: Option<u64>,
    /// Clock skew tolerated when checking `exp` and `nbf`, in seconds (at most 60).
    #[arg(long, env = "SCPS_JWT_LEEWAY_SECONDS", global = true)]
    pub jwt_leeway_seconds: Option<u64>,
    /// Issuer of an external identity provider whose tokens are accepted (e.g. Entra ID).
    #[arg(long, env = "SCPS_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    /// Audience scps expects in the external provider's tokens.
    #[arg(long, env = "SCPS_OIDC_AUDIENCE", global = true)]
    pub oidc_audience: Option<String>,
    /// JWKS file with the external provider's public keys.
    #[arg(long, env = "SCPS_OIDC_JWKS_FILE", global = true)]
    pub oidc_jwks_file: Option<PathBuf>,
    /// JWKS URL with the external provider's public keys.
    #[arg(long, env = "SCPS_OIDC_JWKS_URL", global = true)]
    pub oidc_jwks_url: Option<String>,
    /// Claim holding the person's email in the external provider's tokens.
    #[arg(long, env = "SCPS_OIDC_EMAIL_CLAIM", global = true)]
    pub oidc_email_claim: Option<String>,
    /// The service whose people the external provider speaks for (its id, or its global id);
    /// its tokens then carry roles in that service only. Needed when the deployment hosts more
    /// than one service.
    #[arg(long, env = "SCPS_OIDC_SERVICE_ID", global = true)]
    pub oidc_service_id: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SCPS_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    /// Time a request may take before it is abandoned, in seconds.
    #[arg(long, env = "SCPS_REQUEST_TIMEOUT_SECONDS", global = true)]
    pub request_timeout_seconds: Option<u64>,
    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "SCPS_MAX_QUERY_DEPTH", global = true)]
    pub max_query_depth: Option<usize>,
    /// Time the whole request body may take to arrive, in seconds (at most the request timeout).
    #[arg(long, env = "SCPS_BODY_TIMEOUT_SECONDS", global = true)]
    pub body_timeout_seconds: Option<u64>,
    /// Largest cost of a GraphQL document as scps prices it (lists times their expected size,
    /// introspection as what it returns, every field and alias).
    #[arg(long, env = "SCPS_MAX_QUERY_COST", global = true)]
    pub max_query_cost: Option<usize>,
    /// Most aliased fields in one GraphQL document.
    #[arg(long, env = "SCPS_MAX_ALIASES", global = true)]
    pub max_aliases: Option<usize>,
    /// Most top-level fields in one GraphQL operation.
    #[arg(long, env = "SCPS_MAX_ROOT_FIELDS", global = true)]
    pub max_root_fields: Option<usize>,
    /// Largest GraphQL response body, in bytes; a larger answer is refused with an error.
    #[arg(long, env = "SCPS_MAX_RESPONSE_BYTES", global = true)]
    pub max_response_bytes: Option<usize>,
    /// Most open connections in total.
    #[arg(long, env = "SCPS_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Most open connections from one address (beyond it requests get 429 and the connection closes).
    #[arg(long, env = "SCPS_MAX_CONNECTIONS_PER_ADDRESS", global = true)]
    pub max_connections_per_address: Option<usize>,
    /// Password hashes computed at once (default: the machine's cores).
    #[arg(long, env = "SCPS_PASSWORD_HASHES_AT_ONCE", global = true)]
    pub password_hashes_at_once: Option<usize>,
    /// Password checks that may wait for a turn; beyond them, and after a short wait, `RATE_LIMITED`.
    #[arg(long, env = "SCPS_PASSWORD_HASH_QUEUE", global = true)]
    pub password_hash_queue: Option<usize>,
    /// Take the client's address from `Forwarded`/`X-Forwarded-For` (only behind a proxy that
    /// sets them; otherwise callers could choose their own address).
    #[arg(long, env = "SCPS_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: Option<bool>,
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database: DatabaseConfig,
    pub redis_url: Option<Secret<String>>,
    pub environment: Environment,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub migrate_on_start: bool,
    pub auth: AuthConfig,
    pub http: HttpConfig,
}

#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub url: Secret<String>,
    pub max_connections: u32,
}

#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Whether `signing_secret` was generated at start because none was configured.
    pub generated_secret: bool,
    pub signing_secret: Secret<Vec<u8>>,
    pub previous_secrets: Vec<Secret<Vec<u8>>>,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub leeway: Duration,
    pub oidc: Option<OidcConfig>,
}

#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks: JwksSource,
    pub email_claim: String,
    /// The service the provider speaks for; `None`: every service its people belong to.
    pub service_id: Option<uuid::Uuid>,
}

#[derive(Clone, Debug)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_query_depth: usize,
    /// Whether the client's address may come from forwarding headers.
    pub trust_forwarded_for: bool,
    /// Time the body may take to arrive (within `request_timeout`).
    pub body_timeout: Duration,
    pub max_query_cost: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_response_bytes: usize,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub password_hashes_at_once: usize,
    pub password_hash_queue: usize,
}

/// The machine's cores, as far as this process may use them.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(30),
            max_query_depth: 15,
            trust_forwarded_for: false,
            body_timeout: Duration::from_secs(10),
            max_query_cost: 150_000,
            max_aliases: 30,
            max_root_fields: 20,
            max_response_bytes: 2 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_address: 256,
            password_hashes_at_once: available_cores(),
            password_hash_queue: 32,
        }
    }
}

/// A setting that failed validation; the message names it as an operator would set it.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// Reads a secret given directly or through its `_FILE` variant (never both).
fn secret_from(
    direct: Option<&str>,
    file: Option<&PathBuf>,
    setting: &'static str,
    file_setting: &'static str,
) -> Result<Option<String>, ConfigError> {
    match (direct, file) {
        (Some(_), Some(_)) => Err(bad(
            setting,
            format!("set either {setting} or {file_setting}, not both"),
        )),
        (Some(value), None) => Ok(Some(value.to_owned())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| bad(file_setting, format!("cannot read {}: {e}", path.display()))),
        (None, None) => Ok(None),
    }
}

/// Whether a URL is plain http to this machine (a JWKS served locally, in development).
fn is_loopback_http(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        })
}

/// A service id: a UUID, or the API's global id of a service.
fn parse_service_id(text: &str) -> Result<uuid::Uuid, ConfigError> {
    use base64::Engine;
    let text = text.trim();
    if let Ok(id) = uuid::Uuid::parse_str(text) {
        return Ok(id);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("Service:").and_then(|u| uuid::Uuid::parse_str(u).ok()))
        .ok_or_else(|| bad("SCPS_OIDC_SERVICE_ID", "is not the id of a service"))
}

fn non_empty(setting: &'static str, value: Option<&String>, default: &str) -> Result<String, ConfigError> {
    match value {
        None => Ok(default.to_owned()),
        Some(v) if v.trim().is_empty() => Err(bad(setting, "must not be empty")),
        Some(v) => Ok(v.trim().to_owned()),
    }
}

fn in_range<T: PartialOrd + fmt::Display + Copy>(
    setting: &'static str,
    value: Option<T>,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(bad(setting, format!("must be between {min} and {max}, got {v}")));
    }
    Ok(v)
}

impl Settings {
    /// Checks every setting and fills in defaults. The first bad setting is named in the error.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let environment = self.environment.unwrap_or(Environment::Development);
        let production = environment == Environment::Production;

        let bind_text = non_empty("SCPS_BIND", self.bind.as_ref(), "127.0.0.1:8080")?;
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            bad(
                "SCPS_BIND",
                format!("`{bind_text}` is not an address such as 127.0.0.1:8080"),
            )
        })?;

        let database_url = secret_from(
            self.database_url.as_deref(),
            self.database_url_file.as_ref(),
            "SCPS_DATABASE_URL",
            "SCPS_DATABASE_URL_FILE",
        )?
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "SCPS_DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        let max_connections = in_range(
            "SCPS_DATABASE_MAX_CONNECTIONS",
            self.database_max_connections,
            10,
            1,
            500,
        )?;

        let redis_url = secret_from(
            self.redis_url.as_deref(),
            self.redis_url_file.as_ref(),
            "SCPS_REDIS_URL",
            "SCPS_REDIS_URL_FILE",
        )?
        .filter(|s| !s.trim().is_empty());
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://"))
        {
            return Err(bad("SCPS_REDIS_URL", "must start with redis:// or rediss://"));
        }

        let log_format = self
            .log_format
            .unwrap_or(if production { LogFormat::Json } else { LogFormat::Pretty });
        let log_filter = non_empty("SCPS_LOG", self.log.as_ref(), "info")?;

        let auth = self.auth(production)?;

        let defaults = HttpConfig::default();
        let mut http = HttpConfig {
            max_body_bytes: in_range(
                "SCPS_MAX_BODY_BYTES",
                self.max_body_bytes,
                defaults.max_body_bytes,
                1024,
                16 * 1024 * 1024,
            )?,
            request_timeout: Duration::from_secs(in_range(
                "SCPS_REQUEST_TIMEOUT_SECONDS",
                self.request_timeout_seconds,
                defaults.request_timeout.as_secs(),
                1,
                600,
            )?),
            max_query_depth: in_range(
                "SCPS_MAX_QUERY_DEPTH",
                self.max_query_depth,
                defaults.max_query_depth,
                13,
                64,
            )?,
            trust_forwarded_for: self.trust_forwarded_for.unwrap_or(defaults.trust_forwarded_for),
            body_timeout: Duration::ZERO,
            max_query_cost: in_range(
                "SCPS_MAX_QUERY_COST",
                self.max_query_cost,
                defaults.max_query_cost,
                1000,
                10_000_000,
            )?,
            max_aliases: in_range("SCPS_MAX_ALIASES", self.max_aliases, defaults.max_aliases, 0, 1000)?,
            max_root_fields: in_range(
                "SCPS_MAX_ROOT_FIELDS",
                self.max_root_fields,
                defaults.max_root_fields,
                1,
                1000,
            )?,
            max_response_bytes: in_range(
                "SCPS_MAX_RESPONSE_BYTES",
                self.max_response_bytes,
                defaults.max_response_bytes,
                64 * 1024,
                256 * 1024 * 1024,
            )?,
            max_connections: in_range(
                "SCPS_MAX_CONNECTIONS",
                self.max_connections,
                defaults.max_connections,
                1,
                1_000_000,
            )?,
            max_connections_per_address: in_range(
                "SCPS_MAX_CONNECTIONS_PER_ADDRESS",
                self.max_connections_per_address,
                defaults.max_connections_per_address,
                1,
                1_000_000,
            )?,
            password_hashes_at_once: in_range(
                "SCPS_PASSWORD_HASHES_AT_ONCE",
                self.password_hashes_at_once,
                defaults.password_hashes_at_once,
                1,
                256,
            )?,
            password_hash_queue: in_range(
                "SCPS_PASSWORD_HASH_QUEUE",
                self.password_hash_queue,
                defaults.password_hash_queue,
                0,
                10_000,
            )?,
        };
        http.body_timeout = Duration::from_secs(in_range(
            "SCPS_BODY_TIMEOUT_SECONDS",
            self.body_timeout_seconds,
            defaults.body_timeout.as_secs().min(http.request_timeout.as_secs()),
            1,
            http.request_timeout.as_secs(),
        )?);
        if http.max_connections_per_address > http.max_connections {
            return Err(bad(
                "SCPS_MAX_CONNECTIONS_PER_ADDRESS",
                "must not be more than SCPS_MAX_CONNECTIONS",
            ));
        }

        Ok(Config {
            bind,
            database: DatabaseConfig {
                url: Secret(database_url),
                max_connections,
            },
            redis_url: redis_url.map(Secret),
            environment,
            log_format,
            log_filter,
            migrate_on_start: self.migrate_on_start.unwrap_or(true),
            auth,
            http,
        })
    }

    fn auth(&self, production: bool) -> Result<AuthConfig, ConfigError> {
        let configured = secret_from(
            self.jwt_secret.as_deref(),
            self.jwt_secret_file.as_ref(),
            "SCPS_JWT_SECRET",
            "SCPS_JWT_SECRET_FILE",
        )?;
        let (signing_secret, generated_secret) = match configured {
            Some(s) if s.len() < 32 => {
                return Err(bad("SCPS_JWT_SECRET", "must be at least 32 bytes long"));
            }
            Some(s) => (s.into_bytes(), false),
            None if production => {
                return Err(bad(
                    "SCPS_JWT_SECRET",
                    "is required in production (or SCPS_JWT_SECRET_FILE)",
                ));
            }
            None => (domain::secrets::random_bytes(48), true),
        };
        let mut previous_secrets = Vec::new();
        let previous = secret_from(
            self.jwt_previous_secrets.as_deref(),
            self.jwt_previous_secrets_file.as_ref(),
            "SCPS_JWT_PREVIOUS_SECRETS",
            "SCPS_JWT_PREVIOUS_SECRETS_FILE",
        )?;
        for part in previous.iter().flat_map(|s| s.split([',', '\n'])) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if part.len() < 32 {
                return Err(bad(
                    "SCPS_JWT_PREVIOUS_SECRETS",
                    "each secret must be at least 32 bytes long",
                ));
            }
            previous_secrets.push(Secret(part.as_bytes().to_vec()));
        }

        let oidc = match (
            &self.oidc_issuer,
            &self.oidc_audience,
            &self.oidc_jwks_file,
            &self.oidc_jwks_url,
        ) {
            (None, None, None, None) => None,
            (Some(issuer), Some(audience), file, url) => {
                let jwks = match (file, url) {
                    (Some(f), None) => JwksSource::File(f.clone()),
                    (None, Some(u)) if u.starts_with("https://") || is_loopback_http(u) => JwksSource::Url(u.clone()),
                    (None, Some(_)) => {
                        return Err(bad(
                            "SCPS_OIDC_JWKS_URL",
                            "must be an https:// URL (plain http only to this machine)",
                        ));
                    }
                    _ => {
                        return Err(bad(
                            "SCPS_OIDC_JWKS_FILE",
                            "set exactly one of SCPS_OIDC_JWKS_FILE and SCPS_OIDC_JWKS_URL",
                        ));
                    }
                };
                Some(OidcConfig {
                    issuer: non_empty("SCPS_OIDC_ISSUER", Some(issuer), "")?,
                    audience: non_empty("SCPS_OIDC_AUDIENCE", Some(audience), "")?,
                    jwks,
                    email_claim: non_empty("SCPS_OIDC_EMAIL_CLAIM", self.oidc_email_claim.as_ref(), "email")?,
                    service_id: self.oidc_service_id.as_deref().map(parse_service_id).transpose()?,
                })
            }
            (None, ..) => {
                return Err(bad(
                    "SCPS_OIDC_ISSUER",
                    "is required when any SCPS_OIDC_* setting is given",
                ));
            }
            (Some(_), None, ..) => return Err(bad("SCPS_OIDC_AUDIENCE", "is required with SCPS_OIDC_ISSUER")),
        };

        Ok(AuthConfig {
            generated_secret,
            signing_secret: Secret(signing_secret),
            previous_secrets,
            issuer: non_empty("SCPS_JWT_ISSUER", self.jwt_issuer.as_ref(), "scps")?,
            audience: non_empty("SCPS_JWT_AUDIENCE", self.jwt_audience.as_ref(), "scps")?,
            access_token_ttl: Duration::from_secs(in_range(
                "SCPS_ACCESS_TOKEN_TTL_SECONDS",
                self.access_token_ttl_seconds,
                900,
                60,
                86_400,
            )?),
            session_ttl: Duration::from_secs(
                86_400 * in_range("SCPS_REFRESH_TOKEN_TTL_DAYS", self.refresh_token_ttl_days, 30, 1, 365)?,
            ),
            leeway: Duration::from_secs(in_range("SCPS_JWT_LEEWAY_SECONDS", self.jwt_leeway_seconds, 30, 0, 60)?),
            oidc,
        })
    }
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

impl fmt::Display for DatabaseConfig {
    /// The URL without its password, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.url.expose();
        match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &url[scheme_end + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                write!(f, "{}{}:[redacted]{}", &url[..scheme_end + 3], user, &url[at..])
            }
            _ => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_for_development() {
        let config = Settings::default().validate().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
        assert!(config.auth.generated_secret);
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn production_requires_a_signing_secret_and_names_it() {
        let settings = Settings {
            environment: Some(Environment::Production),
            ..Settings::default()
        };
        let err = settings.validate().unwrap_err();
        assert_eq!(err.setting, "SCPS_JWT_SECRET");
        assert!(err.to_string().contains("SCPS_JWT_SECRET"));
    }

    #[test]
    fn a_bad_setting_is_named() {
        let cases: Vec<(Settings, &str)> = vec![
            (
                Settings {
                    bind: Some("nowhere".into()),
                    ..Default::default()
                },
                "SCPS_BIND",
            ),
            (
                Settings {
                    database_url: Some("mysql://x".into()),
                    ..Default::default()
                },
                "SCPS_DATABASE_URL",
            ),
            (
                Settings {
                    redis_url: Some("http://x".into()),
                    ..Default::default()
                },
                "SCPS_REDIS_URL",
            ),
            (
                Settings {
                    jwt_secret: Some("short".into()),
                    ..Default::default()
                },
                "SCPS_JWT_SECRET",
            ),
            (
                Settings {
                    jwt_leeway_seconds: Some(61),
                    ..Default::default()
                },
                "SCPS_JWT_LEEWAY_SECONDS",
            ),
            (
                Settings {
                    oidc_issuer: Some("https://login".into()),
                    ..Default::default()
                },
                "SCPS_OIDC_AUDIENCE",
            ),
            (
                Settings {
                    oidc_audience: Some("api".into()),
                    ..Default::default()
                },
                "SCPS_OIDC_ISSUER",
            ),
            (
                Settings {
                    max_body_bytes: Some(10),
                    ..Default::default()
                },
                "SCPS_MAX_BODY_BYTES",
            ),
        ];
        for (settings, name) in cases {
            let err = settings.validate().unwrap_err();
            assert_eq!(err.setting, name, "{err}");
        }
    }

    #[test]
    fn the_hostile_input_limits_have_defaults_and_are_checked() {
        let config = Settings::default().validate().unwrap();
        let http = &config.http;
        assert_eq!(http.body_timeout, Duration::from_secs(10));
        assert!(http.body_timeout < http.request_timeout);
        assert_eq!((http.max_aliases, http.max_root_fields), (30, 20));
        assert_eq!(http.max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(http.password_hashes_at_once, available_cores());
        let set = Settings {
            body_timeout_seconds: Some(3),
            max_aliases: Some(5),
            max_connections: Some(100),
            max_connections_per_address: Some(10),
            password_hashes_at_once: Some(2),
            password_hash_queue: Some(0),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(set.http.body_timeout, Duration::from_secs(3));
        assert_eq!(set.http.max_aliases, 5);
        assert_eq!(
            (set.http.max_connections, set.http.max_connections_per_address),
            (100, 10)
        );
        assert_eq!((set.http.password_hashes_at_once, set.http.password_hash_queue), (2, 0));
        // A short request timeout shortens the default body deadline with it.
        let short = Settings {
            request_timeout_seconds: Some(4),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(short.http.body_timeout, Duration::from_secs(4));
        let cases: Vec<(Settings, &str)> = vec![
            (
                Settings {
                    request_timeout_seconds: Some(5),
                    body_timeout_seconds: Some(6),
                    ..Default::default()
                },
                "SCPS_BODY_TIMEOUT_SECONDS",
            ),
            (
                Settings {
                    body_timeout_seconds: Some(0),
                    ..Default::default()
                },
                "SCPS_BODY_TIMEOUT_SECONDS",
            ),
            (
                Settings {
                    max_response_bytes: Some(10),
                    ..Default::default()
                },
                "SCPS_MAX_RESPONSE_BYTES",
            ),
            (
                Settings {
                    max_root_fields: Some(0),
                    ..Default::default()
                },
                "SCPS_MAX_ROOT_FIELDS",
            ),
            (
                Settings {
                    max_connections: Some(10),
                    max_connections_per_address: Some(11),
                    ..Default::default()
                },
                "SCPS_MAX_CONNECTIONS_PER_ADDRESS",
            ),
            (
                Settings {
                    password_hashes_at_once: Some(0),
                    ..Default::default()
                },
                "SCPS_PASSWORD_HASHES_AT_ONCE",
            ),
        ];
        for (settings, name) in cases {
            let err = settings.validate().unwrap_err();
            assert_eq!(err.setting, name, "{err}");
        }
    }

    #[test]
    fn secrets_are_redacted_when_printed() {
        let config = Settings {
            jwt_secret: Some("a-very-long-secret-that-nobody-should-see-0123".into()),
            database_url: Some("postgres://scps:hunter2-password@db/scps".into()),
            redis_url: Some("redis://:redis-password@cache:6379".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let printed = format!("{config:?} {}", config.database);
        assert!(!printed.contains("nobody-should-see"));
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains("redis-password"));
        assert!(printed.contains("postgres://scps:[redacted]@db/scps"));
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("scps-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef-from-file\n").unwrap();
        let config = Settings {
            jwt_secret_file: Some(path.clone()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            config.auth.signing_secret.expose(),
            b"0123456789abcdef0123456789abcdef-from-file"
        );
        let both = Settings {
            jwt_secret: Some("x".repeat(40)),
            jwt_secret_file: Some(path),
            ..Default::default()
        };
        assert_eq!(both.validate().unwrap_err().setting, "SCPS_JWT_SECRET");
        std::fs::remove_dir_all(dir).ok();
    }
}
