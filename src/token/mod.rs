//! What a token carries: bearer extraction, the verified claims, and scopes.

mod bearer;
mod claims;
mod scopes;
mod verified;

pub(crate) use bearer::{extract_bearer, BearerOptions};
pub(crate) use claims::{is_json_object, present, RawClaims};
pub use scopes::Scopes;
pub(crate) use verified::{Inner as VerifiedInner, Strings};
pub use verified::{PrincipalKind, VerifiedToken};
