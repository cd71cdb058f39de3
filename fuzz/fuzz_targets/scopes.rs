//! Scope parsing, on both sides: the guard's `Scopes` (and its checks) and the issuer's
//! `scope` parameter (RFC 6749 §3.3). Line one is the granted scope string, line two the
//! required scopes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_passport::Scopes;
use tower_passport_issuer::fuzzing::parse_scope;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (granted, required) = text.split_once('\n').unwrap_or((text, ""));
    let required: Vec<&str> = required.split(' ').filter(|s| !s.is_empty()).collect();
    for inherit in [false, true] {
        let scopes = Scopes::from_space_delimited(granted).with_inheritance(inherit);
        let all = scopes.can_all(required.iter().copied());
        let any = scopes.can_any(required.iter().copied());
        if !required.is_empty() && all {
            assert!(any, "all-of held but any-of did not");
        }
        for scope in &required {
            if scopes.is_wildcard() {
                assert!(scopes.can(scope), "`*` did not absorb {scope:?}");
            }
        }
        assert_eq!(scopes.iter().count(), scopes.len());
    }
    if let Ok(parsed) = parse_scope(granted) {
        for scope in &parsed {
            assert!(!scope.is_empty() && !scope.contains([' ', '"', '\\']));
        }
        assert_eq!(parse_scope(&parsed.join(" ")).ok().as_ref(), Some(&parsed), "parse(format(x)) != x");
    }
});
