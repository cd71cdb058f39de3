//! The throttle's failed-authentication counts on Redis: a hash per key (`count`, `last`)
//! under [`FAILURES`], counted by one script, so every node shares them.

use super::keys::FAILURES;
use super::RedisStore;
use tower_passport_issuer::store::{FailureStore, Failures, StoreError};

impl FailureStore for RedisStore {
    async fn failures(&self, keys: &[&str]) -> Result<Vec<Option<Failures>>, StoreError> {
        // One round trip for every key.
        let mut pipeline = redis::pipe();
        for key in keys {
            pipeline.cmd("HMGET").arg(self.keys.key(FAILURES, key)).arg("count").arg("last");
        }
        let mut connection = self.connection.clone();
        let replies: Vec<(Option<u64>, Option<u64>)> =
            pipeline.query_async(&mut connection).await.map_err(StoreError::backend)?;
        Ok(replies
            .into_iter()
            .map(|reply| match reply {
                (Some(count), Some(last_at)) => {
                    Some(Failures { count: u32::try_from(count).unwrap_or(u32::MAX), last_at })
                }
                _ => None,
            })
            .collect())
    }

    async fn record_failure(&self, key: &str, now: u64, forget_every: u64) -> Result<Failures, StoreError> {
        let args = [key.to_owned(), now.to_string(), forget_every.to_string()];
        let (count, last_at): (u64, u64) = self.eval(&self.scripts.record_failure, &[], &args).await?;
        Ok(Failures { count: u32::try_from(count).unwrap_or(u32::MAX), last_at })
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(self.keys.key(FAILURES, key))
            .query_async(&mut connection)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
