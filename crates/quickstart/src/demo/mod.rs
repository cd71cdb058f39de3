//! The demo API shared by the `quickstart` and `resource_server` examples (and driven by
//! `crates/quickstart/tests/quickstart/demo_api.rs` over a real loopback server).
//!
//! | route | requirement |
//! |---|---|
//! | `GET /health` | public |
//! | `GET /api/user` | any valid token |
//! | `GET /api/posts` | `read-posts` (all-of) |
//! | `POST /api/posts` | `write-posts` (all-of) |
//! | `DELETE /api/posts/{id}` | `admin` (all-of) |
//! | `GET /api/orders` | `check-status` or `place-orders` (any-of) |
//! | `GET /api/m2m` | client-only |
#![allow(dead_code, unreachable_pub)]

pub mod callback;
pub mod config;
pub mod cors;
pub mod exit;
pub mod quickstart;
pub mod seed;
pub mod serve;
pub mod sign_in;
pub mod spa;

use axum::extract::Path;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use tower_passport::{
    token::PrincipalKind, BackendError, ConfigError, GuardLayer, Principal, RequireLayer, VerifiedToken,
    Verifier,
};

/// The revocation bus channels the quickstart publishes on and `resource_server` listens
/// on: Redis pub/sub, and PostgreSQL `LISTEN/NOTIFY`.
pub const REDIS_REVOCATION_CHANNEL: &str = "passport:revocations";
pub const POSTGRES_REVOCATION_CHANNEL: &str = "passport_revocations";

/// A demo user. Only subjects `1` and `2` exist; any other user token gets 401.
#[derive(Clone, Debug, Serialize)]
pub struct DemoUser {
    pub id: u64,
    pub name: &'static str,
}

/// Looks demo users up, as a real app would query its user table.
pub async fn find_user(token: VerifiedToken) -> Result<Option<DemoUser>, BackendError> {
    Ok(match token.subject() {
        Some("1") => Some(DemoUser { id: 1, name: "Taylor" }),
        Some("2") => Some(DemoUser { id: 2, name: "Abigail" }),
        _ => None,
    })
}

/// The guard of the demo API for tokens `verifier` accepts, resolving demo users.
pub fn guard(verifier: Verifier) -> Result<GuardLayer<DemoUser>, ConfigError> {
    GuardLayer::builder(verifier).realm("demo").resolver(find_user).build()
}

/// The demo API behind `guard` (any guard whose resolver yields [`DemoUser`]s).
pub fn router(guard: GuardLayer<DemoUser>) -> Router {
    let api = Router::new()
        .route("/user", get(current_user))
        .route(
            "/posts",
            get(list_posts).route_layer(RequireLayer::all_scopes(["read-posts"])).merge(
                axum::routing::post(create_post).route_layer(RequireLayer::all_scopes(["write-posts"])),
            ),
        )
        .route("/posts/{id}", delete(delete_post).route_layer(RequireLayer::all_scopes(["admin"])))
        .route(
            "/orders",
            get(list_orders).route_layer(RequireLayer::any_scope(["check-status", "place-orders"])),
        )
        .route("/m2m", get(machine_to_machine).route_layer(RequireLayer::client_only()))
        .route_layer(guard);
    Router::new().route("/health", get(health)).nest("/api", api)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn current_user(principal: Principal<DemoUser>) -> Json<Value> {
    let kind = match principal.kind() {
        PrincipalKind::User => "user",
        PrincipalKind::Client => "client",
    };
    Json(json!({
        "sub": principal.subject(),
        "client_id": principal.client_id(),
        "scopes": principal.scopes().iter().collect::<Vec<_>>(),
        "kind": kind,
        "user": principal.user(),
    }))
}

async fn list_posts(principal: Principal<DemoUser>) -> Json<Value> {
    Json(json!({ "posts": [{ "id": 1, "title": "Hello" }], "reader": principal.subject() }))
}

async fn create_post() -> (axum::http::StatusCode, Json<Value>) {
    (axum::http::StatusCode::CREATED, Json(json!({ "id": 2, "title": "Created" })))
}

async fn delete_post(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "deleted": id }))
}

async fn list_orders(principal: Principal<DemoUser>) -> Json<Value> {
    // Passport's tokenCan, inside the handler.
    let can_place = principal.can("place-orders");
    Json(json!({ "orders": [], "can_place_orders": can_place }))
}

async fn machine_to_machine(principal: Principal<DemoUser>) -> Json<Value> {
    Json(json!({ "client_id": principal.client_id(), "user": principal.user() }))
}
