//! Decryption of what league/oauth2-server encrypts with `CryptTrait::encrypt` under
//! Passport: defuse/php-encryption's `Crypto::encryptWithPassword` (format version 2),
//! the password being Laravel's `APP_KEY` (`app('encrypter')->getKey()`, raw bytes).
//!
//! The ciphertext is hex: `DE F5 02 00` (version), a 32-byte salt, a 16-byte IV, the
//! AES-256-CTR ciphertext, and an HMAC-SHA256 tag over everything before it. The keys come
//! from `PBKDF2-HMAC-SHA256(SHA256(password), salt, 100 000 iterations, 32 bytes)`, then
//! HKDF-SHA256 with that salt and the info strings `DefusePHP|V2|KeyForAuthentication`
//! and `DefusePHP|V2|KeyForEncryption`. Written from the format; no code of defuse's.

use std::fmt;
use std::num::NonZeroU32;

use aws_lc_rs::cipher::{DecryptingKey, DecryptionContext, UnboundCipherKey, AES_256};
use aws_lc_rs::{digest, hkdf, hmac, pbkdf2};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{LaravelError, LaravelErrorKind};

const VERSION: [u8; 4] = [0xDE, 0xF5, 0x02, 0x00];
const SALT_LEN: usize = 32;
const IV_LEN: usize = 16;
const MAC_LEN: usize = 32;
const PBKDF2_ITERATIONS: u32 = 100_000;
const AUTHENTICATION_INFO: &[u8] = b"DefusePHP|V2|KeyForAuthentication";
const ENCRYPTION_INFO: &[u8] = b"DefusePHP|V2|KeyForEncryption";
/// The most hex a refresh token may be (its payload is a few hundred bytes): bounds the
/// work an attacker can ask for.
const MAX_HEX_LEN: usize = 16 * 1024;

/// Laravel's `APP_KEY`: 32 bytes, the password Passport gives league for its payloads.
/// Never printed.
///
/// ```
/// use tower_passport_laravel::AppKey;
/// let key = AppKey::parse("base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
/// assert_eq!(format!("{key:?}"), "AppKey(..)");
/// assert!(AppKey::parse("base64:c2hvcnQ=").is_err());
/// ```
#[derive(Clone)]
pub struct AppKey([u8; 32]);

impl AppKey {
    /// `APP_KEY` as `.env` holds it: `base64:` and 32 bytes in base64 (what `php artisan
    /// key:generate` writes), or 32 raw characters.
    ///
    /// # Errors
    /// When it is not 32 bytes.
    pub fn parse(app_key: &str) -> Result<Self, LaravelError> {
        let app_key = app_key.trim();
        let bytes = match app_key.strip_prefix("base64:") {
            Some(encoded) => STANDARD.decode(encoded).map_err(|e| {
                LaravelError::new(LaravelErrorKind::AppKey, "APP_KEY's base64 does not decode").with_source(e)
            })?,
            None => app_key.as_bytes().to_vec(),
        };
        let key = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| LaravelError::new(LaravelErrorKind::AppKey, "APP_KEY must be 32 bytes (AES-256)"))?;
        Ok(Self(key))
    }

    /// The key's 32 bytes.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(..)")
    }
}

/// `Crypto::decryptWithPassword($hex, $password)`: the plaintext, or `None` for anything
/// malformed or not authenticated by `password`. CPU-heavy (PBKDF2): call it off the
/// executor.
pub(crate) fn decrypt_with_password(hex: &str, password: &[u8]) -> Option<Vec<u8>> {
    if hex.len() > MAX_HEX_LEN {
        return None;
    }
    let raw = decode_hex(hex)?;
    if raw.len() < VERSION.len() + SALT_LEN + IV_LEN + MAC_LEN || raw[..4] != VERSION {
        return None;
    }
    let (authenticated, tag) = raw.split_at(raw.len() - MAC_LEN);
    let salt = &authenticated[4..4 + SALT_LEN];
    let iv: [u8; IV_LEN] = authenticated[4 + SALT_LEN..4 + SALT_LEN + IV_LEN].try_into().ok()?;
    let encrypted = &authenticated[4 + SALT_LEN + IV_LEN..];

    let prehash = digest::digest(&digest::SHA256, password);
    let mut prekey = [0u8; 32];
    let iterations = NonZeroU32::new(PBKDF2_ITERATIONS)?;
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, prehash.as_ref(), &mut prekey);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&prekey);
    let derive = |info: &[u8]| -> Option<[u8; 32]> {
        let mut key = [0u8; 32];
        prk.expand(&[info], hkdf::HKDF_SHA256).ok()?.fill(&mut key).ok()?;
        Some(key)
    };
    let authentication_key = derive(AUTHENTICATION_INFO)?;
    let encryption_key = derive(ENCRYPTION_INFO)?;

    // The tag first, in constant time; nothing is decrypted that it does not cover.
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &authentication_key), authenticated, tag).ok()?;
    let key = DecryptingKey::ctr(UnboundCipherKey::new(&AES_256, &encryption_key).ok()?).ok()?;
    let mut plaintext = encrypted.to_vec();
    let length = key.decrypt(&mut plaintext, DecryptionContext::Iv128(iv.into())).ok()?.len();
    plaintext.truncate(length);
    Some(plaintext)
}

/// Lower- or upper-case hex, as defuse's `Encoding::hexToBin` reads it.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    hex.as_bytes().chunks_exact(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext};

    use super::*;

    /// Encrypts as defuse does, from the same format description (the Python fixtures in
    /// the integration tests are the independent check).
    fn encrypt(plaintext: &[u8], password: &[u8], salt: [u8; 32], iv: [u8; 16]) -> String {
        let prehash = digest::digest(&digest::SHA256, password);
        let mut prekey = [0u8; 32];
        let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).unwrap();
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, prehash.as_ref(), &mut prekey);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&prekey);
        let derive = |info: &[u8]| {
            let mut key = [0u8; 32];
            prk.expand(&[info], hkdf::HKDF_SHA256).unwrap().fill(&mut key).unwrap();
            key
        };
        let key =
            EncryptingKey::ctr(UnboundCipherKey::new(&AES_256, &derive(ENCRYPTION_INFO)).unwrap()).unwrap();
        let mut encrypted = plaintext.to_vec();
        key.less_safe_encrypt(&mut encrypted, EncryptionContext::Iv128(iv.into())).unwrap();
        let mut message = [&VERSION[..], &salt, &iv, &encrypted].concat();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &derive(AUTHENTICATION_INFO)), &message);
        message.extend_from_slice(tag.as_ref());
        message.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_payload_round_trips_and_any_change_or_other_key_is_refused() {
        let hex = encrypt(br#"{"client_id":"1"}"#, &[7; 32], [1; 32], [2; 16]);
        assert_eq!(decrypt_with_password(&hex, &[7; 32]).as_deref(), Some(&br#"{"client_id":"1"}"#[..]));
        assert_eq!(
            decrypt_with_password(&hex.to_uppercase(), &[7; 32]).as_deref(),
            Some(&br#"{"client_id":"1"}"#[..])
        );
        assert_eq!(decrypt_with_password(&hex, &[8; 32]), None, "another APP_KEY");
        let mut flipped = hex.clone().into_bytes();
        let at = flipped.len() - 70;
        flipped[at] = if flipped[at] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            decrypt_with_password(std::str::from_utf8(&flipped).unwrap(), &[7; 32]),
            None,
            "a flipped bit"
        );
        assert_eq!(decrypt_with_password(&hex[..hex.len() - 2], &[7; 32]), None, "truncated");
        assert_eq!(decrypt_with_password(&format!("{}x", &hex[..hex.len() - 1]), &[7; 32]), None, "not hex");
        assert_eq!(decrypt_with_password(&hex.replacen("def502", "def503", 1), &[7; 32]), None, "version");
    }
}
