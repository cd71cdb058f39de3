//! Strict request parsing for the OAuth endpoints: size-capped bodies, form-encoded
//! parameters without duplicates, and client authentication.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::HeaderMap;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use crate::OAuthError;

/// The largest request body an endpoint reads.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes: a body announced larger
/// (by `Content-Length`) is refused with 413 before a byte of it is read, and one that
/// turns out larger is refused with 413 as soon as it passes the cap.
pub(crate) async fn read_body<B>(headers: &HeaderMap, body: B) -> Result<Bytes, OAuthError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let announced = body.size_hint().exact().or_else(|| {
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
    });
    if announced.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(OAuthError::payload_too_large());
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(OAuthError::payload_too_large()),
        Err(_) => Err(OAuthError::invalid_request("The request body could not be read")),
    }
}

/// Reads a body that must be declared `application/json` (`invalid_request` otherwise), as
/// [`read_body`] does.
pub(crate) async fn read_json_body<B>(headers: &HeaderMap, body: B) -> Result<Bytes, OAuthError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !has_media_type(headers, "application/json") {
        return Err(OAuthError::invalid_request("The body must be application/json"));
    }
    read_body(headers, body).await
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// Whether the body is declared as `media` (`application/json`, …).
pub(crate) fn has_media_type(headers: &HeaderMap, media: &str) -> bool {
    media_type(headers).as_deref() == Some(media)
}

/// Form parameters (RFC 6749 §3.2: `application/x-www-form-urlencoded`). A repeated
/// parameter is `invalid_request` (RFC 6749 §3.1), except `resource`, which RFC 8707
/// repeats; empty values count as absent.
#[derive(Debug, Default)]
pub(crate) struct Form(HashMap<String, String>, Vec<String>);

impl Form {
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        if !has_media_type(headers, "application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request("The body must be application/x-www-form-urlencoded"));
        }
        let mut params = HashMap::new();
        let mut resources = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if name == "resource" {
                resources.extend((!value.is_empty()).then(|| value.into_owned()));
                continue;
            }
            if params.insert(name.into_owned(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request("A parameter is repeated"));
            }
        }
        params.retain(|_, value: &mut String| !value.is_empty());
        Ok(Self(params, resources))
    }

    /// Every `resource` sent (RFC 8707), in order.
    pub(crate) fn resources(&self) -> &[String] {
        &self.1
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(crate) fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("The {name} parameter is missing")))
    }
}

/// How the client presented itself, and from where.
pub(crate) struct ClientCredentials {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    /// The client's address ([`OAuthRoutes::client_ip`](super::OAuthRoutes::client_ip)).
    pub(crate) peer: Option<std::net::IpAddr>,
}

/// Undoes RFC 6749 §2.3.1's `application/x-www-form-urlencoded` encoding of a Basic
/// credential: `+` is a space, then percent-decoding of the whole value (never a split at
/// `&` or `=`, which are literal characters here). `None` when the result is not UTF-8.
fn form_decode(value: &str) -> Option<String> {
    if !value.contains(['+', '%']) {
        // Nothing encoded (generated ids and secrets): the value itself.
        return Some(value.to_owned());
    }
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|decoded| decoded.into_owned())
}

/// Reads client authentication: `client_secret_basic` (RFC 6749 §2.3.1, with the
/// form-encoding of id and secret undone), `client_secret_post`, or a public client's bare
/// `client_id`. Using two methods at once, or sending two `Authorization` headers, is
/// `invalid_request`.
pub(crate) fn client_credentials(headers: &HeaderMap, form: &Form) -> Result<ClientCredentials, OAuthError> {
    let mut authorization = headers.get_all(AUTHORIZATION).iter();
    let first = authorization.next();
    if authorization.next().is_some() {
        return Err(OAuthError::invalid_request("Send one Authorization header, not several"));
    }
    let basic = match first {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| OAuthError::invalid_client())?;
            let (scheme, encoded) = value.split_once(' ').ok_or_else(OAuthError::invalid_client)?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::invalid_client());
            }
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| OAuthError::invalid_client())?;
            let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(OAuthError::invalid_client)?;
            let id = form_decode(id).ok_or_else(OAuthError::invalid_client)?;
            let secret = form_decode(secret).ok_or_else(OAuthError::invalid_client)?;
            Some((id, secret))
        }
    };
    let posted_secret = form.get("client_secret");
    match basic {
        Some(_) if posted_secret.is_some() => {
            Err(OAuthError::invalid_request("Use one client authentication method, not two"))
        }
        Some((id, secret)) => {
            if form.get("client_id").is_some_and(|posted| posted != id) {
                return Err(OAuthError::invalid_request(
                    "The client_id does not match the authenticated client",
                ));
            }
            Ok(ClientCredentials { id, secret: Some(secret), peer: None })
        }
        None => {
            let id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
            Ok(ClientCredentials { id: id.to_owned(), secret: posted_secret.map(str::to_owned), peer: None })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn form_decoding_takes_the_whole_value() {
        assert_eq!(form_decode("secret&anything").as_deref(), Some("secret&anything"));
        assert_eq!(form_decode("a=b").as_deref(), Some("a=b"));
        assert_eq!(form_decode("with+space%2Bplus%26amp").as_deref(), Some("with space+plus&amp"));
        assert_eq!(form_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(form_decode("%FF"), None);
    }
}
