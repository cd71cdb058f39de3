//! The issuer's API, without HTTP: grants, refresh rotation and reuse detection, scopes,
//! clients, personal access tokens, purge, key rotation, RFC 7009 revocation and RFC 7662
//! introspection, store failures and secret handling. Issued tokens are cross-checked
//! with jsonwebtoken (an independent JWT implementation) and with this crate's guard.

use crate::issuer_support as support;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};
use support::{
    claims, header, scopes, through_guard, thumbprint, verify_with_jsonwebtoken, AUDIENCE, ISSUER, NOW,
};
use tower_passport::error::Reason;
use tower_passport::revocation::RevocationList;
use tower_passport::{
    clock::ManualClock, guard::TokenOnly, token::PrincipalKind, Algorithm, BackendError, GuardLayer,
};
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientSecretHash, ClientStore, ClientTokens,
    ClientUpdate, CodeRedemption, CodeStore, FamilyRecord, GrantType, IssuedFromCode, MemoryStore, Purge,
    PurgeCounts, PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation,
    RotationOutcome, SecretHash, SettingsStore, StoreError, TokenStore,
};
use tower_passport_issuer::{
    AuthAttempt, AuthLimiter, AuthenticatedClient, ClientRegistration, ClientSecret, Issuer, IssuerBuilder,
    IssuerError, IssuerErrorKind, IssuerEvent, NoLimit, OAuthError, OAuthErrorCode, ScopeRegistry,
    SigningKey, StaticUsers, TokenRequest, TokenResponse, TokenTypeHint, Verdict,
};

const DAY: u64 = 24 * 3600;
const REVOKED: &str = "The access token was revoked";
/// Seconds past the default race window (3 s): a rotated refresh token that comes back
/// this late is reuse.
const PAST_THE_RACE_WINDOW: u64 = 4;

// ---- helpers ----------------------------------------------------------------------------

fn users() -> StaticUsers {
    StaticUsers::new(1_000)
        .user("taylor@example.com", "password123", "1")
        .expect("user")
        .user("abigail@example.com", "secret456", "2")
        .expect("user")
}

/// An issuer on a manual clock over a fresh memory store, with the test scopes.
fn builder(clock: &ManualClock) -> IssuerBuilder {
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
}

/// The same, with the password grant enabled.
fn password_issuer(clock: &ManualClock) -> Issuer {
    builder(clock).enable_password_grant(users()).build().expect("issuer")
}

/// Registers a client and authenticates it, as the token endpoint would.
async fn register(issuer: &Issuer, registration: ClientRegistration) -> AuthenticatedClient {
    let registered = issuer.register_client(registration).await.expect("registered");
    let secret = registered.secret.as_ref().map(ClientSecret::expose);
    issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated")
}

/// A confidential first-party app that may use every grant.
async fn app(issuer: &Issuer) -> AuthenticatedClient {
    register(
        issuer,
        ClientRegistration::confidential("App").grants([
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::RefreshToken,
        ]),
    )
    .await
}

async fn login(issuer: &Issuer, client: &AuthenticatedClient, scope: Option<&str>) -> TokenResponse {
    let mut request = TokenRequest::password(client.clone(), "taylor@example.com", "password123");
    request.scope = scope.map(str::to_owned);
    issuer.grant(request).await.expect("password grant")
}

/// The kind of an admin call's error, if it failed.
fn kind<T>(outcome: &Result<T, IssuerError>) -> Option<IssuerErrorKind> {
    outcome.as_ref().err().map(IssuerError::kind)
}

fn refresh_of(tokens: &TokenResponse) -> String {
    tokens.refresh_token.clone().expect("a refresh token")
}

/// The lookup id of a refresh token (the part before the dot).
fn refresh_id(token: &str) -> &str {
    token.split_once('.').expect("id.secret").0
}

fn jti(token: &str) -> String {
    claims(token)["jti"].as_str().expect("jti").to_owned()
}

fn code<T: std::fmt::Debug>(result: Result<T, OAuthError>) -> OAuthErrorCode {
    result.expect_err("an OAuth error").code()
}

fn drain(events: &mut tower_passport_issuer::IssuerEvents) -> Vec<IssuerEvent> {
    std::iter::from_fn(|| events.try_recv().ok()).collect()
}

/// The typed issuer answers (introspection, JWKS, metadata) as JSON, as they go on the wire.
fn json_of<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).expect("serializes")
}

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// The guard as an API would mount it: the issuer's verifier and revocation list.
fn revocation_guard(issuer: &Issuer) -> GuardLayer {
    GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().expect("guard")
}

async fn family_of(issuer: &Issuer, refresh_token: &str) -> FamilyRecord {
    let record =
        issuer.store().refresh_token(refresh_id(refresh_token)).await.expect("store").expect("record");
    issuer.store().family(&record.family_id).await.expect("store").expect("family")
}

// ---- client credentials ---------------------------------------------------------------

#[tokio::test]
async fn client_credentials_token_is_an_rfc9068_jwt_whose_kid_is_the_key_thumbprint() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing").id("billing")).await;
    let tokens = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read-posts check-status"))
        .await
        .expect("tokens");

    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 3600);
    assert_eq!(tokens.refresh_token, None);
    assert_eq!(tokens.scope, "check-status read-posts");

    let jwks = json_of(issuer.jwks());
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "EC");
    let header = header(&tokens.access_token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], thumbprint(&keys[0]));
    assert_eq!(header["kid"], keys[0]["kid"]);

    let claims = claims(&tokens.access_token);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "billing");
    assert_eq!(claims["client_id"], "billing");
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 3600);
    assert_eq!(claims["scope"], "check-status read-posts");
    assert_eq!(claims["jti"].as_str().expect("jti").len(), 22, "128 random bits, base64url");
    let names: BTreeSet<&str> = claims.as_object().expect("object").keys().map(String::as_str).collect();
    // `idtyp` says it is the client's own token (RFC 9700 §4.15), so no user can pass as it.
    assert_eq!(
        names,
        BTreeSet::from(["aud", "client_id", "exp", "iat", "idtyp", "iss", "jti", "scope", "sub"])
    );
    assert_eq!(claims["idtyp"], "app");
}

/// Generated client ids and `jti`s never start with `-`, so an operator can pass any of them
/// to `passport client --revoke` or `passport token --revoke` without it being read as a
/// flag. Without the rule, one id in 64 would: about 31 of these 2 000 of each.
#[tokio::test]
async fn generated_client_ids_and_jtis_never_start_with_a_dash() {
    let issuer = builder(&ManualClock::new(NOW)).build().expect("issuer");
    for _ in 0..2_000 {
        let client =
            register(&issuer, ClientRegistration::confidential("App").grants([GrantType::ClientCredentials]))
                .await;
        assert!(!client.id.starts_with('-'), "client id {}", client.id);
        let token =
            issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("token").access_token;
        let jti = jti(&token);
        assert!(!jti.starts_with('-'), "jti {jti}");
    }
}

#[tokio::test]
async fn every_key_type_gets_its_rfc7638_thumbprint_as_kid() {
    for algorithm in [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA] {
        let key = SigningKey::generate(algorithm).expect("key");
        assert_eq!(key.kid(), thumbprint(key.public_jwk()), "{algorithm}");
        let clock = ManualClock::new(NOW);
        let issuer = builder(&clock).signing_key(key).build().expect("issuer");
        let jwk = &json_of(issuer.jwks())["keys"][0];
        assert_eq!(jwk["kid"], thumbprint(jwk), "{algorithm}");
        assert_eq!(jwk["alg"], algorithm.name());
        assert_eq!(jwk["use"], "sig");
        let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
        let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
        assert_eq!(header(&tokens.access_token)["kid"], thumbprint(jwk), "{algorithm}");
        assert_eq!(header(&tokens.access_token)["alg"], algorithm.name());
    }
}

#[tokio::test]
async fn client_credentials_lifetime_can_be_configured() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).access_token_ttl(Duration::from_secs(900)).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(tokens.expires_in, 900);
    assert_eq!(claims(&tokens.access_token)["exp"], NOW + 900);
}

#[tokio::test]
async fn client_credentials_is_refused_to_a_client_without_that_grant() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client =
        register(&issuer, ClientRegistration::confidential("Refresher").grants([GrantType::RefreshToken]))
            .await;
    assert_eq!(
        code(issuer.grant(TokenRequest::client_credentials(client.clone())).await),
        OAuthErrorCode::UnauthorizedClient
    );
}

async fn assert_jsonwebtoken_verifies(algorithm: Algorithm, expected: jsonwebtoken::Algorithm) {
    // jsonwebtoken checks `exp` against the system clock: use the issuer's default clock.
    let issuer = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .signing_key(SigningKey::generate(algorithm).expect("key"))
        .build()
        .expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing").id("billing")).await;
    let tokens = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read-posts"))
        .await
        .expect("tokens");
    let claims = verify_with_jsonwebtoken(&json_of(issuer.jwks()), &tokens.access_token, expected)
        .expect("jsonwebtoken");
    assert_eq!(claims["sub"], "billing");
    assert_eq!(claims["scope"], "read-posts");

    // A flipped signature byte is refused by jsonwebtoken too: it really checks.
    let (signing_input, signature) = tokens.access_token.rsplit_once('.').expect("jws");
    let mut bytes = signature.as_bytes().to_vec();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let forged = format!("{signing_input}.{}", String::from_utf8(bytes).expect("ascii"));
    assert!(verify_with_jsonwebtoken(&json_of(issuer.jwks()), &forged, expected).is_err());
}

#[tokio::test]
async fn es256_tokens_verify_with_jsonwebtoken_from_the_published_jwks() {
    assert_jsonwebtoken_verifies(Algorithm::ES256, jsonwebtoken::Algorithm::ES256).await;
}

#[tokio::test]
async fn rs256_tokens_verify_with_jsonwebtoken_from_the_published_jwks() {
    assert_jsonwebtoken_verifies(Algorithm::RS256, jsonwebtoken::Algorithm::RS256).await;
}

#[tokio::test]
async fn eddsa_tokens_verify_with_jsonwebtoken_from_the_published_jwks() {
    assert_jsonwebtoken_verifies(Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA).await;
}

#[tokio::test]
async fn the_default_signing_key_is_es256() {
    let issuer =
        Issuer::builder(ISSUER, Arc::new(MemoryStore::new())).audience(AUDIENCE).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(header(&tokens.access_token)["alg"], "ES256");
    verify_with_jsonwebtoken(&json_of(issuer.jwks()), &tokens.access_token, jsonwebtoken::Algorithm::ES256)
        .expect("jsonwebtoken");
}

#[tokio::test]
async fn issued_tokens_pass_the_crates_own_verifier_and_guard() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;

    let machine = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("check-status"))
        .await
        .expect("tokens");
    let verified = issuer.verifier().verify(&machine.access_token).expect("verifies");
    assert_eq!(verified.kind(), PrincipalKind::Client);
    assert_eq!(verified.client_id(), Some(client.id.as_str()));
    assert!(verified.scopes().can("check-status"));

    let user = login(&issuer, &client, Some("read-posts")).await;
    let verified = issuer.verifier().verify(&user.access_token).expect("verifies");
    assert_eq!(verified.kind(), PrincipalKind::User);
    assert_eq!(verified.subject(), Some("1"));

    let guard = revocation_guard(&issuer);
    let answer = through_guard(&guard, &machine.access_token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["client"], true);
    let answer = through_guard(&guard, &user.access_token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["sub"], "1");
    assert_eq!(answer.json()["client_id"], client.id);
}

#[tokio::test]
async fn issuing_emits_access_token_created() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let mut events = issuer.subscribe();
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(
        drain(&mut events),
        [IssuerEvent::AccessTokenCreated {
            jti: jti(&tokens.access_token),
            client_id: client.id.clone(),
            user_id: None
        }]
    );
}

// ---- password grant -------------------------------------------------------------------

#[tokio::test]
async fn password_grant_is_off_by_default() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = app(&issuer).await;
    let result =
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123")).await;
    assert_eq!(code(result), OAuthErrorCode::UnsupportedGrantType);
}

#[tokio::test]
async fn password_grant_issues_a_user_token_and_a_refresh_token() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let tokens = login(&issuer, &client, Some("read-posts")).await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 3600);
    assert_eq!(tokens.scope, "read-posts");
    let refresh = refresh_of(&tokens);
    assert_eq!(refresh.len(), 22 + 1 + 43);
    let claims = claims(&tokens.access_token);
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["client_id"], client.id);
    let record = issuer.store().refresh_token(refresh_id(&refresh)).await.expect("store").expect("record");
    assert_eq!(record.user_id.as_deref(), Some("1"));
    assert_eq!(record.access_jti, jti(&tokens.access_token));
    assert_eq!(record.expires_at, NOW + 30 * DAY);
}

#[tokio::test]
async fn password_grant_without_the_refresh_grant_issues_no_refresh_token() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client =
        register(&issuer, ClientRegistration::confidential("Migrator").grants([GrantType::Password])).await;
    let tokens = login(&issuer, &client, None).await;
    assert_eq!(tokens.refresh_token, None);
    assert_eq!(claims(&tokens.access_token)["sub"], "1");
}

#[tokio::test]
async fn password_grant_refuses_wrong_passwords_and_unknown_users_alike() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let wrong =
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "password124")).await;
    let wrong = wrong.expect_err("wrong password");
    let unknown =
        issuer.grant(TokenRequest::password(client.clone(), "nobody@example.com", "password123")).await;
    let unknown = unknown.expect_err("unknown user");
    assert_eq!(wrong.code(), OAuthErrorCode::InvalidGrant);
    assert_eq!(wrong, unknown, "the answer does not tell unknown users from wrong passwords");
}

#[tokio::test]
async fn password_grant_is_unauthorized_for_a_client_without_it() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client =
        register(&issuer, ClientRegistration::confidential("Billing").grants([GrantType::ClientCredentials]))
            .await;
    let result =
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123")).await;
    assert_eq!(code(result), OAuthErrorCode::UnauthorizedClient);
}

#[tokio::test]
async fn password_grant_accepts_a_closure_provider() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(|username: String, password: String| async move {
            Ok::<_, BackendError>((username == "ada" && password == "lovelace").then(|| "42".to_owned()))
        })
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let tokens =
        issuer.grant(TokenRequest::password(client.clone(), "ada", "lovelace")).await.expect("tokens");
    assert_eq!(claims(&tokens.access_token)["sub"], "42");
    assert!(tokens.refresh_token.is_some());
    assert_eq!(
        code(issuer.grant(TokenRequest::password(client.clone(), "ada", "babbage")).await),
        OAuthErrorCode::InvalidGrant
    );
}

#[tokio::test]
async fn a_failing_user_provider_is_temporarily_unavailable() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(|_: String, _: String| async move {
            Err::<Option<String>, _>(BackendError::msg("directory unreachable"))
        })
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let error =
        issuer.grant(TokenRequest::password(client.clone(), "ada", "lovelace")).await.expect_err("fails");
    assert_eq!(error.code(), OAuthErrorCode::TemporarilyUnavailable);
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!error.description().contains("unreachable"), "backend details stay in the logs");
}

// ---- refresh rotation -----------------------------------------------------------------

#[tokio::test]
async fn refresh_rotates_to_a_new_pair_in_the_same_family() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let first = login(&issuer, &client, Some("read-posts")).await;
    let old_refresh = refresh_of(&first);
    let family = family_of(&issuer, &old_refresh).await;

    clock.advance(60);
    let mut events = issuer.subscribe();
    let second =
        issuer.grant(TokenRequest::refresh_token(client.clone(), &old_refresh)).await.expect("refreshed");
    let new_refresh = refresh_of(&second);
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.scope, "read-posts");
    assert_eq!(claims(&second.access_token)["sub"], "1");
    assert_eq!(claims(&second.access_token)["iat"], NOW + 60);

    let store = issuer.store();
    let old = store.refresh_token(refresh_id(&old_refresh)).await.expect("store").expect("old record");
    let new = store.refresh_token(refresh_id(&new_refresh)).await.expect("store").expect("new record");
    assert_eq!(old.used_at, Some(NOW + 60));
    assert_eq!(new.family_id, family.id);
    assert_eq!(new.used_at, None);
    assert_eq!(new.access_jti, jti(&second.access_token));
    let family = family_of(&issuer, &new_refresh).await;
    assert_eq!(family.current, new.id);
    assert_eq!(family.previous.as_deref(), Some(old.id.as_str()));
    assert_eq!(family.revoked_at, None);

    let events = drain(&mut events);
    assert!(events.contains(&IssuerEvent::RefreshTokenCreated {
        id: new.id.clone(),
        family_id: family.id.clone(),
        client_id: client.id.clone(),
    }));
    assert!(events.contains(&IssuerEvent::AccessTokenRevoked { jti: jti(&first.access_token) }));
}

#[tokio::test]
async fn refresh_revokes_the_previous_access_token() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    assert_eq!(through_guard(&guard, &first.access_token).await.status, StatusCode::OK);

    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    assert!(issuer.revocation_list().is_revoked(&jti(&first.access_token)).await.expect("answer"));
    through_guard(&guard, &first.access_token).await.assert_invalid_token(REVOKED);
    assert_eq!(through_guard(&guard, &second.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_can_keep_the_previous_access_token() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .revoke_access_token_on_refresh(false)
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    assert!(!issuer.revocation_list().is_revoked(&jti(&first.access_token)).await.expect("answer"));
    assert_eq!(through_guard(&guard, &first.access_token).await.status, StatusCode::OK);
    assert_eq!(through_guard(&guard, &second.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let family_id = family_of(&issuer, &refresh_of(&first)).await.id;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    assert_eq!(through_guard(&guard, &second.access_token).await.status, StatusCode::OK);

    clock.advance(5);
    let mut events = issuer.subscribe();
    let reuse = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(reuse), OAuthErrorCode::InvalidGrant);

    // The newest refresh token died with its family, and so did the live access token.
    let newest = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second))).await;
    assert_eq!(code(newest), OAuthErrorCode::InvalidGrant);
    through_guard(&guard, &second.access_token).await.assert_invalid_token(REVOKED);
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, Some(NOW + 5));

    let events = drain(&mut events);
    assert!(events.contains(&IssuerEvent::RefreshTokenReuseDetected {
        family_id: family_id.clone(),
        client_id: client.id.clone(),
        user_id: Some("1".into()),
    }));
    assert!(events.contains(&IssuerEvent::FamilyRevoked { family_id }));
    assert!(events.contains(&IssuerEvent::AccessTokenRevoked { jti: jti(&second.access_token) }));
}

#[tokio::test]
async fn reuse_revokes_every_live_access_token_of_the_family() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .revoke_access_token_on_refresh(false)
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    let third = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second)))
        .await
        .expect("refreshed");
    let unrelated = login(&issuer, &client, None).await;
    for tokens in [&first, &second, &third] {
        assert_eq!(through_guard(&guard, &tokens.access_token).await.status, StatusCode::OK);
    }

    let reuse = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(reuse), OAuthErrorCode::InvalidGrant);
    for tokens in [&first, &second, &third] {
        through_guard(&guard, &tokens.access_token).await.assert_invalid_token(REVOKED);
    }
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&third))).await),
        OAuthErrorCode::InvalidGrant
    );
    // Another grant of the same user is another family: untouched.
    assert_eq!(through_guard(&guard, &unrelated.access_token).await.status, StatusCode::OK);
    issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&unrelated)))
        .await
        .expect("other family lives");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_have_exactly_one_winner() {
    const RACERS: usize = 64;
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let refresh = refresh_of(&login(&issuer, &client, None).await);
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|_| {
            let (issuer, client, refresh, start) =
                (issuer.clone(), client.clone(), refresh.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        match racer.await.expect("task") {
            Ok(tokens) => {
                winners += 1;
                assert!(tokens.refresh_token.is_some());
            }
            Err(error) => assert_eq!(error.code(), OAuthErrorCode::InvalidGrant),
        }
    }
    assert_eq!(winners, 1);
}

// ---- grace window ---------------------------------------------------------------------

#[tokio::test]
async fn without_a_grace_window_an_immediate_reuse_revokes_the_family() {
    let clock = ManualClock::new(NOW);
    // Strict: no race window either.
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .refresh_race_window(Duration::ZERO)
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    // Same second: a client retrying a lost response.
    let retry = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(retry), OAuthErrorCode::InvalidGrant);
    assert!(family_of(&issuer, &refresh_of(&second)).await.revoked_at.is_some());
    let newest = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second))).await;
    assert_eq!(code(newest), OAuthErrorCode::InvalidGrant);
}

fn grace_issuer(clock: &ManualClock) -> Issuer {
    builder(clock)
        .enable_password_grant(users())
        .refresh_grace_window(Duration::from_secs(30))
        .build()
        .expect("issuer")
}

#[tokio::test]
async fn within_the_grace_window_the_previous_token_gets_a_fresh_pair_in_the_same_family() {
    let clock = ManualClock::new(NOW);
    let issuer = grace_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let family_id = family_of(&issuer, &refresh_of(&first)).await.id;
    let _lost = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");

    clock.advance(10);
    let mut events = issuer.subscribe();
    let retried = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("within grace");
    let family = family_of(&issuer, &refresh_of(&retried)).await;
    assert_eq!(family.id, family_id);
    assert_eq!(family.revoked_at, None);
    assert_eq!(family.current, refresh_id(&refresh_of(&retried)));
    assert!(!drain(&mut events).iter().any(|e| matches!(e, IssuerEvent::FamilyRevoked { .. })));
    assert_eq!(through_guard(&guard, &retried.access_token).await.status, StatusCode::OK);

    // The newest token still works, in the same family.
    let next = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&retried)))
        .await
        .expect("newest works");
    assert_eq!(family_of(&issuer, &refresh_of(&next)).await.id, family_id);
    assert_eq!(through_guard(&guard, &next.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn after_the_grace_window_reuse_revokes_the_family() {
    let clock = ManualClock::new(NOW);
    let issuer = grace_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");

    clock.advance(31);
    let late = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(late), OAuthErrorCode::InvalidGrant);
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, Some(NOW + 31));
    let newest = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second))).await;
    assert_eq!(code(newest), OAuthErrorCode::InvalidGrant);
    through_guard(&guard, &second.access_token).await.assert_invalid_token(REVOKED);
}

#[tokio::test]
async fn the_grace_window_covers_only_the_immediately_previous_token() {
    let clock = ManualClock::new(NOW);
    let issuer = grace_issuer(&clock);
    let client = app(&issuer).await;
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    clock.advance(1);
    let third = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second)))
        .await
        .expect("refreshed");
    clock.advance(1);

    // Two generations back, well within 30 seconds of its use.
    let old = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(old), OAuthErrorCode::InvalidGrant);
    assert!(family_of(&issuer, &refresh_of(&third)).await.revoked_at.is_some());
    let newest = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&third))).await;
    assert_eq!(code(newest), OAuthErrorCode::InvalidGrant);
}

// ---- scopes ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_may_narrow_the_scope_and_a_later_refresh_may_return_to_the_original() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let first = login(&issuer, &client, Some("read-posts write-posts")).await;
    assert_eq!(first.scope, "read-posts write-posts");

    let narrow = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)).scope("read-posts"))
        .await
        .expect("narrow");
    assert_eq!(narrow.scope, "read-posts");
    assert_eq!(claims(&narrow.access_token)["scope"], "read-posts");
    let record =
        issuer.store().refresh_token(refresh_id(&refresh_of(&narrow))).await.expect("store").expect("record");
    assert_eq!(record.scopes, ["read-posts", "write-posts"], "the refresh token keeps the original scope");

    let back = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&narrow)))
        .await
        .expect("original again");
    assert_eq!(back.scope, "read-posts write-posts");
    assert_eq!(claims(&back.access_token)["scope"], "read-posts write-posts");
}

#[tokio::test]
async fn refresh_cannot_widen_the_scope() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let first = login(&issuer, &client, Some("read-posts")).await;
    let wider = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)).scope("read-posts admin"))
        .await;
    assert_eq!(code(wider), OAuthErrorCode::InvalidScope);
    // The refused request consumed nothing.
    let ok = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("still usable");
    assert_eq!(ok.scope, "read-posts");
}

#[tokio::test]
async fn unknown_scopes_are_invalid_scope() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    assert_eq!(
        code(
            issuer
                .grant(TokenRequest::client_credentials(client.clone()).scope("read-posts delete-everything"))
                .await
        ),
        OAuthErrorCode::InvalidScope
    );
    let password = issuer
        .grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123").scope("nope"))
        .await;
    assert_eq!(code(password), OAuthErrorCode::InvalidScope);
    let personal = issuer.create_personal_access_token("1", "cli", &["nope".to_owned()]).await;
    assert_eq!(kind(&personal), Some(IssuerErrorKind::Invalid));
    assert_eq!(code(personal.map_err(OAuthError::from)), OAuthErrorCode::InvalidScope);
    // Characters RFC 6749 §3.3 does not allow in a scope token.
    assert_eq!(
        code(issuer.grant(TokenRequest::client_credentials(client.clone()).scope("read\"posts")).await),
        OAuthErrorCode::InvalidScope
    );
}

#[tokio::test]
async fn default_scopes_apply_when_none_are_requested() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .scopes(scopes().default_scopes(["check-status"]))
        .enable_password_grant(users())
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    for requested in [None, Some(""), Some("  ")] {
        let mut request = TokenRequest::client_credentials(client.clone());
        request.scope = requested.map(str::to_owned);
        let tokens = issuer.grant(request).await.expect("tokens");
        assert_eq!(tokens.scope, "check-status", "{requested:?}");
        assert_eq!(claims(&tokens.access_token)["scope"], "check-status");
    }
    assert_eq!(login(&issuer, &client, None).await.scope, "check-status");
    let asked = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read-posts"))
        .await
        .expect("tokens");
    assert_eq!(asked.scope, "read-posts", "defaults only apply when nothing is asked for");
}

#[tokio::test]
async fn without_defaults_a_request_for_no_scope_gets_an_empty_scope() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(tokens.scope, "");
    assert_eq!(claims(&tokens.access_token)["scope"], "");
}

#[tokio::test]
async fn the_wildcard_scope_is_granted_to_client_credentials_password_and_personal_tokens() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let machine = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("*"))
        .await
        .expect("client credentials");
    assert_eq!(machine.scope, "*");
    assert!(issuer.verifier().verify(&machine.access_token).expect("verifies").scopes().can("admin"));
    assert_eq!(login(&issuer, &client, Some("*")).await.scope, "*");
    let personal =
        issuer.create_personal_access_token("1", "cli", &["*".to_owned()]).await.expect("personal");
    assert_eq!(personal.record.scopes, ["*"]);
    assert_eq!(claims(&personal.access_token)["scope"], "*");
}

#[tokio::test]
async fn the_wildcard_scope_cannot_be_obtained_by_widening_on_refresh() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let narrow = login(&issuer, &client, Some("read-posts")).await;
    let widened =
        issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&narrow)).scope("*")).await;
    assert_eq!(code(widened), OAuthErrorCode::InvalidScope);

    // A wildcard grant may narrow to any defined scope, and keep the wildcard.
    let wide = login(&issuer, &client, Some("*")).await;
    let narrowed = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&wide)).scope("admin"))
        .await
        .expect("narrowed from *");
    assert_eq!(narrowed.scope, "admin");
    let kept = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&narrowed)).scope("*"))
        .await
        .expect("* again");
    assert_eq!(kept.scope, "*");
}

#[tokio::test]
async fn a_clients_allowed_scopes_restrict_what_it_may_ask_for() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = register(
        &issuer,
        ClientRegistration::confidential("Status page")
            .grants([GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken])
            .allowed_scopes(["check-status"]),
    )
    .await;
    assert_eq!(
        code(issuer.grant(TokenRequest::client_credentials(client.clone()).scope("read-posts")).await),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(
        code(
            issuer
                .grant(TokenRequest::client_credentials(client.clone()).scope("check-status read-posts"))
                .await
        ),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(
        code(issuer.grant(TokenRequest::client_credentials(client.clone()).scope("*")).await),
        OAuthErrorCode::InvalidScope
    );
    let password = issuer
        .grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123").scope("admin"))
        .await;
    assert_eq!(code(password), OAuthErrorCode::InvalidScope);
    let allowed = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("check-status"))
        .await
        .expect("allowed");
    assert_eq!(allowed.scope, "check-status");
}

// ---- rotation toggle ------------------------------------------------------------------

#[tokio::test]
async fn without_rotation_a_confidential_clients_refresh_token_stays_usable() {
    let clock = ManualClock::new(NOW);
    let issuer =
        builder(&clock).enable_password_grant(users()).rotate_refresh_tokens(false).build().expect("issuer");
    let client = app(&issuer).await;
    let first = login(&issuer, &client, None).await;
    let refresh = refresh_of(&first);
    let a = issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await.expect("first use");
    clock.advance(60);
    let b = issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await.expect("second use");
    assert_ne!(a.access_token, b.access_token);
    let record = issuer.store().refresh_token(refresh_id(&refresh)).await.expect("store").expect("record");
    assert_eq!(record.used_at, None);
    assert_eq!(family_of(&issuer, &refresh).await.revoked_at, None);
}

#[tokio::test]
async fn without_rotation_a_public_clients_refresh_tokens_still_rotate() {
    let clock = ManualClock::new(NOW);
    let issuer =
        builder(&clock).enable_password_grant(users()).rotate_refresh_tokens(false).build().expect("issuer");
    let public = register(
        &issuer,
        ClientRegistration::public("Mobile app").grants([GrantType::Password, GrantType::RefreshToken]),
    )
    .await;
    assert!(!public.is_confidential());
    let first = login(&issuer, &public, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(public.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    clock.advance(PAST_THE_RACE_WINDOW);
    let reuse = issuer.grant(TokenRequest::refresh_token(public.clone(), refresh_of(&first))).await;
    assert_eq!(code(reuse), OAuthErrorCode::InvalidGrant);
    assert!(family_of(&issuer, &refresh_of(&second)).await.revoked_at.is_some());
    let newest = issuer.grant(TokenRequest::refresh_token(public.clone(), refresh_of(&second))).await;
    assert_eq!(code(newest), OAuthErrorCode::InvalidGrant);
}

#[tokio::test]
async fn a_refresh_token_only_works_for_its_own_client() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let owner = app(&issuer).await;
    let other = app(&issuer).await;
    let tokens = login(&issuer, &owner, None).await;
    let stolen = issuer.grant(TokenRequest::refresh_token(other.clone(), refresh_of(&tokens))).await;
    assert_eq!(code(stolen), OAuthErrorCode::InvalidGrant);
    issuer
        .grant(TokenRequest::refresh_token(owner.clone(), refresh_of(&tokens)))
        .await
        .expect("the owner's token still works");
}

#[tokio::test]
async fn an_expired_refresh_token_is_invalid_grant() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .refresh_token_ttl(Duration::from_secs(7200))
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let tokens = login(&issuer, &client, None).await;
    clock.advance(7200);
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&tokens))).await),
        OAuthErrorCode::InvalidGrant
    );
    for garbage in ["", "garbage", "a.b", &format!("{}.{}", "A".repeat(22), "B".repeat(43))] {
        assert_eq!(
            code(issuer.grant(TokenRequest::refresh_token(client.clone(), garbage)).await),
            OAuthErrorCode::InvalidGrant
        );
    }
}

// ---- clients --------------------------------------------------------------------------

#[tokio::test]
async fn a_revoked_client_cannot_authenticate_and_the_guard_refuses_its_tokens() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let registered = issuer
        .register_client(ClientRegistration::confidential("Billing").id("billing"))
        .await
        .expect("registered");
    let secret = registered.secret.expect("secret");
    let client = issuer.authenticate_client("billing", Some(secret.expose())).await.expect("authenticated");
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    let guard = GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(TokenOnly))
        .resolver_cache(0, Duration::ZERO)
        .build()
        .expect("guard");
    assert_eq!(through_guard(&guard, &tokens.access_token).await.status, StatusCode::OK);

    assert!(issuer.revoke_client("billing").await.expect("revoked"));
    assert!(!issuer.revoke_client("nobody").await.expect("answer"));
    let refused = issuer.authenticate_client("billing", Some(secret.expose())).await;
    assert_eq!(code(refused), OAuthErrorCode::InvalidClient);
    through_guard(&guard, &tokens.access_token)
        .await
        .assert_invalid_token("The access token's client was revoked");
}

#[tokio::test]
async fn the_registry_resolver_refuses_tokens_of_unknown_clients() {
    let clock = ManualClock::new(NOW);
    // Two issuers sharing a key but not a client registry.
    let pem = SigningKey::generate(Algorithm::ES256).expect("key").to_pkcs8_pem();
    let minting =
        builder(&clock).signing_key(SigningKey::from_pem(pem.as_bytes()).expect("pem")).build().expect("a");
    let checking =
        builder(&clock).signing_key(SigningKey::from_pem(pem.as_bytes()).expect("pem")).build().expect("b");
    let client = register(&minting, ClientRegistration::confidential("Billing")).await;
    let tokens = minting.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    let guard = GuardLayer::builder(checking.verifier())
        .resolver(checking.resolver(TokenOnly))
        .build()
        .expect("guard");
    through_guard(&guard, &tokens.access_token)
        .await
        .assert_invalid_token("The access token's client was revoked");
}

#[tokio::test]
async fn registering_an_existing_client_id_is_refused() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let original = issuer
        .register_client(ClientRegistration::confidential("Billing").id("billing"))
        .await
        .expect("registered");
    let original_secret = original.secret.expect("secret");
    let hijack = issuer
        .register_client(ClientRegistration::confidential("Impostor").id("billing").secret("i".repeat(40)))
        .await;
    assert!(hijack.is_err(), "a second registration under the same id must fail: {hijack:?}");
    let client = issuer.authenticate_client("billing", Some(original_secret.expose())).await;
    assert_eq!(client.expect("the original secret still works").name, "Billing");
}

#[tokio::test]
async fn client_authentication_checks_the_secret() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let registered =
        issuer.register_client(ClientRegistration::confidential("Billing")).await.expect("registered");
    let id = registered.client.id.clone();
    let secret = registered.secret.expect("secret");
    issuer.authenticate_client(&id, Some(secret.expose())).await.expect("right secret");
    assert_eq!(code(issuer.authenticate_client(&id, Some("wrong")).await), OAuthErrorCode::InvalidClient);
    assert_eq!(code(issuer.authenticate_client(&id, None).await), OAuthErrorCode::InvalidClient);
    assert_eq!(
        code(issuer.authenticate_client("nobody", Some(secret.expose())).await),
        OAuthErrorCode::InvalidClient
    );
    let public = issuer.register_client(ClientRegistration::public("SPA")).await.expect("public");
    issuer.authenticate_client(&public.client.id, None).await.expect("public clients present no secret");
    assert_eq!(
        code(issuer.authenticate_client(&public.client.id, Some("anything")).await),
        OAuthErrorCode::InvalidClient
    );
    let error = issuer.authenticate_client("nobody", None).await.expect_err("unknown");
    assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registration_refuses_short_secrets_and_secret_bearing_public_clients() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let short = issuer.register_client(ClientRegistration::confidential("Billing").secret("too-short")).await;
    assert_eq!(kind(&short), Some(IssuerErrorKind::Invalid), "{short:?}");
    let public = issuer.register_client(ClientRegistration::public("SPA").secret("x".repeat(40))).await;
    assert_eq!(kind(&public), Some(IssuerErrorKind::Invalid), "{public:?}");
    let public_cc = issuer
        .register_client(ClientRegistration::public("SPA").grants([GrantType::ClientCredentials]))
        .await;
    assert_eq!(kind(&public_cc), Some(IssuerErrorKind::Invalid), "{public_cc:?}");
}

#[tokio::test]
async fn client_ids_that_can_equal_a_user_subject_are_refused() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    // Integer user ids (Passport's own) never collide with a client id.
    let digits = issuer.register_client(ClientRegistration::confidential("Numbers").id("42")).await;
    assert_eq!(kind(&digits), Some(IssuerErrorKind::Invalid), "{digits:?}");
    // Nor does the id of a user who holds tokens.
    let client = app(&issuer).await;
    login(&issuer, &client, None).await; // user "1", as `users()` says… and then a named one:
    let named = StaticUsers::new(1_000).user("ann@example.com", "password123", "ann").expect("user");
    let other = builder(&clock).enable_password_grant(named).build().expect("issuer");
    let app_client = app(&other).await;
    other
        .grant(TokenRequest::password(app_client.clone(), "ann@example.com", "password123"))
        .await
        .expect("ann's tokens");
    let taken = other.register_client(ClientRegistration::confidential("Ann").id("ann")).await;
    assert_eq!(kind(&taken), Some(IssuerErrorKind::Conflict), "{taken:?}");
}

#[tokio::test]
async fn a_user_whose_id_is_a_client_id_gets_no_user_tokens() {
    let clock = ManualClock::new(NOW);
    let named = StaticUsers::new(1_000).user("billing@example.com", "password123", "billing").expect("user");
    let issuer = builder(&clock).enable_password_grant(named).build().expect("issuer");
    register(&issuer, ClientRegistration::confidential("Billing").id("billing")).await;
    let client = app(&issuer).await;
    let refused =
        issuer.grant(TokenRequest::password(client.clone(), "billing@example.com", "password123")).await;
    assert_eq!(refused.expect_err("refused").code(), OAuthErrorCode::InvalidGrant);
}

#[tokio::test]
async fn issued_tokens_state_whose_they_are() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let user = login(&issuer, &client, None).await;
    assert_eq!(claims(&user.access_token)["idtyp"], "user");
    let machine = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(claims(&machine.access_token)["idtyp"], "app");
}

#[tokio::test]
async fn chosen_secrets_outside_the_unreserved_characters_are_refused() {
    // Some libraries form-encode Basic credentials (RFC 6749 §2.3.1), others send them raw;
    // only unreserved characters reach the server the same either way.
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    for odd in ['+', '%', '&', ' ', ':', '=', '/', 'é'] {
        let secret = format!("{}{odd}{}", "a".repeat(20), "b".repeat(20));
        let refused = issuer.register_client(ClientRegistration::confidential("Odd").secret(secret)).await;
        match refused {
            Err(error) if error.kind() == IssuerErrorKind::Invalid => {
                assert!(error.to_string().contains("unreserved"), "{error}")
            }
            other => panic!("{odd:?} must be refused: {other:?}"),
        }
    }
    let fine = "Az09-._~".repeat(5);
    let registered = issuer
        .register_client(ClientRegistration::confidential("Fine").secret(fine.clone()))
        .await
        .expect("unreserved characters are fine");
    assert!(issuer.authenticate_client(&registered.client.id, Some(&fine)).await.is_ok());
}

// ---- personal access tokens -------------------------------------------------------------

#[tokio::test]
async fn personal_access_tokens_are_long_lived_user_tokens_without_refresh() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let mut events = issuer.subscribe();
    let created =
        issuer.create_personal_access_token("1", "cli", &["read-posts".to_owned()]).await.expect("created");
    let record = &created.record;
    assert_eq!(record.name.as_deref(), Some("cli"));
    assert!(record.personal);
    assert_eq!(record.scopes, ["read-posts"]);
    assert_eq!(record.user_id.as_deref(), Some("1"));
    assert_eq!(record.client_id, "personal-access-client");
    assert_eq!(record.family_id, None, "no refresh-token family");
    assert_eq!(record.expires_at - record.issued_at, 180 * DAY);
    assert_eq!(record.jti, jti(&created.access_token));
    let claims = claims(&created.access_token);
    assert_eq!(claims["exp"], NOW + 180 * DAY);
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["scope"], "read-posts");
    let verified = issuer.verifier().verify(&created.access_token).expect("verifies");
    assert_eq!(verified.kind(), PrincipalKind::User);
    assert_eq!(
        drain(&mut events),
        [IssuerEvent::AccessTokenCreated {
            jti: record.jti.clone(),
            client_id: "personal-access-client".into(),
            user_id: Some("1".into()),
        }]
    );
    // The personal access client exists now, and has no refresh grant.
    let pac = issuer.store().client("personal-access-client").await.expect("store").expect("client");
    assert_eq!(pac.grants, [GrantType::PersonalAccess]);
}

#[tokio::test]
async fn personal_access_tokens_need_a_name() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    for name in ["", "   ", &"n".repeat(256)] {
        assert_eq!(
            code(issuer.create_personal_access_token("1", name, &[]).await.map_err(OAuthError::from)),
            OAuthErrorCode::InvalidRequest
        );
    }
}

#[tokio::test]
async fn personal_access_tokens_are_listed_newest_first_for_their_user_only() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let older = issuer.create_personal_access_token("1", "laptop", &[]).await.expect("created");
    clock.advance(10);
    let newer = issuer.create_personal_access_token("1", "ci", &["admin".to_owned()]).await.expect("created");
    let someone_else = issuer.create_personal_access_token("2", "theirs", &[]).await.expect("created");

    let mine = issuer.personal_access_tokens("1").await.expect("listed");
    let names: Vec<_> = mine.iter().map(|t| t.name.as_deref().expect("name")).collect();
    assert_eq!(names, ["ci", "laptop"]);
    assert_eq!(mine[0].jti, newer.record.jti);
    assert_eq!(mine[1].jti, older.record.jti);
    let theirs = issuer.personal_access_tokens("2").await.expect("listed");
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].jti, someone_else.record.jti);
    assert!(issuer.personal_access_tokens("3").await.expect("listed").is_empty());

    // Tokens from grants are not personal access tokens.
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    login(&issuer, &client, None).await;
    assert!(issuer.personal_access_tokens("1").await.expect("listed").is_empty());
}

#[tokio::test]
async fn a_revoked_personal_access_token_is_listed_revoked_and_refused_by_the_guard() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let guard = revocation_guard(&issuer);
    let created = issuer.create_personal_access_token("1", "cli", &[]).await.expect("created");
    assert_eq!(through_guard(&guard, &created.access_token).await.status, StatusCode::OK);

    clock.advance(5);
    assert!(issuer.revoke_personal_access_token("1", &created.record.jti).await.expect("revoked"));
    let listed = issuer.personal_access_tokens("1").await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(NOW + 5));
    through_guard(&guard, &created.access_token).await.assert_invalid_token(REVOKED);
}

#[tokio::test]
async fn revoking_someone_elses_personal_access_token_returns_false() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let guard = revocation_guard(&issuer);
    let theirs = issuer.create_personal_access_token("2", "theirs", &[]).await.expect("created");
    assert!(!issuer.revoke_personal_access_token("1", &theirs.record.jti).await.expect("answer"));
    assert!(!issuer.revoke_personal_access_token("1", "no-such-jti").await.expect("answer"));
    // A grant's access token is not a personal access token, even the user's own.
    let client = app(&issuer).await;
    let granted = login(&issuer, &client, None).await;
    assert!(!issuer.revoke_personal_access_token("1", &jti(&granted.access_token)).await.expect("answer"));

    assert_eq!(issuer.personal_access_tokens("2").await.expect("listed")[0].revoked_at, None);
    assert_eq!(through_guard(&guard, &theirs.access_token).await.status, StatusCode::OK);
    assert_eq!(through_guard(&guard, &granted.access_token).await.status, StatusCode::OK);
}

// ---- race window: two tabs refreshing at once ------------------------------------------

fn has_family_events(events: &[IssuerEvent]) -> bool {
    events.iter().any(|e| {
        matches!(e, IssuerEvent::FamilyRevoked { .. } | IssuerEvent::RefreshTokenReuseDetected { .. })
    })
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_keep_the_session() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let mut events = issuer.subscribe();

    let winner = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("first tab");
    clock.advance(2);
    let loser = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    let error = loser.expect_err("the second tab lost the race");
    assert_eq!(error.code(), OAuthErrorCode::InvalidGrant);
    assert!(error.description().contains("another request"), "{error}");

    // The winner's pair works, the family lives, and no reuse was reported.
    assert_eq!(through_guard(&guard, &winner.access_token).await.status, StatusCode::OK);
    assert_eq!(family_of(&issuer, &refresh_of(&winner)).await.revoked_at, None);
    assert!(!has_family_events(&drain(&mut events)));
    let next = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&winner)))
        .await
        .expect("winner refreshes");
    assert_eq!(through_guard(&guard, &next.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_just_past_the_race_window_revokes_the_family() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");

    clock.advance(3);
    let inside = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(inside), OAuthErrorCode::InvalidGrant);
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, None, "the window's last second");

    clock.advance(1);
    let mut events = issuer.subscribe();
    let outside = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await;
    assert_eq!(code(outside), OAuthErrorCode::InvalidGrant);
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, Some(NOW + 4));
    assert!(has_family_events(&drain(&mut events)));
    through_guard(&guard, &second.access_token).await.assert_invalid_token(REVOKED);
}

#[tokio::test]
async fn the_race_window_is_configurable() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .refresh_race_window(Duration::from_secs(10))
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    clock.advance(9);
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await),
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, None);
    clock.advance(2);
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await),
        OAuthErrorCode::InvalidGrant
    );
    assert!(family_of(&issuer, &refresh_of(&second)).await.revoked_at.is_some());
}

#[tokio::test]
async fn with_a_grace_window_a_concurrent_duplicate_still_keeps_the_winners_pair() {
    let clock = ManualClock::new(NOW);
    let issuer = grace_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let winner = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    // A sibling inside the race window: refused, nothing superseded.
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first))).await),
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(through_guard(&guard, &winner.access_token).await.status, StatusCode::OK);
    assert_eq!(family_of(&issuer, &refresh_of(&winner)).await.current, refresh_id(&refresh_of(&winner)));
    // Past the race window, inside the grace window: a lost response, reissued as before.
    clock.advance(10);
    let retried = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("within grace");
    assert_eq!(family_of(&issuer, &refresh_of(&retried)).await.current, refresh_id(&refresh_of(&retried)));
}

// ---- personal access tokens and the grant that minted them ------------------------------

/// A first-party app's login of user 1, and the jti of its access token.
async fn first_party_login(issuer: &Issuer) -> (AuthenticatedClient, TokenResponse, String) {
    let client = register(
        issuer,
        ClientRegistration::confidential("Web").first_party(true).grants([
            GrantType::Password,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]),
    )
    .await;
    let tokens = login(issuer, &client, Some("read-posts")).await;
    let caller = jti(&tokens.access_token);
    (client, tokens, caller)
}

#[tokio::test]
async fn a_personal_token_minted_through_a_login_dies_with_its_family_on_reuse() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let guard = revocation_guard(&issuer);
    let (client, tokens, caller) = first_party_login(&issuer).await;
    let family = family_of(&issuer, &refresh_of(&tokens)).await;
    let personal = issuer.create_personal_access_token_through(&caller, "cli", &[]).await.expect("created");
    assert_eq!(personal.record.family_id.as_deref(), Some(family.id.as_str()));
    assert_eq!(personal.record.user_id.as_deref(), Some("1"));
    assert!(personal.record.personal);
    assert_eq!(through_guard(&guard, &personal.access_token).await.status, StatusCode::OK);

    issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&tokens))).await.expect("refreshed");
    assert_eq!(
        through_guard(&guard, &personal.access_token).await.status,
        StatusCode::OK,
        "a rotation spares it"
    );
    clock.advance(PAST_THE_RACE_WINDOW);
    let reuse = issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&tokens))).await;
    assert_eq!(code(reuse), OAuthErrorCode::InvalidGrant);
    through_guard(&guard, &personal.access_token).await.assert_invalid_token(REVOKED);
    assert!(issuer.store().is_revoked(&personal.record.jti).await.expect("answer"));
}

#[tokio::test]
async fn revoking_the_login_revokes_the_personal_tokens_minted_through_it() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let guard = revocation_guard(&issuer);
    // RFC 7009 revocation of the refresh token.
    let (client, tokens, caller) = first_party_login(&issuer).await;
    let personal = issuer.create_personal_access_token_through(&caller, "cli", &[]).await.expect("created");
    // A personal token minted by that personal token belongs to the same family.
    let grandchild =
        issuer.create_personal_access_token_through(&personal.record.jti, "ci", &[]).await.expect("created");
    assert_eq!(grandchild.record.family_id, personal.record.family_id);
    issuer.revoke(&client, &refresh_of(&tokens), Some(TokenTypeHint::RefreshToken)).await.expect("revoked");
    for token in [&personal.access_token, &grandchild.access_token] {
        through_guard(&guard, token).await.assert_invalid_token(REVOKED);
    }
    // revoke_family.
    let (_, tokens, caller) = first_party_login(&issuer).await;
    let personal = issuer.create_personal_access_token_through(&caller, "cli", &[]).await.expect("created");
    issuer.revoke_family(&family_of(&issuer, &refresh_of(&tokens)).await.id).await.expect("revoked");
    through_guard(&guard, &personal.access_token).await.assert_invalid_token(REVOKED);
    // A token minted without a family (the programmatic API) is not tied to any.
    let loose = issuer.create_personal_access_token("1", "loose", &[]).await.expect("created");
    assert_eq!(loose.record.family_id, None);
    assert_eq!(through_guard(&guard, &loose.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_personal_token_cannot_be_minted_through_a_dead_or_unknown_token() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let (client, tokens, caller) = first_party_login(&issuer).await;
    assert_eq!(
        code(
            issuer
                .create_personal_access_token_through("no-such-jti", "cli", &[])
                .await
                .map_err(OAuthError::from)
        ),
        OAuthErrorCode::InvalidGrant
    );
    let machine = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(
        code(
            issuer
                .create_personal_access_token_through(&jti(&machine.access_token), "cli", &[])
                .await
                .map_err(OAuthError::from)
        ),
        OAuthErrorCode::InvalidGrant,
        "a client token has no user"
    );
    issuer.revoke_family(&family_of(&issuer, &refresh_of(&tokens)).await.id).await.expect("revoked");
    assert_eq!(
        code(
            issuer.create_personal_access_token_through(&caller, "cli", &[]).await.map_err(OAuthError::from)
        ),
        OAuthErrorCode::InvalidGrant
    );
    assert!(issuer.personal_access_tokens("1").await.expect("listed").is_empty(), "nothing was created");
}

// ---- logout and session management ------------------------------------------------------

#[tokio::test]
async fn revoking_an_access_token_by_its_jti_logs_it_out_at_once() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        // Without the local cache update, the guard would keep its "not revoked" answer.
        .revocation_cache_ttl(Duration::from_secs(600))
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let tokens = login(&issuer, &client, None).await;
    let token_jti = jti(&tokens.access_token);
    assert_eq!(through_guard(&guard, &tokens.access_token).await.status, StatusCode::OK);

    let mut events = issuer.subscribe();
    let record = issuer.revoke_access_token_by_jti(&token_jti).await.expect("revoked").expect("known");
    assert_eq!(record.revoked_at, Some(NOW));
    assert_eq!(record.family_id, Some(family_of(&issuer, &refresh_of(&tokens)).await.id));
    through_guard(&guard, &tokens.access_token).await.assert_invalid_token(REVOKED);
    assert!(issuer.store().is_revoked(&token_jti).await.expect("answer"));
    assert_eq!(drain(&mut events), [IssuerEvent::AccessTokenRevoked { jti: token_jti.clone() }]);
    assert_eq!(issuer.revoke_access_token_by_jti("no-such-jti").await.expect("answer"), None);
    // Only the access token: its refresh token still works.
    issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&tokens)))
        .await
        .expect("the session lives");
}

#[tokio::test]
async fn revoke_all_for_user_revokes_every_token_and_family_of_that_user_only() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let guard = revocation_guard(&issuer);
    let web = app(&issuer).await;
    let mobile = app(&issuer).await;
    let laptop = login(&issuer, &web, None).await;
    let phone = login(&issuer, &mobile, None).await;
    let personal = issuer.create_personal_access_token("1", "cli", &[]).await.expect("created");
    let machine = issuer.grant(TokenRequest::client_credentials(web.clone())).await.expect("tokens");
    let abigail = issuer
        .grant(TokenRequest::password(web.clone(), "abigail@example.com", "secret456"))
        .await
        .expect("login");

    let mut events = issuer.subscribe();
    let revoked = issuer.revoke_all_for_user("1").await.expect("revoked");
    let mut families = vec![
        family_of(&issuer, &refresh_of(&laptop)).await.id,
        family_of(&issuer, &refresh_of(&phone)).await.id,
    ];
    families.sort();
    assert_eq!(revoked.families, families);
    assert_eq!(revoked.access_tokens.len(), 3);
    for token in [&laptop.access_token, &phone.access_token, &personal.access_token] {
        through_guard(&guard, token).await.assert_invalid_token(REVOKED);
    }
    for (client, tokens) in [(&web, &laptop), (&mobile, &phone)] {
        assert_eq!(
            code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(tokens))).await),
            OAuthErrorCode::InvalidGrant
        );
    }
    let events = drain(&mut events);
    for family_id in &families {
        assert!(events.contains(&IssuerEvent::FamilyRevoked { family_id: family_id.clone() }));
    }
    assert!(events.contains(&IssuerEvent::AccessTokenRevoked { jti: personal.record.jti.clone() }));
    // The client's own token and another user's session are untouched.
    for token in [&machine.access_token, &abigail.access_token] {
        assert_eq!(through_guard(&guard, token).await.status, StatusCode::OK);
    }
    issuer
        .grant(TokenRequest::refresh_token(web.clone(), refresh_of(&abigail)))
        .await
        .expect("abigail's session lives");
    assert!(issuer.revoke_all_for_user("1").await.expect("again").is_empty());
}

#[tokio::test]
async fn authorized_clients_lists_one_entry_per_client_with_live_tokens() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let web = register(
        &issuer,
        ClientRegistration::confidential("Web")
            .first_party(true)
            .grants([GrantType::Password, GrantType::RefreshToken]),
    )
    .await;
    let reader =
        register(&issuer, ClientRegistration::confidential("Reader").grants([GrantType::Password])).await;
    login(&issuer, &web, Some("read-posts")).await;
    clock.advance(10);
    login(&issuer, &web, Some("write-posts")).await;
    login(&issuer, &reader, Some("read-posts")).await; // no refresh grant: an access token only
    issuer.create_personal_access_token("1", "cli", &[]).await.expect("created");
    issuer
        .grant(TokenRequest::password(web.clone(), "abigail@example.com", "secret456"))
        .await
        .expect("someone else");

    let listed = issuer.authorized_clients("1").await.expect("listed");
    let mut ids = vec![web.id.clone(), reader.id.clone()];
    ids.sort();
    assert_eq!(
        listed.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>(),
        ids,
        "no personal access client"
    );
    let web_entry = listed.iter().find(|c| c.client_id == web.id).expect("web");
    assert_eq!(web_entry.client_name.as_deref(), Some("Web"));
    assert!(web_entry.first_party);
    assert_eq!(web_entry.scopes, ["read-posts", "write-posts"]);
    assert_eq!((web_entry.access_tokens, web_entry.refresh_tokens), (2, 2));
    assert_eq!(web_entry.created_at, NOW);
    assert_eq!(web_entry.expires_at, NOW + 10 + 30 * DAY);
    let reader_entry = listed.iter().find(|c| c.client_id == reader.id).expect("reader");
    assert!(!reader_entry.first_party);
    assert_eq!((reader_entry.access_tokens, reader_entry.refresh_tokens), (1, 0));
    assert_eq!(reader_entry.expires_at, NOW + 10 + 3600);

    // Once the access tokens expire, only the sessions with refresh tokens remain.
    clock.advance(2 * 3600);
    let later = issuer.authorized_clients("1").await.expect("listed");
    assert_eq!(later.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(), [web.id.as_str()]);
}

#[tokio::test]
async fn revoke_authorized_client_takes_that_clients_tokens_by_client_id_or_token_id() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let guard = revocation_guard(&issuer);
    let (web, web_login, _) = first_party_login(&issuer).await;
    let mobile = app(&issuer).await;
    let phone = login(&issuer, &mobile, None).await;
    let loose = issuer.create_personal_access_token("1", "loose", &[]).await.expect("created");
    let through = issuer
        .create_personal_access_token_through(&jti(&web_login.access_token), "cli", &[])
        .await
        .expect("created");
    let abigail = issuer
        .grant(TokenRequest::password(mobile.clone(), "abigail@example.com", "secret456"))
        .await
        .expect("login");

    // By client id: the web app's session, and the personal token minted through it.
    assert!(issuer.revoke_authorized_client("1", &web.id).await.expect("revoked"));
    through_guard(&guard, &web_login.access_token).await.assert_invalid_token(REVOKED);
    through_guard(&guard, &through.access_token).await.assert_invalid_token(REVOKED);
    assert_eq!(through_guard(&guard, &phone.access_token).await.status, StatusCode::OK);
    assert!(!issuer.revoke_authorized_client("1", &web.id).await.expect("answer"), "nothing left");

    // Neither the personal access client nor a personal token's id, nor someone else's token.
    assert!(!issuer.revoke_authorized_client("1", "personal-access-client").await.expect("answer"));
    assert!(!issuer.revoke_authorized_client("1", &loose.record.jti).await.expect("answer"));
    assert!(!issuer.revoke_authorized_client("1", &jti(&abigail.access_token)).await.expect("answer"));
    assert_eq!(through_guard(&guard, &loose.access_token).await.status, StatusCode::OK);

    // By token id (Passport's form): that token's client, every token of it.
    assert!(issuer.revoke_authorized_client("1", &jti(&phone.access_token)).await.expect("revoked"));
    through_guard(&guard, &phone.access_token).await.assert_invalid_token(REVOKED);
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(mobile.clone(), refresh_of(&phone))).await),
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(
        through_guard(&guard, &abigail.access_token).await.status,
        StatusCode::OK,
        "another user of it"
    );
    assert!(issuer.authorized_clients("1").await.expect("listed").is_empty());
}

// ---- purge ----------------------------------------------------------------------------

#[tokio::test]
async fn purging_expired_records_drops_the_old_ones_and_keeps_the_newer() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .refresh_token_ttl(Duration::from_secs(7200))
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let old_machine = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens"); // exp NOW+3600
    let old_user = login(&issuer, &client, None).await; // access NOW+3600, refresh NOW+7200

    clock.set(NOW + 20_000);
    let new_machine = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    let new_user = login(&issuer, &client, None).await;

    // Cutoff: NOW + 20 000 − 3 600 = NOW + 16 400.
    let counts = issuer.purge(false, true, Duration::from_secs(3600)).await.expect("purged");
    assert_eq!(
        counts,
        PurgeCounts { access_tokens: 2, refresh_tokens: 1, families: 1, revocations: 0, codes: 0 }
    );

    let store = issuer.store();
    assert_eq!(store.access_token(&jti(&old_machine.access_token)).await.expect("store"), None);
    assert_eq!(store.access_token(&jti(&old_user.access_token)).await.expect("store"), None);
    assert_eq!(store.refresh_token(refresh_id(&refresh_of(&old_user))).await.expect("store"), None);
    assert!(store.access_token(&jti(&new_machine.access_token)).await.expect("store").is_some());
    assert!(store.access_token(&jti(&new_user.access_token)).await.expect("store").is_some());
    issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&new_user)))
        .await
        .expect("the newer family survives");

    // Nothing left to purge.
    let again = issuer.purge(false, true, Duration::from_secs(3600)).await.expect("purged");
    assert_eq!(again, PurgeCounts::default());
}

#[tokio::test]
async fn purging_revoked_records_keeps_revocation_entries_until_their_tokens_expire() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let machine = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens"); // exp NOW+3600
    let user = login(&issuer, &client, None).await; // access exp NOW+3600
    let personal = issuer.create_personal_access_token("1", "cli", &[]).await.expect("created"); // exp NOW+180d

    clock.set(NOW + 100);
    issuer.revoke(&client, &refresh_of(&user), None).await.expect("family revoked");
    assert!(issuer.revoke_personal_access_token("1", &personal.record.jti).await.expect("revoked"));

    clock.set(NOW + 10_000);
    let recent = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens"); // exp NOW+13600
    issuer.revoke(&client, &recent.access_token, Some(TokenTypeHint::AccessToken)).await.expect("revoked");

    // Cutoff NOW + 6 400: the family, its tokens and the personal token were revoked
    // before it; `recent` after it; `machine` was never revoked.
    let counts = issuer.purge(true, false, Duration::from_secs(3600)).await.expect("purged");
    assert_eq!(
        counts,
        PurgeCounts { access_tokens: 2, refresh_tokens: 1, families: 1, revocations: 0, codes: 0 }
    );
    let store = issuer.store();
    assert_eq!(store.access_token(&jti(&user.access_token)).await.expect("store"), None);
    assert_eq!(store.access_token(&personal.record.jti).await.expect("store"), None);
    assert!(store.access_token(&jti(&machine.access_token)).await.expect("store").is_some());
    assert!(store.access_token(&jti(&recent.access_token)).await.expect("store").is_some());

    // The personal token is still within its lifetime: its revocation entry survives the
    // purge of its record, and a guard asking the store (no warm cache) still refuses it.
    assert!(store.is_revoked(&personal.record.jti).await.expect("store"));
    let cold = RevocationList::with_options(
        issuer.hub(),
        Arc::new(issuer.store().clone()),
        Arc::new(clock.clone()),
        100,
        Duration::ZERO,
    );
    let guard = GuardLayer::builder(issuer.verifier()).revocation(cold).build().expect("guard");
    through_guard(&guard, &personal.access_token).await.assert_invalid_token(REVOKED);

    // Later, expired purges drop entries whose tokens expired before the cutoff only.
    clock.set(NOW + 20_000); // cutoff NOW + 16 400
    let counts = issuer.purge(true, true, Duration::from_secs(3600)).await.expect("purged");
    assert_eq!(
        counts,
        PurgeCounts { access_tokens: 2, refresh_tokens: 0, families: 0, revocations: 2, codes: 0 }
    );
    assert!(!store.is_revoked(&jti(&user.access_token)).await.expect("store"));
    assert!(!store.is_revoked(&jti(&recent.access_token)).await.expect("store"));
    assert!(store.is_revoked(&personal.record.jti).await.expect("store"));

    clock.set(NOW + 180 * DAY + 3600 + 1); // cutoff just after the personal token's expiry
    let counts = issuer.purge(true, true, Duration::from_secs(3600)).await.expect("purged");
    assert_eq!(
        counts,
        PurgeCounts { access_tokens: 0, refresh_tokens: 0, families: 0, revocations: 1, codes: 0 }
    );
    assert!(!store.is_revoked(&personal.record.jti).await.expect("store"));
}

// ---- signing-key rotation -------------------------------------------------------------

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid_and_publishes_both_keys() {
    let clock = ManualClock::new(NOW);
    let first_key = SigningKey::generate(Algorithm::ES256).expect("key");
    let first_kid = first_key.kid().to_owned();
    let issuer = builder(&clock).signing_key(first_key).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let old = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(header(&old.access_token)["kid"], first_kid);

    clock.advance(60);
    let second_key = SigningKey::generate(Algorithm::EdDSA).expect("key");
    let second_kid = second_key.kid().to_owned();
    issuer.rotate_signing_key(second_key).expect("rotated");
    let new = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert_eq!(header(&new.access_token)["kid"], second_kid);
    assert_eq!(header(&new.access_token)["alg"], "EdDSA");

    let verifier = issuer.verifier();
    assert_eq!(verifier.verify(&old.access_token).expect("old token").key_id(), Some(first_kid.as_str()));
    assert_eq!(verifier.verify(&new.access_token).expect("new token").key_id(), Some(second_kid.as_str()));
    assert_eq!(kids(&json_of(issuer.jwks())), BTreeSet::from([first_kid, second_kid]));
}

#[tokio::test]
async fn a_retired_key_is_unpublished_once_its_tokens_have_expired() {
    let clock = ManualClock::new(NOW);
    let first_key = SigningKey::generate(Algorithm::ES256).expect("key");
    let first_kid = first_key.kid().to_owned();
    let issuer = builder(&clock).signing_key(first_key).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let old = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");

    let second_key = SigningKey::generate(Algorithm::ES256).expect("key");
    let second_kid = second_key.kid().to_owned();
    issuer.rotate_signing_key(second_key).expect("rotated");
    let middle = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");

    // Still published just before the longest lifetime (personal tokens, 180 days) passes.
    clock.advance(180 * DAY);
    assert!(kids(&json_of(issuer.jwks())).contains(&first_kid));

    clock.advance(61);
    let third_key = SigningKey::generate(Algorithm::RS256).expect("key");
    let third_kid = third_key.kid().to_owned();
    issuer.rotate_signing_key(third_key).expect("rotated");
    assert_eq!(kids(&json_of(issuer.jwks())), BTreeSet::from([second_kid, third_kid]));
    let verifier = issuer.verifier();
    assert_eq!(verifier.verify(&old.access_token).expect_err("key gone").reason(), Reason::UnknownKid);
    // The second key is still known (its token is merely expired).
    assert_eq!(verifier.verify(&middle.access_token).expect_err("expired").reason(), Reason::Expired);
}

#[tokio::test]
async fn a_guard_built_after_a_rotation_accepts_tokens_of_both_keys() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let old = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    issuer.rotate_signing_key(SigningKey::generate(Algorithm::RS256).expect("key")).expect("rotated");
    let new = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    let guard = revocation_guard(&issuer);
    assert_eq!(through_guard(&guard, &old.access_token).await.status, StatusCode::OK);
    assert_eq!(through_guard(&guard, &new.access_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_guard_built_before_a_rotation_accepts_tokens_signed_by_the_new_key() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    // As an application does: the guard is built once, at start-up.
    let guard = revocation_guard(&issuer);
    issuer.rotate_signing_key(SigningKey::generate(Algorithm::ES256).expect("key")).expect("rotated");
    let new = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    let answer = through_guard(&guard, &new.access_token).await;
    // Today: 401 invalid_token "The access token was signed by an unknown key".
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

// ---- RFC 7009 revocation ----------------------------------------------------------------

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family_and_its_access_tokens() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .revoke_access_token_on_refresh(false)
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let first = login(&issuer, &client, None).await;
    let second = issuer
        .grant(TokenRequest::refresh_token(client.clone(), refresh_of(&first)))
        .await
        .expect("refreshed");
    let family_id = family_of(&issuer, &refresh_of(&second)).await.id;

    let mut events = issuer.subscribe();
    issuer.revoke(&client, &refresh_of(&second), Some(TokenTypeHint::RefreshToken)).await.expect("revoked");
    assert_eq!(family_of(&issuer, &refresh_of(&second)).await.revoked_at, Some(NOW));
    assert_eq!(
        code(issuer.grant(TokenRequest::refresh_token(client.clone(), refresh_of(&second))).await),
        OAuthErrorCode::InvalidGrant
    );
    for tokens in [&first, &second] {
        through_guard(&guard, &tokens.access_token).await.assert_invalid_token(REVOKED);
    }
    let events = drain(&mut events);
    assert!(events.contains(&IssuerEvent::FamilyRevoked { family_id }));
    assert!(events.contains(&IssuerEvent::AccessTokenRevoked { jti: jti(&second.access_token) }));
}

#[tokio::test]
async fn revoking_an_access_token_with_or_without_a_hint() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let guard = revocation_guard(&issuer);
    for hint in [Some(TokenTypeHint::AccessToken), None, Some(TokenTypeHint::RefreshToken)] {
        let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
        assert_eq!(through_guard(&guard, &tokens.access_token).await.status, StatusCode::OK);
        issuer.revoke(&client, &tokens.access_token, hint).await.expect("revoked");
        let record =
            issuer.store().access_token(&jti(&tokens.access_token)).await.expect("store").expect("record");
        assert_eq!(record.revoked_at, Some(NOW), "{hint:?}");
        through_guard(&guard, &tokens.access_token).await.assert_invalid_token(REVOKED);
    }
}

#[tokio::test]
async fn revoking_an_unknown_or_garbage_token_succeeds() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let elsewhere = builder(&clock).build().expect("another issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let foreign_client = register(&elsewhere, ClientRegistration::confidential("Billing")).await;
    let foreign =
        elsewhere.grant(TokenRequest::client_credentials(foreign_client.clone())).await.expect("tokens");
    let unknown_refresh = format!("{}.{}", "A".repeat(22), "B".repeat(43));
    for token in ["garbage", "a.b.c", unknown_refresh.as_str(), foreign.access_token.as_str()] {
        for hint in [None, Some(TokenTypeHint::AccessToken), Some(TokenTypeHint::RefreshToken)] {
            issuer.revoke(&client, token, hint).await.expect("unknown tokens are not an error");
        }
    }
}

#[tokio::test]
async fn revoking_another_clients_token_is_unauthorized_client_and_revokes_nothing() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let owner = app(&issuer).await;
    let intruder = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let user = login(&issuer, &owner, None).await;
    let machine = issuer.grant(TokenRequest::client_credentials(owner.clone())).await.expect("tokens");

    for (token, hint) in [
        (refresh_of(&user), None),
        (refresh_of(&user), Some(TokenTypeHint::AccessToken)),
        (user.access_token.clone(), None),
        (machine.access_token.clone(), Some(TokenTypeHint::AccessToken)),
    ] {
        let refused = issuer.revoke(&intruder, &token, hint).await;
        assert_eq!(code(refused), OAuthErrorCode::UnauthorizedClient);
    }
    assert_eq!(family_of(&issuer, &refresh_of(&user)).await.revoked_at, None);
    for token in [&user.access_token, &machine.access_token] {
        let record = issuer.store().access_token(&jti(token)).await.expect("store").expect("record");
        assert_eq!(record.revoked_at, None);
        assert!(!issuer.revocation_list().is_revoked(&jti(token)).await.expect("answer"));
        assert_eq!(through_guard(&guard, token).await.status, StatusCode::OK);
    }
    issuer
        .grant(TokenRequest::refresh_token(owner.clone(), refresh_of(&user)))
        .await
        .expect("the owner's family lives");
}

// ---- RFC 7662 introspection -------------------------------------------------------------

#[tokio::test]
async fn introspecting_an_active_access_token() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let resource_server = register(&issuer, ClientRegistration::confidential("Resource server")).await;
    let tokens = login(&issuer, &client, Some("read-posts write-posts")).await;
    let answer =
        json_of(issuer.introspect(&resource_server, &tokens.access_token, None).await.expect("answer"));
    assert_eq!(
        answer,
        json!({
            "active": true,
            "token_type": "Bearer",
            "scope": "read-posts write-posts",
            "client_id": client.id,
            "sub": "1",
            "exp": NOW + 3600,
            "iat": NOW,
            "iss": ISSUER,
            "aud": [AUDIENCE],
            "jti": jti(&tokens.access_token),
        })
    );
    let hinted =
        issuer.introspect(&resource_server, &tokens.access_token, Some(TokenTypeHint::RefreshToken)).await;
    assert_eq!(json_of(hinted.expect("answer")), answer, "a wrong hint is only a hint");
}

#[tokio::test]
async fn introspecting_a_refresh_token_active_then_inactive_after_rotation() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let tokens = login(&issuer, &client, Some("read-posts")).await;
    let refresh = refresh_of(&tokens);
    let answer = json_of(
        issuer.introspect(&client, &refresh, Some(TokenTypeHint::RefreshToken)).await.expect("answer"),
    );
    assert_eq!(
        answer,
        json!({
            "active": true,
            "scope": "read-posts",
            "client_id": client.id,
            "sub": "1",
            "exp": NOW + 30 * DAY,
            "iat": NOW,
            "iss": ISSUER,
        })
    );
    assert_eq!(json_of(issuer.introspect(&client, &refresh, None).await.expect("answer")), answer);

    let next = issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await.expect("refreshed");
    assert_eq!(
        json_of(issuer.introspect(&client, &refresh, None).await.expect("answer")),
        json!({"active": false})
    );
    let newest = json_of(issuer.introspect(&client, &refresh_of(&next), None).await.expect("answer"));
    assert_eq!(newest["active"], true);
}

#[tokio::test]
async fn introspection_answers_exactly_inactive_for_revoked_expired_garbage_and_foreign_tokens() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .enable_password_grant(users())
        .refresh_token_ttl(Duration::from_secs(7200))
        .build()
        .expect("issuer");
    let client = app(&issuer).await;
    let other = app(&issuer).await;
    let inactive = json!({"active": false});

    let revoked_access =
        issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    issuer.revoke(&client, &revoked_access.access_token, None).await.expect("revoked");
    let revoked_family = login(&issuer, &client, None).await;
    issuer.revoke(&client, &refresh_of(&revoked_family), None).await.expect("revoked");
    let live = login(&issuer, &client, None).await;
    let unknown_refresh = format!("{}.{}", "A".repeat(22), "B".repeat(43));

    for token in [
        revoked_access.access_token.as_str(),
        revoked_family.access_token.as_str(),
        refresh_of(&revoked_family).as_str(),
        "garbage",
        "a.b.c",
        unknown_refresh.as_str(),
    ] {
        for hint in [None, Some(TokenTypeHint::AccessToken), Some(TokenTypeHint::RefreshToken)] {
            assert_eq!(
                json_of(issuer.introspect(&client, token, hint).await.expect("answer")),
                inactive,
                "{token} {hint:?}"
            );
        }
    }
    // Another client's refresh token is none of this client's business.
    assert_eq!(json_of(issuer.introspect(&other, &refresh_of(&live), None).await.expect("answer")), inactive);
    assert_eq!(
        json_of(issuer.introspect(&client, &refresh_of(&live), None).await.expect("answer"))["active"],
        true
    );

    // Past the access token's expiry (and the verifier's 60 s leeway), and past the
    // refresh token's.
    clock.advance(7200);
    assert_eq!(
        json_of(issuer.introspect(&client, &live.access_token, None).await.expect("answer")),
        inactive
    );
    assert_eq!(
        json_of(issuer.introspect(&client, &refresh_of(&live), None).await.expect("answer")),
        inactive
    );
}

#[tokio::test]
async fn introspection_reports_an_access_token_inactive_as_soon_as_it_expires() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing")).await;
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    clock.advance(3600 + 30); // 30 s past exp
    let answer = json_of(issuer.introspect(&client, &tokens.access_token, None).await.expect("answer"));
    // RFC 7662 §2.2: active means "before its expiration time"; today this answers
    // {"active": true, "exp": <30 s ago>, …}.
    assert_eq!(answer, json!({"active": false}));
}

#[tokio::test]
async fn introspection_reports_a_revoked_clients_access_tokens_inactive() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let client = register(&issuer, ClientRegistration::confidential("Billing").id("billing")).await;
    let resource_server = register(&issuer, ClientRegistration::confidential("Resource server")).await;
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    assert!(issuer.revoke_client("billing").await.expect("revoked"));
    let guard =
        GuardLayer::builder(issuer.verifier()).resolver(issuer.resolver(TokenOnly)).build().expect("guard");
    through_guard(&guard, &tokens.access_token)
        .await
        .assert_invalid_token("The access token's client was revoked");
    let answer =
        json_of(issuer.introspect(&resource_server, &tokens.access_token, None).await.expect("answer"));
    // Today: {"active": true, "client_id": "billing", …}.
    assert_eq!(answer, json!({"active": false}));
}

// ---- store failures -------------------------------------------------------------------

/// A memory store whose clients, tokens and revocation list can be switched to fail (purge
/// and settings always work).
#[derive(Default)]
struct FlakyStore {
    inner: MemoryStore,
    failing: AtomicBool,
}

impl FlakyStore {
    fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Fails, or makes the call (only then: a memory store does its work when called).
    async fn run<T, F: Future<Output = Result<T, StoreError>>>(
        &self,
        call: impl FnOnce() -> F,
    ) -> Result<T, StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other("connection refused")));
        }
        call().await
    }
}

impl ClientStore for FlakyStore {
    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.run(|| self.inner.put_client(client)).await
    }
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.run(|| self.inner.client(id)).await
    }
    async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
        self.run(|| self.inner.set_client_revoked(id, revoked)).await
    }
    async fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> Result<Option<ClientRecord>, StoreError> {
        self.run(|| self.inner.update_client(id, update)).await
    }
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        self.run(|| self.inner.clients_owned_by(owner)).await
    }
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.run(|| self.inner.clients()).await
    }
}

impl TokenStore for FlakyStore {
    async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
        self.run(|| self.inner.put_access_token(record)).await
    }
    async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        self.run(|| self.inner.access_token(jti)).await
    }
    async fn personal_access_tokens(&self, user: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
        self.run(|| self.inner.personal_access_tokens(user)).await
    }
    async fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        self.run(|| self.inner.revoke_access_token(jti, now)).await
    }
    async fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Result<(), StoreError> {
        self.run(|| self.inner.start_family(family, first, access)).await
    }
    async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.run(|| self.inner.refresh_token(id)).await
    }
    async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        self.run(|| self.inner.family(id)).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        self.run(|| self.inner.rotate(rotation)).await
    }
    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<Vec<RevokedAccess>, StoreError> {
        self.run(|| self.inner.revoke_family(family_id, now)).await
    }
    async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
        self.run(|| self.inner.user_tokens(user_id, now)).await
    }
    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> Result<RevokedTokens, StoreError> {
        self.run(|| self.inner.revoke_user_tokens(user_id, client_id, now)).await
    }
}

impl RevocationStore for FlakyStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, tower_passport::BackendError> {
        self.run(|| async { Ok(self.inner.is_revoked(jti).await?) })
            .await
            .map_err(tower_passport::BackendError::new)
    }
}

impl PurgeStore for FlakyStore {
    async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        self.inner.purge(purge).await
    }
}

impl SettingsStore for FlakyStore {
    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.inner.put_setting_if_absent(name, value).await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.inner.setting(name).await
    }
}

impl CodeStore for FlakyStore {
    async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
        self.run(|| self.inner.put_code(code)).await
    }
    async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
        self.run(|| self.inner.take_code(hash, now)).await
    }
    async fn record_code_issue(&self, hash: &SecretHash, issued: IssuedFromCode) -> Result<bool, StoreError> {
        self.run(|| self.inner.record_code_issue(hash, issued)).await
    }
}

impl tower_passport_issuer::store::DeviceCodeStore for FlakyStore {
    async fn put_device_code(
        &self,
        record: tower_passport_issuer::store::DeviceCodeRecord,
    ) -> Result<(), StoreError> {
        self.run(|| self.inner.put_device_code(record)).await
    }
    async fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> Result<Option<tower_passport_issuer::store::DeviceCodeRecord>, StoreError> {
        self.run(|| self.inner.pending_device_code(user_code_hash, now)).await
    }
    async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: tower_passport_issuer::store::DeviceDecision,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.run(|| self.inner.decide_device_code(user_code_hash, decision, now)).await
    }
    async fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<tower_passport_issuer::store::DevicePoll, StoreError> {
        self.run(|| self.inner.poll_device_code(device_hash, client_id, now_ms)).await
    }
}

/// An issuer over a [`FlakyStore`], and the store, to switch.
fn flaky_issuer(clock: &ManualClock) -> (Issuer, Arc<FlakyStore>) {
    let store = Arc::new(FlakyStore::default());
    let issuer = Issuer::builder(ISSUER, store.clone())
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
        .enable_password_grant(users())
        .build()
        .expect("issuer");
    (issuer, store)
}

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, OAuthError>) {
    let error = result.expect_err("the store is down");
    assert_eq!(error.code(), OAuthErrorCode::TemporarilyUnavailable, "{error}");
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!error.description().contains("connection refused"), "backend details stay in the logs");
}

#[tokio::test]
async fn a_failing_store_makes_every_grant_temporarily_unavailable() {
    let clock = ManualClock::new(NOW);
    let (issuer, store) = flaky_issuer(&clock);
    let client = app(&issuer).await;
    let tokens = login(&issuer, &client, None).await;
    let refresh = refresh_of(&tokens);

    store.set_failing(true);
    assert_unavailable(issuer.authenticate_client(&client.id, Some("whatever")).await);
    assert_unavailable(issuer.grant(TokenRequest::client_credentials(client.clone())).await);
    assert_unavailable(
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123")).await,
    );
    assert_unavailable(issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await);
    assert_unavailable(issuer.create_personal_access_token("1", "cli", &[]).await.map_err(OAuthError::from));
    let listed = issuer.personal_access_tokens("1").await;
    assert_eq!(kind(&listed), Some(IssuerErrorKind::Store));
    assert_unavailable(listed.map_err(OAuthError::from));
    assert_unavailable(issuer.revoke(&client, &refresh, None).await);
    assert_unavailable(issuer.introspect(&client, &refresh, None).await);
    let refused = issuer.revoke_client(&client.id).await;
    assert_eq!(kind(&refused), Some(IssuerErrorKind::Store), "{refused:?}");
    let refused = refused.expect_err("the store is down");
    assert!(
        std::error::Error::source(&refused).is_some_and(|source| source.is::<StoreError>()),
        "{refused:?}"
    );

    // Nothing was lost: back up, the refresh token still works.
    store.set_failing(false);
    issuer
        .grant(TokenRequest::refresh_token(client.clone(), &refresh))
        .await
        .expect("refreshed once the store is back");
}

#[tokio::test]
async fn the_guard_answers_503_when_the_revocation_store_fails() {
    let clock = ManualClock::new(NOW);
    let (issuer, store) = flaky_issuer(&clock);
    let client = app(&issuer).await;
    let guard = revocation_guard(&issuer);
    let fresh = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");

    store.set_failing(true);
    let answer = through_guard(&guard, &fresh.access_token).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.challenge, None);
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
    assert!(issuer.revocation_list().is_revoked(&jti(&fresh.access_token)).await.is_err());

    store.set_failing(false);
    assert_eq!(through_guard(&guard, &fresh.access_token).await.status, StatusCode::OK);
}

// ---- secrets --------------------------------------------------------------------------

#[tokio::test]
async fn a_confidential_clients_secret_is_returned_once_and_stored_only_as_a_hash() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let registered =
        issuer.register_client(ClientRegistration::confidential("Billing")).await.expect("registered");
    let secret = registered.secret.clone().expect("a generated secret");
    assert_eq!(secret.expose().len(), 43, "256 random bits, base64url");

    let stored = issuer.store().client(&registered.client.id).await.expect("store").expect("record");
    assert_eq!(stored, registered.client);
    let Some(ClientSecretHash::Sha256(hash)) = stored.secret_hash else { panic!("a SHA-256 hash") };
    assert_ne!(&hash.as_bytes()[..], secret.expose().as_bytes());
    assert!(!hash.to_hex().contains(secret.expose()));
    assert_eq!(hash, SecretHash::of(secret.expose().as_bytes()));
    assert!(hash.matches(secret.expose().as_bytes()));

    let chosen = "a-chosen-secret-of-at-least-32-characters";
    let registered = issuer
        .register_client(ClientRegistration::confidential("Chosen").secret(chosen))
        .await
        .expect("registered");
    assert_eq!(registered.secret.as_ref().map(ClientSecret::expose), Some(chosen));
    let stored = issuer.store().client(&registered.client.id).await.expect("store").expect("record");
    assert_eq!(stored.secret_hash, Some(SecretHash::of(chosen.as_bytes()).into()));

    let public = issuer.register_client(ClientRegistration::public("SPA")).await.expect("registered");
    assert!(public.secret.is_none());
    assert_eq!(public.client.secret_hash, None);
}

#[tokio::test]
async fn debug_output_never_contains_tokens_or_secrets() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let registered = issuer
        .register_client(
            ClientRegistration::confidential("App").grants([GrantType::Password, GrantType::RefreshToken]),
        )
        .await
        .expect("registered");
    let secret = registered.secret.clone().expect("secret");
    let client =
        issuer.authenticate_client(&registered.client.id, Some(secret.expose())).await.expect("client");
    let tokens = login(&issuer, &client, Some("read-posts")).await;
    let refresh = refresh_of(&tokens);
    let personal = issuer.create_personal_access_token("1", "cli", &[]).await.expect("created");

    let printed = [
        format!("{tokens:?}"),
        format!("{tokens:#?}"),
        format!("{secret:?}"),
        format!("{registered:?}"),
        format!("{registered:#?}"),
        format!("{personal:?}"),
    ];
    for text in &printed {
        for hidden in
            [secret.expose(), tokens.access_token.as_str(), refresh.as_str(), personal.access_token.as_str()]
        {
            assert!(!text.contains(hidden), "{text}");
        }
        // Not even a recognisable part of a token (its signature).
        for token in [&tokens.access_token, &personal.access_token] {
            assert!(!text.contains(token.rsplit('.').next().expect("signature")), "{text}");
        }
    }
    assert_eq!(format!("{secret:?}"), "ClientSecret(..)");
    assert!(printed[0].contains("read-posts"), "the non-secret fields are shown: {}", printed[0]);
}

#[tokio::test]
async fn the_scope_registry_and_metadata_describe_the_issuer() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock)
        .scopes(ScopeRegistry::new().scope("a", "A").default_scopes(["a"]))
        .build()
        .expect("i");
    assert_eq!(issuer.scope_registry().scopes().len(), 1);
    assert_eq!(issuer.issuer_url(), ISSUER);
    let metadata = json_of(OAuthServer::new(issuer.clone()).build().metadata());
    assert_eq!(metadata["grant_types_supported"], json!(["client_credentials", "refresh_token"]));
    assert_eq!(metadata["scopes_supported"], json!(["a"]));
    let with_password = json_of(OAuthServer::new(password_issuer(&clock)).build().metadata());
    assert_eq!(
        with_password["grant_types_supported"],
        json!(["client_credentials", "refresh_token", "password"])
    );
}

// ---- password checks off the executor, bounded, and rate-limited -------------------------

/// An issuer whose one user's password takes long to check (many PBKDF2 iterations).
fn slow_password_issuer(clock: &ManualClock, checks: usize) -> Issuer {
    let users = StaticUsers::new(1_000_000).user("slow@example.com", "password123", "9").expect("user");
    builder(clock)
        .enable_password_grant(users)
        .max_concurrent_password_checks(checks)
        .build()
        .expect("issuer")
}

#[tokio::test(flavor = "current_thread")]
async fn password_hashing_never_blocks_the_executor() {
    // One executor thread: if PBKDF2 ran on it, the grant would finish inside the first
    // poll, before this task runs again.
    let clock = ManualClock::new(NOW);
    let issuer = slow_password_issuer(&clock, 4);
    let client = app(&issuer).await;
    let grant = tokio::spawn({
        let issuer = issuer.clone();
        async move { issuer.grant(TokenRequest::password(client.clone(), "slow@example.com", "wrong")).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!grant.is_finished(), "the hash runs on a blocking thread while the executor goes on");
    let refused = grant.await.expect("joined");
    assert_eq!(refused.expect_err("wrong password").code(), OAuthErrorCode::InvalidGrant);
}

#[tokio::test(flavor = "current_thread")]
async fn password_checks_beyond_the_bound_are_refused_with_503() {
    let clock = ManualClock::new(NOW);
    let issuer = slow_password_issuer(&clock, 1);
    let client = app(&issuer).await;
    let first = tokio::spawn({
        let (issuer, client) = (issuer.clone(), client.clone());
        async move { issuer.grant(TokenRequest::password(client.clone(), "slow@example.com", "wrong")).await }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!first.is_finished());
    let second =
        issuer.grant(TokenRequest::password(client.clone(), "slow@example.com", "password123")).await;
    let busy = second.expect_err("no slot left");
    assert_eq!(busy.code(), OAuthErrorCode::TemporarilyUnavailable);
    assert_eq!(busy.status(), 503);
    first.await.expect("joined").expect_err("wrong password");
    // The slot is free again.
    assert!(issuer
        .grant(TokenRequest::password(client.clone(), "slow@example.com", "password123"))
        .await
        .is_ok());
}

/// Refuses every key after `limit` failures, and counts what it is told.
#[derive(Clone, Default)]
struct Strikes {
    limit: u32,
    failures: Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl Strikes {
    fn key(attempt: &AuthAttempt<'_>) -> String {
        match attempt {
            AuthAttempt::Client { client_id, .. } => format!("client:{client_id}"),
            AuthAttempt::User { username, .. } => format!("user:{username}"),
            _ => "other".to_owned(),
        }
    }
}

impl AuthLimiter for Strikes {
    async fn check(&self, attempt: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
        let failures = self.failures.lock().expect("lock").get(&Self::key(attempt)).copied().unwrap_or(0);
        Ok(if failures >= self.limit {
            Verdict::RetryAfter(std::time::Duration::from_secs(30))
        } else {
            Verdict::Allow
        })
    }

    async fn failed(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
        *self.failures.lock().expect("lock").entry(Self::key(attempt)).or_default() += 1;
        Ok(())
    }

    async fn succeeded(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
        self.failures.lock().expect("lock").remove(&Self::key(attempt));
        Ok(())
    }
}

#[tokio::test]
async fn the_auth_limiter_sees_failed_client_and_user_authentication_and_can_refuse_it() {
    let clock = ManualClock::new(NOW);
    let strikes = Strikes { limit: 2, ..Strikes::default() };
    let issuer =
        builder(&clock).enable_password_grant(users()).auth_limiter(strikes.clone()).build().expect("i");
    let registered = issuer
        .register_client(ClientRegistration::confidential("App").grants([GrantType::Password]))
        .await
        .expect("registered");
    let id = registered.client.id.clone();
    let secret = registered.secret.clone().expect("secret");

    // Wrong passwords count against the username; the third attempt is refused before
    // any hashing, with 429 and a Retry-After.
    let client = issuer.authenticate_client(&id, Some(secret.expose())).await.expect("client");
    for _ in 0..2 {
        let wrong = issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "wrong")).await;
        assert_eq!(wrong.expect_err("wrong").code(), OAuthErrorCode::InvalidGrant);
    }
    let limited =
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123")).await;
    let limited = limited.expect_err("limited");
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.retry_after(), Some(30));
    // Another user is not affected.
    assert!(issuer
        .grant(TokenRequest::password(client.clone(), "abigail@example.com", "secret456"))
        .await
        .is_ok());

    // Wrong client secrets count against the client id; a success resets the count.
    assert!(issuer.authenticate_client(&id, Some("wrong")).await.is_err());
    assert!(issuer.authenticate_client(&id, Some(secret.expose())).await.is_ok());
    assert!(issuer.authenticate_client(&id, Some("wrong")).await.is_err());
    assert!(issuer.authenticate_client(&id, Some("wrong")).await.is_err());
    let refused = issuer.authenticate_client(&id, Some(secret.expose())).await.expect_err("limited");
    assert_eq!(refused.status(), 429);
    let seen = strikes.failures.lock().expect("lock").clone();
    assert_eq!(seen.get(&format!("client:{id}")), Some(&2));
    assert_eq!(seen.get("user:taylor@example.com"), Some(&2));
}

#[tokio::test]
async fn the_password_grant_is_throttled_by_default_and_waits_out_on_the_issuers_clock() {
    // No `auth_limiter`: the default throttle, on the issuer's (manual) clock.
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let registered = issuer
        .register_client(ClientRegistration::confidential("App").grants([GrantType::Password]))
        .await
        .expect("registered");
    let secret = registered.secret.clone().expect("secret");
    let peer = Some(std::net::IpAddr::from([192, 0, 2, 10]));
    let client = issuer.authenticate_client_from(&registered.client.id, Some(secret.expose()), peer).await;
    let client = client.expect("client");
    assert_eq!(client.peer(), peer);
    let grant = |password: &'static str| {
        issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", password))
    };

    // Today's complaint: 30 wrong passwords in a row, then the right one. Five are free, the
    // sixth starts the back-off, and from then on every attempt (the right password too)
    // is refused with 429 before anything is hashed, for as long as the back-off lasts.
    let mut answers = Vec::new();
    for _ in 0..30 {
        answers.push(grant("wrong").await.expect_err("wrong").status().as_u16());
    }
    assert_eq!(answers[..6], [400; 6]);
    assert!(answers[6..].iter().all(|status| *status == 429), "{answers:?}");
    let refused = grant("password123").await.expect_err("throttled");
    assert_eq!(
        (refused.status(), refused.code()),
        (StatusCode::TOO_MANY_REQUESTS, OAuthErrorCode::TemporarilyUnavailable)
    );
    assert_eq!(refused.retry_after(), Some(1));
    // Another account is not held back by this one's failures.
    assert!(issuer
        .grant(TokenRequest::password(client.clone(), "abigail@example.com", "secret456"))
        .await
        .is_ok());

    // Once the wait is over, one more wrong password doubles it...
    clock.advance(1);
    assert_eq!(grant("wrong").await.expect_err("wrong").code(), OAuthErrorCode::InvalidGrant);
    assert_eq!(grant("password123").await.expect_err("throttled").retry_after(), Some(2));
    clock.advance(1);
    assert_eq!(grant("password123").await.expect_err("throttled").retry_after(), Some(1));
    // ...and the right password, after it, signs in and forgets the failures.
    clock.advance(1);
    assert!(grant("password123").await.is_ok());
    for _ in 0..5 {
        assert_eq!(grant("wrong").await.expect_err("wrong").code(), OAuthErrorCode::InvalidGrant);
    }
    assert!(grant("password123").await.is_ok(), "five fresh failures are free again");
}

#[tokio::test]
async fn sign_in_shares_the_accounts_count_with_the_password_grant() {
    let clock = ManualClock::new(NOW);
    let issuer = password_issuer(&clock);
    let client = app(&issuer).await;
    let peer = Some(std::net::IpAddr::from([192, 0, 2, 11]));
    assert_eq!(
        issuer.sign_in("taylor@example.com", "password123", peer).await.expect("ok"),
        Some("1".into())
    );
    for _ in 0..3 {
        assert_eq!(issuer.sign_in("Taylor@Example.com", "wrong", peer).await.expect("answered"), None);
    }
    for _ in 0..3 {
        let wrong = issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "wrong")).await;
        assert_eq!(wrong.expect_err("wrong").code(), OAuthErrorCode::InvalidGrant);
    }
    let refused = issuer.sign_in("taylor@example.com", "password123", peer).await.expect_err("throttled");
    assert_eq!((refused.status(), refused.retry_after()), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
    clock.advance(1);
    assert_eq!(
        issuer.sign_in("taylor@example.com", "password123", peer).await.expect("ok"),
        Some("1".into())
    );
}

#[tokio::test]
async fn no_limit_turns_the_default_throttle_off() {
    let clock = ManualClock::new(NOW);
    let issuer =
        builder(&clock).enable_password_grant(users()).auth_limiter(NoLimit).build().expect("issuer");
    let client = app(&issuer).await;
    for _ in 0..10 {
        let wrong = issuer.grant(TokenRequest::password(client.clone(), "taylor@example.com", "wrong")).await;
        assert_eq!(wrong.expect_err("wrong").code(), OAuthErrorCode::InvalidGrant);
    }
    assert!(issuer
        .grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123"))
        .await
        .is_ok());
}

/// A limiter whose store is down.
struct Unreachable;

impl AuthLimiter for Unreachable {
    async fn check(&self, _: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
        Err(BackendError::msg("the limiter's store is down"))
    }

    async fn failed(&self, _: &AuthAttempt<'_>) -> Result<(), BackendError> {
        Err(BackendError::msg("the limiter's store is down"))
    }
}

#[tokio::test]
async fn a_limiter_that_cannot_answer_makes_authentication_answer_503() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).auth_limiter(Unreachable).build().expect("issuer");
    let registered =
        issuer.register_client(ClientRegistration::confidential("App")).await.expect("registered");
    let secret = registered.secret.clone().expect("secret");
    let refused = issuer.authenticate_client(&registered.client.id, Some(secret.expose())).await;
    assert_eq!(refused.expect_err("503").status(), StatusCode::SERVICE_UNAVAILABLE);
}

// ---- one typed token request ----------------------------------------------------------------

#[tokio::test]
async fn a_token_requests_debug_redacts_its_secrets() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).enable_password_grant(users()).build().expect("issuer");
    let client = app(&issuer).await;
    let password = TokenRequest::password(client.clone(), "taylor@example.com", "password123");
    assert!(format!("{password:?}").contains("taylor@example.com"), "{password:?}");
    let requests = [
        password,
        TokenRequest::refresh_token(client.clone(), "refresh-secret-value"),
        TokenRequest::authorization_code(
            client.clone(),
            "code-secret-value",
            Some("https://app.example.com/cb"),
            Some("verifier-secret-value"),
        ),
    ];
    for request in requests {
        let debug = format!("{request:?}");
        for secret in ["password123", "refresh-secret-value", "code-secret-value", "verifier-secret-value"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}

#[tokio::test]
async fn the_code_grant_takes_no_scope_and_is_served_once_a_sign_in_hook_is_set() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let web = ClientRegistration::public("Web")
        .id("web")
        .grants([GrantType::AuthorizationCode])
        .redirect_uris(["https://app.example.com/cb"]);
    let client = register(&issuer, web).await;
    // The token endpoint serves the code grant only with the sign-in hook that issues codes.
    let routes = OAuthServer::new(issuer.clone()).build();
    let request = http::Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"grant_type=authorization_code&code=a-code&client_id=web",
        )))
        .expect("request");
    let answer = routes.oneshot(request).await.expect("answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body = answer.into_body().collect().await.expect("body").to_bytes();
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
    // The issuer itself serves it: an unknown code is refused as such.
    let exchange = TokenRequest::authorization_code(client.clone(), "a-code", None, None);
    assert_eq!(code(issuer.grant(exchange.clone()).await), OAuthErrorCode::InvalidGrant);
    let scoped = issuer.grant(exchange.scope("read-posts")).await.expect_err("a scope beside a code");
    assert_eq!(scoped.code(), OAuthErrorCode::InvalidRequest);
    assert!(scoped.description().contains("authorization request"), "{scoped:?}");
}

// ---- errors by caller --------------------------------------------------------------------------

#[tokio::test]
async fn an_id_in_use_is_a_conflict_and_a_call_before_its_setup_is_config() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    issuer.register_client(ClientRegistration::confidential("First").id("billing")).await.expect("first");
    let again = issuer.register_client(ClientRegistration::confidential("Second").id("billing")).await;
    assert_eq!(kind(&again), Some(IssuerErrorKind::Conflict), "{again:?}");
    assert!(again.expect_err("taken").to_string().contains("\"billing\" exists already"));

    let key = SigningKey::generate(Algorithm::ES256).expect("key");
    let early = issuer.rotate_shared_signing_key(key, Duration::ZERO).await;
    assert_eq!(kind(&early), Some(IssuerErrorKind::Config), "{early:?}");
}

#[tokio::test]
async fn an_oauth_refusal_inside_an_app_call_is_invalid_and_keeps_its_code_as_the_source() {
    let clock = ManualClock::new(NOW);
    let issuer = builder(&clock).build().expect("issuer");
    let refused = issuer.create_personal_access_token("1", "cli", &["nope".to_owned()]).await;
    let refused = refused.expect_err("an unknown scope");
    assert_eq!(refused.kind(), IssuerErrorKind::Invalid);
    let source = std::error::Error::source(&refused).expect("the OAuth refusal");
    assert!(source.is::<OAuthError>(), "{source}");
    let said = tower_passport::error::sentence(&refused);
    assert_eq!(said, refused.to_string(), "the source is not said twice");
    assert!(said.starts_with("invalid_scope: "), "{said}");
    // The endpoints answer it as before.
    assert_eq!(OAuthError::from(refused).code(), OAuthErrorCode::InvalidScope);
}
