//! Redirect URI matching: exact string comparison (RFC 9700 §4.1.3), except that a
//! loopback redirect URI of a native app (a public client) may differ in its port (RFC 8252
//! §7.3).

/// Whether `presented` matches the registered `registered` redirect URI. `native`: the
/// client is a native app (public), so a loopback URI may differ in its port; a
/// confidential client's must match exactly, loopback or not (RFC 8252 is about native
/// apps, which cannot keep a secret).
pub(crate) fn matches(registered: &str, presented: &str, native: bool) -> bool {
    if registered == presented {
        return true;
    }
    if !native {
        return false;
    }
    match (loopback_parts(registered), loopback_parts(presented)) {
        (Some(registered), Some(presented)) => registered == presented,
        _ => false,
    }
}

/// For `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path`: the URI without its
/// port. `localhost` is not a loopback literal here: RFC 8252 §8.3 says not to rely on
/// it.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let (host, after_host) = if let Some(v6) = rest.strip_prefix("[::1]") {
        ("[::1]", v6)
    } else if let Some(v4) = rest.strip_prefix("127.0.0.1") {
        ("127.0.0.1", v4)
    } else {
        return None;
    };
    let path = match after_host.strip_prefix(':') {
        Some(port_and_path) => {
            let cut = port_and_path.find(['/', '?', '#']).unwrap_or(port_and_path.len());
            let (port, path) = port_and_path.split_at(cut);
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            path
        }
        None if after_host.is_empty() || after_host.starts_with(['/', '?', '#']) => after_host,
        None => return None,
    };
    Some((host, path))
}

/// Whether `uri` may be registered: absolute, printable ASCII (anything else must be
/// percent-encoded), with a scheme, no fragment (RFC 6749 §3.1.2), and `https` with a
/// host and no user information, unless it is a loopback `http` URI (`127.0.0.1`, `[::1]`
/// or `localhost`, any port) or a private-use scheme of a native app
/// (`com.example.app:/callback`, RFC 8252 §7.1).
pub(crate) fn registrable(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else { return false };
    let scheme_ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || uri.contains('#') || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    match scheme {
        "https" => authority(rest).is_some_and(|host| !host.is_empty() && !host.contains('@')),
        "http" => loopback_parts(uri).is_some() || is_localhost(rest),
        // Upper-case `HTTP`, `HTTPS`: refused rather than compared loosely.
        _ if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => false,
        // A private-use scheme must look like a reversed domain name (RFC 8252 §7.1).
        _ => scheme.contains('.'),
    }
}

/// The authority of `//authority/path…`, or `None` without the `//`.
fn authority(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix("//")?;
    Some(&after[..after.find(['/', '?']).unwrap_or(after.len())])
}

/// `//localhost`, `//localhost:PORT`, then nothing or a path or query.
fn is_localhost(rest: &str) -> bool {
    match authority(rest).and_then(|host| host.strip_prefix("localhost")) {
        Some("") => true,
        Some(port) => {
            port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        }
        None => false,
    }
}

/// The Content-Security-Policy source that allows navigating to `uri` (a registrable
/// redirect URI): its origin (`https://app.example.com:8443`) or, for a private-use
/// scheme, the scheme (`com.example.app:`). `None` if it holds anything a CSP source
/// expression cannot.
pub(crate) fn csp_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let source = match authority(rest) {
        Some(host) if scheme == "http" || scheme == "https" => format!("{scheme}://{host}"),
        _ => format!("{scheme}:"),
    };
    source
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b':' | b'/' | b'[' | b']'))
        .then_some(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_string_matches() {
        let registered = "https://app.example.com/callback";
        assert!(matches(registered, registered, true) && matches(registered, registered, false));
        for other in [
            "https://app.example.com/callback/",
            "https://app.example.com/callback?x=1",
            "https://APP.example.com/callback",
            "https://app.example.com:443/callback",
            "https://app.example.com/Callback",
            "https://app.example.com.evil.test/callback",
        ] {
            assert!(!matches(registered, other, true), "{other}");
        }
    }

    #[test]
    fn loopback_uris_may_vary_only_in_the_port() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", true));
        assert!(matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:51234/cb", true));
        assert!(matches("http://[::1]:1/cb", "http://[::1]:2/cb", true));
        assert!(!matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:8000/other", true));
        assert!(!matches("http://127.0.0.1/cb", "http://[::1]/cb", true));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1.evil.test/cb", true));
        assert!(!matches("http://localhost:1/cb", "http://localhost:2/cb", true));
        assert!(!matches("https://127.0.0.1:1/cb", "https://127.0.0.1:2/cb", true));
    }

    #[test]
    fn a_confidential_clients_loopback_uri_must_match_exactly() {
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", false));
        assert!(!matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:51234/cb", false));
        assert!(!matches("http://[::1]:1/cb", "http://[::1]:2/cb", false));
        assert!(matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:8000/cb", false));
    }

    #[test]
    fn what_may_be_registered() {
        for good in [
            "https://app.example.com/callback",
            "http://127.0.0.1:8080/callback",
            "http://[::1]/callback",
            "http://localhost:3000/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(registrable(good), "{good}");
        }
        for bad in [
            "",
            "/relative",
            "https://app.example.com/cb#fragment",
            "http://app.example.com/callback",
            "javascript:alert(1)",
            "https://",
            "https://app.example.com/a b",
            "https:///no-host",
            "https://user@app.example.com/cb",
            "http://localhost.evil.test/callback",
            "http://localhost@evil.test/callback",
            "http://localhost:/callback",
            "HTTP://127.0.0.1/callback",
            "https://app.example.com/caf\u{e9}",
        ] {
            assert!(!registrable(bad), "{bad}");
        }
        assert!(registrable("http://localhost/callback?x=1"));
        assert!(registrable("http://localhost"));
    }

    #[test]
    fn the_csp_source_of_a_redirect_uri_is_its_origin_or_scheme() {
        assert_eq!(csp_source("https://app.example.com/cb?x=1").as_deref(), Some("https://app.example.com"));
        assert_eq!(csp_source("http://127.0.0.1:51234/cb").as_deref(), Some("http://127.0.0.1:51234"));
        assert_eq!(csp_source("http://[::1]/cb").as_deref(), Some("http://[::1]"));
        assert_eq!(csp_source("com.example.app:/oauth2redirect").as_deref(), Some("com.example.app:"));
        assert_eq!(csp_source("https://a.example;script-src/cb"), None);
    }
}
