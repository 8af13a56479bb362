//! A real browser for the web UI's tests: Debian's headless Chromium driven over WebDriver by
//! its own chromedriver (`scripts/setup-chromium.sh` installs both), one fresh profile and one
//! fixed window size per test, screenshots kept under the target directory.
//!
//! fantoccini (WebDriver) rather than chromiumoxide (the DevTools protocol): WebDriver is a W3C
//! standard that Debian's chromium-driver speaks at exactly the browser's version, so a new
//! Chromium cannot break the client the way a changed DevTools event breaks chromiumoxide's
//! generated types; and fantoccini, without its TLS features, compiles in seconds where
//! chromiumoxide's generated protocol takes minutes on two cores.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

/// Width and height of every test's viewport (the page's area, so of every screenshot), the same
/// for every run.
pub const WINDOW: (u32, u32) = (1280, 900);

/// How long [`Browser`]'s waits poll before they fail.
const WAIT: Duration = Duration::from_secs(30);

/// A headless Chromium with a fresh profile, driven by its own chromedriver; both are killed
/// (their whole process group) when this is dropped, and the profile is deleted.
pub struct Browser {
    client: Client,
    driver: Child,
    shots: PathBuf,
    // Dropped after the processes that write to it are killed (fields drop in order).
    _profile: tempfile::TempDir,
}

/// chromium and chromedriver, from `NBW_CHROMIUM` / `NBW_CHROMEDRIVER` (printed by
/// `scripts/setup-chromium.sh`), else from `PATH`.
fn binaries() -> Result<(PathBuf, PathBuf), String> {
    let find =
        |var: &str, name: &str| match std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from) {
            Some(path) if path.exists() => Ok(path),
            Some(path) => Err(format!("{var}={} does not exist", path.display())),
            None => on_path(name).ok_or_else(|| format!("no {name} on PATH ({var} unset)")),
        };
    Ok((find("NBW_CHROMIUM", "chromium")?, find("NBW_CHROMEDRIVER", "chromedriver")?))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Where the screenshots of test `test` go: `$CARGO_TARGET_DIR/ui-screenshots/<test>`, else the
/// target directory that holds the running test binary (`<target>/<profile>/deps/<binary>`).
pub fn screenshot_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the test binary's path");
            exe.ancestors().nth(3).expect("a test binary lives in <target>/<profile>/deps").to_path_buf()
        });
    target.join("ui-screenshots").join(test)
}

impl Browser {
    /// Starts the browser for test `test`, or returns `None` with a notice when Chromium or
    /// chromedriver is missing; with `CI` set a missing browser fails the test instead, so CI
    /// never skips the UI tests.
    pub async fn start_or_skip(test: &str) -> Option<Browser> {
        match binaries() {
            Ok((chromium, driver)) => Some(Browser::start(test, &chromium, &driver).await),
            Err(why) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "this test needs Chromium (CI is set): {why}; run scripts/setup-chromium.sh"
                );
                eprintln!("skipped: {why}; run scripts/setup-chromium.sh (with CI set this is a failure)");
                None
            }
        }
    }

    async fn start(test: &str, chromium: &Path, driver: &Path) -> Browser {
        let shots = screenshot_dir(test);
        std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("creating {}: {e}", shots.display()));
        eprintln!("screenshots of {test}: {}", shots.display());
        let profile = crate::tempdir();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = spawn_driver(driver, port, &shots.join("chromedriver.log"));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": chromium_args(profile.path())},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object literal") };
        let client = connect(port, capabilities).await;
        fit_viewport(&client).await;
        Browser { client, driver, shots, _profile: profile }
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The element matching CSS `selector`, waiting up to 30 s for it to appear.
    pub async fn find(&self, selector: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(selector)).await {
            Ok(element) => element,
            Err(e) => {
                panic!("no element {selector:?} on {} within {WAIT:?}: {e}", self.url_for_errors().await)
            }
        }
    }

    /// Whether an element matches CSS `selector` now (no waiting).
    pub async fn exists(&self, selector: &str) -> bool {
        !self.client.find_all(Locator::Css(selector)).await.expect("find_all").is_empty()
    }

    /// Replaces the value of the input matching `selector` with `text`.
    pub async fn fill(&self, selector: &str, text: &str) {
        let input = self.find(selector).await;
        input.clear().await.unwrap_or_else(|e| panic!("clearing {selector:?}: {e}"));
        input.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {selector:?}: {e}"));
    }

    /// Clicks the element matching `selector`.
    pub async fn click(&self, selector: &str) {
        self.find(selector).await.click().await.unwrap_or_else(|e| panic!("clicking {selector:?}: {e}"));
    }

    /// The visible text of the element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        self.find(selector).await.text().await.unwrap_or_else(|e| panic!("text of {selector:?}: {e}"))
    }

    /// The visible text of the body of the frame (`<iframe>`) matching `selector`; the browser
    /// is back in the top page afterwards.
    pub async fn frame_text(&self, selector: &str) -> String {
        let frame = self.find(selector).await;
        frame.enter_frame().await.unwrap_or_else(|e| panic!("entering frame {selector:?}: {e}"));
        let body = self.client.find(Locator::Css("body")).await;
        let text = match body {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        self.client.enter_parent_frame().await.expect("back to the top page");
        text
    }

    /// Runs `script` (a function body: `return ...`) in the page; returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Waits until the JS expression `condition` is truthy in the page; panics after `timeout`
    /// with `what` and the page's URL. A page that reloads meanwhile is simply polled again.
    pub async fn wait_js(&self, what: &str, condition: &str, timeout: Duration) {
        let script = format!("return Boolean({condition});");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                return;
            }
            if Instant::now() >= deadline {
                panic!("{what}: not true within {timeout:?} on {}", self.url_for_errors().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.expect("current URL")
    }

    async fn url_for_errors(&self) -> String {
        self.client.current_url().await.map(|u| u.to_string()).unwrap_or_else(|e| format!("(no URL: {e})"))
    }

    /// Saves a PNG of the window as `<page>.png` in this test's screenshot folder; returns its
    /// path.
    pub async fn screenshot(&self, page: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot of {page}: {e}"));
        let path = self.shots.join(format!("{page}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session, which quits Chromium; dropping the browser then stops
    /// chromedriver. A test that panics before this still loses both on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the Chromium it started share the group created for chromedriver.
        let group = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

/// Headless, sandbox-free (the tests run as root, where Chromium's sandbox refuses to start),
/// in the fixed window, on `profile`, with nothing that reaches the network on its own.
fn chromium_args(profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        format!("--user-data-dir={}", profile.display()),
    ]
}

/// Sizes the window so that the viewport is [`WINDOW`]: headless Chromium still counts a
/// toolbar's height in `--window-size`. Checked, and tried again while the window settles.
async fn fit_viewport(client: &Client) {
    let script = "return [innerWidth, innerHeight, outerWidth - innerWidth, outerHeight - innerHeight];";
    let mut last = Value::Null;
    for _ in 0..10 {
        let sizes = client.execute(script, vec![]).await.expect("reading the window's size");
        let at = |i: usize| sizes[i].as_u64().and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        if (at(0), at(1)) == WINDOW {
            return;
        }
        client.set_window_size(WINDOW.0 + at(2), WINDOW.1 + at(3)).await.expect("sizing the window");
        last = sizes;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the viewport did not become {WINDOW:?}: [inner width, inner height, frame width, frame height] = {last}"
    );
}

/// chromedriver on `port`, in a process group of its own (so that dropping the browser can kill
/// it with every Chromium process it started), logging to `log`.
fn spawn_driver(driver: &Path, port: u16, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    Command::new(driver)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()))
}

/// A WebDriver session on the chromedriver at `port`, once chromedriver listens.
async fn connect(port: u16, capabilities: serde_json::Map<String, Value>) -> Client {
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("http://127.0.0.1:{port}");
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session on {url} (Chromium did not start?): {e}"))
}
