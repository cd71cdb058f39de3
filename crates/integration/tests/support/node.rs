//! Node scripts from `tests/interop/node/`, run with Node and the npm packages `.ci/run`
//! installs there (`npm ci`: openid-client, oauth4webapi, jose, oidc-provider, pinned in its
//! `package.json`), so a real client library can be pointed at a server the test started.
//!
//! ```ignore
//! #[path = "support/node.rs"]
//! mod node;
//!
//! let Some(node) = node::Node::find() else { return };
//! let printed = node.run("device_flow.mjs", &[("PASSPORT_ISSUER", &url)]).await; // its last JSON line
//! ```
//!
//! The packages are found through `PASSPORT_TEST_NODE_MODULES` (which `.ci/run` exports), else
//! `tests/interop/node/node_modules`; Node is `node` on the `PATH`. `find` answers `None`, with
//! the reason printed, when either is missing; under CI (`PASSPORT_REQUIRE_BROWSER=1`, or
//! `CI=true`) it panics instead.
#![allow(dead_code, unreachable_pub)]

use crate::tools;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

/// How long one script may run before it is killed and the test fails.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Node, with the interop packages.
#[derive(Debug, Clone)]
pub struct Node {
    node_modules: PathBuf,
}

/// The directory of the scripts and their `package.json`.
fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node")
}

impl Node {
    /// Node and the interop packages, if both are installed.
    pub fn find() -> Option<Self> {
        const WHAT: &str = "the Node interop test";
        let node_modules = std::env::var_os("PASSPORT_TEST_NODE_MODULES")
            .map_or_else(|| scripts_dir().join("node_modules"), PathBuf::from);
        if !node_modules.join("openid-client/package.json").is_file() {
            let reason =
                format!("no openid-client in {} (PASSPORT_TEST_NODE_MODULES)", node_modules.display());
            return tools::unavailable(WHAT, reason);
        }
        match std::process::Command::new("node").arg("--version").output() {
            Ok(version) if version.status.success() => Some(Self { node_modules }),
            Ok(version) => tools::unavailable(WHAT, format!("node --version failed: {}", version.status)),
            Err(e) => tools::unavailable(WHAT, format!("node does not run: {e}")),
        }
    }

    /// Runs `tests/interop/node/<script>` with `env` added to its environment (proxy variables
    /// removed: it talks to loopback), and answers the JSON object it printed last, after
    /// asserting that it exited 0 within [`SCRIPT_TIMEOUT`].
    ///
    /// ES modules resolve packages only from `node_modules` directories above the script, so
    /// the script runs from a directory of its own under the target's temporary directory,
    /// beside a link to the packages.
    pub async fn run(&self, script: &str, env: &[(&str, &str)]) -> Value {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("node-interop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the script");
        let link = dir.join("node_modules");
        #[cfg(unix)]
        match std::os::unix::fs::symlink(&self.node_modules, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => panic!("linking node_modules: {e}"),
            _ => {}
        }
        std::fs::copy(scripts_dir().join(script), dir.join(script)).expect("copy the script");
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
