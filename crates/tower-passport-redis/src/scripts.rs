//! The Lua scripts, each the shared prelude followed by its body, sent as EVALSHA (loaded on
//! the first `NOSCRIPT`, so a restarted server gets them again).

use redis::Script;

macro_rules! script {
    ($file:literal) => {
        Script::new(concat!(include_str!("lua/prelude.lua"), include_str!(concat!("lua/", $file))))
    };
}

/// One of each script, built once per store.
#[derive(Debug)]
pub(super) struct Scripts {
    pub(super) put_access: Script,
    pub(super) start_family: Script,
    pub(super) rotate: Script,
    pub(super) revoke_access: Script,
    pub(super) revoke_family: Script,
    pub(super) set_client_revoked: Script,
    pub(super) put_client: Script,
    pub(super) update_client: Script,
    pub(super) owner_clients: Script,
    pub(super) put_setting: Script,
    pub(super) set_not_before: Script,
    pub(super) personal_tokens: Script,
    pub(super) user_tokens: Script,
    pub(super) granted_scopes: Script,
    pub(super) revoke_user: Script,
    pub(super) purge_tokens: Script,
    pub(super) purge_families: Script,
    pub(super) purge_revocations: Script,
    pub(super) put_code: Script,
    pub(super) take_code: Script,
    pub(super) record_code_issue: Script,
    pub(super) record_failure: Script,
    pub(super) put_device: Script,
    pub(super) device_by_user_code: Script,
    pub(super) decide_device: Script,
    pub(super) poll_device: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            put_access: script!("put_access.lua"),
            start_family: script!("start_family.lua"),
            rotate: script!("rotate.lua"),
            revoke_access: script!("revoke_access.lua"),
            revoke_family: script!("revoke_family.lua"),
            set_client_revoked: script!("set_client_revoked.lua"),
            put_client: script!("put_client.lua"),
            update_client: script!("update_client.lua"),
            owner_clients: script!("owner_clients.lua"),
            put_setting: script!("put_setting.lua"),
            set_not_before: script!("set_not_before.lua"),
            personal_tokens: script!("personal_tokens.lua"),
            user_tokens: script!("user_tokens.lua"),
            granted_scopes: script!("granted_scopes.lua"),
            revoke_user: script!("revoke_user.lua"),
            purge_tokens: script!("purge_tokens.lua"),
            purge_families: script!("purge_families.lua"),
            purge_revocations: script!("purge_revocations.lua"),
            put_code: script!("put_code.lua"),
            take_code: script!("take_code.lua"),
            record_code_issue: script!("record_code_issue.lua"),
            record_failure: script!("record_failure.lua"),
            put_device: script!("put_device.lua"),
            device_by_user_code: script!("device_by_user_code.lua"),
            decide_device: script!("decide_device.lua"),
            poll_device: script!("poll_device.lua"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_scripts_expiry_margin_is_the_issuers() {
        let line = format!("local EXPIRY_MARGIN = {}\n", tower_passport_issuer::store::EXPIRY_MARGIN);
        assert!(include_str!("lua/prelude.lua").contains(&line), "{line}");
    }
}
