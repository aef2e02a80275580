//! Authentication from outside: which bearer tokens are refused and which accepted (scps's own,
//! forged variants of them, and an external identity provider's), signing in and out, refresh
//! tokens, invitations, partner clients at `/oauth/token`, and the audit trail of sign-ins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use scps_tests::{Answer, PASSWORD, TEST_SECRET, Tenant, TestApp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A query any signed-in caller may run.
const VIEWER: &str = "{ viewer { services { name } } }";
const SIGN_IN: &str =
    "mutation($i: SignInInput!) { signIn(input: $i) { session { accessToken refreshToken person { email } } } }";
const REFRESH: &str =
    "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { session { accessToken refreshToken } } }";
const ACCEPT: &str = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { session { accessToken person { email } } userErrors { field code message } } }";

/// The external identity provider the OIDC tests configure.
const EXT_ISSUER: &str = "https://login.example.test/tenant-1/v2.0";
const EXT_AUDIENCE: &str = "api://scps-test";
const EXT_KID: &str = "ext-key-1";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The `kid` of the tokens test servers sign, as the server derives it from the secret.
fn own_kid() -> String {
    format!(
        "scps-{}",
        URL_SAFE_NO_PAD.encode(&Sha256::digest(TEST_SECRET.as_bytes())[..9])
    )
}

/// The claims of a token, read without checking anything.
fn claims_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("a JWT")
        .claims
}

/// Signs claims as the server would (HS256, our kid), with `secret`.
fn sign_with(secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(own_kid());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("signed")
}

/// Signs claims with the test servers' own secret.
fn sign(claims: &Value) -> String {
    sign_with(TEST_SECRET.as_bytes(), claims)
}

/// The claims of a fresh, real token of the tenant's administrator, with fresh times.
fn fresh_claims(t: &Tenant) -> Value {
    let mut claims = claims_of(&t.admin.token);
    assert!(claims["sub"].as_str().unwrap().starts_with("person:"), "{claims}");
    assert!(claims["sid"].is_string(), "{claims}");
    let n = now();
    claims["iat"] = json!(n);
    claims["nbf"] = json!(n);
    claims["exp"] = json!(n + 600);
    claims
}

async fn viewer(app: &TestApp, token: &str) -> Answer {
    app.post(Some(token), VIEWER, json!({})).await
}

/// The token is refused before the query runs: 401 and UNAUTHENTICATED.
async fn assert_refused(app: &TestApp, token: &str, why: &str) {
    let a = viewer(app, token).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{why}: {}", a.body);
    assert_eq!(a.code(), Some("UNAUTHENTICATED"), "{why}: {}", a.body);
    assert!(
        a.body["data"].is_null(),
        "{why}: no data for a refused token: {}",
        a.body
    );
}

/// The token is accepted and names the tenant's service.
async fn assert_accepted(app: &TestApp, t: &Tenant, token: &str, why: &str) {
    let a = viewer(app, token).await;
    assert_eq!(a.status, StatusCode::OK, "{why}: {}", a.body);
    assert!(a.body.get("errors").is_none(), "{why}: {}", a.body);
    assert_eq!(
        a.body["data"]["viewer"]["services"][0]["name"],
        format!("Test service {}", t.tag),
        "{why}"
    );
}

/// A request header that gives each test an address of its own, so that failed sign-ins of
/// one test do not count against the per-address limit of others (Redis is shared).
fn own_address() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("198.{}.{}.{}", 18 + (n % 2), (n >> 8) % 256, (n >> 16) % 254 + 1)
}

async fn sign_in_answer(app: &TestApp, email: &str, password: &str, address: &str) -> Answer {
    app.send(
        app.client
            .post(app.url("/graphql"))
            .header("x-forwarded-for", address)
            .json(&json!({ "query": SIGN_IN, "variables": { "i": { "email": email, "password": password } } })),
    )
    .await
}

async fn set_disabled(app: &TestApp, t: &Tenant, person_id: &str, disabled: bool) {
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: SetPersonDisabledInput!) { setPersonDisabled(input: $i) { person { status } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "personId": person_id, "disabled": disabled } }),
        )
        .await;
    let payload = &a.ok()["setPersonDisabled"];
    assert_eq!(payload["userErrors"], json!([]), "{}", a.body);
    assert_eq!(
        payload["person"]["status"],
        if disabled { "DISABLED" } else { "ACTIVE" },
        "{}",
        a.body
    );
}

/// Invites a new person and returns the invitation code (not yet accepted).
async fn invitation_code(app: &TestApp, t: &Tenant, email: &str) -> String {
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { code } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "email": email, "displayName": "Invited Person", "role": "PSYCHOLOGIST" } }),
        )
        .await;
    a.ok()["invitePerson"]["invitation"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a code: {}", a.body))
        .to_owned()
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POST /oauth/token with a form body (credentials in the body).
async fn token_by_form(app: &TestApp, pairs: &[(&str, &str)]) -> Answer {
    app.send(
        app.client
            .post(app.url("/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(pairs)),
    )
    .await
}

/// POST /oauth/token with HTTP Basic credentials.
async fn token_by_basic(app: &TestApp, client_id: &str, secret: &str, grant_type: &str) -> Answer {
    app.send(
        app.client
            .post(app.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(&[("grant_type", grant_type)])),
    )
    .await
}

async fn partner_viewer(app: &TestApp, token: &str) -> Answer {
    app.post(
        Some(token),
        "{ viewer { partnerClient { name scopes } person { id } } }",
        json!({}),
    )
    .await
}

/// A row count from raw SQL (`SELECT COUNT(*) AS n ...`).
#[allow(
    clippy::disallowed_methods,
    reason = "the test reads the database to prove what was written"
)]
async fn count_where(app: &TestApp, sql: &str) -> i64 {
    let db = &app.services.db;
    let row = sea_orm::ConnectionTrait::query_one_raw(
        db,
        sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(db), sql.to_owned()),
    )
    .await
    .expect("query")
    .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

// ---------------------------------------------------------------------------------------------
// The external identity provider: one RSA key per test binary (key generation is slow).

struct Provider {
    /// PKCS#1 DER of the private key, for signing.
    private_pkcs1_der: Vec<u8>,
    jwks: String,
    /// The public key in every encoding an attacker might use as an HMAC secret.
    public_forms: Vec<(&'static str, Vec<u8>)>,
}

fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        use rsa::traits::PublicKeyParts;
        let mut rng = rand08::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("an RSA key");
        let public = private.to_public_key();
        let jwks = json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": EXT_KID,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }] })
        .to_string();
        let public_forms = vec![
            ("PKCS#1 PEM", public.to_pkcs1_pem(LineEnding::LF).unwrap().into_bytes()),
            (
                "SPKI PEM",
                public.to_public_key_pem(LineEnding::LF).unwrap().into_bytes(),
            ),
            ("PKCS#1 DER", public.to_pkcs1_der().unwrap().as_bytes().to_vec()),
            ("SPKI DER", public.to_public_key_der().unwrap().as_bytes().to_vec()),
        ];
        Provider {
            private_pkcs1_der: private.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            jwks,
            public_forms,
        }
    })
}

/// A server that also accepts the external provider's tokens (JWKS from a file).
async fn spawn_with_provider() -> TestApp {
    let jwks = provider().jwks.clone();
    let path: PathBuf = std::env::temp_dir().join(format!("scps-auth-jwks-{}.json", unique()));
    std::fs::write(&path, jwks).unwrap();
    let file = path.clone();
    let app = TestApp::spawn_with(move |s| {
        s.oidc_issuer = Some(EXT_ISSUER.into());
        s.oidc_audience = Some(EXT_AUDIENCE.into());
        s.oidc_jwks_file = Some(file);
    })
    .await;
    // The keys are read at start.
    let _ = std::fs::remove_file(&path);
    app
}

fn external_claims(email: &str) -> Value {
    let n = now();
    json!({ "iss": EXT_ISSUER, "aud": EXT_AUDIENCE, "sub": format!("ext-{}", unique()), "email": email, "iat": n, "nbf": n, "exp": n + 600 })
}

/// An RS256 token from the external provider's key.
fn external_token(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_der(&provider().private_pkcs1_der),
    )
    .expect("signed")
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens that are refused, and the ones that are not.

#[tokio::test]
async fn a_token_re_signed_with_the_servers_key_is_accepted_so_forgeries_below_are_meaningful() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    assert_accepted(&app, &t, &t.admin.token, "the real token").await;
    let header = jsonwebtoken::decode_header(&t.admin.token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(
        header.kid.as_deref(),
        Some(own_kid().as_str()),
        "the kid is derived from the secret as documented"
    );
    let claims = claims_of(&t.admin.token);
    assert_eq!(claims["iss"], "scps");
    assert_eq!(claims["aud"], "scps");
    assert_accepted(&app, &t, &sign(&fresh_claims(&t)), "a re-signed copy").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims["iat"] = json!(now() - 3600);
    claims["nbf"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 120);
    assert_refused(&app, &sign(&claims), "exp two minutes ago, beyond the 30 s leeway").await;
}

#[tokio::test]
async fn a_token_that_is_not_yet_valid_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims["nbf"] = json!(now() + 300);
    claims["exp"] = json!(now() + 900);
    assert_refused(&app, &sign(&claims), "nbf five minutes ahead").await;
}

#[tokio::test]
async fn a_token_with_small_clock_skew_is_accepted() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut ahead = fresh_claims(&t);
    ahead["iat"] = json!(now() + 20);
    ahead["nbf"] = json!(now() + 20);
    assert_accepted(&app, &t, &sign(&ahead), "nbf 20 s ahead, within the leeway").await;
    let mut just_expired = fresh_claims(&t);
    just_expired["exp"] = json!(now() - 10);
    assert_accepted(&app, &t, &sign(&just_expired), "exp 10 s ago, within the leeway").await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let claims = fresh_claims(&t);
    let forged = sign_with(b"another-secret-that-is-also-long-enough-0123456789", &claims);
    assert_eq!(jsonwebtoken::decode_header(&forged).unwrap().kid, Some(own_kid()));
    assert_refused(&app, &forged, "same kid, other secret").await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let claims = fresh_claims(&t);
    let header = json!({ "alg": "none", "typ": "JWT", "kid": own_kid() });
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, &format!("{head}.{body}."), "alg none, empty signature").await;
    assert_refused(&app, &format!("{head}.{body}"), "alg none, no signature part").await;
    let upper = URL_SAFE_NO_PAD.encode(json!({ "alg": "NONE", "typ": "JWT", "kid": own_kid() }).to_string());
    assert_refused(&app, &format!("{upper}.{body}."), "alg NONE").await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_providers_public_key_is_refused() {
    let p = provider();
    let app = spawn_with_provider().await;
    let t = app.tenant().await;
    let claims = external_claims(&t.ep.email);
    // The control: the provider's own RS256 token with these claims is accepted.
    let genuine = viewer(&app, &external_token(EXT_KID, &claims)).await;
    assert_eq!(genuine.status, StatusCode::OK, "{}", genuine.body);
    assert!(genuine.body.get("errors").is_none(), "{}", genuine.body);
    for (form, key) in &p.public_forms {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(EXT_KID.into());
        let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key)).unwrap();
        assert_refused(&app, &forged, &format!("HS256 keyed with the public key as {form}")).await;
    }
}

#[tokio::test]
async fn a_token_with_the_wrong_issuer_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims["iss"] = json!("someone-else");
    assert_refused(&app, &sign(&claims), "iss someone-else").await;
}

#[tokio::test]
async fn a_token_with_the_wrong_audience_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims["aud"] = json!("another-api");
    assert_refused(&app, &sign(&claims), "aud another-api").await;
    claims["aud"] = json!(["another-api"]);
    assert_refused(&app, &sign(&claims), "aud [another-api]").await;
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims.as_object_mut().unwrap().remove("exp");
    assert_refused(&app, &sign(&claims), "no exp").await;
}

#[tokio::test]
async fn a_token_whose_payload_was_changed_after_signing_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    // Make the EP's token speak for the administrator: same session shape, another subject.
    let admin_sub = claims_of(&t.admin.token)["sub"].clone();
    let parts: Vec<&str> = t.ep.token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let mut claims = claims_of(&t.ep.token);
    assert_ne!(claims["sub"], admin_sub);
    claims["sub"] = admin_sub;
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_refused(&app, &tampered, "sub changed after signing").await;
    // The untouched token still works.
    let a = viewer(&app, &t.ep.token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn a_disabled_persons_token_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    assert_accepted(&app, &t, &t.ep.token, "before").await;
    set_disabled(&app, &t, &t.ep.person_id, true).await;
    assert_refused(&app, &t.ep.token, "the person was disabled").await;
    // Others are untouched.
    assert_accepted(&app, &t, &t.other_ep.token, "another EP").await;
}

#[tokio::test]
async fn a_token_is_refused_after_sign_out() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let second = app.sign_in(&t.ep.email, PASSWORD).await;
    let out = app
        .gql(&t.ep.token, "mutation { signOut { signedOut } }", json!({}))
        .await;
    assert_eq!(out.ok()["signOut"]["signedOut"], true);
    assert_refused(&app, &t.ep.token, "after signOut").await;
    // Only that session ended: another sign-in of the same person still works.
    assert_accepted(&app, &t, &second, "another session").await;
}

#[tokio::test]
async fn a_malformed_authorization_header_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for value in [
        "Basic xyz".to_owned(),
        format!("Basic {}", t.admin.token),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Token {}", t.admin.token),
        t.admin.token.clone(),
        "Bearer not-a-jwt".to_owned(),
        "Bearer a.b.c".to_owned(),
    ] {
        let a = app
            .send(
                app.client
                    .post(app.url("/graphql"))
                    .header("authorization", &value)
                    .json(&json!({ "query": VIEWER })),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{value}: {}", a.body);
        assert_eq!(a.code(), Some("UNAUTHENTICATED"), "{value}: {}", a.body);
        assert_eq!(
            a.headers.get("www-authenticate").map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{value}"
        );
    }
    // The scheme is case-insensitive.
    let lower = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("authorization", format!("bearer {}", t.admin.token))
                .json(&json!({ "query": VIEWER })),
        )
        .await;
    assert_eq!(lower.status, StatusCode::OK, "{}", lower.body);
}

#[tokio::test]
async fn a_token_for_a_person_that_does_not_exist_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mut claims = fresh_claims(&t);
    claims["sub"] = json!(format!("person:{}", uuid::Uuid::now_v7()));
    assert_refused(&app, &sign(&claims), "unknown person, real session id").await;
    let mut no_session = fresh_claims(&t);
    no_session["sid"] = json!(uuid::Uuid::now_v7().to_string());
    assert_refused(&app, &sign(&no_session), "real person, unknown session").await;
    let mut unknown_client = fresh_claims(&t);
    unknown_client["sub"] = json!(format!("client:{}", uuid::Uuid::now_v7()));
    unknown_client["ver"] = json!(1);
    assert_refused(&app, &sign(&unknown_client), "unknown partner client").await;
}

// ---------------------------------------------------------------------------------------------
// An external identity provider.

#[tokio::test]
async fn an_external_providers_token_speaks_for_the_person_with_its_email() {
    provider();
    let app = spawn_with_provider().await;
    let t = app.tenant().await;
    let token = external_token(EXT_KID, &external_claims(&t.senco_a.email));
    let a = app
        .post(
            Some(&token),
            "{ viewer { person { email } services { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.ok()["viewer"]["person"]["email"], t.senco_a.email);
    assert_eq!(
        a.ok()["viewer"]["services"][0]["name"],
        format!("Test service {}", t.tag)
    );
    // Own tokens keep working beside the provider's.
    assert_accepted(&app, &t, &t.admin.token, "own token").await;
    // The provider's token must be for us, from it, and in date.
    let mut wrong_aud = external_claims(&t.senco_a.email);
    wrong_aud["aud"] = json!("api://someone-else");
    assert_refused(&app, &external_token(EXT_KID, &wrong_aud), "external, wrong aud").await;
    let mut wrong_iss = external_claims(&t.senco_a.email);
    wrong_iss["iss"] = json!("https://evil.example.test/");
    assert_refused(&app, &external_token(EXT_KID, &wrong_iss), "external, wrong iss").await;
    let mut expired = external_claims(&t.senco_a.email);
    expired["exp"] = json!(now() - 300);
    assert_refused(&app, &external_token(EXT_KID, &expired), "external, expired").await;
}

#[tokio::test]
async fn an_external_token_with_an_unknown_email_is_refused() {
    provider();
    let app = spawn_with_provider().await;
    let t = app.tenant().await;
    let known = external_token(EXT_KID, &external_claims(&t.ep.email));
    assert_eq!(viewer(&app, &known).await.status, StatusCode::OK);
    let unknown = external_token(EXT_KID, &external_claims(&format!("nobody-{}@test.invalid", t.tag)));
    assert_refused(&app, &unknown, "no such person").await;
    let mut no_email = external_claims(&t.ep.email);
    no_email.as_object_mut().unwrap().remove("email");
    assert_refused(&app, &external_token(EXT_KID, &no_email), "no email claim").await;
}

#[tokio::test]
async fn an_external_token_with_a_kid_not_in_the_jwks_is_refused() {
    provider();
    let app = spawn_with_provider().await;
    let t = app.tenant().await;
    let claims = external_claims(&t.ep.email);
    assert_eq!(
        viewer(&app, &external_token(EXT_KID, &claims)).await.status,
        StatusCode::OK
    );
    assert_refused(&app, &external_token("ext-key-unknown", &claims), "kid not in the JWKS").await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let no_kid = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_der(&provider().private_pkcs1_der),
    )
    .unwrap();
    assert_refused(&app, &no_kid, "no kid").await;
}

// ---------------------------------------------------------------------------------------------
// Signing in.

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let address = own_address();
    let wrong = sign_in_answer(&app, &t.ep.email, "not the password at all", &address).await;
    let unknown = sign_in_answer(&app, &format!("nobody-{}@test.invalid", t.tag), PASSWORD, &address).await;
    for a in [&wrong, &unknown] {
        assert_eq!(a.code(), Some("UNAUTHENTICATED"), "{}", a.body);
        assert!(
            a.body["data"].is_null() || a.body["data"]["signIn"].is_null(),
            "{}",
            a.body
        );
    }
    assert_eq!(wrong.body["errors"][0]["message"], unknown.body["errors"][0]["message"]);
    assert!(wrong.body["errors"][0]["message"].is_string());
    assert_eq!(
        wrong.body["errors"][0]["extensions"],
        unknown.body["errors"][0]["extensions"]
    );
    // The right password works.
    let right = sign_in_answer(&app, &t.ep.email, PASSWORD, &address).await;
    assert_eq!(right.ok()["signIn"]["session"]["person"]["email"], t.ep.email);
}

#[tokio::test]
async fn after_ten_failures_the_eleventh_attempt_is_rate_limited_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let address = own_address();
    for i in 1..=10 {
        let a = sign_in_answer(&app, &t.staff_a.email, &format!("wrong password number {i}"), &address).await;
        assert_eq!(a.code(), Some("UNAUTHENTICATED"), "attempt {i}: {}", a.body);
    }
    let limited = sign_in_answer(&app, &t.staff_a.email, PASSWORD, &address).await;
    assert_eq!(limited.code(), Some("RATE_LIMITED"), "{}", limited.body);
    let retry = limited.body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64();
    assert!(retry.is_some_and(|s| (1..=15 * 60).contains(&s)), "{}", limited.body);
    // The limit is per account: another person signs in from the same address.
    let other = sign_in_answer(&app, &t.leader_a.email, PASSWORD, &address).await;
    assert!(other.ok()["signIn"]["session"]["accessToken"].is_string());
    // Tokens issued before keep working.
    assert_accepted(&app, &t, &t.staff_a.token, "earlier token").await;
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens and signing out.

async fn session_of(app: &TestApp, email: &str) -> (String, String) {
    let a = app
        .post(None, SIGN_IN, json!({ "i": { "email": email, "password": PASSWORD } }))
        .await;
    let s = &a.ok()["signIn"]["session"];
    (
        s["accessToken"].as_str().unwrap().to_owned(),
        s["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Answer {
    app.post(None, REFRESH, json!({ "i": { "refreshToken": refresh_token } }))
        .await
}

#[tokio::test]
async fn a_refresh_token_gives_new_tokens_that_work() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (access, refresh_token) = session_of(&app, &t.ep.email).await;
    let a = refresh(&app, &refresh_token).await;
    let s = &a.ok()["refreshToken"]["session"];
    let (access2, refresh2) = (
        s["accessToken"].as_str().unwrap().to_owned(),
        s["refreshToken"].as_str().unwrap().to_owned(),
    );
    assert_ne!(refresh2, refresh_token);
    assert_eq!(
        claims_of(&access2)["sid"],
        claims_of(&access)["sid"],
        "the same session goes on"
    );
    assert_accepted(&app, &t, &access2, "the new access token").await;
    let b = refresh(&app, &refresh2).await;
    let s3 = &b.ok()["refreshToken"]["session"];
    assert_accepted(
        &app,
        &t,
        s3["accessToken"].as_str().unwrap(),
        "the access token of the second refresh",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_used_twice_fails_and_ends_the_session() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, refresh_token) = session_of(&app, &t.ep.email).await;
    let first = refresh(&app, &refresh_token).await;
    let s = &first.ok()["refreshToken"]["session"];
    let (newest_access, newest_refresh) = (
        s["accessToken"].as_str().unwrap().to_owned(),
        s["refreshToken"].as_str().unwrap().to_owned(),
    );
    assert_accepted(&app, &t, &newest_access, "before the reuse").await;
    let again = refresh(&app, &refresh_token).await;
    assert_eq!(again.code(), Some("UNAUTHENTICATED"), "{}", again.body);
    assert_refused(&app, &newest_access, "the session ended on reuse").await;
    let later = refresh(&app, &newest_refresh).await;
    assert_eq!(
        later.code(),
        Some("UNAUTHENTICATED"),
        "the newest refresh token died with the session: {}",
        later.body
    );
    // Other sessions of the person are untouched.
    assert_accepted(&app, &t, &t.ep.token, "another session").await;
}

#[tokio::test]
async fn sign_out_stops_the_access_and_refresh_tokens_at_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (access, refresh_token) = session_of(&app, &t.senco_a.email).await;
    let out = app.gql(&access, "mutation { signOut { signedOut } }", json!({})).await;
    assert_eq!(out.ok()["signOut"]["signedOut"], true);
    assert_refused(&app, &access, "access token after signOut").await;
    let r = refresh(&app, &refresh_token).await;
    assert_eq!(
        r.code(),
        Some("UNAUTHENTICATED"),
        "refresh token after signOut: {}",
        r.body
    );
    assert!(
        r.body["data"].is_null() || r.body["data"]["refreshToken"].is_null(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_disabled_person_cannot_sign_in_until_enabled_again() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let address = own_address();
    let (_, refresh_token) = session_of(&app, &t.leader_a.email).await;
    set_disabled(&app, &t, &t.leader_a.person_id, true).await;
    let refused = sign_in_answer(&app, &t.leader_a.email, PASSWORD, &address).await;
    assert_eq!(refused.code(), Some("UNAUTHENTICATED"), "{}", refused.body);
    let r = refresh(&app, &refresh_token).await;
    assert_eq!(
        r.code(),
        Some("UNAUTHENTICATED"),
        "a disabled person's refresh token: {}",
        r.body
    );
    set_disabled(&app, &t, &t.leader_a.person_id, false).await;
    let back = sign_in_answer(&app, &t.leader_a.email, PASSWORD, &address).await;
    let token = back.ok()["signIn"]["session"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_accepted(&app, &t, &token, "enabled again").await;
    assert_refused(&app, &t.leader_a.token, "tokens from before the disabling stay dead").await;
}

// ---------------------------------------------------------------------------------------------
// Invitations.

#[tokio::test]
async fn an_invitation_code_works_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = format!("newcomer-{}@test.invalid", t.tag);
    let code = invitation_code(&app, &t, &email).await;
    let first = app
        .post(None, ACCEPT, json!({ "i": { "code": code, "password": PASSWORD } }))
        .await;
    let payload = &first.ok()["acceptInvitation"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["session"]["person"]["email"], email);
    assert_accepted(
        &app,
        &t,
        payload["session"]["accessToken"].as_str().unwrap(),
        "the new person's token",
    )
    .await;
    let second = app
        .post(
            None,
            ACCEPT,
            json!({ "i": { "code": code, "password": "another long password" } }),
        )
        .await;
    let payload2 = &second.ok()["acceptInvitation"];
    assert!(payload2["session"].is_null(), "{}", second.body);
    assert_eq!(
        payload2["userErrors"][0]["field"],
        json!(["input", "code"]),
        "{}",
        second.body
    );
    // The second attempt did not change the password.
    app.sign_in(&email, PASSWORD).await;
}

#[tokio::test]
async fn a_bad_invitation_code_is_a_user_error_on_the_code() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = app
        .post(
            None,
            ACCEPT,
            json!({ "i": { "code": format!("not-a-code-{}", t.tag), "password": PASSWORD } }),
        )
        .await;
    let payload = &a.ok()["acceptInvitation"];
    assert!(payload["session"].is_null(), "{}", a.body);
    let errors = payload["userErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", a.body);
    assert_eq!(errors[0]["field"], json!(["input", "code"]));
    assert!(!errors[0]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_short_password_is_a_user_error_and_the_code_still_works() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = format!("shorty-{}@test.invalid", t.tag);
    let code = invitation_code(&app, &t, &email).await;
    let short = app
        .post(None, ACCEPT, json!({ "i": { "code": code, "password": "short" } }))
        .await;
    let payload = &short.ok()["acceptInvitation"];
    assert!(payload["session"].is_null(), "{}", short.body);
    assert_eq!(payload["userErrors"][0]["code"], "TOO_SHORT", "{}", short.body);
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["input", "password"]),
        "{}",
        short.body
    );
    let ok = app
        .post(None, ACCEPT, json!({ "i": { "code": code, "password": PASSWORD } }))
        .await;
    let payload = &ok.ok()["acceptInvitation"];
    assert_eq!(payload["userErrors"], json!([]), "{}", ok.body);
    assert_eq!(payload["session"]["person"]["email"], email);
}

// ---------------------------------------------------------------------------------------------
// Partner clients at /oauth/token.

#[tokio::test]
async fn partner_credentials_give_a_token_by_form_by_basic_and_by_json() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (account, client_id, secret) = app.partner(&t, &["BOOKINGS_READ", "AVAILABILITY_READ"], None).await;
    let by_form = token_by_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(by_form.status, StatusCode::OK, "{}", by_form.body);
    assert_eq!(by_form.body["token_type"], "Bearer");
    assert!(by_form.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    let by_basic = token_by_basic(&app, &client_id, &secret, "client_credentials").await;
    assert_eq!(by_basic.status, StatusCode::OK, "{}", by_basic.body);
    let by_json = app
        .send(
            app.client
                .post(app.url("/oauth/token"))
                .json(&json!({ "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret })),
        )
        .await;
    assert_eq!(by_json.status, StatusCode::OK, "{}", by_json.body);
    for token in [
        account.token.as_str(),
        by_form.body["access_token"].as_str().unwrap(),
        by_basic.body["access_token"].as_str().unwrap(),
        by_json.body["access_token"].as_str().unwrap(),
    ] {
        let a = partner_viewer(&app, token).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let client = &a.ok()["viewer"]["partnerClient"];
        assert!(client["name"].as_str().unwrap().starts_with("Partner "), "{}", a.body);
        let mut scopes: Vec<&str> = client["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        scopes.sort_unstable();
        assert_eq!(scopes, ["AVAILABILITY_READ", "BOOKINGS_READ"]);
        assert!(a.ok()["viewer"]["person"].is_null());
    }
}

#[tokio::test]
async fn a_wrong_partner_secret_is_an_invalid_client() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, client_id, secret) = app.partner(&t, &["BOOKINGS_READ"], None).await;
    let basic = token_by_basic(&app, &client_id, &format!("{secret}x"), "client_credentials").await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED, "{}", basic.body);
    assert_eq!(basic.body["error"], "invalid_client");
    assert!(basic.body.get("access_token").is_none());
    let form = token_by_form(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", "pcs_wrong"),
        ],
    )
    .await;
    assert_eq!(form.status, StatusCode::UNAUTHORIZED, "{}", form.body);
    assert_eq!(form.body["error"], "invalid_client");
    let unknown = token_by_basic(&app, "pc_no_such_client", &secret, "client_credentials").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body["error"], "invalid_client");
    assert_eq!(
        unknown.body["error_description"], basic.body["error_description"],
        "an unknown id and a wrong secret look alike"
    );
}

#[tokio::test]
async fn an_unsupported_grant_type_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, client_id, secret) = app.partner(&t, &["BOOKINGS_READ"], None).await;
    for grant in ["password", "authorization_code", "refresh_token", ""] {
        let a = token_by_basic(&app, &client_id, &secret, grant).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{grant}: {}", a.body);
        assert_eq!(a.body["error"], "unsupported_grant_type", "{grant}");
        assert!(a.body.get("access_token").is_none());
    }
    let missing = token_by_form(&app, &[("client_id", &client_id), ("client_secret", &secret)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
}

#[tokio::test]
async fn rotating_a_partner_secret_refuses_the_old_secret_and_its_tokens() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (account, client_id, old_secret) = app.partner(&t, &["BOOKINGS_READ"], None).await;
    assert_eq!(partner_viewer(&app, &account.token).await.status, StatusCode::OK);
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: RotatePartnerClientSecretInput!) { rotatePartnerClientSecret(input: $i) { credentials { clientId clientSecret } userErrors { message } } }",
            json!({ "i": { "id": account.person_id } }),
        )
        .await;
    let creds = &a.ok()["rotatePartnerClientSecret"]["credentials"];
    assert_eq!(creds["clientId"], client_id.as_str(), "{}", a.body);
    let new_secret = creds["clientSecret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    let old = token_by_basic(&app, &client_id, &old_secret, "client_credentials").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{}", old.body);
    assert_eq!(old.body["error"], "invalid_client");
    assert_refused(&app, &account.token, "a token issued before the rotation").await;
    let new_token = app
        .client_token(&client_id, &new_secret)
        .await
        .expect("the new secret works");
    let v = partner_viewer(&app, &new_token).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert!(v.ok()["viewer"]["partnerClient"]["name"].is_string());
}

#[tokio::test]
async fn a_disabled_partner_client_gets_no_token_and_loses_its_tokens() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (account, client_id, secret) = app.partner(&t, &["BOOKINGS_READ"], None).await;
    let update = "mutation($i: UpdatePartnerClientInput!) { updatePartnerClient(input: $i) { partnerClient { status } userErrors { message } } }";
    let a = app
        .gql(
            &t.admin.token,
            update,
            json!({ "i": { "id": account.person_id, "status": "DISABLED" } }),
        )
        .await;
    assert_eq!(
        a.ok()["updatePartnerClient"]["partnerClient"]["status"],
        "DISABLED",
        "{}",
        a.body
    );
    assert_refused(&app, &account.token, "a disabled client's earlier token").await;
    let refused = token_by_basic(&app, &client_id, &secret, "client_credentials").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(refused.body["error"], "invalid_client");
    // Enabling it again brings the same secret back to life.
    let b = app
        .gql(
            &t.admin.token,
            update,
            json!({ "i": { "id": account.person_id, "status": "ACTIVE" } }),
        )
        .await;
    assert_eq!(
        b.ok()["updatePartnerClient"]["partnerClient"]["status"],
        "ACTIVE",
        "{}",
        b.body
    );
    assert!(app.client_token(&client_id, &secret).await.is_some());
}

// ---------------------------------------------------------------------------------------------
// The audit trail.

#[tokio::test]
async fn a_sign_in_is_audited_with_the_request_id() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let request_id = format!("test-req-{}", uuid::Uuid::now_v7());
    let a = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("x-request-id", &request_id)
                .json(
                    &json!({ "query": SIGN_IN, "variables": { "i": { "email": t.ep.email, "password": PASSWORD } } }),
                ),
        )
        .await;
    assert!(a.ok()["signIn"]["session"]["accessToken"].is_string());
    assert_eq!(a.headers.get("x-request-id").unwrap().to_str().unwrap(), request_id);
    let n = count_where(
        &app,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE request_id = '{request_id}' AND action = 'person.sign_in'"
        ),
    )
    .await;
    assert_eq!(n, 1, "one person.sign_in event with request id {request_id}");
    let failed_id = format!("test-req-{}", uuid::Uuid::now_v7());
    let failed = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("x-request-id", &failed_id)
                .header("x-forwarded-for", own_address())
                .json(&json!({ "query": SIGN_IN, "variables": { "i": { "email": t.ep.email, "password": "not the password at all" } } })),
        )
        .await;
    assert_eq!(failed.code(), Some("UNAUTHENTICATED"));
    let n = count_where(
        &app,
        &format!("SELECT COUNT(*) AS n FROM audit_events WHERE request_id = '{failed_id}' AND action = 'person.sign_in_failed'"),
    )
    .await;
    assert_eq!(n, 1, "the failed attempt is recorded too");
}

#[tokio::test]
async fn a_mutation_is_audited_with_its_service_and_request_id() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let request_id = format!("test-req-{}", uuid::Uuid::now_v7());
    let name = format!("Rowan School {}", t.tag);
    let created = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .bearer_auth(&t.admin.token)
                .header("x-request-id", &request_id)
                .json(&json!({
                    "query": "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id } userErrors { message } } }",
                    "variables": { "i": { "serviceId": t.service_id, "name": name, "urn": "100003", "phase": "PRIMARY" } },
                })),
        )
        .await;
    let school_id = created.ok()["createSchool"]["school"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = app
        .gql(
            &t.admin.token,
            "query($s: ID!) { auditEvents(serviceId: $s, filter: { action: \"school.create\" }) { edges { node { action actorKind objectId requestId } } } }",
            json!({ "s": t.service_id }),
        )
        .await;
    let events = a.ok()["auditEvents"]["edges"].as_array().unwrap().clone();
    // The fixture made two schools before; this one is the third.
    assert_eq!(events.len(), 3, "{}", a.body);
    assert!(events.iter().all(|e| e["node"]["action"] == "school.create"));
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["node"]["requestId"] == request_id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{}", a.body);
    assert_eq!(mine[0]["node"]["objectId"], school_id.as_str());
    assert_eq!(mine[0]["node"]["actorKind"], "PERSON");
    // Another service sees none of it.
    let other = app.tenant().await;
    let b = app
        .gql(
            &other.admin.token,
            "query($s: ID!) { auditEvents(serviceId: $s, filter: { action: \"school.create\" }) { edges { node { requestId } } } }",
            json!({ "s": other.service_id }),
        )
        .await;
    assert!(
        b.ok()["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["requestId"] != request_id.as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// Races: "once" and "at most ten" must hold when requests arrive together.

#[tokio::test]
async fn a_refresh_token_presented_many_times_at_once_works_at_most_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, refresh_token) = session_of(&app, &t.ep.email).await;
    let answers = futures_util::future::join_all((0..12).map(|_| refresh(&app, &refresh_token))).await;
    let fresh: Vec<String> = answers
        .iter()
        .filter_map(|a| {
            a.body["data"]["refreshToken"]["session"]["refreshToken"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let refused = answers.iter().filter(|a| a.code() == Some("UNAUTHENTICATED")).count();
    assert_eq!(
        fresh.len(),
        1,
        "a refresh token works once, even when sent twelve times at once: {answers:#?}"
    );
    assert_eq!(refused, 11, "{answers:#?}");
}

#[tokio::test]
async fn an_invitation_code_presented_many_times_at_once_works_at_most_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = format!("racer-{}@test.invalid", t.tag);
    let code = invitation_code(&app, &t, &email).await;
    let answers = futures_util::future::join_all((0..6).map(|i| {
        app.post(
            None,
            ACCEPT,
            json!({ "i": { "code": code, "password": format!("{PASSWORD} {i}") } }),
        )
    }))
    .await;
    let sessions = answers
        .iter()
        .filter(|a| a.body["data"]["acceptInvitation"]["session"]["accessToken"].is_string())
        .count();
    let on_code = answers
        .iter()
        .filter(|a| a.body["data"]["acceptInvitation"]["userErrors"][0]["field"] == json!(["input", "code"]))
        .count();
    assert_eq!(
        sessions, 1,
        "an invitation code works once, even when sent six times at once: {answers:#?}"
    );
    assert_eq!(on_code, 5, "{answers:#?}");
}

#[tokio::test]
async fn failed_sign_ins_sent_together_are_still_limited_to_ten() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let address = own_address();
    let (app, t, address) = (&app, &t, &address);
    let answers = futures_util::future::join_all((0..30).map(|i| async move {
        let password = format!("parallel wrong password {i}");
        sign_in_answer(app, &t.staff_a.email, &password, address).await
    }))
    .await;
    let checked = answers.iter().filter(|a| a.code() == Some("UNAUTHENTICATED")).count();
    let limited = answers.iter().filter(|a| a.code() == Some("RATE_LIMITED")).count();
    assert_eq!(checked + limited, 30, "{answers:#?}");
    assert!(
        checked <= 10,
        "at most ten passwords may be tried per account in the window; {checked} were"
    );
}

#[tokio::test]
async fn a_client_refused_after_basic_authentication_is_told_the_scheme() {
    // RFC 6749 section 5.2: a 401 to a client that used the Authorization header MUST carry
    // WWW-Authenticate for the scheme it used.
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, client_id, secret) = app.partner(&t, &["BOOKINGS_READ"], None).await;
    let a = token_by_basic(&app, &client_id, &format!("{secret}x"), "client_credentials").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let scheme = a
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        scheme.as_deref().is_some_and(|s| s.starts_with("Basic")),
        "WWW-Authenticate: {scheme:?}"
    );
}

#[tokio::test]
async fn an_external_token_whose_email_is_not_verified_is_refused() {
    let app = spawn_with_provider().await;
    let t = app.tenant().await;
    let mut claims = external_claims(&t.senco_a.email);
    claims["email_verified"] = json!(false);
    assert_refused(&app, &external_token(EXT_KID, &claims), "email_verified is false").await;
    claims["email_verified"] = json!(true);
    assert_accepted(&app, &t, &external_token(EXT_KID, &claims), "email_verified is true").await;
}

#[tokio::test]
async fn a_provider_bound_to_one_service_speaks_only_for_roles_in_it() {
    let app = TestApp::spawn().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    // Someone who is a SENCO in both services.
    let email = format!("both-{}@test.invalid", unique());
    app.invite(&a.admin.token, &a.service_id, &email, "SENCO", Some(&a.school_a.id))
        .await;
    app.invite(&b.admin.token, &b.service_id, &email, "SENCO", Some(&b.school_a.id))
        .await;

    // A second server on the same database, whose provider speaks for service A only.
    let path: PathBuf = std::env::temp_dir().join(format!("scps-auth-jwks-{}.json", unique()));
    std::fs::write(&path, &provider().jwks).unwrap();
    let mut settings = scps_tests::base_settings(&app.database.url);
    settings.oidc_issuer = Some(EXT_ISSUER.into());
    settings.oidc_audience = Some(EXT_AUDIENCE.into());
    settings.oidc_jwks_file = Some(path.clone());
    settings.oidc_service_id = Some(a.service_id.clone());
    settings.migrate_on_start = Some(false);
    let bound = scps::Application::build(settings.validate().unwrap()).await.unwrap();
    let url = format!("http://127.0.0.1:{}/graphql", bound.port());
    tokio::spawn(bound.into_server());
    let _ = std::fs::remove_file(&path);

    let token = external_token(EXT_KID, &external_claims(&email));
    let body: Value = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ viewer { services { id } memberships { school { id } } } schools { edges { node { id } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let services: Vec<&str> = body["data"]["viewer"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(services, vec![a.service_id.as_str()], "only the bound service");
    let schools: Vec<&str> = body["data"]["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(schools, vec![a.school_a.id.as_str()]);
    // The same person signing in with a password still holds both roles.
    let own = app.sign_in(&email, scps_tests::PASSWORD).await;
    let mine = app.gql(&own, "{ viewer { services { id } } }", json!({})).await;
    assert_eq!(mine.ok()["viewer"]["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let second = app.sign_in(&t.ep.email, scps_tests::PASSWORD).await;
    let out = app
        .gql(
            &t.ep.token,
            "mutation { signOut(input: { everywhere: true }) { signedOut userErrors { message } } }",
            json!({}),
        )
        .await;
    assert_eq!(out.ok()["signOut"]["signedOut"], true);
    for token in [&t.ep.token, &second] {
        assert_eq!(viewer(&app, token).await.code(), Some("UNAUTHENTICATED"));
    }
    assert!(
        viewer(&app, &t.admin.token).await.body.get("errors").is_none(),
        "others are untouched"
    );
}
