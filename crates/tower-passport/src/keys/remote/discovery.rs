//! OpenID Connect Discovery 1.0 and RFC 8414: from an issuer to its `jwks_uri`.

use http::Uri;
use serde::Deserialize;

use super::url::parse_fetch_url;

/// The two metadata locations of `issuer`, in the order they are tried:
/// - OpenID Connect Discovery §4: `{issuer}/.well-known/openid-configuration`;
/// - RFC 8414 §3: `{scheme}://{host}/.well-known/oauth-authorization-server{path}`, the
///   well-known segment inserted between the host and the issuer's path.
pub(crate) fn metadata_urls(issuer: &Uri) -> Result<[Uri; 2], String> {
    if issuer.query().is_some() {
        return Err("an issuer URL has no query component (RFC 8414 §2)".to_owned());
    }
    let (Some(scheme), Some(authority)) = (issuer.scheme_str(), issuer.authority()) else {
        return Err("the issuer is not an absolute URL".to_owned());
    };
    let path = issuer.path().trim_end_matches('/');
    let oidc = format!("{scheme}://{authority}{path}/.well-known/openid-configuration");
    let rfc8414 = format!("{scheme}://{authority}/.well-known/oauth-authorization-server{path}");
    let parse =
        |url: String| url.parse::<Uri>().map_err(|_| format!("cannot build the metadata URL {url:?}"));
    Ok([parse(oidc)?, parse(rfc8414)?])
}

/// The metadata members read.
#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[cfg(feature = "introspection")]
    #[serde(default)]
    introspection_endpoint: Option<String>,
}

/// A metadata document whose `issuer` is exactly the configured one (OpenID Connect
/// Discovery §4.3, RFC 8414 §3.3).
fn checked(document: &[u8], issuer: &str) -> Result<Metadata, String> {
    let metadata: Metadata = serde_json::from_slice(document)
        .map_err(|_| "the metadata is not a JSON object with an \"issuer\" string".to_owned())?;
    if metadata.issuer != issuer {
        return Err(format!(
            "issuer mismatch: the metadata names {:?}, the configuration {issuer:?}",
            metadata.issuer
        ));
    }
    Ok(metadata)
}

/// The `jwks_uri` of a metadata document, once its `issuer` is checked and the URI passes
/// the transport rule.
pub(super) fn jwks_uri(document: &[u8], issuer: &str, allow_http: bool) -> Result<Uri, String> {
    let jwks_uri =
        checked(document, issuer)?.jwks_uri.ok_or_else(|| "the metadata has no jwks_uri".to_owned())?;
    parse_fetch_url(&jwks_uri, allow_http, "jwks_uri")
}

/// The RFC 7662 `introspection_endpoint` of a metadata document (RFC 8414 §2), once its
/// `issuer` is checked and the URI passes the transport rule.
#[cfg(feature = "introspection")]
pub(crate) fn introspection_endpoint(document: &[u8], issuer: &str, allow_http: bool) -> Result<Uri, String> {
    let endpoint = checked(document, issuer)?
        .introspection_endpoint
        .ok_or_else(|| "the metadata has no introspection_endpoint".to_owned())?;
    parse_fetch_url(&endpoint, allow_http, "introspection_endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(issuer: &str) -> [String; 2] {
        metadata_urls(&issuer.parse().unwrap()).unwrap().map(|uri| uri.to_string())
    }

    #[test]
    fn an_issuer_without_a_path() {
        assert_eq!(
            urls("https://auth.example.com"),
            [
                "https://auth.example.com/.well-known/openid-configuration",
                "https://auth.example.com/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(urls("https://auth.example.com/"), urls("https://auth.example.com"));
    }

    #[test]
    fn an_issuer_with_a_path_puts_the_rfc_8414_segment_before_it() {
        assert_eq!(
            urls("https://idp.example:8443/realms/shop/"),
            [
                "https://idp.example:8443/realms/shop/.well-known/openid-configuration",
                "https://idp.example:8443/.well-known/oauth-authorization-server/realms/shop",
            ]
        );
    }

    #[test]
    fn an_issuer_with_a_query_is_refused() {
        assert!(metadata_urls(&"https://idp.example/?tenant=1".parse().unwrap()).is_err());
    }

    #[test]
    fn the_issuer_must_match_exactly() {
        let document = br#"{"issuer":"https://idp.example/","jwks_uri":"https://idp.example/jwks"}"#;
        let error = jwks_uri(document, "https://idp.example", false).unwrap_err();
        assert!(error.contains("issuer mismatch"), "{error}");
        let uri = jwks_uri(document, "https://idp.example/", false).unwrap();
        assert_eq!(uri.to_string(), "https://idp.example/jwks");
    }

    #[test]
    fn the_jwks_uri_must_be_present_and_https() {
        let missing = br#"{"issuer":"https://idp.example"}"#;
        assert!(jwks_uri(missing, "https://idp.example", false).unwrap_err().contains("no jwks_uri"));
        let plain = br#"{"issuer":"https://idp.example","jwks_uri":"http://idp.example/jwks"}"#;
        assert!(jwks_uri(plain, "https://idp.example", false).is_err());
        assert!(jwks_uri(plain, "https://idp.example", true).is_ok());
        assert!(jwks_uri(b"[]", "https://idp.example", false).is_err());
    }
}
