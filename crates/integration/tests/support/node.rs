//! Node scripts from `tests/interop/node/`, run with the npm packages `.ci/run` installs
//! there (`npm ci`; oauth4webapi, openid-client, oidc-provider and jose, pinned in its
//! `package.json`), so a real OAuth library can be pointed at a server the test started.
//!
//! ```ignore
//! #[path = "../support/node.rs"]
//! mod node;
//!
//! let Some(node) = node::Node::find() else { return };
//! let result = node.run("resource_discovery.mjs", &[("PASSPORT_API", &url)]).await.json();
//! ```
//!
//! The packages are found in `PASSPORT_TEST_NODE_MODULES` (which `.ci/run` exports), else
//! in `tests/interop/node/node_modules`; scripts receive that directory in the same
//! variable and import through it. `find` answers `None`, with the reason printed, when
//! `node` or the packages are missing; under CI (`PASSPORT_REQUIRE_BROWSER=1`, or
//! `CI=true`) it panics instead. Shares the Python runner's process handling
//! (`python.rs`).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::python::{piped_to_loopback, run_to_end, ScriptRun};
use crate::tools;

/// `node` and the installed interop packages.
#[derive(Debug, Clone)]
pub struct Node {
    node: PathBuf,
    modules: PathBuf,
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node")
}

impl Node {
    /// Node and the packages, if both are installed.
    pub fn find() -> Option<Self> {
        const WHAT: &str = "the Node interop test";
        let modules = std::env::var_os("PASSPORT_TEST_NODE_MODULES")
            .map_or_else(|| scripts_dir().join("node_modules"), PathBuf::from);
        if !modules.join("oauth4webapi/package.json").is_file() {
            let reason = format!("no oauth4webapi in {} (PASSPORT_TEST_NODE_MODULES)", modules.display());
            return tools::unavailable(WHAT, reason);
        }
        let node =
            std::env::var_os("PASSPORT_TEST_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
        match Command::new(&node).arg("--version").output() {
            Ok(probe) if probe.status.success() => Some(Self { node, modules }),
            Ok(probe) => {
                tools::unavailable(WHAT, format!("{} --version failed: {}", node.display(), probe.status))
            }
            Err(e) => tools::unavailable(WHAT, format!("{} does not run: {e}", node.display())),
        }
    }

    /// Runs `tests/interop/node/<script>` with `env` added to its environment and waits
    /// for it (on a blocking thread, so servers on the test's runtime keep answering it),
    /// killing it after the runner's timeout. Proxy variables are removed: the script talks
    /// to loopback.
    pub async fn run(&self, script: &str, env: &[(&str, &str)]) -> ScriptRun {
        let mut command = Command::new(&self.node);
        command
            .arg(scripts_dir().join(script))
            .current_dir(scripts_dir())
            .envs(env.iter().copied())
            .env("PASSPORT_TEST_NODE_MODULES", &self.modules);
        piped_to_loopback(&mut command);
        let script = script.to_owned();
        tokio::task::spawn_blocking(move || run_to_end(command, script)).await.expect("the script's thread")
    }
}
