//! The deployment a command works on: its store (created by `install` only), an issuer
//! over it, the revocation bus its servers listen on, and what a revocation's reach is with
//! that bus or without one.

use std::error::Error;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tower_passport::guard::DEFAULT_RESOLVER_CACHE_TTL;
use tower_passport::revocation::Invalidation;
use tower_passport::revocation::DEFAULT_NOT_REVOKED_TTL;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::SettingsStore;
use tower_passport_issuer::Issuer;
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;

use crate::Cli;

/// Whether opening may create the store.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    /// `install`: a missing SQLite file is created.
    Yes,
    /// Every other command: a missing store is an error, never an empty new one.
    No,
}

/// Opens (and migrates) the store `--store` names.
pub(crate) async fn open_store(cli: &Cli, create: Create) -> Result<Arc<AnyStore>, Box<dyn Error>> {
    if create == Create::No {
        if let Some(file) = sqlite_file(&cli.store) {
            if !file.exists() {
                return Err(format!(
                    "no store at {} (PASSPORT_STORE={}); run `passport install` first",
                    file.display(),
                    cli.store
                )
                .into());
            }
        }
    }
    let store = AnyStore::open(&cli.store)
        .await
        .map_err(|e| format!("PASSPORT_STORE={}: cannot open the store: {e}", redacted(&cli.store)))?;
    Ok(Arc::new(store))
}

/// The file of a SQLite URL (`None` for other stores and in-memory databases).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// An issuer over `store`, for the commands that sign nothing (its own key is throwaway).
pub(crate) fn issuer(cli: &Cli, store: Arc<AnyStore>) -> Result<Issuer, Box<dyn Error>> {
    Ok(Issuer::builder(cli.issuer.as_str(), store).audience("passport-cli").build()?)
}

/// An issuer over `store` that follows its shared key ring; an error if the store holds
/// none.
pub(crate) async fn issuer_with_keys(cli: &Cli, store: Arc<AnyStore>) -> Result<Issuer, Box<dyn Error>> {
    if store.setting(&cli.key_setting).await?.is_none() {
        return Err(format!(
            "the store holds no signing key under {:?} (PASSPORT_KEY_SETTING); run `passport install` first",
            cli.key_setting
        )
        .into());
    }
    let issuer = issuer(cli, store)?;
    issuer.share_signing_keys(&cli.key_setting).await?;
    Ok(issuer)
}

/// A store URL without its password, for messages.
pub(crate) fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The revocation bus the servers of this deployment listen on, as the quickstart picks
/// it: Redis with `--redis-url` (or a Redis store), else LISTEN/NOTIFY on a PostgreSQL
/// store. `None` for SQLite and memory stores without `--redis-url`.
pub(crate) fn bus_name(cli: &Cli, store: &AnyStore) -> Option<&'static str> {
    if redis_bus_url(cli).is_some() {
        return Some("Redis pub/sub");
    }
    matches!(store, AnyStore::Postgres(_)).then_some("PostgreSQL LISTEN/NOTIFY")
}

fn redis_bus_url(cli: &Cli) -> Option<&str> {
    let store_is_redis = cli.store.starts_with("redis://") || cli.store.starts_with("rediss://");
    cli.redis_url.as_deref().or(store_is_redis.then_some(cli.store.as_str()))
}

/// Tells the servers' caches through the revocation bus ([`bus_name`]); nothing without
/// one. Returns the bus's name.
pub(crate) async fn publish(
    cli: &Cli,
    store: &AnyStore,
    messages: &[Invalidation],
) -> Result<Option<&'static str>, Box<dyn Error>> {
    let bus = bus_name(cli, store);
    if messages.is_empty() {
        return Ok(bus);
    }
    if let Some(url) = redis_bus_url(cli) {
        let channel = cli.bus_channel.as_deref().unwrap_or("passport:revocations");
        let bus = RedisRevocationBus::connect(url, channel).await?;
        for message in messages {
            bus.publish(message).await?;
        }
    } else if let AnyStore::Postgres(postgres) = store {
        let channel = cli.bus_channel.as_deref().unwrap_or("passport_revocations");
        let bus = PgRevocationBus::new(postgres.pool().clone(), channel)?;
        for message in messages {
            bus.publish(message).await?;
        }
    }
    Ok(bus)
}

/// What a revocation of access tokens reaches, with `bus` or without one.
pub(crate) fn token_reach(bus: Option<&str>) -> String {
    match bus {
        Some(bus) => format!(
            "Nodes on the revocation bus ({bus}) refuse it within milliseconds; resource servers \
             that share neither the store nor the bus accept it until it expires."
        ),
        None => format!(
            "There is no revocation bus (a PostgreSQL or Redis store, or PASSPORT_REDIS_URL, has \
             one): nodes on this store refuse it within {} (their revocation list keeps a \
             \"not revoked\" that long by default); stand-alone resource servers accept it until \
             it expires.",
            seconds(DEFAULT_NOT_REVOKED_TTL)
        ),
    }
}

/// What a client's revocation reaches, with `bus` or without one.
pub(crate) fn client_reach(bus: Option<&str>) -> String {
    match bus {
        Some(bus) => format!(
            "Nodes on the revocation bus ({bus}) refuse its tokens within milliseconds; resource \
             servers that share neither the store nor the bus accept them until they expire."
        ),
        None => format!(
            "There is no revocation bus (a PostgreSQL or Redis store, or PASSPORT_REDIS_URL, has \
             one): nodes on this store refuse its tokens within {} (their guard keeps a client's \
             status that long by default); stand-alone resource servers accept them until they \
             expire.",
            seconds(DEFAULT_RESOLVER_CACHE_TTL)
        ),
    }
}

fn seconds(bound: Duration) -> String {
    format!("{} s", bound.as_secs())
}
