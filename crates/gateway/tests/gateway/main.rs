//! The gateway over loopback: in front of a real upstream test server (`proxy`), behind a
//! real nginx (`nginx`), and its configuration file (`config`).

mod config;
mod forward_auth;
mod nginx;
mod proxy;
mod support;
