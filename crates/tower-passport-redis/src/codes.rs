//! Authorization codes on Redis: one script each to store, take and record what a code
//! issued, so a code is redeemed at most once across every node.

use super::error::Malformed;
use super::{codec, RedisStore};
use tower_passport_issuer::store::{
    AuthorizationCodeRecord, CodeRedemption, CodeStore, IssuedFromCode, SecretHash, StoreError,
};

impl CodeStore for RedisStore {
    async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
        let stored: i64 = self.eval(&self.scripts.put_code, &[], &codec::code_args(&code)?).await?;
        if stored == 1 {
            Ok(())
        } else {
            Err(StoreError::conflict("duplicate authorization code"))
        }
    }

    async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
        let args = [hash.to_hex(), now.to_string()];
        let reply: Vec<Option<String>> = self.eval(&self.scripts.take_code, &[], &args).await?;
        let mut reply = reply.into_iter();
        let status = reply.next().flatten();
        let mut fields = || reply.next().flatten();
        let fields = [fields(), fields(), fields(), fields(), fields()];
        match status.as_deref() {
            Some("invalid") => Ok(CodeRedemption::Invalid),
            Some("fresh") => Ok(CodeRedemption::Fresh(codec::code(*hash, fields)?)),
            Some("reused") => Ok(CodeRedemption::Reused(codec::code(*hash, fields)?)),
            _ => Err(Malformed::error("take_code reply")),
        }
    }

    async fn record_code_issue(&self, hash: &SecretHash, issued: IssuedFromCode) -> Result<bool, StoreError> {
        let args = [hash.to_hex(), issued.access_jti, codec::optional(issued.family_id)];
        let reused: i64 = self.eval(&self.scripts.record_code_issue, &[], &args).await?;
        Ok(reused == 1)
    }
}
