//! The token endpoint's reading of a request: header lines (`Content-Type: …`,
//! `Authorization: Basic …`), an empty line, then the form body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::header_line;
use tower_passport_issuer::fuzzing::token_request;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut content_type = None;
    let mut authorization = Vec::new();
    for (name, value) in head.split(|&b| b == b'\n').filter_map(header_line) {
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization.push(value);
        }
    }
    if let Ok(read) = token_request(content_type, &authorization, body) {
        assert!(!read.client_id.is_empty() || authorization.len() == 1, "an empty posted client_id");
    }
});
