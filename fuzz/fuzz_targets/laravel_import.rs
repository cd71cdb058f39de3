//! The Passport import's readers: Laravel's bcrypt hashes (line one the password, line two
//! the hash; costs above 6 are skipped, the work being the point of bcrypt), `APP_KEY`,
//! and `oauth_clients`' `grant_types` and `redirect_uris` (lines three and four).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_passport_laravel::fuzzing::{bcrypt_matches, grant_types, redirect_uris};
use tower_passport_laravel::AppKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let (password, hash) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let (grants, uris) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let cost = hash.get(4..6).and_then(|cost| cost.parse::<u32>().ok());
    if cost.is_none_or(|cost| cost <= 6) {
        let _ = bcrypt_matches(password, hash);
    }
    let _ = AppKey::parse(password);
    for name in grant_types(grants) {
        assert!(grants.contains(name));
    }
    let _ = redirect_uris(Some(uris), Some(uris));
    let _ = redirect_uris(None, Some(uris));
});
