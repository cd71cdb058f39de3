//! The browser tests, one binary (each module was its own test binary before the workspace split).

/// The quickstart run in this process, declared once: it installs the process's metrics
/// recorder, so every module must share one copy.
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;

mod browser_authorization;
mod browser_first_party_cookie;
mod browser_smoke;
