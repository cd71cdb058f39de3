//! The sealed cookie value: claims in base64url JSON, then an HMAC-SHA256 over them.
//!
//! `<base64url(claims)>.<base64url(mac)>`, the MAC taken over a context string, the cookie
//! name and the encoded claims, so a value sealed for one cookie name or one purpose never
//! opens as another.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::FirstPartyCookie;
use crate::error::Reason;

/// Longer values are refused before any work (browsers cap a cookie at 4 KiB).
const MAX_LEN: usize = 4096;
const CONTEXT: &[u8] = b"tower-passport first-party cookie v1\0";

/// What a first-party cookie says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieClaims {
    /// The signed-in user.
    pub sub: String,
    /// Their user provider, when not the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prv: Option<String>,
    /// When it was sealed, in Unix milliseconds: a sign-out refuses the cookies sealed
    /// before it, even within the same second (absent in older cookies: the epoch).
    #[serde(default)]
    pub iat_ms: u64,
    /// When it expires, in Unix seconds.
    pub exp: u64,
    /// SHA-256 of the CSRF token bound to this cookie, base64url.
    pub csrf: String,
}

/// A cookie value, sealed.
pub struct SealedCookie(pub String);

impl CookieClaims {
    /// Seals the claims with `cookie`'s secret.
    pub fn seal(&self, cookie: &FirstPartyCookie) -> SealedCookie {
        // Serializing a struct of strings and integers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = mac(cookie, &body);
        SealedCookie(format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
    }

    /// Opens `value`: the MAC is compared (in constant time, with `subtle`) before the claims are read,
    /// and the expiry after.
    pub fn open(cookie: &FirstPartyCookie, value: &str) -> Result<Self, Reason> {
        if value.len() > MAX_LEN {
            return Err(Reason::InvalidCookie);
        }
        let (body, tag) = value.split_once('.').ok_or(Reason::InvalidCookie)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Reason::InvalidCookie)?;
        if !bool::from(mac(cookie, body).as_ref().ct_eq(&tag)) {
            return Err(Reason::InvalidCookie);
        }
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| Reason::InvalidCookie)?;
        let claims: Self = serde_json::from_slice(&json).map_err(|_| Reason::InvalidCookie)?;
        if claims.exp <= cookie.now() {
            return Err(Reason::Expired);
        }
        Ok(claims)
    }
}

/// The MAC over a context string, the cookie name and the encoded claims, fed piece by
/// piece (no buffer to allocate).
fn mac(cookie: &FirstPartyCookie, body: &str) -> hmac::Tag {
    let mut context = hmac::Context::with_key(cookie.key());
    context.update(CONTEXT);
    context.update(cookie.cookie_name().as_bytes());
    context.update(&[0]);
    context.update(body.as_bytes());
    context.sign()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn claims(exp: u64) -> CookieClaims {
        CookieClaims { sub: "7".into(), prv: None, iat_ms: 1_000_000, exp, csrf: "hash".into() }
    }

    fn cookie(clock: &ManualClock) -> FirstPartyCookie {
        FirstPartyCookie::new(&[1; 32]).expect("secret").clock(clock.clone())
    }

    #[test]
    fn a_sealed_cookie_opens_to_its_claims() {
        let clock = ManualClock::new(1_000);
        let cookie = cookie(&clock);
        let sealed = claims(2_000).seal(&cookie);
        assert_eq!(CookieClaims::open(&cookie, &sealed.0), Ok(claims(2_000)));
    }

    #[test]
    fn an_expired_cookie_is_refused() {
        let clock = ManualClock::new(1_000);
        let cookie = cookie(&clock);
        let sealed = claims(2_000).seal(&cookie);
        clock.set(2_000);
        assert_eq!(CookieClaims::open(&cookie, &sealed.0), Err(Reason::Expired));
    }

    #[test]
    fn a_changed_claim_another_secret_or_another_name_breaks_the_seal() {
        let clock = ManualClock::new(1_000);
        let cookie = cookie(&clock);
        let sealed = claims(2_000).seal(&cookie).0;
        let (_, tag) = sealed.split_once('.').expect("two parts");
        let forged_body = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&CookieClaims { sub: "8".into(), ..claims(2_000) }).expect("json"));
        assert_eq!(CookieClaims::open(&cookie, &format!("{forged_body}.{tag}")), Err(Reason::InvalidCookie));
        let other_secret = FirstPartyCookie::new(&[2; 32]).expect("secret").clock(clock.clone());
        assert_eq!(CookieClaims::open(&other_secret, &sealed), Err(Reason::InvalidCookie));
        let other_name = cookie.clone().name("other_token");
        assert_eq!(CookieClaims::open(&other_name, &sealed), Err(Reason::InvalidCookie));
        for garbage in ["", "no-dot", "a.b", &"x".repeat(5000)] {
            assert_eq!(CookieClaims::open(&cookie, garbage), Err(Reason::InvalidCookie), "{garbage:.20}");
        }
    }
}
