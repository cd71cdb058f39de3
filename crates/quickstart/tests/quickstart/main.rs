//! The quickstart tests, one binary (each module was its own test binary before the workspace split).

mod demo_api;
mod interop_python;
mod quickstart;
mod quickstart_authorization;
mod quickstart_metrics;
mod quickstart_two_nodes;
mod resource_server;
