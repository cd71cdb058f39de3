//! What the cookie layer does for one page: a pure decision over who is signed in and
//! what cookies the browser sent, so every case is a table row in the tests.

use subtle::ConstantTimeEq;

use tower_passport::cookie::{CookieClaims, CsrfToken, FirstPartyCookie};

/// What to do with the cookies of one response.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// The browser's cookie is this user's and fresh: keep it; the page's CSRF token is
    /// the one it holds.
    Keep(CsrfToken),
    /// Attach a new cookie sealing `claims`, and `csrf` in `XSRF-TOKEN`.
    Attach { claims: CookieClaims, csrf: CsrfToken },
    /// Nobody is signed in but the browser holds a cookie: remove both.
    Clear,
    /// Nobody is signed in and no cookie came: nothing.
    Nothing,
}

/// The cookies a page request carried, as far as the layer can read them.
pub(super) struct Presented<'a> {
    /// The token cookie, opened (`None`: absent, expired, or not ours).
    pub(super) claims: Option<CookieClaims>,
    /// Whether a token cookie came at all, valid or not.
    pub(super) token_cookie_sent: bool,
    /// The `XSRF-TOKEN` cookie's value.
    pub(super) xsrf: Option<&'a str>,
}

/// `user`: who the hook says is signed in (`None`: nobody). `fresh` makes a CSRF token when
/// one is needed.
pub(super) fn plan(
    cookie: &FirstPartyCookie,
    user: Option<&str>,
    presented: Presented<'_>,
    fresh: impl FnOnce() -> Option<CsrfToken>,
) -> Option<Plan> {
    let Some(user) = user else {
        let sent = presented.token_cookie_sent || presented.xsrf.is_some();
        return Some(if sent { Plan::Clear } else { Plan::Nothing });
    };
    let now = cookie.now();
    // The browser's CSRF token, if it is the one bound to a cookie of this same user.
    let own = presented.claims.as_ref().filter(|claims| claims.sub == user && claims.prv.is_none());
    let bound_csrf = match (own, presented.xsrf) {
        (Some(claims), Some(xsrf)) => Some(CsrfToken::from_presented(xsrf))
            .filter(|csrf| bool::from(csrf.hash().as_bytes().ct_eq(claims.csrf.as_bytes()))),
        _ => None,
    };
    let half_life = cookie.lifetime_secs() / 2;
    match (own, bound_csrf) {
        (Some(claims), Some(csrf)) if claims.exp.saturating_sub(now) > half_life => Some(Plan::Keep(csrf)),
        // Refresh, keeping the page's CSRF token when it still fits, so a request the page
        // is making right now keeps working.
        (_, csrf) => {
            let csrf = match csrf {
                Some(csrf) => csrf,
                None => fresh()?,
            };
            let claims = CookieClaims {
                sub: user.to_owned(),
                prv: None,
                iat_ms: cookie.now_millis(),
                exp: now.saturating_add(cookie.lifetime_secs()),
                csrf: csrf.hash(),
            };
            Some(Plan::Attach { claims, csrf })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_passport::clock::ManualClock;

    const LIFETIME: u64 = 7200;

    fn setup() -> (FirstPartyCookie, ManualClock, CsrfToken) {
        let clock = ManualClock::new(10_000);
        let cookie = FirstPartyCookie::new(&[5; 32]).expect("secret").clock(clock.clone());
        (cookie, clock, CsrfToken::generate().expect("randomness"))
    }

    fn claims(sub: &str, exp: u64, csrf: &CsrfToken) -> CookieClaims {
        CookieClaims { sub: sub.into(), prv: None, iat_ms: (exp - LIFETIME) * 1000, exp, csrf: csrf.hash() }
    }

    fn fresh() -> Option<CsrfToken> {
        CsrfToken::generate()
    }

    #[test]
    fn a_signed_in_user_without_a_cookie_gets_one_for_the_session_lifetime() {
        let (cookie, _, _) = setup();
        let presented = Presented { claims: None, token_cookie_sent: false, xsrf: None };
        let Some(Plan::Attach { claims, csrf }) = plan(&cookie, Some("7"), presented, fresh) else {
            panic!("a cookie is attached")
        };
        assert_eq!((claims.sub.as_str(), claims.iat_ms, claims.exp), ("7", 10_000_000, 10_000 + LIFETIME));
        assert_eq!(claims.csrf, csrf.hash());
    }

    #[test]
    fn a_fresh_cookie_of_the_same_user_is_kept() {
        let (cookie, _, csrf) = setup();
        let presented = Presented {
            claims: Some(claims("7", 10_000 + 5000, &csrf)),
            token_cookie_sent: true,
            xsrf: Some(csrf.as_str()),
        };
        assert_eq!(plan(&cookie, Some("7"), presented, fresh), Some(Plan::Keep(csrf)));
    }

    #[test]
    fn a_cookie_past_half_its_life_is_refreshed_with_the_same_csrf_token() {
        let (cookie, _, csrf) = setup();
        let presented = Presented {
            claims: Some(claims("7", 10_000 + 3000, &csrf)),
            token_cookie_sent: true,
            xsrf: Some(csrf.as_str()),
        };
        let Some(Plan::Attach { claims, csrf: kept }) = plan(&cookie, Some("7"), presented, fresh) else {
            panic!("refreshed")
        };
        assert_eq!(claims.exp, 10_000 + LIFETIME);
        assert_eq!(kept, csrf);
    }

    #[test]
    fn another_users_cookie_is_replaced_with_a_new_csrf_token() {
        let (cookie, _, csrf) = setup();
        let presented = Presented {
            claims: Some(claims("8", 10_000 + 5000, &csrf)),
            token_cookie_sent: true,
            xsrf: Some(csrf.as_str()),
        };
        let Some(Plan::Attach { claims, csrf: new }) = plan(&cookie, Some("7"), presented, fresh) else {
            panic!("replaced")
        };
        assert_eq!(claims.sub, "7");
        assert_ne!(new, csrf);
    }

    #[test]
    fn a_missing_or_foreign_xsrf_cookie_is_replaced() {
        let (cookie, _, csrf) = setup();
        let other = CsrfToken::generate().expect("randomness");
        for xsrf in [None, Some(other.as_str())] {
            let presented =
                Presented { claims: Some(claims("7", 10_000 + 5000, &csrf)), token_cookie_sent: true, xsrf };
            assert!(matches!(plan(&cookie, Some("7"), presented, fresh), Some(Plan::Attach { .. })));
        }
    }

    #[test]
    fn signed_out_browsers_lose_their_cookies() {
        let (cookie, _, csrf) = setup();
        let holding = Presented { claims: None, token_cookie_sent: true, xsrf: Some(csrf.as_str()) };
        assert_eq!(plan(&cookie, None, holding, fresh), Some(Plan::Clear));
        let clean = Presented { claims: None, token_cookie_sent: false, xsrf: None };
        assert_eq!(plan(&cookie, None, clean, fresh), Some(Plan::Nothing));
    }

    #[test]
    fn no_randomness_is_no_cookie() {
        let (cookie, _, _) = setup();
        let presented = Presented { claims: None, token_cookie_sent: false, xsrf: None };
        assert_eq!(plan(&cookie, Some("7"), presented, || None), None);
    }
}
