//! The clients users register themselves (Passport's clients JSON API): each has an owner,
//! who alone may list, edit, regenerate the secret of, and delete it. Another user's client
//! is treated as unknown. These are authorization code clients (with the refresh grant),
//! third-party: their users see the approval screen.

use super::clients::{redirect_uri_problem, ClientSecret, RegisteredClient, MAX_REDIRECT_URIS};
use super::{crypto, secrets, ClientRegistration, Issuer, IssuerError};
use crate::store::{ClientRecord, ClientStore, ClientUpdate, GrantType, SecretHash};

/// The longest client name, in characters (Passport's `max:255`).
pub(crate) const MAX_NAME_CHARS: usize = 255;

/// What is wrong with the fields a user sent for a client: `(field, message)` pairs, empty
/// when they are fine. A name has 1 to 255 characters, not all blank; there are 1 to 32
/// redirect URIs, each [registrable](super::redirect_uri::registrable).
pub(crate) fn field_errors(name: &str, redirect_uris: &[String]) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    if name.trim().is_empty() {
        errors.push(("name", "The name field is required.".to_owned()));
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.push(("name", format!("The name may not be greater than {MAX_NAME_CHARS} characters.")));
    }
    if redirect_uris.is_empty() {
        errors.push(("redirect", "The redirect field is required.".to_owned()));
    } else if redirect_uris.len() > MAX_REDIRECT_URIS {
        errors
            .push(("redirect", format!("A client may register at most {MAX_REDIRECT_URIS} redirect URIs.")));
    }
    errors.extend(
        redirect_uris.iter().filter_map(|uri| redirect_uri_problem(uri)).map(|problem| ("redirect", problem)),
    );
    errors
}

fn checked(name: &str, redirect_uris: &[String]) -> Result<(), IssuerError> {
    match field_errors(name, redirect_uris).into_iter().next() {
        None => Ok(()),
        Some((_, message)) => Err(IssuerError::invalid(message)),
    }
}

impl Issuer {
    /// The live (not deleted) clients `owner` registered, oldest first.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let printer = issuer.register_user_client("7", "Photo printer", vec!["https://printer.example.com/cb".into()], true).await?;
    /// assert!(printer.secret.is_some(), "the secret, shown this once");
    /// let mine = issuer.user_clients("7").await?;
    /// assert_eq!(mine.len(), 1);
    /// assert_eq!(mine[0].owner.as_deref(), Some("7"));
    /// assert!(issuer.user_clients("8").await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn user_clients(&self, owner: &str) -> Result<Vec<ClientRecord>, IssuerError> {
        let mut clients = self.inner.store.clients_owned_by(owner).await?;
        clients.retain(|client| !client.revoked && client.owner.as_deref() == Some(owner));
        Ok(clients)
    }

    /// The live client `id` if `owner` owns it; `None` for an unknown, deleted or another
    /// user's client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let app = issuer.register_user_client("7", "App", vec!["https://app.example.com/cb".into()], false).await?;
    /// assert!(issuer.user_client("7", &app.client.id).await?.is_some());
    /// assert!(issuer.user_client("8", &app.client.id).await?.is_none(), "not 8's");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn user_client(&self, owner: &str, id: &str) -> Result<Option<ClientRecord>, IssuerError> {
        let client = self.inner.store.client(id).await?;
        Ok(client.filter(|client| !client.revoked && client.owner.as_deref() == Some(owner)))
    }

    /// Registers a client for `owner` (Passport's `POST /oauth/clients`): the authorization
    /// code and refresh grants, third-party, with these redirect URIs; confidential (with a
    /// secret, returned here once) or public (PKCE only).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let spa = issuer.register_user_client("7", "My SPA", vec!["https://spa.example.com/cb".into()], false).await?;
    /// assert!(spa.secret.is_none() && !spa.client.first_party);
    /// assert!(spa.client.allows_grant(GrantType::AuthorizationCode));
    /// assert!(issuer.register_user_client("7", "", vec!["https://spa.example.com/cb".into()], false).await.is_err());
    /// assert!(issuer.register_user_client("7", "Bad", vec!["http://example.com/cb".into()], false).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// For a blank name or one longer than 255 characters, no redirect URI or one that
    /// cannot be registered, or a store failure.
    pub async fn register_user_client(
        &self,
        owner: &str,
        name: &str,
        redirect_uris: Vec<String>,
        confidential: bool,
    ) -> Result<RegisteredClient, IssuerError> {
        checked(name, &redirect_uris)?;
        let registration = if confidential {
            ClientRegistration::confidential(name)
        } else {
            ClientRegistration::public(name)
        };
        let registration = registration
            .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
            .redirect_uris(redirect_uris)
            .owner(owner);
        self.register_client(registration).await
    }

    /// Renames `owner`'s client `id` and replaces its redirect URIs (Passport's
    /// `PUT /oauth/clients/{client-id}`); the client as stored afterwards, or `None` for an
    /// unknown, deleted or another user's client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let app = issuer.register_user_client("7", "App", vec!["https://app.example.com/cb".into()], true).await?;
    /// let uris = vec!["https://app.example.com/callback".to_owned()];
    /// let renamed = issuer.update_user_client("7", &app.client.id, "App v2", uris.clone()).await?.unwrap();
    /// assert_eq!((renamed.name.as_str(), renamed.redirect_uris), ("App v2", uris.clone()));
    /// assert!(issuer.update_user_client("8", &app.client.id, "Mine now", uris).await?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`register_user_client`](Self::register_user_client) for the fields, or when the
    /// store fails.
    pub async fn update_user_client(
        &self,
        owner: &str,
        id: &str,
        name: &str,
        redirect_uris: Vec<String>,
    ) -> Result<Option<ClientRecord>, IssuerError> {
        checked(name, &redirect_uris)?;
        if self.user_client(owner, id).await?.is_none() {
            return Ok(None);
        }
        let mut uris: Vec<String> = Vec::with_capacity(redirect_uris.len());
        for uri in redirect_uris {
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
        let update = ClientUpdate {
            name: Some(name.to_owned()),
            redirect_uris: Some(uris),
            ..ClientUpdate::default()
        };
        Ok(self.inner.store.update_client(id, update).await?.filter(|client| !client.revoked))
    }

    /// Gives `owner`'s confidential client `id` a new secret, returned here once; the old
    /// one stops working at once. `None` for an unknown, deleted or another user's client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let app = issuer.register_user_client("7", "App", vec!["https://app.example.com/cb".into()], true).await?;
    /// let old = app.secret.unwrap();
    /// let new = issuer.regenerate_user_client_secret("7", &app.client.id).await?.unwrap().secret.unwrap();
    /// assert!(issuer.authenticate_client(&app.client.id, Some(old.expose())).await.is_err());
    /// assert!(issuer.authenticate_client(&app.client.id, Some(new.expose())).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// For a public client (it has no secret), or when the store or the random source
    /// fails.
    pub async fn regenerate_user_client_secret(
        &self,
        owner: &str,
        id: &str,
    ) -> Result<Option<RegisteredClient>, IssuerError> {
        let Some(client) = self.user_client(owner, id).await? else { return Ok(None) };
        if !client.is_confidential() {
            return Err(IssuerError::invalid("a public client has no secret"));
        }
        let secret = ClientSecret::new(secrets::random_b64(32).map_err(crypto)?);
        let update = ClientUpdate {
            secret_hash: Some(SecretHash::of(secret.expose().as_bytes())),
            ..ClientUpdate::default()
        };
        let Some(client) = self.inner.store.update_client(id, update).await?.filter(|client| !client.revoked)
        else {
            return Ok(None);
        };
        Ok(Some(RegisteredClient { client, secret: Some(secret) }))
    }

    /// Deletes `owner`'s client `id` (Passport's `DELETE /oauth/clients/{client-id}`): it
    /// is revoked, as [`revoke_client`](Self::revoke_client) does, so it gets no more tokens
    /// and the guard (through [`resolver`](Self::resolver)) refuses the ones it holds, and it
    /// is no longer listed. `false` for an unknown, deleted or another user's client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let app = issuer.register_user_client("7", "App", vec!["https://app.example.com/cb".into()], true).await?;
    /// assert!(!issuer.delete_user_client("8", &app.client.id).await?, "not 8's to delete");
    /// assert!(issuer.delete_user_client("7", &app.client.id).await?);
    /// assert!(issuer.user_clients("7").await?.is_empty());
    /// assert!(!issuer.delete_user_client("7", &app.client.id).await?, "gone already");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn delete_user_client(&self, owner: &str, id: &str) -> Result<bool, IssuerError> {
        if self.user_client(owner, id).await?.is_none() {
            return Ok(false);
        }
        self.revoke_client(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_one_by_one() {
        let good = vec!["https://app.example.com/cb".to_owned()];
        assert!(field_errors("App", &good).is_empty());
        assert!(field_errors(&"é".repeat(255), &good).is_empty(), "255 characters, not bytes");
        let fields = |name: &str, uris: &[String]| {
            field_errors(name, uris).into_iter().map(|(field, _)| field).collect::<Vec<_>>()
        };
        assert_eq!(fields("", &good), ["name"]);
        assert_eq!(fields("   ", &good), ["name"]);
        assert_eq!(fields(&"a".repeat(256), &good), ["name"]);
        assert_eq!(fields("App", &[]), ["redirect"]);
        assert_eq!(fields("App", &["http://app.example.com/cb".to_owned()]), ["redirect"]);
        assert_eq!(fields("App", &["https://app.example.com/cb#frag".to_owned()]), ["redirect"]);
        assert_eq!(fields("", &[]), ["name", "redirect"]);
        let many: Vec<String> = (0..33).map(|i| format!("https://app.example.com/{i}")).collect();
        assert_eq!(fields("App", &many), ["redirect"]);
    }
}
