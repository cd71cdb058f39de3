//! The quickstart example as a real process (`target/debug/quickstart`, which
//! `cargo test` builds before the tests): started with a clean environment and the
//! variables a test gives, its banner read from stdout, its stderr kept for the failure
//! message, and killed on drop, also when the test fails.
//!
//! ```ignore
//! #[path = "support/process.rs"]
//! mod process;
//!
//! let mut node = process::QuickstartProcess::start(&[("BIND", "127.0.0.1:0")], None);
//! let banner = node.banner(process::START).expect("the quickstart starts");
//! let url = process::listening_url(&banner);
//! ```
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How long a quickstart may take to print its banner on a loaded machine.
pub const START: Duration = Duration::from_secs(120);

/// The banner's last line: the walkthrough is complete and the server is up.
pub const BANNER_END: &str = "Ctrl-C stops the server.";

/// The quickstart binary beside this test binary (`target/debug/deps/…` →
/// `target/debug/quickstart`). Panics, saying how to build it, when it is missing or older
/// than a source file it is built from.
pub fn quickstart_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let debug = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = debug.join("quickstart");
    let hint = "`cargo test` builds it; alone: `cargo build --locked -p quickstart`";
    let built = std::fs::metadata(&binary)
        .and_then(|meta| meta.modified())
        .unwrap_or_else(|e| panic!("{} is missing ({e}): {hint}", binary.display()));
    // What it is built from: the workspace's library crates and the quickstart package
    // (not the CLI's binary, the tests or the benches).
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = Vec::new();
    for member in [
        "tower-passport",
        "tower-passport-issuer",
        "tower-passport-sql",
        "tower-passport-redis",
        "quickstart",
    ] {
        collect_sources(&crates.join(member).join("src"), &mut sources);
    }
    let newest =
        sources.iter().filter(|(_, modified)| *modified > built).max_by_key(|(_, modified)| *modified);
    if let Some((newer, _)) = newest {
        panic!("{} is older than {}: {hint}", binary.display(), newer.display());
    }
    binary
}

fn collect_sources(dir: &Path, into: &mut Vec<(PathBuf, SystemTime)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sources(&path, into);
        } else if let Ok(modified) = entry.metadata().and_then(|meta| meta.modified()) {
            into.push((path, modified));
        }
    }
}

/// A running quickstart process, killed on drop.
pub struct QuickstartProcess {
    child: Child,
    lines: Receiver<String>,
    /// The stdout lines read so far.
    pub stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl QuickstartProcess {
    /// Starts the quickstart with only `vars` (and `PATH`) in its environment, in `cwd`
    /// (this process's when `None`).
    pub fn start(vars: &[(&str, &str)], cwd: Option<&Path>) -> Self {
        let mut command = Command::new(quickstart_binary());
        command
            .env_clear()
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().expect("the quickstart starts");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let kept = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                kept.lock().expect("lock").push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Self { child, lines, stdout: Vec::new(), stderr }
    }

    /// The whole banner (every stdout line up to [`BANNER_END`]), or why it did not come
    /// within `limit`: the process ended (with its stderr), or the time ran out.
    pub fn banner(&mut self, limit: Duration) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + limit;
        while self.stdout.last().map(String::as_str) != Some(BANNER_END) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.stdout.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no banner within {limit:?}; stderr: {}", self.stderr()))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!("the quickstart ended ({status}); stderr: {}", self.stderr()));
                }
            }
        }
        Ok(self.stdout.clone())
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }
}

impl Drop for QuickstartProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL the banner says the quickstart listens on (`tower-passport quickstart on …`).
pub fn listening_url(banner: &[String]) -> String {
    banner
        .iter()
        .find_map(|line| line.strip_prefix("tower-passport quickstart on "))
        .unwrap_or_else(|| panic!("no listening URL in {banner:#?}"))
        .to_owned()
}

/// The value of the banner's `  <label>  …` line (`issuer`, `store`), trimmed.
pub fn banner_field(banner: &[String], label: &str) -> String {
    banner
        .iter()
        .find_map(|line| line.strip_prefix("  ")?.strip_prefix(label)?.strip_prefix(' ').map(str::trim))
        .unwrap_or_else(|| panic!("no {label} line in {banner:#?}"))
        .to_owned()
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`): the status and the
/// body, or `None` when nothing answers. `headers` are `Name: value` lines.
pub fn http(method: &str, url: &str, headers: &[&str], body: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let rest = url.strip_prefix("http://")?;
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(authority).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(&format!("{header}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    Some((status, body))
}
