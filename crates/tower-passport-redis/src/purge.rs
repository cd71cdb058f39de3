//! [`PurgeStore::purge`](tower_passport_issuer::store::PurgeStore::purge) by SCAN: each batch of keys SCAN returns goes
//! to a script that re-reads every record and removes it if it qualifies, so each removal is
//! atomic with its decision and its index updates. Phases run in [`MemoryStore`]'s order
//! (access tokens, refresh tokens, families, revocation entries), because whether a family
//! is removed depends on the refresh tokens left.
//!
//! [`MemoryStore`]: tower_passport_issuer::store::MemoryStore

use redis::Script;

use super::codec::flag;
use super::keys::{ACCESS, FAMILY, REFRESH, REVOKED};
use super::RedisStore;
use tower_passport_issuer::store::{Purge, PurgeCounts, StoreError};

/// The `COUNT` hint of each SCAN: how many keys one script call looks at, at most roughly.
const BATCH: usize = 500;

impl RedisStore {
    pub(super) async fn purge_batches(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        let before = purge.before.to_string();
        let (revoked, expired) = (flag(purge.revoked).to_owned(), flag(purge.expired).to_owned());
        let scripts = &self.scripts;
        let mut counts = PurgeCounts::default();
        for (kind, count) in [(ACCESS, &mut counts.access_tokens), (REFRESH, &mut counts.refresh_tokens)] {
            let args = [kind.to_owned(), revoked.clone(), expired.clone(), before.clone()];
            *count = self.sweep(kind, &scripts.purge_tokens, &args).await?;
        }
        counts.families = self.sweep(FAMILY, &scripts.purge_families, &[revoked, before.clone()]).await?;
        // A revocation entry is needed only while its token could still be presented.
        if purge.expired {
            counts.revocations = self.sweep(REVOKED, &scripts.purge_revocations, &[before]).await?;
        }
        Ok(counts)
    }

    /// Runs `script` over every key of `kind`, one SCAN batch at a time; sums its replies.
    async fn sweep(&self, kind: &str, script: &Script, args: &[String]) -> Result<u64, StoreError> {
        let pattern = self.keys.pattern(kind);
        let mut connection = self.connection.clone();
        let (mut cursor, mut removed) = (0u64, 0u64);
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(BATCH)
                .query_async(&mut connection)
                .await
                .map_err(StoreError::backend)?;
            if !keys.is_empty() {
                removed += self.eval::<u64>(script, &keys, args).await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}
