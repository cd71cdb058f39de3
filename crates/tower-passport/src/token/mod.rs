//! What a token carries: bearer extraction, the verified claims, and scopes.

pub(crate) mod bearer;
mod claims;
mod claims_read;
mod scopes;
mod verified;

pub(crate) use bearer::{as_b64token, extract_bearer, BearerOptions};
#[cfg(feature = "fuzzing")]
pub(crate) use claims::StringList;
pub(crate) use claims::{is_json_object, present, RawClaims, Text};
pub use scopes::Scopes;
pub use verified::{Credential, PrincipalKind, VerifiedToken};
pub(crate) use verified::{Inner as VerifiedInner, Strings, Synthetic};

/// The user provider of a user token that names none in its `provider` claim: Passport's
/// default `users` provider (the issuer's
/// [`enable_password_grant`](https://docs.rs/tower-passport-issuer) one).
///
/// ```
/// assert_eq!(tower_passport::token::DEFAULT_PROVIDER, "users");
/// ```
pub const DEFAULT_PROVIDER: &str = "users";
