//! The normal form the policy table insists on before it matches a path.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// `path` percent-decoded, if it is in normal form: a leading `/`; no `.` or `..` segment
/// (raw or encoded); no empty segment but a trailing one; no encoded `/` or `\`, no `\`;
/// no control character; valid UTF-8 once decoded. `None` otherwise.
///
/// A gateway judges a path its upstream will read: any of these could make the two read
/// different routes (`/public/../admin`, `/public%2F..%2Fadmin`, `//admin`), so none is
/// judged at all.
pub(crate) fn normalized(path: &str) -> Option<Cow<'_, str>> {
    if !path.starts_with('/') || path.contains('\\') || has_encoded_separator(path) {
        return None;
    }
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.chars().any(char::is_control) {
        return None;
    }
    let mut segments = decoded[1..].split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == "." || segment == ".." || (segment.is_empty() && !last) {
            return None;
        }
    }
    Some(decoded)
}

/// `%2F` or `%5C`, in either case.
fn has_encoded_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && ((w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'f'))
                || (w[1] == b'5' && w[2].eq_ignore_ascii_case(&b'c')))
    })
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn paths_in_normal_form_are_decoded() {
        assert_eq!(normalized("/").as_deref(), Some("/"));
        assert_eq!(normalized("/orders/42").as_deref(), Some("/orders/42"));
        assert_eq!(normalized("/orders/").as_deref(), Some("/orders/"));
        assert_eq!(normalized("/%61dmin").as_deref(), Some("/admin"));
        assert_eq!(normalized("/files/a%20b").as_deref(), Some("/files/a b"));
        assert_eq!(normalized("/v1.2/x..y").as_deref(), Some("/v1.2/x..y"));
    }

    #[test]
    fn paths_an_upstream_could_read_as_another_are_refused() {
        for path in [
            "",
            "orders",
            "/public/../admin",
            "/public/./admin",
            "/public/%2e%2e/admin",
            "/public/%2E./admin",
            "/public%2Fadmin",
            "/public%2fadmin",
            "/public%5Cadmin",
            "/public\\admin",
            "//admin",
            "/a//b",
            "/a/..",
            "/%00",
            "/%ff",
        ] {
            assert_eq!(normalized(path), None, "{path}");
        }
    }
}
