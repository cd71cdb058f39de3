//! The browser tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../../../integration/tests/support/browser.rs"]
mod browser;
#[path = "../../src/demo/mod.rs"]
mod demo;
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;
#[path = "../../../integration/tests/support/tools.rs"]
mod tools;

mod browser_authorization;
mod browser_device;
mod browser_first_party_cookie;
mod browser_smoke;
