//! Resource indicators (RFC 8707): a token request names the APIs (`resource`) it wants
//! a token for, and the access token's `aud` is narrowed to them.
//!
//! A token whose `aud` names every API the issuer serves is accepted by each of them: a
//! token obtained for API A can be replayed at API B, by B's operator or by anyone who
//! steals it from A. With resource indicators the client asks for a token for A alone,
//! and B's guard (its `Verifier` configured with B's audience) refuses it.
//!
//! The rules, decided here once for every grant:
//! - The issuer's resources are its audiences ([`IssuerBuilder::audience`](crate::IssuerBuilder::audience)).
//!   A client may be restricted to some of them
//!   ([`ClientRegistration::resources`](crate::ClientRegistration::resources)).
//! - A `resource` must be an absolute URI without a fragment, one of the issuer's
//!   audiences, and allowed to the client; anything else is `invalid_target`. It may be
//!   repeated: the token's `aud` then lists each.
//! - With no `resource`, a token names every audience the client may obtain (all of the
//!   issuer's for an unrestricted client), as before RFC 8707.
//! - What an authorization request (or a password grant) asked for is the grant's, kept
//!   with its code and its refresh tokens. Its code exchange and every refresh may narrow
//!   the access token's audience to part of it, never widen it: the next refresh may ask
//!   for another part.

use crate::store::ClientRecord;
use crate::{Issuer, OAuthError};

/// The audiences of one issuance: what the grant covers (kept with its refresh token),
/// and the access token's `aud`, which is all of that or part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Targets {
    /// What the grant covers: the most a later refresh may ask for.
    pub(crate) granted: Vec<String>,
    /// The access token's `aud`.
    pub(crate) token: Vec<String>,
}

impl Targets {
    /// The access token for everything the grant covers.
    pub(crate) fn whole(granted: Vec<String>) -> Self {
        Self { token: granted.clone(), granted }
    }

    /// The access token for `requested` (all of `granted` when empty), within `granted`.
    pub(crate) fn narrowed(granted: Vec<String>, requested: &[String]) -> Result<Self, OAuthError> {
        let token = within(requested, &granted)?;
        Ok(Self { granted, token })
    }
}

/// Whether `resource` may be a resource indicator: an absolute URI (RFC 3986 §4.3: a
/// scheme, a colon, something after it) without a fragment (RFC 8707 §2), and without
/// whitespace or control characters.
pub(crate) fn is_resource_indicator(resource: &str) -> bool {
    let Some((scheme, rest)) = resource.split_once(':') else { return false };
    let scheme_ok = scheme.bytes().next().is_some_and(|first| first.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok && !rest.is_empty() && !resource.contains('#') && resource.bytes().all(|b| b.is_ascii_graphic())
}

/// `requested`, when each is a resource indicator within `ceiling` (duplicates dropped,
/// first order kept); all of `ceiling` when nothing is requested.
///
/// # Errors
/// `invalid_target` for a malformed resource, one outside `ceiling`, or an empty result.
pub(crate) fn within(requested: &[String], ceiling: &[String]) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        if ceiling.is_empty() {
            return Err(OAuthError::invalid_target("The client may not obtain tokens for any resource"));
        }
        return Ok(ceiling.to_vec());
    }
    let mut chosen: Vec<String> = Vec::with_capacity(requested.len());
    for resource in requested {
        if !is_resource_indicator(resource) {
            return Err(OAuthError::invalid_target("A resource must be an absolute URI without a fragment"));
        }
        if !ceiling.contains(resource) {
            return Err(OAuthError::invalid_target(
                "A requested resource is unknown, not allowed to the client, or outside the grant",
            ));
        }
        if !chosen.contains(resource) {
            chosen.push(resource.clone());
        }
    }
    Ok(chosen)
}

impl Issuer {
    /// The resources `client` may obtain tokens for: the issuer's audiences, or those of
    /// them the client is restricted to.
    pub(crate) fn client_resources(&self, client: &ClientRecord) -> Vec<String> {
        let audiences = &self.inner.audiences;
        match &client.allowed_resources {
            None => audiences.clone(),
            Some(allowed) => {
                audiences.iter().filter(|audience| allowed.contains(audience)).cloned().collect()
            }
        }
    }

    /// What a new grant by `client` asking for `requested` covers (and its access token's
    /// `aud`).
    pub(crate) fn new_grant_targets(
        &self,
        client: &ClientRecord,
        requested: &[String],
    ) -> Result<Targets, OAuthError> {
        Ok(Targets::whole(within(requested, &self.client_resources(client))?))
    }

    /// The targets of a grant kept as `granted` (empty for a record written before resource
    /// indicators: then what the client may obtain now), narrowed to `requested`.
    pub(crate) fn kept_grant_targets(
        &self,
        client: &ClientRecord,
        granted: &[String],
        requested: &[String],
    ) -> Result<Targets, OAuthError> {
        let granted = if granted.is_empty() { self.client_resources(client) } else { granted.to_vec() };
        Targets::narrowed(granted, requested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OAuthErrorCode;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn a_resource_indicator_is_an_absolute_uri_without_a_fragment() {
        for good in [
            "https://api.example.com",
            "https://api.example.com/orders?v=1",
            "urn:example:api",
            "http://127.0.0.1:8080",
        ] {
            assert!(is_resource_indicator(good), "{good}");
        }
        for bad in [
            "orders-api",
            "/orders",
            "https://api.example.com/#x",
            "",
            ":x",
            "1http://x",
            "https://a b",
            "https:",
        ] {
            assert!(!is_resource_indicator(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_audience_is_what_was_asked_within_the_ceiling() {
        let ceiling = strings(&["https://a.test", "https://b.test"]);
        // (requested, expected audience, or None for invalid_target)
        let table: [(&[&str], Option<&[&str]>); 7] = [
            (&[], Some(&["https://a.test", "https://b.test"])),
            (&["https://a.test"], Some(&["https://a.test"])),
            (&["https://b.test", "https://a.test"], Some(&["https://b.test", "https://a.test"])),
            (&["https://a.test", "https://a.test"], Some(&["https://a.test"])),
            (&["https://c.test"], None),
            (&["https://a.test", "https://c.test"], None),
            (&["a.test"], None),
        ];
        for (requested, expected) in table {
            let got = within(&strings(requested), &ceiling);
            match expected {
                Some(audience) => assert_eq!(got.unwrap(), strings(audience), "{requested:?}"),
                None => assert_eq!(got.unwrap_err().code(), OAuthErrorCode::InvalidTarget, "{requested:?}"),
            }
        }
        assert_eq!(within(&[], &[]).unwrap_err().code(), OAuthErrorCode::InvalidTarget);
    }

    #[test]
    fn narrowing_keeps_the_whole_grant_for_the_next_refresh() {
        let granted = strings(&["https://a.test", "https://b.test"]);
        let targets = Targets::narrowed(granted.clone(), &strings(&["https://b.test"])).unwrap();
        assert_eq!(targets.token, strings(&["https://b.test"]));
        assert_eq!(targets.granted, granted);
        let widened = Targets::narrowed(strings(&["https://a.test"]), &strings(&["https://b.test"]));
        assert_eq!(widened.unwrap_err().code(), OAuthErrorCode::InvalidTarget);
    }
}
