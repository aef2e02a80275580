//! The memory runner of issue 15 (a benchmark, not a test): starts a release `scps demo`, and
//! prints its RSS idle, at its peak during a storm, and 60 s after, for a sign-in storm (1,000
//! concurrent wrong sign-ins from 100 addresses) and an introspection storm.
//!
//! ```sh
//! cargo build --release -p scps
//! cargo run --release -p scps-tests --bin memory-storm -- target/release/scps
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

const SIGN_IN: &str = "mutation($i: SignInInput!) { signIn(input: $i) { session { accessToken } } }";
const INTROSPECTION: &str = "query { __schema { types { kind name description fields(includeDeprecated: true) { name description args { name description type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } defaultValue } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } isDeprecated deprecationReason } inputFields { name type { kind name ofType { kind name } } } enumValues(includeDeprecated: true) { name } } } }";

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Samples RSS every 50 ms while running; returns the peak.
struct Peak {
    peak_kb: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
}

impl Peak {
    fn start(pid: u32) -> Self {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let (p, r) = (peak_kb.clone(), running.clone());
        std::thread::spawn(move || {
            while r.load(Ordering::Relaxed) {
                p.fetch_max((rss_mb(pid) * 1024.0) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self { peak_kb, running }
    }
    fn stop(self) -> f64 {
        self.running.store(false, Ordering::Relaxed);
        self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, address: &str, body: Value) -> Value {
    let mut req = client.post(url).header("x-forwarded-for", address).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => json!({ "errors": [{ "extensions": { "code": "NO_ANSWER" } }] }),
    }
}

fn code(v: &Value) -> String {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK").to_owned()
}

fn tally(answers: &[Value]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for a in answers {
        *counts.entry(code(a)).or_insert(0) += 1;
    }
    format!("{counts:?}")
}

#[tokio::main]
async fn main() {
    let scps = std::env::args().nth(1).unwrap_or_else(|| "target/release/scps".into());
    let port = 18_000 + (std::process::id() % 1000) as u16;
    let dir = std::env::temp_dir().join(format!("scps-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = tokio::process::Command::new(&scps)
        .arg("demo")
        .env("SCPS_BIND", format!("127.0.0.1:{port}"))
        .env("SCPS_DATABASE_URL", format!("sqlite://{}/storm.sqlite", dir.display()))
        .env("SCPS_TRUST_FORWARDED_FOR", "true")
        .env("SCPS_LOG", "error")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start scps demo");
    let pid = child.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/graphql");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = post(
        &client,
        &url,
        None,
        "10.255.0.1",
        json!({ "query": SIGN_IN, "variables": { "i": { "email": "dana.admin@eps.demo.invalid", "password": scps::demo::DEMO_PASSWORD } } }),
    )
    .await;
    let token = admin["data"]["signIn"]["session"]["accessToken"]
        .as_str()
        .expect("the demo administrator signs in")
        .to_owned();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = rss_mb(pid);
    println!("idle RSS: {idle:.1} MB");

    // The sign-in storm: 1,000 at once, 10 from each of 100 addresses, unknown accounts.
    let peak = Peak::start(pid);
    let answers = futures_util::future::join_all((0..1000).map(|i| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let address = format!("10.1.{}.{}", i % 100, 1 + i / 100);
            let email = format!("storm-{i}@nowhere.invalid");
            post(
                &client,
                &url,
                None,
                &address,
                json!({ "query": SIGN_IN, "variables": { "i": { "email": email, "password": "wrong password" } } }),
            )
            .await
        }
    }))
    .await;
    let storm_peak = peak.stop();
    println!("sign-in storm: {}", tally(&answers));
    tokio::time::sleep(Duration::from_secs(60)).await;
    let after = rss_mb(pid);
    println!("sign-in storm RSS: idle {idle:.1} MB, peak {storm_peak:.1} MB, 60 s after {after:.1} MB");

    // The introspection storm: 100 full introspections at once, then 100 refused attacks.
    let idle2 = rss_mb(pid);
    let peak = Peak::start(pid);
    let attack = format!(
        "{{ {} }}",
        (0..300)
            .map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name args {{ name type {{ name }} }} type {{ name kind ofType {{ name }} }} }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let answers = futures_util::future::join_all((0..200).map(|i| {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        let query = if i % 2 == 0 {
            INTROSPECTION.to_owned()
        } else {
            attack.clone()
        };
        async move { post(&client, &url, Some(&token), "10.2.0.1", json!({ "query": query })).await }
    }))
    .await;
    let storm_peak = peak.stop();
    println!("introspection storm: {}", tally(&answers));
    tokio::time::sleep(Duration::from_secs(60)).await;
    let after = rss_mb(pid);
    println!("introspection storm RSS: before {idle2:.1} MB, peak {storm_peak:.1} MB, 60 s after {after:.1} MB");

    child.kill().await.ok();
    std::fs::remove_dir_all(dir).ok();
}
