//! Node scripts from `tests/interop/node/`, run against the npm packages `.ci/run` installs
//! there (`npm ci`: jose, oauth4webapi, openid-client, oidc-provider, pinned in its
//! `package.json`), so a real JOSE library or OAuth client can be pointed at a server the
//! test started.
//!
//! ```ignore
//! #[path = "../support/node.rs"]
//! mod node;
//!
//! let Some(node) = node::Node::find() else { return };
//! let result = node.run("dpop_guard.mjs", &[("PASSPORT_API", &url)]).await; // its last JSON line
//! ```
//!
//! The packages are `PASSPORT_TEST_NODE_MODULES` (which `.ci/run` exports), else the
//! `node_modules` beside `package.json`. ES modules resolve packages from the script's own
//! directory, so each run copies the script into a fresh directory beside a link to them.
//! `find` answers `None`, with the reason printed, when node or a package is missing; under
//! CI (`PASSPORT_REQUIRE_BROWSER=1`, or `CI=true`) it panics instead.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::tools;

/// How long one script may run before it is killed and the test fails.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The packages every script may import.
const PACKAGES: [&str; 3] = ["jose", "oauth4webapi", "openid-client"];

/// Node, with the interop packages.
#[derive(Debug, Clone)]
pub struct Node {
    modules: PathBuf,
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node")
}

impl Node {
    /// Node and the interop packages, if both are installed.
    pub fn find() -> Option<Self> {
        const WHAT: &str = "the Node interop test";
        let modules = std::env::var_os("PASSPORT_TEST_NODE_MODULES")
            .map_or_else(|| scripts_dir().join("node_modules"), PathBuf::from);
        if let Some(missing) =
            PACKAGES.iter().find(|package| !modules.join(package).join("package.json").is_file())
        {
            let reason =
                format!("no {missing} in {} (PASSPORT_TEST_NODE_MODULES; `npm ci`)", modules.display());
            return tools::unavailable(WHAT, reason);
        }
        match std::process::Command::new("node").arg("--version").output() {
            Ok(probe) if probe.status.success() => Some(Self { modules }),
            Ok(probe) => tools::unavailable(WHAT, format!("node --version failed: {}", probe.status)),
            Err(e) => tools::unavailable(WHAT, format!("node does not run: {e}")),
        }
    }

    /// Runs `tests/interop/node/<script>` with `env` added to its environment and returns
    /// the JSON object it printed last on stdout, after asserting that it exited 0 within
    /// [`SCRIPT_TIMEOUT`]. Proxy variables are removed: the script talks to loopback.
    pub async fn run(&self, script: &str, env: &[(&str, &str)]) -> Value {
        let dir = tools::target_dir().join("tmp").join(format!("node-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).expect("a directory for the script");
        std::fs::copy(scripts_dir().join(script), dir.join(script)).expect("the script copied");
        std::os::unix::fs::symlink(&self.modules, dir.join("node_modules")).expect("node_modules linked");
        let mut command = tokio::process::Command::new("node");
        command
            .arg(dir.join(script))
            .current_dir(&dir)
            .envs(env.iter().copied())
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            command.env_remove(proxy);
        }
        let output = tokio::time::timeout(SCRIPT_TIMEOUT, command.output())
            .await
            .unwrap_or_else(|_| panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}"))
            .unwrap_or_else(|e| panic!("starting {script}: {e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let (stdout, stderr) =
            (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(
            output.status.success(),
            "{script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
        let last = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("");
        serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("{script} printed no JSON last ({e}):\n{stdout}"))
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
