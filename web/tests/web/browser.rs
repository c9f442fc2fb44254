//! The page in a real browser: Debian's `chromium`, headless, driven over
//! the DevTools protocol by Playwright for Python (`browser.py` beside
//! this file; `.ci/run` installs both, Playwright pinned, and Playwright
//! downloads no browser of its own: it is given /usr/bin/chromium).
//!
//! Why Playwright and not a Rust DevTools crate: the Rust clients
//! (chromiumoxide, headless_chrome) compile the whole generated protocol,
//! minutes on a 2-core machine for every clean build of the workspace;
//! Playwright is a pip install of a few seconds, maintained by the
//! browser vendors' neighbours, with console and page-error hooks built in.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnslab_resolver::events::EventBus;

use crate::common::Server;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The whole browser run may take this long (a cold Chromium start on a
/// loaded 2-core machine is several seconds).
const DEADLINE: Duration = Duration::from_secs(180);

/// Python with Playwright, and Chromium; `None` (after saying why) on a
/// machine without them, a failure in CI, which installs both.
fn browser_tools() -> Option<()> {
    let python = Command::new("python3")
        .args(["-c", "import playwright.sync_api"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let chromium = std::path::Path::new(CHROMIUM).is_file();
    if python && chromium {
        return Some(());
    }
    let missing = match (python, chromium) {
        (false, false) => "python3 with playwright, and chromium",
        (false, true) => "python3 with playwright (pip install playwright, see .ci/run)",
        _ => "chromium (apt-get install chromium)",
    };
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("the browser test needs {missing}; .ci/run installs them");
    }
    eprintln!("SKIPPED: the browser test needs {missing}");
    None
}

/// Where the screenshots go: the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// A learner asks for gaia.cs.umass.edu, then again, then for its sibling
/// www.cs.umass.edu. The page must draw the textbook's figure: arrows 1
/// to 10 between the right boxes (a.root-servers.lab., a.edu-servers.lab.,
/// dns.umass.edu. and dns.cs.umass.edu. stacked), the ten table rows; then
/// the cache hit as arrows 1 and 2 with the "from cache" mark; then the
/// three tiers the cached delegation spares greyed; replay must step back
/// and forth; and the console must stay free of errors. Screenshots land
/// in target/web-screenshot*.png (the README's picture is the first).
#[test]
fn the_page_draws_the_walk_the_cache_hit_and_the_skipped_tiers() {
    if browser_tools().is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bus = Arc::new(EventBus::default());
    let (server, _, _) = runtime.block_on(Server::with_backends(bus));
    let out = target_dir();
    std::fs::create_dir_all(&out).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/web/browser.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(format!("http://{}/", server.addr))
        .arg(CHROMIUM)
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            // Our own child, by its PID.
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser test took longer than {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        status.success(),
        "the page did not draw the walk:\n{stdout}\n{stderr}"
    );
    assert!(out.join("web-screenshot.png").is_file());
    drop(server);
}
