//! The approval form's CSRF token: an HMAC-SHA256, under a random key the issuer's nodes
//! share through the store ([`SettingsStore`], first writer wins), over the user, the
//! authorization request and the time it was made. Stateless: the form carries the
//! request, the token proves this server rendered it for this user, recently.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::sync::OnceCell;

use crate::issuer::AuthorizationRequest;
use crate::store::{SettingsStore, StoreError};

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
                let candidate = crate::issuer::secrets::random_b64(32)
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

fn message(user_id: &str, request: &AuthorizationRequest, issued_at: u64) -> Vec<u8> {
    let mut message = b"tower-passport authorize v1\0".to_vec();
    message.extend_from_slice(&(user_id.len() as u64).to_be_bytes());
    message.extend_from_slice(user_id.as_bytes());
    message.extend_from_slice(&request.binding());
    message.extend_from_slice(&issued_at.to_be_bytes());
    message
}

/// A token for `user_id` approving `request`, made at `now`: `<now>.<mac>`.
pub(crate) fn token(key: &hmac::Key, user_id: &str, request: &AuthorizationRequest, now: u64) -> String {
    let tag = hmac::sign(key, &message(user_id, request, now));
    format!("{now}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `token` was made by [`token`] for this user and request, no longer than
/// [`LIFETIME`] ago (compared in constant time).
pub(crate) fn verify(
    key: &hmac::Key,
    user_id: &str,
    request: &AuthorizationRequest,
    token: &str,
    now: u64,
) -> bool {
    let Some((issued_at, tag)) = token.split_once('.') else { return false };
    let Ok(issued_at) = issued_at.parse::<u64>() else { return false };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
    let fresh = issued_at <= now.saturating_add(SKEW) && now.saturating_sub(issued_at) <= LIFETIME;
    fresh && hmac::verify(key, &message(user_id, request, issued_at), &tag).is_ok()
}
