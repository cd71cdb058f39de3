//! RFC 7662 introspection answers through the public `Introspector`: a fake authorization
//! server answers the call with the fuzzer's status and body, and the answer is parsed and
//! its members checked as the guard checks them (issuer `https://issuer.example`, audience
//! `api`, a fixed instant, no leeway, no cache). The first byte picks the status (mostly
//! 200); the rest is the body.
//!
//! An accepted answer is a JSON object whose `active` is `true`, whose `iss` (if any) is
//! ours, whose `aud` names ours and whose `exp` is a number after the fixed instant; the
//! token carries our issuer. A refusal is 401 `invalid_token` or 503, never anything else.
#![no_main]

use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use passport_fuzz::introspection::introspect;
use passport_fuzz::{AUDIENCE, ISSUER, NOW};
use serde_json::Value;

const STATUSES: [u16; 8] = [200, 200, 200, 200, 204, 302, 401, 500];

fuzz_target!(|data: &[u8]| {
    let [status, body @ ..] = data else { return };
    let status = StatusCode::from_u16(STATUSES[usize::from(status % 8)]).expect("a status");
    let token = match introspect(status, body) {
        Ok(token) => token,
        Err(error) => {
            let refused = [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE];
            assert!(refused.contains(&error.status()), "{error:?}");
            return;
        }
    };
    assert_eq!(status, StatusCode::OK);
    let answer: Value = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        // A member nobody reads may nest deeper than `Value` reads (128): the guard skips
        // it without recursion. Nothing else may fail here.
        Err(error) if error.to_string().contains("recursion limit") => return,
        Err(error) => panic!("an accepted answer is not JSON: {error}"),
    };
    assert_eq!(answer["active"], Value::Bool(true), "{answer}");
    // `"iss": null` is no issuer, like a missing one: the endpoint speaks for ours.
    assert!(answer.get("iss").is_none_or(|iss| iss.is_null() || iss == ISSUER), "{answer}");
    let exp = answer["exp"].as_f64().expect("an accepted answer has a numeric exp");
    assert!(exp > NOW as f64, "{answer}");
    let aud = &answer["aud"];
    assert!(
        aud == AUDIENCE || aud.as_array().is_some_and(|list| list.iter().any(|a| a == AUDIENCE)),
        "{answer}"
    );
    assert_eq!(token.issuer(), ISSUER);
});
