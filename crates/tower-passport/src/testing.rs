//! Test helpers (feature `testing`; **for dev-dependencies only**, never in a release build):
//! Passport's `actingAs` and `actingAsClient`.
//!
//! (A throwaway issuer for tests that want the whole guard is
//! `tower_passport_issuer::testing::TestIssuer`.)
//!
//! [`acting_as`] and [`acting_as_client`] put exactly the [`Principal`](crate::Principal) a handler under
//! test should see into a request, as the guard would, without keys or JWTs: call
//! [`ActingAs::request`] on one request, or stack [`ActingAs`] as a layer in place of the
//! guard. Scope layers and extractors behind it behave as behind a real guard.
//!
//! ```toml
//! [dev-dependencies]
//! tower-passport = { version = "0.1", features = ["testing"] }
//! ```
//!
//! With axum's `Router::oneshot`:
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower::ServiceExt;
//! use tower_passport::testing::acting_as;
//! use tower_passport::{Principal, RequireLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! #[derive(Clone)]
//! struct User { name: &'static str }
//!
//! let app: Router = Router::new()
//!     .route("/orders", get(|p: Principal<User>| async move { p.user().map_or("", |u| u.name).to_owned() }))
//!     .route_layer(RequireLayer::all_scopes(["place-orders"]));
//!
//! let request = http::Request::get("/orders").body(axum::body::Body::empty()).unwrap();
//! let ok = app.clone().oneshot(acting_as(User { name: "Taylor" }, ["place-orders"]).request(request)).await.unwrap();
//! assert_eq!(ok.status(), 200);
//!
//! let request = http::Request::get("/orders").body(axum::body::Body::empty()).unwrap();
//! let forbidden = app.oneshot(acting_as(User { name: "Taylor" }, ["check-status"]).request(request)).await.unwrap();
//! assert_eq!(forbidden.status(), 403);
//! # }
//! ```

mod acting_as;

pub use acting_as::{acting_as, acting_as_client, ActingAs, ActingAsService};

mod dpop_prover;

pub use dpop_prover::DpopProver;
