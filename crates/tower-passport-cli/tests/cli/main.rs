//! The cli tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../../../quickstart/src/demo/mod.rs"]
mod demo;

mod cli;
