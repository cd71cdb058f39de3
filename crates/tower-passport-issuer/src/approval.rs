//! When the approval screen of the authorization code grant may be skipped: only for a
//! client the operator marked ([`ClientRecord::skips_authorization`], Passport's
//! `skipsAuthorization`), or when the user already granted every requested scope to a
//! client whose identity the redirect assures. Never with `prompt=consent`.

use super::{AuthorizationError, AuthorizationRequest, Issuer};
use crate::store::{ClientRecord, TokenStore};

/// Why the screen is skipped, or not, before looking at what the user granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Show the screen.
    Show,
    /// Skip it.
    Skip,
    /// Skip it if the user already granted every requested scope.
    IfGranted,
}

/// The decision, from the request alone (a pure function: see the table in the tests).
///
/// A public client's identity is assured only by an `https` redirect URI (RFC 8252 §8.6
/// accepts claimed `https` redirects as proof): a loopback or private-use redirect could
/// reach any app on the device claiming the client's id, so an earlier grant is not
/// enough there. A marked client skips whatever it is: a public one was marked knowingly
/// ([`ClientRegistration::skips_authorization_even_if_public`](super::ClientRegistration::skips_authorization_even_if_public)).
fn rule(client: &ClientRecord, consent: bool, redirect_uri: &str) -> Rule {
    if consent {
        Rule::Show
    } else if client.skips_authorization {
        Rule::Skip
    } else if client.is_confidential() || redirect_uri.starts_with("https://") {
        Rule::IfGranted
    } else {
        Rule::Show
    }
}

/// Whether the scopes the user granted the client ([`TokenStore::granted_scopes`]: its
/// live tokens' scopes, personal access tokens left out) hold every scope in `scopes`;
/// `*` holds them all.
fn granted(granted: &[String], scopes: &[String]) -> bool {
    let wildcard = granted.iter().any(|s| s == "*");
    scopes.iter().all(|scope| wildcard || granted.contains(scope))
}

impl Issuer {
    /// Whether the approval screen can be skipped for `user_id`, as Passport decides it:
    /// never with `prompt=consent`; always for a client registered with
    /// [`skips_authorization`](super::ClientRegistration::skips_authorization) (off by
    /// default, first-party or not); otherwise when the user already holds live tokens of
    /// this client that cover every requested scope (as Passport looks at the user's
    /// tokens of that client: [`TokenStore::granted_scopes`], their scopes' union), so that
    /// revoking them (one by one, by family, with the client, or through the
    /// authorized-apps API) withdraws the consent, and only if the client's identity is
    /// assured: it is confidential, or its redirect URI is `https`. A public client that
    /// redirects to a loopback or private-use URI could be any app on the device claiming
    /// its id (RFC 8252 §8.6): it always gets the screen, unless the operator marked it
    /// knowingly
    /// ([`skips_authorization_even_if_public`](super::ClientRegistration::skips_authorization_even_if_public)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// for (id, skips) in [("ours", true), ("theirs", false)] {
    ///     issuer.register_client(ClientRegistration::confidential(id).id(id).first_party(true)
    ///         .skips_authorization(skips)
    ///         .grants([GrantType::AuthorizationCode]).redirect_uris(["https://app.example.com/cb"])).await?;
    /// }
    /// let ours = issuer.authorization_request("response_type=code&client_id=ours&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256").await?;
    /// assert!(issuer.skips_approval(&ours, "7").await?);
    /// let theirs = issuer.authorization_request("response_type=code&client_id=theirs&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256").await?;
    /// assert!(!issuer.skips_approval(&theirs, "7").await?, "first-party, but not marked, and nothing granted yet");
    /// let again = issuer.authorization_request("response_type=code&client_id=ours&prompt=consent&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256").await?;
    /// assert!(!issuer.skips_approval(&again, "7").await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `temporarily_unavailable` (redirected) when the store fails.
    pub async fn skips_approval(
        &self,
        request: &AuthorizationRequest,
        user_id: &str,
    ) -> Result<bool, AuthorizationError> {
        match rule(request.client(), request.prompt().consent(), request.redirect_uri()) {
            Rule::Show => return Ok(false),
            Rule::Skip => return Ok(true),
            Rule::IfGranted => {}
        }
        let client_id = &request.client().id;
        let live = self.inner.store.granted_scopes(user_id, client_id, self.now()).await;
        let live = live.map_err(|error| self.redirect_error(request, error.into()))?;
        Ok(live.is_some_and(|scopes| granted(&scopes, request.scopes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SecretHash;

    fn client(confidential: bool, skips: bool, first_party: bool) -> ClientRecord {
        ClientRecord {
            id: "c".into(),
            name: "C".into(),
            secret_hash: confidential.then(|| SecretHash::of(b"a secret").into()),
            grants: Vec::new(),
            allowed_scopes: None,
            first_party,
            skips_authorization: skips,
            revoked: false,
            created_at: 0,
            redirect_uris: Vec::new(),
            owner: None,
            require_pkce: true,
            provider: None,
            allowed_resources: None,
        }
    }

    #[test]
    fn the_screen_is_skipped_only_where_it_is_safe() {
        let loopback = "http://127.0.0.1:5123/cb";
        let https = "https://app.example.com/cb";
        // (confidential, skips_authorization, first_party, prompt=consent, redirect URI, rule)
        let table = [
            (true, true, false, false, https, Rule::Skip),
            (true, true, true, true, https, Rule::Show),
            (true, false, true, false, https, Rule::IfGranted),
            (true, false, false, false, loopback, Rule::IfGranted),
            // A first-party public client on a loopback URI: anyone local could claim it.
            (false, false, true, false, loopback, Rule::Show),
            (false, false, false, false, "com.example.app:/cb", Rule::Show),
            (false, false, false, false, https, Rule::IfGranted),
            // Marked knowingly (the registration refuses it otherwise).
            (false, true, false, false, loopback, Rule::Skip),
            (false, true, false, true, loopback, Rule::Show),
        ];
        for (confidential, skips, first_party, consent, uri, expected) in table {
            let client = client(confidential, skips, first_party);
            assert_eq!(
                rule(&client, consent, uri),
                expected,
                "{confidential} {skips} {first_party} {consent} {uri}"
            );
        }
    }
}
