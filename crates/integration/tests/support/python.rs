//! Python scripts from `tests/interop/`, run with the interpreter of the virtualenv `.ci/run`
//! builds (authlib and requests, pinned in `tests/interop/requirements.txt`), so a real OAuth
//! client library can be pointed at a server the test started.
//!
//! ```ignore
//! #[path = "support/python.rs"]
//! mod python;
//!
//! let Some(python) = python::Python::find() else { return };
//! let run = python.run("client_credentials.py", &[("PASSPORT_ISSUER", &url)]).await;
//! let result = run.json(); // the last line of its stdout, after asserting it succeeded
//! ```
//!
//! The interpreter is `PASSPORT_TEST_PYTHON` (which `.ci/run` exports), else
//! `target/interop-venv/bin/python` in the package. `find` answers `None`, with the reason
//! printed, when it is missing or cannot import the client library; under CI
//! (`PASSPORT_REQUIRE_BROWSER=1`, or `CI=true`) it panics instead.
#![allow(dead_code, unreachable_pub)]

use crate::tools;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one script may run before it is killed and the test fails.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The interpreter of the interop virtualenv.
#[derive(Debug, Clone)]
pub struct Python {
    interpreter: PathBuf,
}

/// What a script did.
#[derive(Debug)]
pub struct ScriptRun {
    /// The script's file name, for messages.
    pub script: String,
    /// How it exited.
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ScriptRun {
    /// Panics, showing both outputs, unless the script exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "{} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.script,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The JSON object the script printed last on stdout (the interop scripts' convention),
    /// after asserting that it succeeded.
    pub fn json(&self) -> Value {
        self.assert_success();
        let last = self.stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("");
        serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("{} printed no JSON last ({e}):\n{}", self.script, self.stdout))
    }
}

impl Python {
    /// The interop interpreter, if it is installed with the client library.
    pub fn find() -> Option<Self> {
        const WHAT: &str = "the Python interop test";
        let interpreter = std::env::var_os("PASSPORT_TEST_PYTHON").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv/bin/python"),
            PathBuf::from,
        );
        if !interpreter.is_file() {
            let reason = format!("no interpreter at {} (PASSPORT_TEST_PYTHON)", interpreter.display());
            return tools::unavailable(WHAT, reason);
        }
        match Command::new(&interpreter).args(["-c", "import authlib, requests"]).output() {
            Ok(probe) if probe.status.success() => Some(Self { interpreter }),
            Ok(probe) => {
                let stderr = String::from_utf8_lossy(&probe.stderr);
                let error = stderr.lines().last().unwrap_or("").trim().to_owned();
                tools::unavailable(
                    WHAT,
                    format!("{} cannot import authlib and requests: {error}", interpreter.display()),
                )
            }
            Err(e) => tools::unavailable(WHAT, format!("{} does not run: {e}", interpreter.display())),
        }
    }

    /// Runs `tests/interop/<script>` with `env` added to its environment and waits for it
    /// (on a blocking thread, so servers on the test's runtime keep answering it), killing
    /// it after [`SCRIPT_TIMEOUT`]. Proxy variables are removed: the script talks to loopback.
    pub async fn run(&self, script: &str, env: &[(&str, &str)]) -> ScriptRun {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../integration/tests/interop").join(script);
        let mut command = Command::new(&self.interpreter);
        command
            .arg(&path)
            .envs(env.iter().copied())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            command.env_remove(proxy);
        }
        let script = script.to_owned();
        tokio::task::spawn_blocking(move || run_to_end(command, script)).await.expect("the script's thread")
    }
}

fn run_to_end(mut command: Command, script: String) -> ScriptRun {
    let mut child = command.spawn().unwrap_or_else(|e| panic!("starting {script}: {e}"));
    // Both pipes are drained while the script runs, so a chatty one cannot block on them.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the script's status") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.join().unwrap_or_default();
            panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    ScriptRun {
        script,
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}
