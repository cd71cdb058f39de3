//! The approval form's CSRF token: an HMAC-SHA256, under a random key the issuer's nodes
//! share through the store ([`SettingsStore`], first writer wins), over the user, the hash
//! of the session the app's hook reported (if it reported one), the authorization request
//! and the time it was made. Stateless: the form carries the request, the token proves
//! this server rendered it for this user, in this session, recently.
//!
//! The JSON APIs' `X-CSRF-TOKEN` for calls made through the session is the same HMAC under
//! the same key, over another domain tag, the user and the time: it proves that this
//! server handed it to this user's page, recently.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::sync::OnceCell;

use crate::store::{SecretHash, SettingsStore, StoreError};
use crate::AuthorizationRequest;

/// The setting that holds the key.
const KEY_SETTING: &str = "authorization_csrf_key";

/// How long an approval form stays good.
pub(crate) const LIFETIME: u64 = 3600;

/// Tolerated clock skew between nodes, for a token from the future.
const SKEW: u64 = 60;

/// The key, loaded (or created) once.
#[derive(Default)]
pub(crate) struct CsrfKey(OnceCell<hmac::Key>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// The key: from the store, where the first node to need one put a random one.
    pub(crate) async fn get<S: SettingsStore>(&self, store: &S) -> Result<&hmac::Key, StoreError> {
        self.0
            .get_or_try_init(|| async {
                let candidate = crate::secrets::random_b64(32)
                    .map_err(|_| StoreError::backend(std::io::Error::other("no random source")))?;
                let stored = store.put_setting_if_absent(KEY_SETTING, &candidate).await?;
                let bytes = URL_SAFE_NO_PAD
                    .decode(stored.as_bytes())
                    .ok()
                    .filter(|bytes| bytes.len() >= 32)
                    .ok_or_else(|| StoreError::config(format!("the {KEY_SETTING} setting is not a key")))?;
                Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
            })
            .await
    }
}

/// Who the approval form is for: the user and, if the hook reported one, the session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signer<'a> {
    pub(crate) user_id: &'a str,
    pub(crate) session: Option<&'a SecretHash>,
}

/// `tag`, then the signer: the user (length-prefixed) and the session, if any.
fn signed_by(tag: &[u8], signer: Signer<'_>) -> Vec<u8> {
    let mut message = tag.to_vec();
    message.extend_from_slice(&(signer.user_id.len() as u64).to_be_bytes());
    message.extend_from_slice(signer.user_id.as_bytes());
    match signer.session {
        Some(session) => {
            message.push(1);
            message.extend_from_slice(session.as_bytes());
        }
        None => message.push(0),
    }
    message
}

fn message(signer: Signer<'_>, request: &AuthorizationRequest, issued_at: u64) -> Vec<u8> {
    let mut message = signed_by(b"tower-passport authorize v2\0", signer);
    message.extend_from_slice(&request.binding());
    message.extend_from_slice(&issued_at.to_be_bytes());
    message
}

/// How long a JSON API token (`X-CSRF-TOKEN`) stays good: a working day.
pub(crate) const API_LIFETIME: u64 = 12 * 3600;

fn api_message(user_id: &str, issued_at: u64) -> Vec<u8> {
    let mut message = b"tower-passport json api v1\0".to_vec();
    message.extend_from_slice(&(user_id.len() as u64).to_be_bytes());
    message.extend_from_slice(user_id.as_bytes());
    message.extend_from_slice(&issued_at.to_be_bytes());
    message
}

/// A JSON API token for `user_id`, made at `now`: `<now>.<mac>`.
pub(crate) fn api_token(key: &hmac::Key, user_id: &str, now: u64) -> String {
    stamped(key, &api_message(user_id, now), now)
}

/// Whether `token` was made by [`api_token`] for this user, no longer than
/// [`API_LIFETIME`] ago (compared in constant time).
pub(crate) fn verify_api(key: &hmac::Key, user_id: &str, token: &str, now: u64) -> bool {
    verify_stamped(key, token, now, API_LIFETIME, |issued_at| api_message(user_id, issued_at))
}

fn stamped(key: &hmac::Key, message: &[u8], now: u64) -> String {
    let tag = hmac::sign(key, message);
    format!("{now}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn verify_stamped(
    key: &hmac::Key,
    token: &str,
    now: u64,
    lifetime: u64,
    message: impl FnOnce(u64) -> Vec<u8>,
) -> bool {
    let Some((issued_at, tag)) = token.split_once('.') else { return false };
    let Ok(issued_at) = issued_at.parse::<u64>() else { return false };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
    let fresh = issued_at <= now.saturating_add(SKEW) && now.saturating_sub(issued_at) <= lifetime;
    fresh && hmac::verify(key, &message(issued_at), &tag).is_ok()
}

/// A token for `signer` approving `request`, made at `now`: `<now>.<mac>`.
pub(crate) fn token(key: &hmac::Key, signer: Signer<'_>, request: &AuthorizationRequest, now: u64) -> String {
    stamped(key, &message(signer, request, now), now)
}

/// Whether `token` was made by [`token`] for this user, session and request, no longer
/// than [`LIFETIME`] ago (compared in constant time).
pub(crate) fn verify(
    key: &hmac::Key,
    signer: Signer<'_>,
    request: &AuthorizationRequest,
    token: &str,
    now: u64,
) -> bool {
    verify_stamped(key, token, now, LIFETIME, |issued_at| message(signer, request, issued_at))
}

fn device_message(signer: Signer<'_>, user_code: &str, issued_at: u64) -> Vec<u8> {
    let mut message = signed_by(b"tower-passport device v1\0", signer);
    message.extend_from_slice(user_code.as_bytes());
    message.extend_from_slice(&issued_at.to_be_bytes());
    message
}

/// A token for `signer` deciding the device request with this (normalised) `user_code`,
/// made at `now`.
pub(crate) fn device_token(key: &hmac::Key, signer: Signer<'_>, user_code: &str, now: u64) -> String {
    stamped(key, &device_message(signer, user_code, now), now)
}

/// Whether `token` was made by [`device_token`] for this user, session and user code, no
/// longer than [`LIFETIME`] ago (compared in constant time).
pub(crate) fn verify_device(
    key: &hmac::Key,
    signer: Signer<'_>,
    user_code: &str,
    token: &str,
    now: u64,
) -> bool {
    verify_stamped(key, token, now, LIFETIME, |issued_at| device_message(signer, user_code, issued_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_api_token_is_bound_to_its_user_and_its_time() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let other_key = hmac::Key::new(hmac::HMAC_SHA256, &[8; 32]);
        let now = 1_800_000_000;
        let token = api_token(&key, "7", now);
        assert!(verify_api(&key, "7", &token, now + API_LIFETIME));
        assert!(!verify_api(&key, "70", &token, now), "another user");
        assert!(!verify_api(&other_key, "7", &token, now), "another key");
        assert!(!verify_api(&key, "7", &token, now + API_LIFETIME + 1), "stale");
        assert!(!verify_api(&key, "7", &token, now - SKEW - 1), "from the future");
        let (stamp, tag) = token.split_once('.').unwrap_or_default();
        let restamped = format!("{}.{tag}", stamp.parse::<u64>().unwrap_or_default() + 1);
        assert!(!verify_api(&key, "7", &restamped, now), "a changed time breaks the tag");
        for broken in ["", "x", "1.", ".abc", "abc.def"] {
            assert!(!verify_api(&key, "7", broken, now), "{broken:?}");
        }
    }

    #[test]
    fn a_device_decision_token_is_bound_to_its_user_session_and_code() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let now = 1_800_000_000;
        let session = SecretHash::of(b"session");
        let signer = Signer { user_id: "7", session: Some(&session) };
        let token = device_token(&key, signer, "BCDFGHJK", now);
        assert!(verify_device(&key, signer, "BCDFGHJK", &token, now + LIFETIME));
        assert!(!verify_device(&key, signer, "BCDFGHJL", &token, now), "another code");
        assert!(
            !verify_device(&key, Signer { user_id: "8", ..signer }, "BCDFGHJK", &token, now),
            "another user"
        );
        assert!(
            !verify_device(&key, Signer { session: None, ..signer }, "BCDFGHJK", &token, now),
            "another session"
        );
        assert!(!verify_device(&key, signer, "BCDFGHJK", &token, now + LIFETIME + 1), "stale");
        let api = api_token(&key, "7", now);
        assert!(
            !verify_device(&key, signer, "BCDFGHJK", &api, now),
            "a JSON API token is not a device token"
        );
    }
}
