//! First-party cookie and CSRF reading: line one is the method, line two the request
//! target, then header lines (`Cookie`, `Origin`, `Sec-Fetch-Site`, `X-CSRF-TOKEN`, …).
//! An unsafe method is never let through without a matching CSRF token header.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use passport_fuzz::{first_party_cookie, header_line, lines};
use tower_passport::fuzzing::{cookie_principal, headers, single_cookie};

fuzz_target!(|data: &[u8]| {
    let lines = lines(data);
    let [method, target, rest @ ..] = lines.as_slice() else { return };
    let Ok(method) = Method::from_bytes(method) else { return };
    let Ok(uri) = std::str::from_utf8(target).unwrap_or("/").parse::<http::Uri>() else { return };
    let map = headers(rest.iter().filter_map(|line| header_line(line)));
    let cookie = first_party_cookie();
    let _ = single_cookie(&map, cookie.cookie_name());
    let _ = single_cookie(&map, "XSRF-TOKEN");
    if let Ok(Some(principal)) = cookie_principal(cookie, &method, &uri, &map) {
        let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            assert!(
                map.contains_key("x-csrf-token") || map.contains_key("x-xsrf-token"),
                "{method} was let through without a CSRF token"
            );
        }
        assert!(principal.subject().is_some());
    }
});
