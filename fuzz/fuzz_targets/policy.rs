//! The gateway's policy file (TOML) and its path normal form: the text up to a line
//! `#--`, then `METHOD path` lines checked against the table (without a token, and with a
//! verified one). A path the table judges is in normal form.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use passport_fuzz::policy::token;
use tower_passport::fuzzing::normalized_path;
use tower_passport::policy::PolicyTable;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (toml, requests) = text.split_once("\n#--\n").unwrap_or((text, ""));
    let table = PolicyTable::from_toml(toml, "fuzz.toml");
    for line in requests.lines() {
        let (method, path) = line.split_once(' ').unwrap_or(("GET", line));
        if let Some(normal) = normalized_path(path) {
            assert!(normal.starts_with('/'));
            assert!(!normal.split('/').any(|segment| segment == ".." || segment == "."), "{normal}");
        }
        let Ok(method) = Method::from_bytes(method.as_bytes()) else { continue };
        if let Ok(table) = &table {
            let judged = table.check(&method, path, None);
            let _ = table.check(&method, path, Some(token()));
            if judged.is_ok() && normalized_path(path).is_none() {
                panic!("a path not in normal form was let through: {path:?}");
            }
        }
    }
});
