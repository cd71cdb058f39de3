//! Passport's encrypted refresh tokens: defuse/php-encryption's version 2 (hex) opened with
//! a fixed APP_KEY, and the payload read. The first byte picks: odd reads the bytes as a
//! decrypted payload directly (the decryption's MAC keeps the fuzzer from reaching it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::APP_KEY;
use tower_passport_laravel::fuzzing::{decrypt_refresh_token, refresh_payload_is_valid};

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else { return };
    if mode % 2 == 1 {
        let _ = refresh_payload_is_valid(rest);
        return;
    }
    let Ok(hex) = std::str::from_utf8(rest) else { return };
    if let Some(plaintext) = decrypt_refresh_token(hex, APP_KEY) {
        let _ = refresh_payload_is_valid(&plaintext);
    }
});
