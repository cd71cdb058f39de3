//! Purging expired and revoked records (`passport:purge`).

use std::time::Duration;

use super::{Issuer, IssuerError};
use crate::store::{Purge, PurgeCounts, PurgeStore};

impl Issuer {
    /// Drops records that expired, or were revoked, more than `older_than` ago, like
    /// `passport:purge --revoked --expired --hours=N`. Revocation-list entries go only
    /// once their token has expired.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn purge(
        &self,
        revoked: bool,
        expired: bool,
        older_than: Duration,
    ) -> Result<PurgeCounts, IssuerError> {
        let before = self.now().saturating_sub(older_than.as_secs());
        Ok(self.inner.store.purge(Purge { revoked, expired, before }).await?)
    }
}
