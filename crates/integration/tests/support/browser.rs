//! Headless Chromium for tests: Debian's `chromedriver` started on a free loopback port, and
//! one browser session driven over WebDriver (the `fantoccini` crate), behind a small API
//! that panics with context on failure, as test helpers do.
//!
//! ```ignore
//! #[path = "support/browser.rs"]
//! mod browser;
//!
//! let Some(browser) = browser::Browser::start().await else { return };
//! browser.goto(&format!("http://{addr}/")).await;
//! browser.fill("input[name=message]", "hello").await;
//! browser.submit("form").await;
//! assert!(browser.current_url().await.ends_with("/result"));
//! browser.screenshot("my-test.png").await; // target/my-test.png
//! ```
//!
//! `start` answers `None`, with the reason printed, when chromedriver or Chromium is not
//! installed; under CI (`PASSPORT_REQUIRE_BROWSER=1`, or `CI=true`) it panics instead. The
//! paths default to Debian's (`/usr/bin/chromedriver`, `/usr/bin/chromium`);
//! `PASSPORT_CHROMEDRIVER` and `PASSPORT_CHROMIUM` override them.
//!
//! Everything is torn down on drop: the session is closed through chromedriver's
//! `/shutdown`, then the process group chromedriver leads (it and the browser it started) is
//! killed, and the temporary profile is removed. When the test is panicking, the profile and
//! `chromedriver.log` are kept and their folder is printed.
#![allow(dead_code, unreachable_pub)]

use crate::tools;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use fantoccini::cookies::Cookie;
pub use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
pub use tools::target_dir;

/// How long a wait (for an element, a page, a script's answer) may take before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Chromium's flags for this machine: headless with no sandbox (CI runs as root), and none
/// of the background connections (sync, component updates, QUIC probes) that a closed
/// network refuses, which only slow the browser down and fill its log.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    "--password-store=basic",
    "--window-size=1280,900",
];

/// A marker the current page carries until a navigation replaces it (see [`Browser::submit`]).
const OLD_PAGE: &str = "__passportHarnessOldPage";

fn tool(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A fresh, empty folder of this process's own, for one browser's profile and log.
fn fresh_dir() -> PathBuf {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name =
        format!("passport-browser-{}-{}-{nanos}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(dir.join("profile")).expect("a temporary browser profile folder");
    dir
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// A chromedriver child process, leading its own process group.
struct Driver {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Driver {
    fn spawn(chromedriver: &Path, dir: PathBuf) -> Self {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", dir.join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group, so that teardown can end the browser it starts as well.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        Self { child, port, dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The end of chromedriver's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("chromedriver.log (last lines):\n{tail}")
    }

    /// Waits until chromedriver accepts connections (it reports its port before it listens).
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited at start ({status})\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within {WAIT:?}\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// chromedriver's `GET /shutdown`: it quits the browsers of its sessions, then exits.
    fn shutdown(&self) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group: chromedriver if it hung, a browser process if one
        // outlived it. Only processes this driver started are in it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "browser profile and chromedriver.log kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What a `fetch` made from the page answered (see [`Browser::fetch`]).
#[derive(Debug, Clone)]
pub struct FetchReply {
    /// The HTTP status; 0 when the fetch failed (a network or CORS error).
    pub status: u16,
    /// The response body as text.
    pub body: String,
    /// The headers the page may read, names lowercased.
    pub headers: BTreeMap<String, String>,
    /// Why the fetch failed, when it did (the `TypeError` message, for a refused CORS call).
    pub error: Option<String>,
}

impl FetchReply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("a JSON body ({e}): {self:?}"))
    }
}

/// One headless Chromium session and the chromedriver behind it.
pub struct Browser {
    // Declared first so it is dropped first: the session goes before its driver.
    client: Client,
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile. `None` (with the
    /// reason printed) when either is not installed and tools are not required.
    pub async fn start() -> Option<Self> {
        let chromedriver = tool("PASSPORT_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("PASSPORT_CHROMIUM", "/usr/bin/chromium");
        for path in [&chromedriver, &chromium] {
            if !path.is_file() {
                return tools::unavailable(
                    "the browser test",
                    format!("{} is not installed", path.display()),
                );
            }
        }
        let dir = fresh_dir();
        let mut args: Vec<String> = FLAGS.iter().map(|flag| (*flag).to_owned()).collect();
        args.push(format!("--user-data-dir={}", dir.join("profile").display()));
        let mut driver = Driver::spawn(&chromedriver, dir);
        driver.wait_ready().await;
        let millis = u64::try_from(WAIT.as_millis()).unwrap_or(u64::MAX);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "timeouts": {"script": millis, "pageLoad": 3 * millis, "implicit": 0},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("an object literal") };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!("chromedriver could not start a headless Chromium session: {e}\n{}", driver.log_tail())
            });
        Some(Self { client, driver })
    }

    /// The fantoccini client, for anything this API does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The address of the page now shown.
    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("the current URL").to_string()
    }

    /// The query parameters of the page now shown, decoded, in order.
    pub async fn current_query(&self) -> Vec<(String, String)> {
        let url = self.client.current_url().await.expect("the current URL");
        url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page title")
    }

    /// The page's HTML as the browser holds it now.
    pub async fn page_source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    /// The first element matching `css`, waiting up to [`WAIT`] for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let found = self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no element matches `{css}` on {} ({e})", self.current_url().await),
        }
    }

    /// The first element matching `css` now, without waiting: for asserting absence.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.expect("find_all")
    }

    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("text of `{css}`: {e}"))
    }

    /// Clicks the element matching `css` as a user would (it must be visible and enabled).
    /// Does not wait for a navigation it may cause: use [`Browser::submit`] for that.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// Replaces the value of the field matching `css` by typing `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Submits a form and waits until the page it leads to has loaded. `css` matches either
    /// a `<form>` (submitted with `requestSubmit()`, as pressing Enter does, so validation
    /// and submit handlers run) or a button, which is clicked (its `name=value` is sent, as
    /// for an Approve or Deny button).
    pub async fn submit(&self, css: &str) {
        let target = self.find(css).await;
        let tag = target.tag_name().await.unwrap_or_else(|e| panic!("tag of `{css}`: {e}"));
        self.execute(&format!("window.{OLD_PAGE} = true;"), vec![]).await;
        if tag.eq_ignore_ascii_case("form") {
            let form = serde_json::to_value(&target).expect("an element reference");
            self.execute("arguments[0].requestSubmit();", vec![form]).await;
        } else {
            target.click().await.unwrap_or_else(|e| panic!("click `{css}`: {e}"));
        }
        self.wait_for_new_page(css).await;
    }

    /// Waits until the page marked by `submit` has been replaced and the new one loaded.
    async fn wait_for_new_page(&self, what: &str) {
        let probe = format!("return window.{OLD_PAGE} === true ? 'old' : document.readyState;");
        let deadline = Instant::now() + WAIT;
        loop {
            // During the navigation a script may fail (no document yet): that is "not yet".
            if let Ok(state) = self.client.execute(&probe, vec![]).await {
                if state == "complete" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "submitting `{what}` led to no new page within {WAIT:?} (still on {})",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the current URL satisfies `done`, and returns it.
    pub async fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if done(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "still on {url} after {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Runs `js` in the page (WebDriver "Execute Script"): `arguments` holds `args`, and what
    /// the script `return`s comes back.
    pub async fn execute(&self, js: &str, args: Vec<Value>) -> Value {
        self.client.execute(js, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Runs `js` in the page and waits up to [`WAIT`] for its answer (WebDriver "Execute Async
    /// Script"): the script calls the last of its `arguments` with the value to return.
    pub async fn execute_async_script(&self, js: &str, args: Vec<Value>) -> Value {
        self.client.execute_async(js, args).await.unwrap_or_else(|e| panic!("async script failed: {e}\n{js}"))
    }

    /// Calls `fetch(url, init)` from the page, with the page's origin and cookies, as its
    /// own scripts would. `init` is fetch's options object (`method`, `headers`, `body`,
    /// `credentials`, …); a relative `url` resolves against the page.
    pub async fn fetch(&self, url: &str, init: Value) -> FetchReply {
        const FETCH: &str = r"
            const [url, init, done] = arguments;
            fetch(url, init)
                .then(async (response) => done({
                    status: response.status,
                    body: await response.text(),
                    headers: Object.fromEntries(response.headers.entries()),
                }))
                .catch((error) => done({ status: 0, body: '', headers: {}, error: String(error) }));
        ";
        let answer = self.execute_async_script(FETCH, vec![json!(url), init]).await;
        let headers = answer["headers"].as_object().map_or_else(BTreeMap::new, |headers| {
            headers
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("").to_owned()))
                .collect()
        });
        FetchReply {
            status: answer["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0),
            body: answer["body"].as_str().unwrap_or("").to_owned(),
            headers,
            error: answer["error"].as_str().map(str::to_owned),
        }
    }

    /// Saves a PNG of the viewport. A relative `path` is under the target directory
    /// (`target/` by default); the full path is returned.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = target_dir().join(path);
        let png = self.client.screenshot().await.expect("a screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the screenshot's folder");
        }
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Resizes the window (the default is 1280×900), e.g. to a phone's width.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize the window");
    }

    /// The cookies the browser holds for the current page, `HttpOnly` ones included.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client.get_all_cookies().await.expect("the cookies")
    }

    /// The cookie called `name` for the current page, if the browser holds one.
    pub async fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.cookies().await.into_iter().find(|cookie| cookie.name() == name)
    }

    /// Sets a cookie for the current page's site (e.g. a tampered one).
    pub async fn add_cookie(&self, cookie: Cookie<'static>) {
        self.client.add_cookie(cookie).await.expect("add the cookie");
    }

    /// Removes every cookie the browser holds for the current page's site.
    pub async fn delete_all_cookies(&self) {
        self.client.delete_all_cookies().await.expect("delete the cookies");
    }
}
