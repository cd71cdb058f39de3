//! The server under soak: the quickstart (issuer, sign-in pages, demo API behind the
//! guard, `crates/quickstart/src/demo`), on a fresh SQLite store in a temporary directory
//! and with a signing key the soak made (so that it can sign expired tokens the server's
//! keys verify). Either the release `quickstart` binary as a child process (its RSS read
//! from `/proc/<pid>/status`), or the same `build` and `serve` in this process on a runtime
//! of their own (under the counting allocator; RSS is then this whole process's).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::demo;
use crate::demo::config::{QuickstartConfig, SigningKeyPem};

/// How long the server may take to start on a loaded machine.
const START: Duration = Duration::from_secs(120);

/// A running quickstart.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its configuration (demo clients, users, secrets), as it derived it.
    pub config: QuickstartConfig,
    running: Running,
    _dir: TempDir,
}

enum Running {
    Child(Child),
    InProcess { stop: Option<oneshot::Sender<()>>, runtime: Option<tokio::runtime::Runtime> },
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> Result<TempDir, String> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("tower-passport-soak-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(TempDir(dir))
}

/// The quickstart's variables for this soak: a store in `dir`, the soak's key, and the
/// revocation list's capacity when the soak's own environment sets
/// `PASSPORT_REVOCATION_CACHE_CAPACITY` (to fill it sooner than the default 100,000).
fn variables(dir: &Path, key_pem: &str) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("PASSPORT_STORE", format!("sqlite://{}", dir.join("soak.db").display())),
        ("PASSPORT_PRIVATE_KEY", key_pem.to_owned()),
    ];
    if let Ok(capacity) = std::env::var("PASSPORT_REVOCATION_CACHE_CAPACITY") {
        vars.push(("PASSPORT_REVOCATION_CACHE_CAPACITY", capacity));
    }
    vars
}

fn config_for(listening: SocketAddr, vars: &[(&'static str, String)]) -> Result<QuickstartConfig, String> {
    QuickstartConfig::from_vars(listening, |name| {
        vars.iter().find(|(n, _)| *n == name).map(|(_, value)| value.clone())
    })
    .map_err(|e| e.to_string())
}

impl Server {
    /// The release binary at `binary`, as a child process.
    pub fn child(binary: &Path, key_pem: &str) -> Result<Self, String> {
        let dir = temp_dir()?;
        let vars = variables(&dir.0, key_pem);
        let stderr = std::fs::File::create(dir.0.join("stderr.log")).map_err(|e| e.to_string())?;
        // The child runs in `dir`: a relative path would be looked up there.
        let binary = binary.canonicalize().map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .env("BIND", "127.0.0.1:0")
            .env("RUST_LOG", std::env::var("SOAK_RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .envs(vars.iter().map(|(name, value)| (*name, value.as_str())))
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().map_err(|e| format!("{}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (send, banner) = std::sync::mpsc::channel();
        // Reads the banner's URL, then drains the rest so the child never blocks on a pipe.
        std::thread::spawn(move || {
            let mut url = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if url.is_none() {
                    url = line.strip_prefix("tower-passport quickstart on ").map(str::to_owned);
                }
                if line == "Ctrl-C stops the server." {
                    let _ = send.send(url.take());
                }
            }
        });
        let base = match banner.recv_timeout(START) {
            Ok(Some(url)) => url,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.0.join("stderr.log")).unwrap_or_default();
                return Err(format!("the quickstart did not start: {log}"));
            }
        };
        let listening: SocketAddr = base
            .strip_prefix("http://")
            .and_then(|addr| addr.parse().ok())
            .ok_or_else(|| format!("the banner's URL {base} is no loopback address"))?;
        let config = config_for(listening, &vars)?;
        Ok(Self { base, config, running: Running::Child(child), _dir: dir })
    }

    /// The quickstart's `build` and `serve` in this process, on a runtime of `workers` threads.
    pub fn in_process(key_pem: &str, workers: usize) -> Result<Self, String> {
        let dir = temp_dir()?;
        let vars = variables(&dir.0, key_pem);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("quickstart")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (listener, listening) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
            let listening = listener.local_addr().map_err(|e| e.to_string())?;
            Ok::<_, String>((listener, listening))
        })?;
        let mut config = config_for(listening, &vars)?;
        config.signing_key = Some(Arc::new(SigningKeyPem(key_pem.to_owned())));
        let node = runtime.block_on(demo::quickstart::build(&config)).map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = node.app.clone();
        runtime.spawn(async move {
            // The node (its bus, if any) lives as long as the server.
            let _node = node;
            let limits = demo::serve::Limits::default();
            let _ = demo::serve::serve(listener, app, limits, async {
                let _ = stopped.await;
            })
            .await;
        });
        let base = format!("http://{listening}");
        Ok(Self {
            base,
            config,
            running: Running::InProcess { stop: Some(stop), runtime: Some(runtime) },
            _dir: dir,
        })
    }

    /// The server's resident set, in KiB: the child's, or this process's.
    pub fn rss_kib(&self) -> Option<u64> {
        match self.pid() {
            Some(pid) => rss_kib(&format!("/proc/{pid}/status")),
            None => rss_kib("/proc/self/status"),
        }
    }

    /// The child's process id (`None` in process).
    pub fn pid(&self) -> Option<u32> {
        match &self.running {
            Running::Child(child) => Some(child.id()),
            Running::InProcess { .. } => None,
        }
    }

    /// Whether the server runs in this process (under the counting allocator).
    pub fn is_in_process(&self) -> bool {
        matches!(self.running, Running::InProcess { .. })
    }

    /// Whether the child is still running (always, in process).
    pub fn is_alive(&mut self) -> bool {
        match &mut self.running {
            Running::Child(child) => matches!(child.try_wait(), Ok(None)),
            Running::InProcess { .. } => true,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match &mut self.running {
            Running::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::InProcess { stop, runtime } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(runtime) = runtime.take() {
                    runtime.shutdown_timeout(Duration::from_secs(5));
                }
            }
        }
    }
}

/// `VmRSS` of a `/proc/<pid>/status` file, in KiB.
pub fn rss_kib(status: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
