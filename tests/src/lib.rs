//! The test harness: the real scps server on port 0 with a database of its own (an SQLite file,
//! or a fresh PostgreSQL database when `SCPS_TEST_DATABASE_URL` is set, dropped afterwards; and
//! Redis when `SCPS_TEST_REDIS_URL` is set), and fixtures that build a tenant through the API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::disallowed_methods,
    reason = "the harness makes databases and reads them directly, to prove what was written"
)]

pub mod browser;
pub mod clock;
pub mod fixtures;
pub mod matrix;
pub mod oracle;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use scps::config::Settings;
use scps::{Application, Services};

/// The signing secret the test servers use, so that tests can forge tokens signed with it.
pub const TEST_SECRET: &str = "test-signing-secret-0123456789-abcdefghijklmnop";
/// The password every fixture person has.
pub const PASSWORD: &str = "a test password that is long";

/// Whether the suite runs against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("SCPS_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A database of one test, removed when the test ends.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn create() -> Self {
        match std::env::var("SCPS_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("scps_test_{}", uuid::Uuid::now_v7().simple());
                let admin = domain::db::connect(&admin_url, 1, None)
                    .await
                    .expect("connect to SCPS_TEST_DATABASE_URL");
                sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (base, _) = admin_url.rsplit_once('/').expect("a database URL ends with /name");
                Self {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("scps-test-{}", uuid::Uuid::now_v7().simple()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                Self {
                    url: format!("sqlite://{}/scps.sqlite", dir.display()),
                    cleanup: Cleanup::SqliteDir(dir),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await: drop the database from a thread with its own runtime.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(admin) = domain::db::connect(&admin_url, 1, None).await {
                            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                                &admin,
                                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                            )
                            .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Settings every test server starts from.
pub fn base_settings(database_url: &str) -> Settings {
    Settings {
        bind: Some("127.0.0.1:0".into()),
        database_url: Some(database_url.to_owned()),
        redis_url: std::env::var("SCPS_TEST_REDIS_URL").ok().filter(|u| !u.is_empty()),
        jwt_secret: Some(TEST_SECRET.into()),
        log: Some(std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into())),
        database_max_connections: Some(8),
        // Tests that fail sign-ins name their own address, so that they count apart.
        trust_forwarded_for: Some(true),
        ..Settings::default()
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub services: Services,
    pub client: reqwest::Client,
    pub database: TestDatabase,
}

/// An HTTP answer: status, headers and the JSON body (or `null`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `extensions.code` of the first error, if any.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
    /// The codes of every error.
    pub fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// Panics with the body unless the request had no errors.
    pub fn ok(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {}", self.body);
        &self.body["data"]
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server with settings changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        scps::install_crypto();
        let database = TestDatabase::create().await;
        let mut settings = base_settings(&database.url);
        configure(&mut settings);
        let config = settings.validate().expect("valid test settings");
        if std::env::var("TEST_LOG").is_ok() {
            scps::telemetry::init(&config);
        }
        let app = Application::build(config).await.expect("the server starts");
        let port = app.port();
        let services = app.services().clone();
        tokio::spawn(app.into_server());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            services,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// POSTs a GraphQL request.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.expect("request sent")).await
    }

    /// A raw request to the server, for the HTTP rules.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Self::answer(request.send().await.expect("request sent")).await
    }

    /// Runs a query or mutation as `token` and returns the whole answer.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Answer {
        self.post(Some(token), query, variables).await
    }

    /// Signs in and returns the access token.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let a = self
            .post(
                None,
                "mutation($i: SignInInput!) { signIn(input: $i) { session { accessToken } } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        a.ok()["signIn"]["session"]["accessToken"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// Rows in a table, read straight from the database (to prove nothing was written).
    pub async fn count(&self, table: &str) -> i64 {
        let db = &self.services.db;
        let row = sea_orm::ConnectionTrait::query_one_raw(
            db,
            sea_orm::Statement::from_string(
                sea_orm::ConnectionTrait::get_database_backend(db),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ),
        )
        .await
        .expect("count")
        .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Every text column of every row a query returns, read straight from the database (to
    /// prove what a row does, or does not, hold).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let db = &self.services.db;
        let rows = sea_orm::ConnectionTrait::query_all_raw(
            db,
            sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(db), sql.to_owned()),
        )
        .await
        .expect("query");
        rows.iter()
            .flat_map(|r| {
                r.column_names()
                    .into_iter()
                    .filter_map(|c| r.try_get::<Option<String>>("", &c).ok().flatten())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// A signed-in person of a fixture.
#[derive(Clone, Debug)]
pub struct Account {
    pub email: String,
    pub person_id: String,
    pub token: String,
}

/// A school of a fixture: its global id and row id.
#[derive(Clone, Debug)]
pub struct SchoolFx {
    pub id: String,
    pub uuid: domain::ids::SchoolId,
    pub name: String,
}

/// A service with an administrator, two EPs, two schools, a SENCO of each, a school leader and
/// a member of staff of the first. Everything is made through the API but the first
/// administrator (made as `scps bootstrap` would).
pub struct Tenant {
    pub service_id: String,
    pub service: domain::ids::ServiceId,
    pub tag: String,
    pub admin: Account,
    pub ep: Account,
    pub other_ep: Account,
    pub school_a: SchoolFx,
    pub school_b: SchoolFx,
    pub senco_a: Account,
    pub senco_b: Account,
    pub leader_a: Account,
    pub staff_a: Account,
}

fn short_tag() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
}

impl TestApp {
    /// A new tenant (service) with its people and schools; the service is made by the function
    /// `scps service create` runs.
    pub async fn tenant(&self) -> Tenant {
        let tag = short_tag();
        let admin_email = format!("admin-{tag}@test.invalid");
        let service = domain::tenancy::services::create(
            &self.services.db,
            domain::tenancy::services::NewService {
                service_name: format!("Test service {tag}"),
                time_zone: None,
                admin_email: admin_email.clone(),
                admin_name: format!("Admin {tag}"),
                admin_password: PASSWORD.into(),
            },
            false,
            "test",
        )
        .await
        .expect("a new service")
        .service;
        self.populate(tag, service.id, admin_email).await
    }

    /// A new tenant whose service is made by running `scps service create` against the test
    /// server's database, as whoever runs a deployment would. `scps` is the test's
    /// `env!("CARGO_BIN_EXE_scps-under-test")`.
    pub async fn tenant_made_with_the_cli(&self, scps: &str) -> Tenant {
        let tag = short_tag();
        let admin_email = format!("admin-{tag}@test.invalid");
        let name = format!("Test service {tag}");
        let out = self
            .scps(
                scps,
                &[
                    "service",
                    "create",
                    "--name",
                    &name,
                    "--admin-email",
                    &admin_email,
                    "--admin-name",
                    &format!("Admin {tag}"),
                    "--admin-password",
                    PASSWORD,
                ],
            )
            .await;
        assert!(
            out.status.success(),
            "scps service create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        let global_id = printed
            .split(['(', ')'])
            .nth(1)
            .unwrap_or_else(|| panic!("the service's id is printed: {printed}"));
        let (_, uuid) = scps::graphql::ids::decode(global_id).expect("a service id");
        self.populate(tag, domain::ids::ServiceId(uuid), admin_email).await
    }

    /// Changes the tenant's time settings (as its administrator), panicking unless it worked.
    pub async fn set_policy(&self, t: &Tenant, patch: Value) -> Value {
        let mut input = patch;
        input["serviceId"] = json!(t.service_id);
        let a = self
            .gql(
                &t.admin.token,
                "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { minimumNoticeHours termTimePolicy schoolsMayBook slotStepMinutes } userErrors { field message } } }",
                json!({ "i": input }),
            )
            .await;
        let settings = a.ok()["updateTimeSettings"]["timeSettings"].clone();
        assert!(settings.is_object(), "settings changed: {}", a.body);
        settings
    }

    /// Runs the scps command line (the binary at `scps`) against this server's database.
    pub async fn scps(&self, scps: &str, args: &[&str]) -> std::process::Output {
        let mut command = tokio::process::Command::new(scps);
        command
            .arg("--database-url")
            .arg(&self.database.url)
            .args(["--log", "warn"])
            .args(args)
            .env_remove("SCPS_DATABASE_URL")
            .env_remove("SCPS_REDIS_URL");
        command.output().await.expect("scps runs")
    }

    /// The schools and people of a tenant whose service and administrator exist.
    async fn populate(&self, tag: String, service: domain::ids::ServiceId, admin_email: String) -> Tenant {
        let service_id = scps::graphql::ids::encode("Service", service).0;
        let admin_token = self.sign_in(&admin_email, PASSWORD).await;
        let admin = Account {
            email: admin_email,
            person_id: String::new(),
            token: admin_token,
        };
        let school_a = self
            .create_school(&admin.token, &service_id, &format!("Alder School {tag}"), "100001")
            .await;
        let school_b = self
            .create_school(&admin.token, &service_id, &format!("Beech School {tag}"), "100002")
            .await;
        let ep = self
            .invite(
                &admin.token,
                &service_id,
                &format!("ep-{tag}@test.invalid"),
                "PSYCHOLOGIST",
                None,
            )
            .await;
        let other_ep = self
            .invite(
                &admin.token,
                &service_id,
                &format!("ep2-{tag}@test.invalid"),
                "PSYCHOLOGIST",
                None,
            )
            .await;
        let senco_a = self
            .invite(
                &admin.token,
                &service_id,
                &format!("senco-a-{tag}@test.invalid"),
                "SENCO",
                Some(&school_a.id),
            )
            .await;
        let senco_b = self
            .invite(
                &admin.token,
                &service_id,
                &format!("senco-b-{tag}@test.invalid"),
                "SENCO",
                Some(&school_b.id),
            )
            .await;
        let leader_a = self
            .invite(
                &admin.token,
                &service_id,
                &format!("leader-a-{tag}@test.invalid"),
                "SCHOOL_LEADER",
                Some(&school_a.id),
            )
            .await;
        let staff_a = self
            .invite(
                &admin.token,
                &service_id,
                &format!("staff-a-{tag}@test.invalid"),
                "SCHOOL_STAFF",
                Some(&school_a.id),
            )
            .await;
        Tenant {
            service_id,
            service,
            tag,
            admin,
            ep,
            other_ep,
            school_a,
            school_b,
            senco_a,
            senco_b,
            leader_a,
            staff_a,
        }
    }

    pub async fn create_school(&self, token: &str, service_id: &str, name: &str, urn: &str) -> SchoolFx {
        let a = self
            .gql(
                token,
                "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id name } userErrors { message } } }",
                json!({ "i": { "serviceId": service_id, "name": name, "urn": urn, "phase": "PRIMARY" } }),
            )
            .await;
        let school = &a.ok()["createSchool"]["school"];
        let id = school["id"]
            .as_str()
            .unwrap_or_else(|| panic!("school created: {}", a.body))
            .to_owned();
        let (_, uuid) = scps::graphql::ids::decode(&id).expect("a global id");
        SchoolFx {
            id,
            uuid: uuid.into(),
            name: name.to_owned(),
        }
    }

    /// Invites someone, accepts the invitation with [`PASSWORD`], and signs them in.
    pub async fn invite(
        &self,
        admin_token: &str,
        service_id: &str,
        email: &str,
        role: &str,
        school: Option<&str>,
    ) -> Account {
        let a = self
            .gql(
                admin_token,
                "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { code person { id } } userErrors { field message } } }",
                json!({ "i": { "serviceId": service_id, "email": email, "displayName": format!("Person {email}"), "role": role, "schoolId": school } }),
            )
            .await;
        let inv = &a.ok()["invitePerson"]["invitation"];
        let person_id = inv["person"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("invited: {}", a.body))
            .to_owned();
        if let Some(code) = inv["code"].as_str() {
            let accepted = self
                .post(
                    None,
                    "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { session { accessToken } userErrors { message } } }",
                    json!({ "i": { "code": code, "password": PASSWORD } }),
                )
                .await;
            let token = accepted.ok()["acceptInvitation"]["session"]["accessToken"]
                .as_str()
                .expect("a token")
                .to_owned();
            return Account {
                email: email.to_owned(),
                person_id,
                token,
            };
        }
        Account {
            email: email.to_owned(),
            person_id,
            token: self.sign_in(email, PASSWORD).await,
        }
    }

    /// A partner client of the tenant with the given scopes (and schools), and its token.
    pub async fn partner(&self, t: &Tenant, scopes: &[&str], schools: Option<Vec<&str>>) -> (Account, String, String) {
        let a = self
            .gql(
                &t.admin.token,
                "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { clientId clientSecret partnerClient { id } } userErrors { message } } }",
                json!({ "i": { "serviceId": t.service_id, "name": format!("Partner {}", short_tag()), "scopes": scopes, "schoolIds": schools } }),
            )
            .await;
        let creds = &a.ok()["createPartnerClient"]["credentials"];
        let client_id = creds["clientId"].as_str().expect("client id").to_owned();
        let secret = creds["clientSecret"].as_str().expect("secret").to_owned();
        let token = self.client_token(&client_id, &secret).await.expect("a partner token");
        (
            Account {
                email: String::new(),
                person_id: creds["partnerClient"]["id"].as_str().unwrap_or_default().to_owned(),
                token,
            },
            client_id,
            secret,
        )
    }

    /// Exchanges client credentials for a token at `/oauth/token`.
    pub async fn client_token(&self, client_id: &str, secret: &str) -> Option<String> {
        let response = self
            .client
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("token request");
        if !response.status().is_success() {
            return None;
        }
        let body: Value = response.json().await.ok()?;
        body["access_token"].as_str().map(str::to_owned)
    }
}
