//! The stores tests, one binary (each module was its own test binary before the workspace split).

mod authorization_code_stores;
mod multinode;
mod outage_postgres;
mod store_memory;
mod store_postgres;
mod store_redis;
mod store_sqlite;
