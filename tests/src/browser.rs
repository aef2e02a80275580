//! The real-browser checks: a script of `tests/browser` run with node against the test's server,
//! when `SCPS_BROWSER_TESTS` is set (`.ci/run` sets it after installing chromium and running
//! `npm ci` there).

/// Whether the browser checks run; says why not when they do not.
pub fn enabled() -> bool {
    let on = std::env::var_os("SCPS_BROWSER_TESTS").is_some();
    if !on {
        eprintln!(
            "skipped: the browser test runs with SCPS_BROWSER_TESTS=1, chromium installed and `npm ci` in tests/browser (.ci/run does all three)"
        );
    }
    on
}

/// Runs `script` with the server's base url and a page's path, off the test's runtime (the
/// server runs on it), and fails the test unless every check passed.
pub async fn run(script: &'static str, base: String, path: String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(&base)
            .arg(&path)
            .current_dir(dir)
            .output()
    })
    .await
    .expect("the browser task")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all browser checks passed"));
}
