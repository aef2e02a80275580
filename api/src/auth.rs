//! Access tokens: scps signs its own (HS256, keys chosen by `kid`, so that secrets can be
//! rotated), and accepts an external identity provider's (RS256 from its JWKS, mapped to a
//! person by email) when configured. Verification pins the algorithm per key, requires `exp`,
//! `iss` and `aud`, allows at most the configured clock skew, and turns every failure into the
//! same "unauthenticated": the reason goes to the log, never to the caller.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use domain::access::Principal;
use domain::db::Db;
use domain::ids::{PartnerClientId, PersonId, SessionId};
use domain::{DomainError, identity, tenancy};

use crate::config::{AuthConfig, JwksSource, OidcConfig};

/// Claims of the tokens scps issues.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// `person:<uuid>` or `client:<uuid>`.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    /// The sign-in session of a person's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<uuid::Uuid>,
    /// The secret version a partner client's token was issued under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i32>,
    /// A partner client's scopes, space-separated (informational: the database decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Who a verified token speaks for, before the database is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Person { person: PersonId, session: SessionId },
    Client { client: PartnerClientId, version: i32 },
    ExternalEmail(String),
}

/// A verified bearer token: the principal, and the session it belongs to (for sign-out).
#[derive(Clone, Debug)]
pub struct Verified {
    pub principal: Principal,
    pub session: Option<SessionId>,
}

/// Why a token was refused (for the log only).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("unknown key id")]
    UnknownKey,
    #[error("verification failed: {0:?}")]
    Invalid(jsonwebtoken::errors::ErrorKind),
    #[error("unknown subject")]
    Subject,
    #[error("the principal is no longer valid")]
    Revoked,
    #[error("database: {0}")]
    Database(String),
}

struct OwnKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// A key's id: a short digest of the secret, so that the secret never appears.
fn key_id(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    format!("scps-{}", URL_SAFE_NO_PAD.encode(&digest[..9]))
}

struct External {
    config: OidcConfig,
    keys: RwLock<HashMap<String, DecodingKey>>,
    fetched_at: RwLock<Option<Instant>>,
}

pub struct Auth {
    current: OwnKey,
    previous: Vec<OwnKey>,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    leeway: Duration,
    external: Option<External>,
}

/// An access token and when it expires.
pub struct Issued {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Reads a JWKS document, keeping RSA keys with a `kid` only.
pub fn parse_jwks(text: &str) -> Result<HashMap<String, DecodingKey>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let (Some(kid), AlgorithmParameters::RSA(_)) = (&jwk.common.key_id, &jwk.algorithm) else {
            continue;
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid.clone(), key);
        }
    }
    if keys.is_empty() {
        return Err("the JWKS has no RSA keys with a kid".into());
    }
    Ok(keys)
}

async fn fetch_jwks(url: &str) -> Result<String, String> {
    // awc is not Send: run it on a local task set of this thread.
    let url = url.to_owned();
    let task = async move {
        let client = awc::Client::builder().timeout(Duration::from_secs(5)).finish();
        let mut response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("fetching the JWKS: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("fetching the JWKS: HTTP {}", response.status()));
        }
        let body = response
            .body()
            .limit(512 * 1024)
            .await
            .map_err(|e| format!("reading the JWKS: {e}"))?;
        String::from_utf8(body.to_vec()).map_err(|_| "the JWKS is not UTF-8".to_owned())
    };
    tokio::task::LocalSet::new().run_until(task).await
}

impl Auth {
    /// Builds the verifier; with an external provider configured, loads its keys now (a
    /// provider that cannot be read is a start-up error).
    pub async fn new(config: &AuthConfig) -> Result<Self, String> {
        let own = |secret: &[u8]| OwnKey {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        };
        let external = match &config.oidc {
            None => None,
            Some(oidc) => {
                let text = match &oidc.jwks {
                    JwksSource::File(path) => std::fs::read_to_string(path)
                        .map_err(|e| format!("SCPS_OIDC_JWKS_FILE: cannot read {}: {e}", path.display()))?,
                    JwksSource::Url(url) => fetch_jwks(url).await.map_err(|e| format!("SCPS_OIDC_JWKS_URL: {e}"))?,
                };
                let keys = parse_jwks(&text).map_err(|e| format!("SCPS_OIDC_JWKS: {e}"))?;
                Some(External {
                    config: oidc.clone(),
                    keys: RwLock::new(keys),
                    fetched_at: RwLock::new(Some(Instant::now())),
                })
            }
        };
        Ok(Self {
            current: own(config.signing_secret.expose()),
            previous: config.previous_secrets.iter().map(|s| own(s.expose())).collect(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_token_ttl,
            leeway: config.leeway,
            external,
        })
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    fn issue(
        &self,
        sub: String,
        sid: Option<SessionId>,
        ver: Option<i32>,
        scope: Option<String>,
        ttl: Duration,
    ) -> Result<Issued, DomainError> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15));
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            sid: sid.map(|s| s.0),
            ver,
            scope,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.current.encoding)
            .map_err(|e| DomainError::internal("signing a token", e))?;
        Ok(Issued { token, expires_at })
    }

    /// A person's access token for a session.
    pub fn issue_for_person(
        &self,
        person: PersonId,
        session: SessionId,
        ttl: Option<Duration>,
    ) -> Result<Issued, DomainError> {
        self.issue(
            format!("person:{}", person.0),
            Some(session),
            None,
            None,
            ttl.unwrap_or(self.access_ttl),
        )
    }

    /// A partner client's access token.
    pub fn issue_for_client(
        &self,
        client: PartnerClientId,
        version: i32,
        scope: String,
    ) -> Result<Issued, DomainError> {
        self.issue(
            format!("client:{}", client.0),
            None,
            Some(version),
            Some(scope),
            self.access_ttl,
        )
    }

    fn validation(&self, alg: Algorithm, issuer: &str, audience: &str) -> Validation {
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
        v.leeway = self.leeway.as_secs();
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_issuer(&[issuer]);
        v.set_audience(&[audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v
    }

    /// Checks a token's signature and claims (not yet the database).
    pub async fn subject(&self, token: &str) -> Result<Subject, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| Refused::Malformed(format!("{:?}", e.kind())))?;
        let kid = header.kid.clone().ok_or(Refused::UnknownKey)?;
        if let Some(own) = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
        {
            let data = jsonwebtoken::decode::<Claims>(
                token,
                &own.decoding,
                &self.validation(Algorithm::HS256, &self.issuer, &self.audience),
            )
            .map_err(|e| Refused::Invalid(e.into_kind()))?;
            return parse_subject(&data.claims);
        }
        let Some(external) = &self.external else {
            return Err(Refused::UnknownKey);
        };
        if header.alg != Algorithm::RS256 {
            return Err(Refused::Invalid(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm));
        }
        let key = self.external_key(external, &kid).await.ok_or(Refused::UnknownKey)?;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &key,
            &self.validation(Algorithm::RS256, &external.config.issuer, &external.config.audience),
        )
        .map_err(|e| Refused::Invalid(e.into_kind()))?;
        // A provider that says the address is not verified does not speak for its owner.
        if data.claims.get("email_verified").and_then(|v| v.as_bool()) == Some(false) {
            return Err(Refused::Subject);
        }
        let email = data
            .claims
            .get(&external.config.email_claim)
            .and_then(|v| v.as_str())
            .ok_or(Refused::Subject)?;
        Ok(Subject::ExternalEmail(email.to_owned()))
    }

    /// The external key for a `kid`; an unknown `kid` refetches a JWKS URL at most once a minute
    /// (the provider may have rotated its keys).
    async fn external_key(&self, external: &External, kid: &str) -> Option<DecodingKey> {
        if let Some(k) = external.keys.read().ok().and_then(|m| m.get(kid).cloned()) {
            return Some(k);
        }
        let JwksSource::Url(url) = &external.config.jwks else {
            return None;
        };
        let recent = external
            .fetched_at
            .read()
            .ok()
            .and_then(|t| *t)
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60));
        if recent {
            return None;
        }
        if let Ok(mut t) = external.fetched_at.write() {
            *t = Some(Instant::now());
        }
        match fetch_jwks(url).await.and_then(|text| parse_jwks(&text)) {
            Ok(keys) => {
                let found = keys.get(kid).cloned();
                if let Ok(mut m) = external.keys.write() {
                    *m = keys;
                }
                found
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh the identity provider's keys");
                None
            }
        }
    }

    /// Verifies a bearer token and loads its principal from the database.
    pub async fn verify(&self, db: &Db, token: &str) -> Result<Verified, Refused> {
        let subject = self.subject(token).await?;
        let from_db = |e: DomainError| match e {
            DomainError::Unauthenticated | DomainError::NotFound => Refused::Revoked,
            other => Refused::Database(other.to_string()),
        };
        match subject {
            Subject::Person { person, session } => Ok(Verified {
                principal: identity::session_principal(db, person, session)
                    .await
                    .map_err(from_db)?,
                session: Some(session),
            }),
            Subject::Client { client, version } => Ok(Verified {
                principal: tenancy::partners::principal(db, client, version)
                    .await
                    .map_err(from_db)?,
                session: None,
            }),
            Subject::ExternalEmail(email) => {
                let mut principal = identity::email_principal(db, &email).await.map_err(from_db)?;
                // A provider bound to one service speaks for roles in that service only.
                if let Some(service) = self.external.as_ref().and_then(|e| e.config.service_id) {
                    principal.memberships.retain(|m| m.service_id.0 == service);
                }
                Ok(Verified {
                    principal,
                    session: None,
                })
            }
        }
    }
}

fn parse_subject(claims: &Claims) -> Result<Subject, Refused> {
    let (kind, id) = claims.sub.split_once(':').ok_or(Refused::Subject)?;
    let id: uuid::Uuid = id.parse().map_err(|_| Refused::Subject)?;
    match (kind, claims.sid, claims.ver) {
        ("person", Some(sid), _) => Ok(Subject::Person {
            person: PersonId(id),
            session: SessionId(sid),
        }),
        ("client", _, Some(ver)) => Ok(Subject::Client {
            client: PartnerClientId(id),
            version: ver,
        }),
        _ => Err(Refused::Subject),
    }
}

/// Shared so that handlers and the GraphQL layer use one verifier.
pub type SharedAuth = Arc<Auth>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    async fn auth() -> Auth {
        crate::install_crypto();
        let config = Settings {
            jwt_secret: Some("a-test-secret-that-is-long-enough-0123456789".into()),
            ..Settings::default()
        }
        .validate()
        .unwrap();
        Auth::new(&config.auth).await.unwrap()
    }

    #[tokio::test]
    async fn its_own_tokens_verify_and_name_their_subject() {
        let auth = auth().await;
        let person = PersonId::new();
        let session = SessionId::new();
        let issued = auth.issue_for_person(person, session, None).unwrap();
        assert_eq!(
            auth.subject(&issued.token).await.unwrap(),
            Subject::Person { person, session }
        );
    }

    #[tokio::test]
    async fn a_tampered_token_is_refused() {
        let auth = auth().await;
        let issued = auth.issue_for_person(PersonId::new(), SessionId::new(), None).unwrap();
        let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = serde_json::json!(format!("person:{}", uuid::Uuid::now_v7()));
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert!(matches!(auth.subject(&parts.join(".")).await, Err(Refused::Invalid(_))));
    }

    #[test]
    fn key_ids_do_not_reveal_the_secret() {
        let kid = key_id(b"a-test-secret-that-is-long-enough-0123456789");
        assert!(kid.starts_with("scps-"));
        assert!(!kid.contains("secret"));
        assert_ne!(kid, key_id(b"another-secret-that-is-long-enough-012345678"));
    }
}
