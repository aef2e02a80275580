//! The platform from outside: HTTP rules of the GraphQL endpoint, GraphiQL, health, readiness,
//! metrics, request ids, limits, the schema contract and the shape of the workspace.

use reqwest::StatusCode;
use scps_tests::{TEST_SECRET, TestApp};
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["database"], "ok");
    let redis_expected = if std::env::var("SCPS_TEST_REDIS_URL").is_ok_and(|u| !u.is_empty()) {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(ready.body["checks"]["redis"], redis_expected);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_tidy_one_from_the_caller() {
    let app = TestApp::spawn().await;
    let made = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = made.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "caller-chosen-id-123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers().get("x-request-id").unwrap(), "caller-chosen-id-123");
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers().get("x-request-id").unwrap(), "bad id with spaces");
}

#[tokio::test]
async fn metrics_count_operations_and_statements() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.gql(
        &t.admin.token,
        "query SchoolList { schools { edges { node { name } } } }",
        json!({}),
    )
    .await
    .ok();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("scps_graphql_request_duration_seconds_count{operation=\"SchoolList\",outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(text.contains("scps_graphql_sql_statements_count{operation=\"SchoolList\"} 1"));
    assert!(text.contains("scps_db_pool_connections{state=\"open\"}"));
    assert!(text.contains("scps_http_responses_total{route=\"graphql\",status=\"200\"}"));
    let total: u64 = text
        .lines()
        .find(|l| l.starts_with("scps_sql_statements_total "))
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(total > 0);
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_and_a_query_over_get_runs() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let mutation = app
        .send(
            app.client
                .get(app.url("/graphql"))
                .query(&[("query", "mutation { signOut { signedOut } }")])
                .bearer_auth(&t.admin.token),
        )
        .await;
    assert_eq!(mutation.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation.code(), Some("METHOD_NOT_ALLOWED"));
    // A named mutation picked by operationName is refused too.
    let chosen = app
        .send(
            app.client
                .get(app.url("/graphql"))
                .query(&[
                    (
                        "query",
                        "query Q { viewer { services { name } } } mutation M { signOut { signedOut } }",
                    ),
                    ("operationName", "M"),
                ])
                .bearer_auth(&t.admin.token),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::METHOD_NOT_ALLOWED);
    let query = app
        .send(
            app.client
                .get(app.url("/graphql"))
                .query(&[("query", "{ viewer { services { name } } }")])
                .bearer_auth(&t.admin.token),
        )
        .await;
    assert_eq!(query.status, StatusCode::OK);
    assert_eq!(
        query.ok()["viewer"]["services"][0]["name"],
        format!("Test service {}", t.tag)
    );
}

#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let app = TestApp::spawn().await;
    for content_type in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/graphql",
    ] {
        let a = app
            .send(
                app.client
                    .post(app.url("/graphql"))
                    .header("content-type", content_type)
                    .body("query=%7B__typename%7D"),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert_eq!(a.code(), Some("UNSUPPORTED_MEDIA_TYPE"));
    }
    let no_type = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .body("{\"query\":\"{__typename}\"}"),
        )
        .await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json_ok = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json; charset=utf-8")
                .body("{\"query\":\"{__typename}\"}"),
        )
        .await;
    assert_eq!(json_ok.status, StatusCode::OK);
    assert_eq!(json_ok.ok()["__typename"], "Query");
    let not_json = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = Some(4096)).await;
    let big = format!(
        "{{\"query\":\"{{__typename}}\",\"variables\":{{\"x\":\"{}\"}}}}",
        "a".repeat(5000)
    );
    let a = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.code(), Some("PAYLOAD_TOO_LARGE"));
}

#[tokio::test]
async fn the_graphql_over_http_media_type_is_understood() {
    let app = TestApp::spawn().await;
    let a = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": "{ __typename }" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );
    let broken = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": "{ __typename " })),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.code(), Some("GRAPHQL_PARSE_FAILED"));
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/graphql/assets/graphiql.min.js"));
    assert!(
        !html.contains("https://"),
        "the page must not load anything from elsewhere"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        let r = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 100);
    }
    let missing = app
        .client
        .get(app.url("/graphql/assets/../../etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deep_and_costly_queries_are_refused_before_they_run() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let deep = format!(
        "{{ viewer {{ {}displayName{} }} }}",
        "memberships { person { ".repeat(9),
        " }".repeat(18)
    );
    let a = app.gql(&t.admin.token, &deep, json!({})).await;
    assert_eq!(a.code(), Some("QUERY_TOO_COMPLEX"), "{}", a.body);
    // A million bookings at most: 100 schools, 100 contracts each, 100 bookings of each one's school.
    let costly = "{ a: schools(first: 100) { edges { node { contracts(first: 100) { edges { node { id school { bookings(first: 100) { edges { node { id } } } } } } } } } } }";
    let b = app.gql(&t.admin.token, costly, json!({})).await;
    assert_eq!(b.code(), Some("QUERY_TOO_COMPLEX"), "{}", b.body);
    let x = &b.body["errors"][0]["extensions"];
    assert!(
        x["cost"].as_u64() > x["limit"].as_u64(),
        "the cost and the limit: {}",
        b.body
    );
}

#[tokio::test]
async fn page_sizes_are_bounded() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for args in [
        "first: 0",
        "first: 101",
        "last: 101",
        "first: 1, last: 1",
        "after: \"junk\"",
    ] {
        let a = app
            .gql(
                &t.admin.token,
                &format!("{{ schools({args}) {{ edges {{ node {{ id }} }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(a.code(), Some("BAD_USER_INPUT"), "{args}: {}", a.body);
    }
    let ok = app
        .gql(
            &t.admin.token,
            "{ schools(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok.ok()["schools"]["edges"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn pages_walk_forwards_and_backwards_by_cursor() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for i in 0..5 {
        app.create_school(
            &t.admin.token,
            &t.service_id,
            &format!("Cherry {i} School"),
            &format!("20000{i}"),
        )
        .await;
    }
    let q = "query($after: String, $before: String, $first: Int, $last: Int) { schools(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }";
    let first = app.gql(&t.admin.token, q, json!({ "first": 3 })).await;
    let page = &first.ok()["schools"];
    let names: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "schools come by name");
    let second = app
        .gql(
            &t.admin.token,
            q,
            json!({ "first": 3, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    let page2 = &second.ok()["schools"];
    let names2: Vec<&str> = page2["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names2.len(), 3, "seven schools: 3 + 3 + 1");
    assert!(names2.iter().all(|n| !names.contains(n)));
    let back = app
        .gql(
            &t.admin.token,
            q,
            json!({ "last": 2, "before": page2["pageInfo"]["startCursor"] }),
        )
        .await;
    let names3: Vec<&str> = back.ok()["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names3, names[1..].to_vec());
}

#[tokio::test]
async fn in_production_introspection_needs_a_signed_in_caller_and_no_suggestions_are_made() {
    let app = TestApp::spawn_with(|s| s.environment = Some(scps::config::Environment::Production)).await;
    let anonymous = app.post(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(anonymous.body["data"]["__schema"].is_null(), "{}", anonymous.body);
    let t = app.tenant().await;
    let signed_in = app
        .gql(&t.admin.token, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(signed_in.ok()["__schema"]["queryType"]["name"], "Query");
    let typo = app
        .gql(&t.admin.token, "{ schoolz { edges { node { id } } } }", json!({}))
        .await;
    let message = typo.body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    assert!(
        typo.headers.get("x-sql-statements").is_none(),
        "statement counts are not shown in production"
    );
}

#[tokio::test]
async fn in_development_field_suggestions_help() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let typo = app
        .gql(&t.admin.token, "{ schoolz { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(typo.code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        typo.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean")
    );
}

#[test]
fn the_committed_schema_is_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
        .expect("schema.graphql at the top of the repo");
    let served = scps::graphql::sdl();
    assert!(
        committed == served,
        "schema.graphql differs from the served schema: run `cargo run -- schema > schema.graphql` and commit it"
    );
}

#[test]
fn the_domain_depends_on_neither_the_web_framework_nor_graphql() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "-p", "domain", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("sea-orm"), "the tree was read");
    for forbidden in ["actix-web ", "async-graphql ", "jsonwebtoken "] {
        assert!(!tree.contains(forbidden), "domain depends on {forbidden}");
    }
}

#[tokio::test]
async fn a_bad_setting_stops_the_service_with_its_name() {
    let bin = env!("CARGO_BIN_EXE_scps-under-test");
    let out = std::process::Command::new(bin)
        .args(["--environment", "production", "migrate"])
        .env_remove("SCPS_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SCPS_JWT_SECRET"));
    let out = std::process::Command::new(bin)
        .args(["--bind", "nowhere", "--jwt-secret", TEST_SECRET, "migrate"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("SCPS_BIND"));
}

#[test]
fn scps_schema_prints_the_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scps-under-test"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), scps::graphql::sdl());
}

#[allow(
    clippy::disallowed_methods,
    reason = "the test holds a table lock to make the request wait"
)]
#[tokio::test]
async fn a_request_that_runs_too_long_is_stopped_and_leaves_nothing_behind() {
    let app = TestApp::spawn_with(|s| s.request_timeout_seconds = Some(1)).await;
    let t = app.tenant().await;
    let before = app.count("schools").await;
    // Hold the schools table so that the mutation has to wait.
    let txn = domain::db::begin_write(&app.services.db).await.unwrap();
    if scps_tests::on_postgres() {
        sea_orm::ConnectionTrait::execute_unprepared(&txn, "LOCK TABLE schools IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id } } }",
            json!({ "i": { "serviceId": t.service_id, "name": "Slow School", "urn": "123456", "phase": "PRIMARY" } }),
        )
        .await;
    txn.rollback().await.unwrap();
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert_eq!(a.code(), Some("TIMEOUT"));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.count("schools").await, before, "the stopped request wrote nothing");
    let after = app
        .gql(&t.admin.token, "{ schools { edges { node { name } } } }", json!({}))
        .await;
    assert_eq!(
        after.ok()["schools"]["edges"].as_array().unwrap().len(),
        2,
        "the service still answers"
    );
}
