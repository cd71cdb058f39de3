//! What the issuer counts, through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`); without the feature every function here is empty and compiles away.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `passport_token_requests_total` | counter | `grant_type`, `outcome` (`issued` or the OAuth error code) |
//! | `passport_refresh_reuse_detected_total` | counter | — |
//!
//! No label carries a token, a secret, a user or a client id: every label value comes
//! from a fixed set.

#[cfg(feature = "metrics")]
mod recorded {
    use metrics::counter;

    pub(crate) fn token_request(grant_type: &str, outcome: &'static str) {
        // Only the grants the endpoint knows: an unknown `grant_type` is one label value.
        let grant_type = match grant_type {
            "authorization_code" => "authorization_code",
            "client_credentials" => "client_credentials",
            "refresh_token" => "refresh_token",
            "password" => "password",
            _ => "other",
        };
        counter!("passport_token_requests_total", "grant_type" => grant_type, "outcome" => outcome)
            .increment(1);
    }

    pub(crate) fn refresh_reuse() {
        counter!("passport_refresh_reuse_detected_total").increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
#[allow(clippy::missing_const_for_fn)]
mod recorded {
    #[inline(always)]
    pub(crate) fn token_request(_grant_type: &str, _outcome: &'static str) {}
    #[inline(always)]
    pub(crate) fn refresh_reuse() {}
}

pub(crate) use recorded::*;
