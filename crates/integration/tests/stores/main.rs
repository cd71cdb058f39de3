//! The stores tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[macro_use]
#[path = "../code_conformance/mod.rs"]
mod code_conformance;
#[macro_use]
#[path = "../conformance/mod.rs"]
mod conformance;
#[macro_use]
#[path = "../device_conformance/mod.rs"]
mod device_conformance;
#[macro_use]
#[path = "../failure_conformance/mod.rs"]
mod failure_conformance;
#[path = "../support/issuer.rs"]
mod issuer_support;
#[path = "../support/nodes.rs"]
mod nodes;
#[path = "../faults/proxy.rs"]
mod proxy;

mod authorization_code_stores;
mod faults_bus;
mod faults_matrix;
mod faults_rig;
mod faults_sqlite;
mod multinode;
mod outage_postgres;
mod store_memory;
mod store_mysql;
mod store_postgres;
mod store_redis;
mod store_sqlite;
