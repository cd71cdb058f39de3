//! The refresh-token grant: rotation with reuse detection (the decision itself is
//! `store::rotation`; this file builds the request and reports the outcome).

use subtle::ConstantTimeEq;

use super::clients::AuthenticatedClient;
use super::events::IssuerEvent;
use super::secrets;
use super::{crypto, Issuer, Minting, OAuthError, TokenResponse};
use crate::legacy_refresh::{legacy_family_id, LegacyRedemption};
use crate::store::{GrantType, RefreshTokenRecord, Rotation, RotationOutcome, TokenStore};

impl Issuer {
    /// The refresh-token grant: atomically consumes the presented token and issues a new
    /// pair in the same family, revoking the old access token. Reusing a consumed token
    /// revokes the whole family, except inside the race window
    /// ([`IssuerBuilder::refresh_race_window`](super::IssuerBuilder::refresh_race_window)),
    /// where a concurrent duplicate gets `invalid_grant` and changes nothing. `scope` may
    /// narrow, never widen (RFC 6749 §6).
    ///
    /// # Errors
    /// `invalid_grant` for an unknown, expired, revoked, reused or foreign token, or one a
    /// concurrent request has just exchanged;
    /// `invalid_scope` for a wider scope; `unauthorized_client`; or 503.
    pub(super) async fn refresh_token_grant(
        &self,
        client: &AuthenticatedClient,
        refresh_token: &str,
        scope: Option<&str>,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::RefreshToken)?;
        let authenticated = client;
        let client = client.record();
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid");
        let Some((id, hash)) = secrets::parse_refresh_token(refresh_token) else {
            return self.legacy_refresh_grant(authenticated, refresh_token, scope, dpop_jkt, resources).await;
        };
        let presented = self.inner.store.refresh_token(id).await?.ok_or_else(invalid)?;
        if !presented.secret_hash.ct_eq(&hash) || presented.client_id != client.id {
            return Err(invalid());
        }
        // RFC 9449 §5: a refresh token bound to a DPoP key is refreshed with a proof of it.
        if let Some(bound) = presented.dpop_jkt.as_deref() {
            let proven = dpop_jkt.is_some_and(|jkt| bool::from(jkt.as_bytes().ct_eq(bound.as_bytes())));
            if !proven {
                return Err(OAuthError::invalid_grant("The refresh token is bound to another DPoP key"));
            }
        }
        let scopes = self.inner.scopes.narrow(&presented.scopes, scope)?;
        // RFC 8707 §2.2: a refresh may narrow the audience within what the grant covers.
        let targets = self.kept_grant_targets(client, &presented.resources, resources)?;
        let user_id = presented.user_id.as_deref();
        let grant = Minting {
            client_id: &client.id,
            user_id,
            provider: client.provider.as_deref(),
            scopes: &scopes,
            audiences: &targets.token,
            ttl: self.inner.access_ttl,
            dpop_jkt,
        };
        let now_millis = self.inner.clock.now_millis();
        // The new access token is decided (its `jti` and lifetime, which the store records)
        // but signed only once the store has let the presented token rotate: a reused,
        // raced or invalid token costs no signature.
        let planned = self.plan_access(&grant)?;
        let next = secrets::new_refresh_token().map_err(crypto)?;
        let now = planned.issued_at;
        let rotation = Rotation {
            presented_id: presented.id.clone(),
            presented_hash: hash,
            now,
            now_millis,
            race_millis: self.inner.race,
            grace_millis: self.inner.grace,
            // RFC 9700 §4.14.2: public clients' refresh tokens always rotate.
            consume: self.inner.rotate_refresh_tokens || !client.is_confidential(),
            revoke_previous_access: self.inner.revoke_access_on_refresh,
            next: RefreshTokenRecord {
                id: next.id.clone(),
                secret_hash: next.hash,
                family_id: presented.family_id.clone(),
                client_id: client.id.clone(),
                user_id: presented.user_id.clone(),
                // RFC 6749 §6: the new refresh token keeps the original scope.
                scopes: presented.scopes.clone(),
                resources: targets.granted.clone(),
                access_jti: planned.jti.clone(),
                issued_at: now,
                expires_at: now.saturating_add(self.inner.refresh_ttl),
                used_at: None,
                used_at_millis: None,
                revoked_at: None,
                dpop_jkt: presented.dpop_jkt.clone(),
            },
            next_access: Self::access_record(&grant, &planned, Some(&presented.family_id)),
        };
        match self.inner.store.rotate(rotation).await? {
            RotationOutcome::Rotated { revoked } | RotationOutcome::GraceReissued { revoked } => {
                self.record_revoked(&revoked);
                // Signed after the decision. Should signing fail now (a broken key or random
                // source), the rotation stands and the client gets an error; with a grace
                // window configured, the same refresh token presented again after the race
                // window gets a fresh pair.
                let minted = self.sign_access(&grant, planned)?;
                self.emit_access(&minted.planned, &client.id, user_id);
                self.emit(IssuerEvent::RefreshTokenCreated {
                    id: next.id,
                    family_id: presented.family_id.clone(),
                    client_id: client.id.clone(),
                });
                Ok(self.response(minted, Some(next.token), &scopes))
            }
            RotationOutcome::ReuseDetected { family_id, revoked } => {
                tracing::warn!(family_id = %family_id, client_id = %client.id, "refresh token reuse detected; family revoked");
                crate::telemetry::refresh_reuse();
                self.record_revoked(&revoked);
                self.emit(IssuerEvent::RefreshTokenReuseDetected {
                    family_id: family_id.clone(),
                    client_id: client.id.clone(),
                    user_id: presented.user_id.clone(),
                });
                self.emit(IssuerEvent::FamilyRevoked { family_id });
                Err(OAuthError::invalid_grant(
                    "The refresh token was already used; its grant has been revoked",
                ))
            }
            RotationOutcome::AlreadyRotated => {
                // Another request (a second tab) exchanged this token a moment ago: its new
                // pair, and the family, stay as they are.
                tracing::info!(client_id = %client.id, "refresh token already rotated by a concurrent request");
                Err(OAuthError::invalid_grant(
                    "The refresh token was just exchanged by another request; use the newest refresh token",
                ))
            }
            RotationOutcome::Invalid => Err(invalid()),
        }
    }

    /// A refresh token that is not the issuer's own: redeemed once by the
    /// [`LegacyRefreshTokens`](crate::LegacyRefreshTokens) configured, if any, starting a new
    /// family here for the same client, user and (at most the same) scopes.
    async fn legacy_refresh_grant(
        &self,
        client: &AuthenticatedClient,
        refresh_token: &str,
        scope: Option<&str>,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid");
        let Some(legacy) = self.inner.legacy_refresh.as_ref() else { return Err(invalid()) };
        let client = client.record();
        // Decrypting a legacy token can cost a key derivation: it shares the bound on
        // CPU-heavy checks with password checks (503 beyond).
        let permit = self.inner.password_checks.acquire()?;
        let redemption = legacy.redeem(refresh_token, &client.id).await;
        drop(permit);
        let grant = match redemption? {
            LegacyRedemption::Granted(grant) => grant,
            LegacyRedemption::Invalid => return Err(invalid()),
            LegacyRedemption::Spent { token_id } => {
                // A replay of a legacy token is reuse: the family its redemption started
                // (if it started one) goes, as for a replay of one of our own.
                let family_id = legacy_family_id(&token_id);
                let revoked = self.inner.store.revoke_family(&family_id, self.now()).await?;
                tracing::warn!(family_id = %family_id, client_id = %client.id, "legacy refresh token reuse detected; family revoked");
                crate::telemetry::refresh_reuse();
                self.record_revoked(&revoked);
                self.emit(IssuerEvent::RefreshTokenReuseDetected {
                    family_id: family_id.clone(),
                    client_id: client.id.clone(),
                    user_id: None,
                });
                self.emit(IssuerEvent::FamilyRevoked { family_id });
                return Err(OAuthError::invalid_grant(
                    "The refresh token was already used; its grant has been revoked",
                ));
            }
        };
        if grant.client_id != client.id {
            // The implementation should have said `Invalid`; never issue to another client.
            return Err(invalid());
        }
        let scopes = self.inner.scopes.narrow(&grant.scopes, scope)?;
        let targets = self.new_grant_targets(client, resources)?;
        tracing::info!(client_id = %client.id, "a legacy refresh token was redeemed; a new family starts");
        let family_id = Some(legacy_family_id(&grant.token_id));
        self.issue_with_refresh_in(client, &grant.user_id, &scopes, &targets, family_id, dpop_jkt).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tower_passport::clock::ManualClock;

    use crate::signing_key::signatures;
    use crate::store::{GrantType, MemoryStore};
    use crate::{AuthenticatedClient, ClientRegistration, Issuer, OAuthErrorCode, StaticUsers, TokenRequest};

    async fn issuer_and_client(clock: &ManualClock) -> (Issuer, AuthenticatedClient) {
        let issuer = Issuer::builder("https://auth.test", Arc::new(MemoryStore::new()))
            .audience("api")
            .clock(clock.clone())
            .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7").unwrap())
            .refresh_race_window(Duration::from_secs(5))
            .build()
            .unwrap();
        let web =
            ClientRegistration::confidential("Web").grants([GrantType::Password, GrantType::RefreshToken]);
        let registered = issuer.register_client(web).await.unwrap();
        let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned());
        let client = issuer.authenticate_client(&registered.client.id, secret.as_deref()).await.unwrap();
        (issuer, client)
    }

    /// Signatures made by `issuer.grant(request)` on this thread, with its outcome's error code.
    async fn signatures_made(issuer: &Issuer, request: TokenRequest) -> (usize, Option<OAuthErrorCode>) {
        let before = signatures::made();
        let outcome = issuer.grant(request).await;
        (signatures::made() - before, outcome.err().map(|error| error.code()))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refresh_signs_only_once_the_store_lets_the_token_rotate() {
        let clock = ManualClock::new(1_800_000_000);
        let (issuer, client) = issuer_and_client(&clock).await;
        let login = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await.unwrap();
        let first = login.refresh_token.unwrap();

        let rotated = TokenRequest::refresh_token(client.clone(), &first);
        assert_eq!(signatures_made(&issuer, rotated).await, (1, None), "a rotation signs its new token");

        // The same token again inside the race window: already rotated, nothing signed.
        let raced = TokenRequest::refresh_token(client.clone(), &first);
        assert_eq!(signatures_made(&issuer, raced).await, (0, Some(OAuthErrorCode::InvalidGrant)));

        // Past the window it is reuse: the family is revoked, and still nothing is signed.
        clock.advance(6);
        let reused = TokenRequest::refresh_token(client.clone(), &first);
        assert_eq!(signatures_made(&issuer, reused).await, (0, Some(OAuthErrorCode::InvalidGrant)));

        // A token of the right shape that the store does not know: nothing signed either.
        let unknown = format!("{}.{}", "a".repeat(22), "b".repeat(43));
        let unknown = TokenRequest::refresh_token(client, &unknown);
        assert_eq!(signatures_made(&issuer, unknown).await, (0, Some(OAuthErrorCode::InvalidGrant)));
    }
}
