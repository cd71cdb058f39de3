//! A throwaway issuer that mints real tokens, for tests that want the whole guard.

use std::fmt;

use crate::mint::{mint_stated, AccessClaims, Audience};
use crate::SigningKey;
use tower_passport::clock::{Clock, SystemClock};
use tower_passport::error::{ConfigError, ConfigErrorKind};
use tower_passport::keys::{Algorithm, KeySet};
use tower_passport::token::PrincipalKind;
use tower_passport::verify::Verifier;

/// Mints real, signed RFC 9068 access tokens with a key generated for the test, and builds the
/// [`Verifier`] that accepts them: the whole guard runs, with no key files.
///
/// Tokens live an hour from the system clock.
///
/// ```
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower_passport_issuer::testing::TestIssuer;
/// use tower_passport::{GuardLayer, RequireLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TestIssuer::new()?;
/// let service = ServiceBuilder::new()
///     .layer(GuardLayer::new(issuer.verifier()?))
///     .layer(RequireLayer::all_scopes(["read-posts"]))
///     .service_fn(|_req: http::Request<String>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) });
/// let token = issuer.user_token("1", ["read-posts"])?;
/// let request = http::Request::builder().header("authorization", format!("Bearer {token}")).body(String::new())?;
/// assert_eq!(service.oneshot(request).await?.status(), 200);
/// # Ok(())
/// # }
/// ```
pub struct TestIssuer {
    key: SigningKey,
    issuer: String,
    audience: String,
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TestIssuer {
    /// An ES256 key made now, issuer `https://tower-passport.test`, audience `test-api`.
    ///
    /// # Errors
    /// When key generation fails.
    pub fn new() -> Result<Self, ConfigError> {
        Ok(Self::with_signing_key(SigningKey::generate(Algorithm::ES256)?))
    }

    /// As [`new`](Self::new), signing with `key` instead of a fresh ES256 key: tokens of
    /// another algorithm, or of a key the test keeps.
    ///
    /// ```
    /// use tower_passport_issuer::testing::TestIssuer;
    /// use tower_passport_issuer::SigningKey;
    /// use tower_passport::Algorithm;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = TestIssuer::with_signing_key(SigningKey::generate(Algorithm::EdDSA)?);
    /// let token = issuer.client_token("billing", ["read"])?;
    /// assert_eq!(issuer.verifier()?.verify(&token)?.kind(), tower_passport::token::PrincipalKind::Client);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_signing_key(key: SigningKey) -> Self {
        Self { key, issuer: "https://tower-passport.test".into(), audience: "test-api".into() }
    }

    /// Sets the issuer (`iss`) the tokens carry and the verifier expects.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Sets the audience (`aud`) the tokens carry and the verifier expects.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// A verifier for these tokens (and no others).
    ///
    /// # Errors
    /// When the key cannot be loaded as a verifying key.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        Verifier::builder(KeySet::new().with_key(self.key.verifying_key()?))
            .issuer(self.issuer.as_str())
            .audience(self.audience.as_str())
            .build()
    }

    /// A user's token: `sub` = `subject`, issued to the client `test-client`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn user_token<I>(&self, subject: &str, scopes: I) -> Result<String, ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.mint(subject, "test-client", scopes, PrincipalKind::User)
    }

    /// A client's own token (client credentials): `sub` = `client_id`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn client_token<I>(&self, client_id: &str, scopes: I) -> Result<String, ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.mint(client_id, client_id, scopes, PrincipalKind::Client)
    }

    fn mint<I>(
        &self,
        subject: &str,
        client_id: &str,
        scopes: I,
        kind: PrincipalKind,
    ) -> Result<String, ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let now = SystemClock.now();
        let scope = scopes.into_iter().map(Into::into).collect::<Vec<String>>().join(" ");
        // Random, so two tokens minted in the same second never share a `jti` (revoking
        // one in a test must not revoke the other).
        let jti = crate::secrets::random_id()
            .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "no randomness for a test token id"))?;
        let audiences = [self.audience.clone()];
        let claims = AccessClaims {
            iss: &self.issuer,
            sub: subject,
            aud: Audience::of(&audiences),
            client_id,
            iat: now,
            exp: now.saturating_add(3600),
            jti: &jti,
            scope,
            provider: None,
            cnf: None,
        };
        mint_stated(&self.key, &claims, Some(kind))
            .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "the test token could not be signed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_minted_alike_in_one_second_have_distinct_ids() {
        let issuer = TestIssuer::new().expect("test issuer");
        let verifier = issuer.verifier().expect("verifier");
        let jti = |token: String| verifier.verify(&token).expect("valid").jti().map(str::to_owned);
        let first = jti(issuer.user_token("7", ["read"]).expect("token"));
        let second = jti(issuer.user_token("7", ["read"]).expect("token"));
        assert!(first.is_some());
        assert_ne!(first, second);
    }
}
