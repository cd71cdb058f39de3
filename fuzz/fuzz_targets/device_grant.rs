//! The device authorization grant (RFC 8628): its requests as the issuer reads them, and
//! the user codes people type. The first byte picks:
//!
//! - 0: a typed user code normalised. An accepted one is eight letters of the alphabet,
//!   normalising is idempotent, and the code shown (`XXXX-XXXX`), in lower case or spaced
//!   out, normalises back to it.
//! - 1: the round trip: the rest's bytes make a code of the alphabet, written with the
//!   separators and case the bytes pick; it always normalises back to the code.
//! - 2: the device authorization request (`Content-Type` line, `Authorization` lines, an
//!   empty line, the form body): every scope read is a non-empty run of RFC 6749 NQCHAR.
//! - 3: the token request of the device code grant (same layout): an accepted poll has a
//!   non-empty `device_code`.
//! - 4: the approval form (`Content-Type` line, empty line, body) with its CSRF token
//!   checked for user `42` at a fixed instant: a valid token always names the code.
//! - 5: a fresh user code: eight letters with a dash in the middle, and it normalises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::{header_line, lines, NOW};
use tower_passport_issuer::fuzzing::{
    device_authorization_request, device_decision, generate_user_code, normalize_user_code, token_request,
    USER_CODE_ALPHABET,
};
use tower_passport_issuer::Grant;

/// The approval form's CSRF key.
const CSRF_KEY: &[u8; 32] = b"device approval key for fuzzing!";

/// `data` read as header lines up to the first empty line, then the body.
fn request(data: &[u8]) -> (Option<&[u8]>, Vec<&[u8]>, &[u8]) {
    let split = data.windows(2).position(|pair| pair == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (&data[..0], data),
    };
    let (mut content_type, mut authorization) = (None, Vec::new());
    for (name, value) in lines(head).into_iter().filter_map(header_line) {
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization.push(value);
        }
    }
    (content_type, authorization, body)
}

fn check_normalized(code: &str) {
    assert_eq!(code.len(), 8, "{code}");
    assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)), "{code}");
    assert_eq!(normalize_user_code(code).as_deref(), Some(code));
    let shown = format!("{}-{}", &code[..4], &code[4..]);
    assert_eq!(normalize_user_code(&shown).as_deref(), Some(code));
    assert_eq!(normalize_user_code(&shown.to_ascii_lowercase()).as_deref(), Some(code));
    let spaced: String = code.chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(normalize_user_code(&spaced).as_deref(), Some(code));
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else { return };
    match mode % 6 {
        0 => {
            let Ok(typed) = std::str::from_utf8(rest) else { return };
            if let Some(code) = normalize_user_code(typed) {
                check_normalized(&code);
            }
        }
        1 => {
            let Some(letters) = rest.get(..8) else { return };
            let code: String = letters
                .iter()
                .map(|b| char::from(USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()]))
                .collect();
            let mut typed = String::new();
            for (i, c) in code.chars().enumerate() {
                let style = rest.get(8 + i).copied().unwrap_or(0);
                typed.push_str(match style % 4 {
                    1 => " ",
                    2 => "-",
                    3 => " - ",
                    _ => "",
                });
                typed.push(if style & 4 == 4 { c.to_ascii_lowercase() } else { c });
            }
            assert_eq!(normalize_user_code(&typed).as_deref(), Some(code.as_str()), "{typed:?}");
            check_normalized(&code);
        }
        2 => {
            let (content_type, authorization, body) = request(rest);
            if let Ok(read) = device_authorization_request(content_type, &authorization, body) {
                // RFC 6749 §3.3: scope tokens are non-empty runs of NQCHAR.
                let nqchar = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
                for scope in read.scopes.iter().flatten() {
                    assert!(!scope.is_empty() && scope.bytes().all(nqchar), "{scope:?}");
                }
            }
        }
        3 => {
            let (content_type, authorization, body) = request(rest);
            if let Ok(read) = token_request(content_type, &authorization, body) {
                if let Grant::DeviceCode { device_code } = &read.grant {
                    assert!(!device_code.is_empty());
                }
            }
        }
        4 => {
            let (content_type, _, body) = request(rest);
            if let Ok(read) = device_decision(content_type, body, CSRF_KEY, "42", NOW) {
                if read.csrf_valid {
                    check_normalized(&read.user_code);
                }
            }
        }
        _ => {
            let code = generate_user_code().expect("randomness");
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            check_normalized(&normalize_user_code(&code).expect("a fresh code normalises"));
        }
    }
});
