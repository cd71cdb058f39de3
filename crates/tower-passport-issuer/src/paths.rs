//! The issuer's endpoint paths, relative to where its HTTP front (`endpoint::OAuthServer`) is
//! mounted.
//!
//! The router matches them and the RFC 8414 metadata publishes them, so the two cannot
//! disagree; a mount prefix (`OAuthServer::mount_path`) is applied to both.
//!
//! ```
//! use tower_passport_issuer::paths;
//! assert_eq!(paths::TOKEN, "/oauth/token");
//! assert_eq!(paths::METADATA, "/.well-known/oauth-authorization-server");
//! ```

/// The authorization endpoint (RFC 6749 §3.1): the approval screen of the authorization
/// code grant, served once the HTTP front has a sign-in hook (`OAuthServer::sign_in`).
pub const AUTHORIZE: &str = "/oauth/authorize";
/// The token endpoint (RFC 6749 §3.2).
pub const TOKEN: &str = "/oauth/token";
/// The revocation endpoint (RFC 7009).
pub const REVOKE: &str = "/oauth/revoke";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECT: &str = "/oauth/introspect";
/// Passport's scope list (`GET /oauth/scopes`).
pub const SCOPES: &str = "/oauth/scopes";
/// Passport's personal-access-token API.
pub const PERSONAL_ACCESS_TOKENS: &str = "/oauth/personal-access-tokens";
/// Passport's authorized-tokens API.
pub const TOKENS: &str = "/oauth/tokens";
/// Passport's clients API.
pub const CLIENTS: &str = "/oauth/clients";
/// The device authorization endpoint (RFC 8628 §3.1), served once the HTTP front has a
/// sign-in hook (`OAuthServer::sign_in`).
pub const DEVICE_CODE: &str = "/oauth/device/code";
/// The device grant's verification page (RFC 8628 §3.3): where a signed-in user types the
/// code a device shows, and approves it.
pub const DEVICE: &str = "/oauth/device";
/// The JWKS of every published signing key.
pub const JWKS: &str = "/.well-known/jwks.json";
/// The RFC 8414 authorization server metadata.
pub const METADATA: &str = "/.well-known/oauth-authorization-server";
