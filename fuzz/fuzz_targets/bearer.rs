//! Bearer extraction: `Authorization` values (one a line; a line `?query` is the request's
//! query), with and without the `access_token` query parameter. A token the guard accepts
//! is a b64token no longer than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::lines;
use tower_passport::fuzzing::{bearer, is_b64token_byte, uri_with_query};

const MAX_LEN: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut values = Vec::new();
    let mut query = "";
    for line in lines(data) {
        match line.strip_prefix(b"?") {
            Some(q) => query = std::str::from_utf8(q).unwrap_or(""),
            None => values.push(line),
        }
    }
    let uri = uri_with_query(query).unwrap_or_else(|| http::Uri::from_static("/resource"));
    for query_parameter in [false, true] {
        if let Ok(Some(token)) = bearer(&values, &uri, MAX_LEN, query_parameter) {
            assert!(token.len() <= MAX_LEN, "a token over the limit was accepted");
            let body = token.trim_end_matches('=');
            assert!(!body.is_empty() && body.bytes().all(is_b64token_byte), "not a b64token: {token:?}");
        }
    }
});
