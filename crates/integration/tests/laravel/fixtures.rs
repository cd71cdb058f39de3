//! Passport's secrets made by an independent implementation: `tests/interop/laravel_fixtures.py`
//! (Python's `cryptography` and `bcrypt`, from the formats), run in the interop virtualenv.

use serde_json::{json, Value};

use crate::python::Python;

/// The `APP_KEY` of the tests' Laravel application.
pub const APP_KEY: &str = "base64:c3VwZXItc2VjcmV0LWxhcmF2ZWwtYXBwLWtleSEhISE=";

/// What the script made: refresh tokens (league's encrypted payloads) and `$2y$` hashes, in
/// the order asked.
pub struct Fixtures {
    pub refresh_tokens: Vec<String>,
    pub bcrypt: Vec<String>,
}

/// Encrypts each payload with [`APP_KEY`] as league does, and hashes each password as
/// Laravel's `Hash::make` (cost 4 to keep tests quick; the cost is in the hash). `None`
/// when the virtualenv is missing (a failure under CI).
pub async fn make(payloads: &[Value], passwords: &[&str]) -> Option<Fixtures> {
    let python = Python::find()?;
    let bcrypt: Vec<Value> =
        passwords.iter().map(|password| json!({"password": password, "cost": 4})).collect();
    let request = json!({"app_key": APP_KEY, "refresh_tokens": payloads, "bcrypt": bcrypt}).to_string();
    let made = python.run("laravel_fixtures.py", &[("FIXTURE_REQUEST", &request)]).await.json();
    let strings = |field: &str| -> Vec<String> {
        made[field].as_array().expect(field).iter().map(|v| v.as_str().expect("string").to_owned()).collect()
    };
    Some(Fixtures { refresh_tokens: strings("refresh_tokens"), bcrypt: strings("bcrypt") })
}

/// league's refresh-token payload.
pub fn payload(
    client_id: &str,
    refresh_token_id: &str,
    access_token_id: &str,
    user_id: &str,
    expire_time: u64,
) -> Value {
    json!({
        "client_id": client_id,
        "refresh_token_id": refresh_token_id,
        "access_token_id": access_token_id,
        "scopes": ["read-orders"],
        "user_id": user_id,
        "expire_time": expire_time,
    })
}
