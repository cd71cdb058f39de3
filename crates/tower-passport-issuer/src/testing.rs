//! Test helpers (feature `testing`; **for dev-dependencies only**, never in a release build):
//! [`TestIssuer`], a throwaway issuer for tests that want the whole guard.
//!
//! Passport's `actingAs` and `actingAsClient` are in `tower_passport::testing` (its `testing`
//! feature, which this one turns on).

mod test_issuer;

pub use test_issuer::TestIssuer;
