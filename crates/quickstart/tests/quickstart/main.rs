//! The quickstart tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../../src/demo/mod.rs"]
mod demo;
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;
#[path = "../../../integration/tests/support/issuer.rs"]
mod issuer_support;
#[path = "../../../integration/tests/jwks_server/mod.rs"]
mod jwks_server;
#[path = "../../../integration/tests/league/mod.rs"]
mod league;
#[path = "../../../integration/tests/support/process.rs"]
mod process;
#[path = "../../../integration/tests/support/python.rs"]
mod python;
// The resource server binary's own source, which declares its own `demo` module.
#[allow(clippy::duplicate_mod)]
#[path = "../../src/bin/resource_server.rs"]
mod server_binary;
#[path = "../../../integration/tests/support/mod.rs"]
mod support;
#[path = "../../../integration/tests/support/tools.rs"]
mod tools;
#[path = "../../../integration/tests/support/walkthrough.rs"]
mod walkthrough;

mod demo_api;
mod interop_python;
mod overload;
mod quickstart;
mod quickstart_authorization;
mod quickstart_two_nodes;
mod resource_server;
