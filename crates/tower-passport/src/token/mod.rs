//! What a token carries: bearer extraction, the verified claims, and scopes.

pub(crate) mod bearer;
mod claims;
mod claims_read;
mod header_value;
mod other_scheme;
mod scopes;
mod slot;
mod verdict;
mod verified;

pub(crate) use bearer::{as_b64token, extract_credentials, BearerOptions, Credentials};
pub(crate) use claims::{is_json_object, present, RawClaims, StringList, Text};
pub(crate) use header_value::{first_header_value, header_values, HeaderValues};
pub(crate) use other_scheme::OtherScheme;
pub use scopes::Scopes;
pub(crate) use slot::Slot;
pub(crate) use verdict::{Passed, RequirementId};
pub(crate) use verified::{Audience, Inner as VerifiedInner, Strings, Synthetic};
pub use verified::{Credential, PrincipalKind, VerifiedToken};

/// The user provider of a user token that names none in its `provider` claim: Passport's
/// default `users` provider (the issuer's
/// [`enable_password_grant`](https://docs.rs/tower-passport-issuer) one).
///
/// ```
/// assert_eq!(tower_passport::token::DEFAULT_PROVIDER, "users");
/// ```
pub const DEFAULT_PROVIDER: &str = "users";
