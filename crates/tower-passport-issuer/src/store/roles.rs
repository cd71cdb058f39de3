//! The store's roles, one trait each, and [`Store`], the umbrella a backend implements by
//! implementing every role. A consumer asks only for the role it uses: the revocation list
//! needs [`RevocationStore`], the client resolver [`ClientStore`], the signing-key loader
//! [`SettingsStore`]. [`RevocationStore`] is the revocation module's port, which every
//! store implements too.

use std::future::Future;
use std::sync::Arc;

use super::{
    AccessTokenRecord, ClientRecord, ClientTokens, ClientUpdate, CodeStore, DeviceCodeStore, FamilyRecord,
    Purge, PurgeCounts, RefreshTokenRecord, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    StoreError,
};
use tower_passport::revocation::RevocationStore;

/// Registered clients.
///
/// ```
/// use tower_passport_issuer::store::{ClientStore, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// assert_eq!(store.client("nobody").await?, None);
/// assert!(!store.set_client_revoked("nobody", true).await?, "no such client");
/// # Ok(())
/// # }
/// ```
pub trait ClientStore: Send + Sync + 'static {
    /// Inserts or replaces a client.
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The client with this id.
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;

    /// Sets a client's revoked flag; `false` if there is no such client.
    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Applies `update` to the client with this id, atomically, and returns the client as
    /// stored afterwards; `None` (and nothing written) if there is no such client.
    ///
    /// ```
    /// use tower_passport_issuer::store::{ClientStore, ClientUpdate, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let rename = ClientUpdate { name: Some("New name".into()), ..ClientUpdate::default() };
    /// assert_eq!(store.update_client("nobody", rename).await?, None);
    /// # Ok(())
    /// # }
    /// ```
    fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;

    /// The clients `owner` owns ([`ClientRecord::owner`]), revoked ones included, oldest
    /// first (by creation time, then id).
    ///
    /// ```
    /// use tower_passport_issuer::store::{ClientStore, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// assert!(MemoryStore::new().clients_owned_by("42").await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    fn clients_owned_by(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send;

    /// Every client, oldest first (`passport client --list`).
    fn clients(&self) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send;
}

/// Access-token records, refresh tokens and their families. Every method is atomic on its
/// own; [`rotate`](Self::rotate) and [`revoke_family`](Self::revoke_family) are atomic as a
/// whole.
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// assert_eq!(store.access_token("some-jti").await?, None);
/// assert!(store.revoke_family("no-family", 0).await?.is_empty());
/// # Ok(())
/// # }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// Records an access token issued outside a rotation (client credentials, personal
    /// access tokens). A record that names a family (a personal access token minted
    /// through one, which dies with it) is stored only while that family is live, checked
    /// atomically with the write: for an unknown or revoked family it is a conflict
    /// ([`StoreError::is_conflict`]) and nothing is written. So no token of a family can
    /// be written after the family's revocation and outlive it.
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The access-token record with this `jti`.
    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send;

    /// A user's personal access tokens, newest first.
    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send;

    /// Revokes an access token and puts its `jti` on the revocation list until its
    /// expiry. Returns the record, or `None` if there is no such token.
    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send;

    /// Starts a refresh-token family: the family, its first refresh token and the access
    /// token issued with it, atomically.
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The refresh-token record with this id.
    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send;

    /// The family with this id.
    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send;

    /// Exchanges a refresh token atomically; see [`Rotation`] and [`RotationOutcome`]. The
    /// decision is `store::rotation::plan`, the same for every backend.
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send;

    /// Revokes a family atomically: the family, every refresh token in it, and every
    /// still-live access token in it (which go on the revocation list), personal access
    /// tokens minted through it included. Returns the access tokens it revoked; empty if
    /// the family was already revoked or is unknown.
    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send;

    /// `user_id`'s live tokens at `now` (access tokens not revoked and not expired, refresh
    /// tokens also not used), grouped by client in client-id order, each list newest
    /// first. Personal access tokens are listed too, under their client.
    ///
    /// ```
    /// use tower_passport_issuer::store::{AccessTokenRecord, MemoryStore, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let token = |jti: &str, client: &str| AccessTokenRecord {
    ///     jti: jti.into(), client_id: client.into(), user_id: Some("ann".into()), scopes: vec![],
    ///     family_id: None, name: None, personal: false, issued_at: 100, expires_at: 200, revoked_at: None,
    /// };
    /// store.put_access_token(token("a", "billing")).await?;
    /// store.put_access_token(token("b", "mobile")).await?;
    /// let listed = store.user_tokens("ann", 150).await?;
    /// assert_eq!(listed.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(), ["billing", "mobile"]);
    /// assert!(store.user_tokens("ann", 200).await?.is_empty(), "expired at 200");
    /// # Ok(())
    /// # }
    /// ```
    fn user_tokens(
        &self,
        user_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<ClientTokens>, StoreError>> + Send;

    /// `user_id`'s live tokens of `client_id` at `now`, as [`user_tokens`](Self::user_tokens)
    /// lists them for that client; `None` when there are none. A store should answer it
    /// without reading the user's other clients' tokens (the SQL and memory stores do);
    /// this default filters [`user_tokens`](Self::user_tokens). Its answer grows with the
    /// user's tokens: the approval screen asks [`granted_scopes`](Self::granted_scopes)
    /// instead.
    ///
    /// ```
    /// use tower_passport_issuer::store::{AccessTokenRecord, MemoryStore, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let token = |jti: &str, client: &str| AccessTokenRecord {
    ///     jti: jti.into(), client_id: client.into(), user_id: Some("ann".into()), scopes: vec![],
    ///     family_id: None, name: None, personal: false, issued_at: 100, expires_at: 200, revoked_at: None,
    /// };
    /// store.put_access_token(token("a", "billing")).await?;
    /// store.put_access_token(token("b", "mobile")).await?;
    /// let billing = store.user_client_tokens("ann", "billing", 150).await?.expect("live");
    /// assert_eq!(billing.access_tokens.len(), 1);
    /// assert!(store.user_client_tokens("ann", "billing", 200).await?.is_none(), "expired at 200");
    /// # Ok(())
    /// # }
    /// ```
    fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<ClientTokens>, StoreError>> + Send {
        async move {
            let listed = self.user_tokens(user_id, now).await?;
            Ok(listed.into_iter().find(|tokens| tokens.client_id == client_id))
        }
    }

    /// The scopes `user_id` has granted `client_id` and not withdrawn at `now`: the union
    /// of the scopes of the user's live non-personal access tokens and live refresh tokens
    /// of that client ([`ClientTokens::granted_scopes`] of
    /// [`user_client_tokens`](Self::user_client_tokens)), sorted, each once; `None` when
    /// the user holds no live token of the client at all (`Some`, possibly empty, when it
    /// holds only personal access tokens). The approval screen asks this on every
    /// authorization request, so its answer must not grow with the user's tokens: the SQL
    /// stores read one row per distinct scope list (a `UNION` in the database), Redis
    /// unites them in a script, the memory store without copying a record. This default
    /// filters [`user_client_tokens`](Self::user_client_tokens), whose answer does grow: a
    /// store should answer it directly.
    ///
    /// ```
    /// use tower_passport_issuer::store::{AccessTokenRecord, MemoryStore, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = MemoryStore::new();
    /// let token = |jti: &str, scopes: &[&str]| AccessTokenRecord {
    ///     jti: jti.into(), client_id: "billing".into(), user_id: Some("ann".into()),
    ///     scopes: scopes.iter().map(|s| s.to_string()).collect(),
    ///     family_id: None, name: None, personal: false, issued_at: 100, expires_at: 200, revoked_at: None,
    /// };
    /// store.put_access_token(token("a", &["read", "write"])).await?;
    /// store.put_access_token(token("b", &["read", "admin"])).await?;
    /// let granted = store.granted_scopes("ann", "billing", 150).await?;
    /// assert_eq!(granted, Some(vec!["admin".to_owned(), "read".to_owned(), "write".to_owned()]));
    /// assert_eq!(store.granted_scopes("ann", "billing", 200).await?, None, "expired at 200");
    /// assert_eq!(store.granted_scopes("ann", "mobile", 150).await?, None);
    /// # Ok(())
    /// # }
    /// ```
    fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send {
        async move {
            let tokens = self.user_client_tokens(user_id, client_id, now).await?;
            Ok(tokens.as_ref().map(ClientTokens::granted_scopes))
        }
    }

    /// Revokes every live family of `user_id` (of `client_id` only, when given), as
    /// [`revoke_family`](Self::revoke_family) does, then every access token of the user (of
    /// that client) still live at `now`, in one atomic step: a logout everywhere, or the
    /// withdrawal of one client's authorization. Returns what it revoked; empty when there
    /// was nothing live.
    ///
    /// ```
    /// use tower_passport_issuer::store::{AccessTokenRecord, MemoryStore, RevocationStore, TokenStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = MemoryStore::new();
    /// store.put_access_token(AccessTokenRecord {
    ///     jti: "a".into(), client_id: "billing".into(), user_id: Some("ann".into()), scopes: vec![],
    ///     family_id: None, name: None, personal: false, issued_at: 100, expires_at: 200, revoked_at: None,
    /// }).await?;
    /// assert!(store.revoke_user_tokens("ann", Some("mobile"), 150).await?.is_empty());
    /// let revoked = store.revoke_user_tokens("ann", None, 150).await?;
    /// assert_eq!(revoked.access_tokens[0].jti, "a");
    /// assert!(store.is_revoked("a").await?);
    /// # Ok(())
    /// # }
    /// ```
    fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> impl Future<Output = Result<RevokedTokens, StoreError>> + Send;
}

/// Removal of what expired or was revoked.
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, Purge, PurgeCounts, PurgeStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let counts = MemoryStore::new().purge(Purge { revoked: true, expired: true, before: 0 }).await?;
/// assert_eq!(counts, PurgeCounts::default());
/// # Ok(())
/// # }
/// ```
pub trait PurgeStore: Send + Sync + 'static {
    /// Removes expired and/or revoked records older than [`Purge::before`].
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send;
}

/// Settings every node must share, written once.
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, SettingsStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// assert_eq!(store.put_setting_if_absent("key", "first").await?, "first");
/// assert_eq!(store.put_setting_if_absent("key", "second").await?, "first");
/// assert_eq!(store.setting("key").await?.as_deref(), Some("first"));
/// assert_eq!(store.setting("other").await?, None);
/// # Ok(())
/// # }
/// ```
pub trait SettingsStore: Send + Sync + 'static {
    /// Stores `value` under `name` unless a value is already there, and returns the stored
    /// value: the first writer wins, atomically. For state every node must share, such as
    /// a generated signing key (which is why values are kept as given, not hashed).
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The value stored under `name`, if any.
    fn setting(&self, name: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// Where the issuer keeps its state: every role at once.
///
/// Implemented for every type that implements all seven roles (authorization codes,
/// [`CodeStore`], and device authorization requests, [`DeviceCodeStore`], included);
/// implement those, never this.
///
/// The conformance suite in `tests/conformance/` runs against every implementation.
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, Store};
/// fn takes_a_store(_: &impl Store) {}
/// takes_a_store(&MemoryStore::new());
/// takes_a_store(&std::sync::Arc::new(MemoryStore::new()));
/// ```
pub trait Store:
    ClientStore + TokenStore + RevocationStore + PurgeStore + SettingsStore + CodeStore + DeviceCodeStore
{
}

impl<S> Store for S where
    S: ClientStore + TokenStore + RevocationStore + PurgeStore + SettingsStore + CodeStore + DeviceCodeStore
{
}

impl<S: ClientStore> ClientStore for Arc<S> {
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_client(client)
    }
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        (**self).client(id)
    }
    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).set_client_revoked(id, revoked)
    }
    fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        (**self).update_client(id, update)
    }
    fn clients_owned_by(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send {
        (**self).clients_owned_by(owner)
    }
    fn clients(&self) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send {
        (**self).clients()
    }
}

impl<S: TokenStore> TokenStore for Arc<S> {
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_access_token(record)
    }
    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        (**self).access_token(jti)
    }
    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send {
        (**self).personal_access_tokens(user_id)
    }
    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        (**self).revoke_access_token(jti, now)
    }
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).start_family(family, first, access)
    }
    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send {
        (**self).refresh_token(id)
    }
    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send {
        (**self).family(id)
    }
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send {
        (**self).rotate(rotation)
    }
    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send {
        (**self).revoke_family(family_id, now)
    }
    fn user_tokens(
        &self,
        user_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<ClientTokens>, StoreError>> + Send {
        (**self).user_tokens(user_id, now)
    }
    fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<ClientTokens>, StoreError>> + Send {
        (**self).user_client_tokens(user_id, client_id, now)
    }
    fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send {
        (**self).granted_scopes(user_id, client_id, now)
    }
    fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> impl Future<Output = Result<RevokedTokens, StoreError>> + Send {
        (**self).revoke_user_tokens(user_id, client_id, now)
    }
}

impl<S: PurgeStore> PurgeStore for Arc<S> {
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send {
        (**self).purge(purge)
    }
}

impl<S: SettingsStore> SettingsStore for Arc<S> {
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        (**self).put_setting_if_absent(name, value)
    }
    fn setting(&self, name: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        (**self).setting(name)
    }
}
