//! tower-passport beside its peers, on one token and one inner service.
//!
//! Each module sets up one verifier the way its README does, for the token of
//! [`benches::fixture::claims`] signed by a [`benches::support::TestKey`]:
//!
//! - [`passport`]: tower-passport's `GuardLayer`, with the verified-token cache (warm) and
//!   without it (cold), around [`benches::fixture::Inner`].
//! - [`jsonwebtoken_peer`]: a bare `jsonwebtoken::decode` (11, aws-lc-rs) into typed claims.
//! - [`jwt_authorizer_peer`]: jwt-authorizer 0.15's `AuthorizationLayer`, around a service of
//!   its own ([`jwt_authorizer_peer::AxumInner`]): the layer needs a response type it can
//!   build from its `AuthError`, which only axum 0.7's and tonic's are.
//! - [`aliri_peer`]: aliri_tower 0.6's `jwt_layer` (aliri 0.6 and aliri_oauth2 0.10) around
//!   [`benches::fixture::Inner`] itself.
//!
//! Every constructor checks that the verifier accepts the token before it returns, so a
//! figure can never be the cost of a rejection. The `peer_instructions` bin, the `peers`
//! criterion bench and the `load_server` bin all build on these.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod aliri_peer;
pub mod claims;
pub mod jsonwebtoken_peer;
pub mod jwt_authorizer_peer;
pub mod passport;
