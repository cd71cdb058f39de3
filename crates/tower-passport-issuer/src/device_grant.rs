//! The device authorization grant (RFC 8628), without HTTP: the device asks
//! ([`Issuer::device_authorization`]), the signed-in user finds the request by its user code
//! ([`Issuer::device_request`]) and decides ([`Issuer::decide_device_request`]), and the
//! device polls the token endpoint with its device code until the answer is tokens.
//!
//! What its rules stop:
//! - **Guessing user codes** (RFC 8628 §5.1). A user code has about 34.5 bits and lives ten
//!   minutes; each wrong code a signed-in user types counts against that user and against
//!   the address it came from in the issuer's [`AuthLimiter`](crate::AuthLimiter), which
//!   answers 429 after a few, with waits that double. A right code does not reset the
//!   count, since anyone can make right codes of their own.
//! - **Polling floods** (RFC 8628 §3.5). A poll sooner than the interval is `slow_down`
//!   and adds five seconds to the interval, for this and every later poll.
//! - **Replayed device codes.** An approval is redeemed once, atomically in every store;
//!   the codes are kept as SHA-256 hashes only.
//! - **Remote phishing** (RFC 8628 §5.4). The request did not start in the user's browser,
//!   so the approval screen is always shown, naming the client: never skipped for an
//!   earlier grant or a marked client.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::clients::AuthenticatedClient;
use super::{crypto, secrets, user_code, AuthAttempt, Issuer, IssuerBuilder, OAuthError, OAuthErrorCode};
use super::{ScopeDefinition, TokenResponse};
use crate::store::{
    ClientRecord, ClientStore, DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll, GrantType,
    SecretHash, StoreError,
};
use tower_passport::error::{ConfigError, ConfigErrorKind};

/// The longest a device code may live: 30 minutes. The default is 10.
const MAX_DEVICE_TTL: Duration = Duration::from_secs(1800);

/// The longest device code looked up: ours are 43 characters.
const MAX_DEVICE_CODE_LEN: usize = 256;

/// How many times fresh codes are drawn when a user code collides with a live one.
const DRAWS: usize = 4;

/// What the issuer keeps for the device grant: the lifetime of its codes and the polling
/// interval.
pub(crate) struct DeviceSettings {
    pub(crate) ttl: Duration,
    pub(crate) interval: Duration,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self { ttl: Duration::from_secs(600), interval: Duration::from_secs(5) }
    }
}

impl DeviceSettings {
    /// The settings, if they are valid.
    pub(crate) fn checked(self) -> Result<Self, ConfigError> {
        if self.ttl.as_secs() == 0 || self.ttl > MAX_DEVICE_TTL {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "a device code lives between one second and 30 minutes",
            ));
        }
        if self.interval.as_secs() == 0 || self.interval >= self.ttl {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the device polling interval is at least one second, and shorter than the code's life",
            ));
        }
        Ok(self)
    }
}

impl fmt::Debug for DeviceSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSettings").field("ttl", &self.ttl).field("interval", &self.interval).finish()
    }
}

impl IssuerBuilder {
    /// How long a device authorization request waits for the user: 10 minutes by default, at
    /// most 30; [`build`](Self::build) refuses more, or less than a second.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// let builder = || Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api");
    /// assert!(builder().device_code_ttl(Duration::from_secs(300)).build().is_ok());
    /// assert!(builder().device_code_ttl(Duration::from_secs(7200)).build().is_err());
    /// ```
    pub fn device_code_ttl(mut self, ttl: Duration) -> Self {
        self.devices.ttl = ttl;
        self
    }

    /// The least time a device waits between polls, in whole seconds: 5 by default (RFC 8628
    /// §3.2). A poll sooner than that is `slow_down` and adds five seconds.
    pub fn device_code_interval(mut self, interval: Duration) -> Self {
        self.devices.interval = interval;
        self
    }
}

/// The device authorization response (RFC 8628 §3.2). `Debug` redacts the device code and
/// the user code.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// What the device polls the token endpoint with.
    pub device_code: String,
    /// What the user types on the verification page: `XXXX-XXXX`.
    pub user_code: String,
    /// The verification page.
    pub verification_uri: String,
    /// The verification page with the user code in it (for a QR code or a link).
    pub verification_uri_complete: String,
    /// Seconds until both codes expire.
    pub expires_in: u64,
    /// Seconds the device waits between polls.
    pub interval: u64,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"..")
            .field("user_code", &"..")
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// A pending device authorization request, found by its user code: what the approval
/// screen shows. `Debug` redacts the user code.
#[derive(Clone)]
pub struct DeviceRequest {
    client: ClientRecord,
    scopes: Vec<ScopeDefinition>,
    user_code: String,
}

impl fmt::Debug for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceRequest")
            .field("client_id", &self.client.id)
            .field("scopes", &self.scopes)
            .field("user_code", &"..")
            .finish()
    }
}

impl DeviceRequest {
    /// The client that asked.
    pub fn client(&self) -> &ClientRecord {
        &self.client
    }

    /// The scopes it asks for, with their descriptions.
    pub fn scopes(&self) -> &[ScopeDefinition] {
        &self.scopes
    }

    /// The user code, normalised (`BCDFGHJK`).
    pub fn user_code(&self) -> &str {
        &self.user_code
    }
}

impl Issuer {
    /// Starts a device authorization request (RFC 8628 §3.1): `client` must be allowed the
    /// device grant ([`GrantType::DeviceCode`]); `scope` is resolved as for any grant. The
    /// `verification_uri` is the page where the user types the code (the HTTP front passes
    /// its `/oauth/device`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let tv = issuer.register_client(ClientRegistration::public("TV").grants([GrantType::DeviceCode])).await?;
    /// let client = issuer.authenticate_client(&tv.client.id, None).await?;
    /// let started = issuer.device_authorization(&client, None, "https://auth.example.com/oauth/device").await?;
    /// assert_eq!(started.user_code.len(), 9);
    /// assert_eq!(started.interval, 5);
    /// assert!(started.verification_uri_complete.ends_with(&format!("?user_code={}", started.user_code)));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `unauthorized_client` if the client may not use the device grant or has a user
    /// provider of its own (the verification page signs users in through the default one),
    /// `invalid_scope`, or 503.
    pub async fn device_authorization(
        &self,
        client: &AuthenticatedClient,
        scope: Option<&str>,
        verification_uri: &str,
    ) -> Result<DeviceAuthorization, OAuthError> {
        Self::require_grant(client, GrantType::DeviceCode)?;
        let record = client.record();
        // The verification page signs users in before it knows the client, so through the
        // default provider only: a client of another provider would get tokens naming a
        // provider its user never signed in with.
        if record.provider.is_some() {
            return Err(OAuthError::unauthorized_client(
                "The device grant serves clients of the default user provider only",
            ));
        }
        let scopes = self.inner.scopes.resolve(scope, GrantType::DeviceCode, Some(record))?;
        let settings = &self.inner.devices;
        let (now, ttl, interval) = (self.now(), settings.ttl.as_secs(), settings.interval.as_secs());
        for _ in 0..DRAWS {
            let device_code = secrets::random_b64(32).map_err(crypto)?;
            let user_code = user_code::generate().map_err(crypto)?;
            let Some(normalized) = user_code::normalize(&user_code) else { continue };
            let stored = DeviceCodeRecord {
                device_hash: SecretHash::of(device_code.as_bytes()),
                user_code_hash: SecretHash::of(normalized.as_bytes()),
                client_id: record.id.clone(),
                scopes: scopes.clone(),
                issued_at: now,
                expires_at: now.saturating_add(ttl),
                interval,
                last_polled_at_ms: None,
                decision: DeviceDecision::Pending,
                used_at: None,
            };
            match self.inner.store.put_device_code(stored).await {
                Ok(()) => {}
                Err(error) if error.is_conflict() => continue,
                Err(error) => return Err(error.into()),
            }
            let complete =
                form_urlencoded::Serializer::new(String::new()).append_pair("user_code", &user_code).finish();
            let separator = if verification_uri.contains('?') { '&' } else { '?' };
            return Ok(DeviceAuthorization {
                device_code,
                verification_uri_complete: format!("{verification_uri}{separator}{complete}"),
                user_code,
                verification_uri: verification_uri.to_owned(),
                expires_in: ttl,
                interval,
            });
        }
        Err(StoreError::conflict("no free user code after several draws").into())
    }

    /// The pending request whose user code `user_id` typed, for the approval screen. Each
    /// code that finds nothing counts as a failure against `user_id` and `peer` in the
    /// issuer's [`AuthLimiter`](crate::AuthLimiter) (RFC 8628 §5.1); codes are compared in
    /// any case, with or without the dash.
    ///
    /// # Errors
    /// `invalid_grant` for a code that is unknown, expired or already decided; 429
    /// `temporarily_unavailable` (with [`OAuthError::retry_after`]) while throttled; 503.
    pub async fn device_request(
        &self,
        typed: &str,
        user_id: &str,
        peer: Option<IpAddr>,
    ) -> Result<DeviceRequest, OAuthError> {
        let attempt = AuthAttempt::UserCode { user_id, peer };
        self.inner.limiter.admit(&attempt).await?;
        let found = match user_code::normalize(typed) {
            Some(normalized) => {
                let hash = SecretHash::of(normalized.as_bytes());
                let record = self.inner.store.pending_device_code(&hash, self.now()).await?;
                match record {
                    Some(record) => self
                        .inner
                        .store
                        .client(&record.client_id)
                        .await?
                        .map(|client| (record, client, normalized)),
                    None => None,
                }
            }
            None => None,
        };
        let Some((record, client, user_code)) = found.filter(|(_, client, _)| !client.revoked) else {
            // Only failures count: a right code does not reset the count.
            self.inner.limiter.record(&attempt, false).await;
            return Err(OAuthError::invalid_grant("The code is wrong, expired or already used"));
        };
        let registry = self.scope_registry();
        let scopes = record
            .scopes
            .iter()
            .map(|id| {
                registry
                    .scopes()
                    .iter()
                    .find(|scope| &scope.id == id)
                    .cloned()
                    .unwrap_or_else(|| ScopeDefinition { id: id.clone(), description: id.clone() })
            })
            .collect();
        Ok(DeviceRequest { client, scopes, user_code })
    }

    /// Records `user_id`'s decision on the request with this user code: approved, the device's
    /// next poll gets tokens for `user_id`; denied, `access_denied`. Returns whether it was
    /// recorded (`false`: the request expired or was decided meanwhile).
    ///
    /// # Errors
    /// 503 when the store fails.
    pub async fn decide_device_request(
        &self,
        request: &DeviceRequest,
        user_id: &str,
        approve: bool,
    ) -> Result<bool, OAuthError> {
        let decision =
            if approve { DeviceDecision::Approved(user_id.to_owned()) } else { DeviceDecision::Denied };
        let hash = SecretHash::of(request.user_code.as_bytes());
        Ok(self.inner.store.decide_device_code(&hash, decision, self.now()).await?)
    }

    /// The device code grant (RFC 8628 §3.4): one poll. The answer is the tokens once the
    /// user approved, and an RFC 8628 §3.5 error before.
    ///
    /// # Errors
    /// `authorization_pending`, `slow_down`, `access_denied`, `expired_token`; `invalid_grant`
    /// for an unknown or redeemed device code or one of another client;
    /// `invalid_target` for a `resource` the client may not obtain (RFC 8707);
    /// `unauthorized_client`; 503.
    pub(crate) async fn device_code_grant(
        &self,
        client: &AuthenticatedClient,
        device_code: &str,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::DeviceCode)?;
        // RFC 8707: checked before the poll, so a wrong `resource` spends no approval.
        let targets = self.new_grant_targets(client.record(), resources)?;
        let invalid = || OAuthError::invalid_grant("The device code is invalid");
        if device_code.len() > MAX_DEVICE_CODE_LEN {
            return Err(invalid());
        }
        let hash = SecretHash::of(device_code.as_bytes());
        let now_ms = self.inner.clock.now_millis();
        let record = match self.inner.store.poll_device_code(&hash, &client.id, now_ms).await? {
            DevicePoll::Approved(record) => record,
            DevicePoll::Invalid | DevicePoll::Used => return Err(invalid()),
            DevicePoll::Expired => {
                return Err(OAuthError::new(
                    OAuthErrorCode::ExpiredToken,
                    "The device code expired; start again",
                ))
            }
            DevicePoll::SlowDown => {
                return Err(OAuthError::new(
                    OAuthErrorCode::SlowDown,
                    "Polled too soon; wait five seconds longer",
                ))
            }
            DevicePoll::Pending => {
                return Err(OAuthError::new(
                    OAuthErrorCode::AuthorizationPending,
                    "The user has not decided yet",
                ))
            }
            DevicePoll::Denied => {
                return Err(OAuthError::new(OAuthErrorCode::AccessDenied, "The user denied the request"))
            }
        };
        let DeviceDecision::Approved(user_id) = &record.decision else { return Err(invalid()) };
        self.issue_with_refresh(client.record(), user_id, &record.scopes, &targets, dpop_jkt).await
    }
}
