//! Keeping a response that sets a cookie out of shared caches.

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};

/// Makes a response that sets a cookie private to its browser.
///
/// When `headers` hold a `Set-Cookie`, `Cache-Control` gets `private` unless it says `no-store`
/// (`public` and `s-maxage` are dropped, the other directives, such as `max-age`, are kept: the
/// browser's own cache may still keep the page) and `Vary` gets `Cookie` (once, after what it
/// names already).
///
/// A shared cache then never hands one user's cookie, or a page made for one user's cookies, to
/// another. Without a `Set-Cookie`, nothing changes.
///
/// [`FreshApiTokenLayer`](super::FreshApiTokenLayer) does this whenever it sets or clears
/// its cookies; call it on the responses of your session layer too, which sets the session
/// cookie on whatever page renews it (a stylesheet, say):
///
/// ```
/// use http::{HeaderMap, HeaderValue};
/// use tower_passport_issuer::endpoint::private_if_setting_cookies;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("cache-control", HeaderValue::from_static("public, max-age=3600, s-maxage=600"));
/// headers.insert("vary", HeaderValue::from_static("Accept-Encoding"));
/// headers.insert("set-cookie", HeaderValue::from_static("session=abc; HttpOnly"));
/// private_if_setting_cookies(&mut headers);
/// assert_eq!(headers["cache-control"], "max-age=3600, private");
/// assert_eq!(headers["vary"], "Accept-Encoding, Cookie");
/// ```
pub fn private_if_setting_cookies(headers: &mut HeaderMap) {
    if !headers.contains_key(SET_COOKIE) {
        return;
    }
    let cache_control = private_cache_control(headers);
    headers.insert(CACHE_CONTROL, cache_control);
    if let Some(vary) = vary_with_cookie(headers) {
        headers.insert(VARY, vary);
    }
}

/// Every `Cache-Control` directive but `public` and `s-maxage`, then `private` (unless
/// there already, or `no-store` is, which says more).
fn private_cache_control(headers: &HeaderMap) -> HeaderValue {
    let mut kept: Vec<&str> = directives(headers, CACHE_CONTROL)
        .filter(|directive| {
            let name = directive.split('=').next().unwrap_or_default().trim();
            !name.eq_ignore_ascii_case("public") && !name.eq_ignore_ascii_case("s-maxage")
        })
        .collect();
    let private = |directive: &&str| {
        directive.eq_ignore_ascii_case("private") || directive.eq_ignore_ascii_case("no-store")
    };
    if !kept.iter().any(private) {
        kept.push("private");
    }
    // Pieces of valid header values joined by ", " are a valid header value.
    HeaderValue::from_str(&kept.join(", ")).unwrap_or(HeaderValue::from_static("private"))
}

/// `Vary` as one value ending in `Cookie`; `None` when it names `Cookie` or `*` already.
fn vary_with_cookie(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut fields: Vec<&str> = directives(headers, VARY).collect();
    if fields.iter().any(|field| *field == "*" || field.eq_ignore_ascii_case("cookie")) {
        return None;
    }
    fields.push("Cookie");
    Some(HeaderValue::from_str(&fields.join(", ")).unwrap_or(HeaderValue::from_static("Cookie")))
}

/// The comma-separated items of every `name` header, trimmed; values that are not text
/// are skipped.
fn directives(headers: &HeaderMap, name: http::HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        private_if_setting_cookies(&mut headers);
        headers
    }

    fn all(headers: &HeaderMap, name: &str) -> Vec<String> {
        headers.get_all(name).iter().map(|v| v.to_str().expect("text").to_owned()).collect()
    }

    #[test]
    fn public_and_s_maxage_give_way_to_private_and_max_age_stays() {
        let headers = rewrite(&[
            ("set-cookie", "a=b"),
            ("cache-control", "PUBLIC, max-age=3600"),
            ("cache-control", "s-maxage=60, must-revalidate"),
        ]);
        assert_eq!(all(&headers, "cache-control"), ["max-age=3600, must-revalidate, private"]);
        assert_eq!(all(&headers, "vary"), ["Cookie"]);
    }

    #[test]
    fn no_cache_control_becomes_private_and_private_or_no_store_stay() {
        assert_eq!(all(&rewrite(&[("set-cookie", "a=b")]), "cache-control"), ["private"]);
        let kept = rewrite(&[("set-cookie", "a=b"), ("cache-control", "private, max-age=60")]);
        assert_eq!(all(&kept, "cache-control"), ["private, max-age=60"]);
        let no_store = rewrite(&[("set-cookie", "a=b"), ("cache-control", "no-store")]);
        assert_eq!(all(&no_store, "cache-control"), ["no-store"]);
    }

    #[test]
    fn vary_gets_cookie_once_after_what_it_names() {
        let appended = rewrite(&[("set-cookie", "a=b"), ("vary", "Accept-Encoding"), ("vary", "Origin")]);
        assert_eq!(all(&appended, "vary"), ["Accept-Encoding, Origin, Cookie"]);
        let already = rewrite(&[("set-cookie", "a=b"), ("vary", "origin, cookie")]);
        assert_eq!(all(&already, "vary"), ["origin, cookie"]);
        let star = rewrite(&[("set-cookie", "a=b"), ("vary", "*")]);
        assert_eq!(all(&star, "vary"), ["*"]);
    }

    #[test]
    fn a_response_setting_no_cookie_is_left_alone() {
        let headers = rewrite(&[("cache-control", "public, max-age=3600")]);
        assert_eq!(all(&headers, "cache-control"), ["public, max-age=3600"]);
        assert!(all(&headers, "vary").is_empty());
    }
}
