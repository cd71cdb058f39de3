//! Entry points for the coverage-guided fuzz targets in `fuzz/` at the repository root.
//!
//! Not public API: this module exists only with the `fuzzing` feature, is hidden from the
//! docs, and may change in any release. Each function runs one crate-private reader of
//! the import path from plain bytes a fuzzer can produce.

/// defuse/php-encryption's `decryptWithPassword`, as Passport's refresh tokens are opened.
///
/// `None`: malformed or not authenticated. Runs PBKDF2 (100 000 rounds) on anything
/// shaped like a version-2 ciphertext.
pub fn decrypt_refresh_token(hex: &str, app_key: &[u8]) -> Option<Vec<u8>> {
    crate::crypt::decrypt_with_password(hex, app_key)
}

/// Whether a decrypted refresh-token payload is one league wrote (all the fields read).
pub fn refresh_payload_is_valid(plaintext: &[u8]) -> bool {
    crate::refresh::parse_payload(plaintext).is_some()
}

/// Whether `password` matches Laravel's bcrypt `hash` (`false` for anything else).
pub fn bcrypt_matches(password: &str, hash: &str) -> bool {
    crate::users::laravel_hash_matches(password, hash)
}

/// The import's reading of Passport 13's JSON `grant_types`.
pub fn grant_types(json: &str) -> Vec<&str> {
    crate::import::grant_types(Some(json))
}

/// The import's reading of the redirect URIs: Passport 13's JSON, else ≤ 12's list.
pub fn redirect_uris(json: Option<&str>, comma_separated: Option<&str>) -> Vec<String> {
    crate::import::redirect_uris(json, comma_separated)
}
