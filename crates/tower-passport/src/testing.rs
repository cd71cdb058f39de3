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

/// Fills `verifier`'s verified-token cache fast, for measuring a hit among many cached tokens.
///
/// It verifies `token` in full, caches it, and caches the same verified answer under each
/// of `aliases` as if each had been verified too (the `warm_cached_1m` instruction count).
/// Returns how many aliases were cached (none without a cache).
///
/// The cache then answers for strings nobody signed: that is the point (a million real
/// verifications take hours under valgrind), and the reason this exists only with the
/// `testing` feature. Never present an alias as a credential in a test of anything else.
///
/// # Errors
/// `token`'s own refusal.
pub fn cache_as_verified(
    verifier: &crate::Verifier,
    token: &str,
    aliases: impl IntoIterator<Item = String>,
) -> Result<usize, crate::AuthError> {
    verifier.cache_as_verified(token, &mut aliases.into_iter())
}

#[cfg(test)]
mod tests {
    use crate::{Algorithm, KeySet, Verifier, VerifyingKey};

    const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!!";

    fn verifier(cached: bool) -> Verifier {
        let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
        let builder = Verifier::builder(keys).issuer("https://auth.example.com").audience("api");
        if cached { builder } else { builder.no_cache() }.build().unwrap()
    }

    fn token(exp_from_now: i64) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        let claims = serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42",
            "exp": now.saturating_add_signed(exp_from_now)});
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap()
    }

    #[test]
    fn cached_aliases_are_answered_as_the_verified_token() {
        let verifier = verifier(true);
        let token = token(600);
        let aliases: Vec<String> = (0..3).map(|i| format!("alias-{i}")).collect();
        assert_eq!(super::cache_as_verified(&verifier, &token, aliases.clone()).ok(), Some(3));
        for alias in &aliases {
            let verified = verifier.verify(alias).expect("an alias is a cache hit");
            assert_eq!(verified.subject(), Some("42"));
        }
        assert!(verifier.verify("alias-3").is_err(), "only the aliases given are cached");
    }

    #[test]
    fn a_refused_token_caches_nothing() {
        let verifier = verifier(true);
        assert!(super::cache_as_verified(&verifier, &token(-600), ["alias".to_owned()]).is_err());
        assert!(verifier.verify("alias").is_err());
    }

    #[test]
    fn without_a_cache_nothing_is_cached() {
        let verifier = verifier(false);
        assert_eq!(super::cache_as_verified(&verifier, &token(600), ["alias".to_owned()]).ok(), Some(0));
        assert!(verifier.verify("alias").is_err());
    }
}
