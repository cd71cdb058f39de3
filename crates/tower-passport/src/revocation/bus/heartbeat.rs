//! The listener's liveness probe. A subscription can stall without closing (a hung
//! server, a black-holed route): the listener would hear nothing and keep every cache on
//! the long "bus is up" lifetime. So a listener that has heard nothing for [`QUIET`] sends a
//! heartbeat through the bus; if nothing at all (its own echo or any other message) comes
//! back within [`ECHO`], it counts the bus as down: caches fall back to the store and the
//! short lifetime, and the listener reconnects.
//!
//! Any message heard restarts the quiet period, so a busy bus sends no heartbeat, and in a
//! quiet deployment the first node to time out probes for the others.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long a listener waits, hearing nothing, before it probes the bus.
pub(super) const QUIET: Duration = Duration::from_secs(5);

/// How long a probe may take to come back before the bus counts as down.
pub(super) const ECHO: Duration = Duration::from_secs(5);

/// The wire form: `{"v":2,"node":"…","kind":"heartbeat"}`, the same envelope as an
/// invalidation's. Nodes older than the heartbeat ignore it as a malformed message.
#[derive(Serialize, Deserialize)]
struct Heartbeat<'a> {
    v: u32,
    node: &'a str,
    kind: &'a str,
}

const KIND: &str = "heartbeat";

/// The heartbeat `node_id` sends.
pub(super) fn encode(node_id: &str) -> String {
    serde_json::to_string(&Heartbeat { v: 2, node: node_id, kind: KIND })
        .unwrap_or_else(|_| format!(r#"{{"v":2,"kind":"{KIND}"}}"#))
}

/// Whether `payload` is a heartbeat (anyone's): it proves the bus flows, and applies
/// nothing.
pub(super) fn is_heartbeat(payload: &str) -> bool {
    serde_json::from_str::<Heartbeat<'_>>(payload).is_ok_and(|heartbeat| heartbeat.kind == KIND)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::Invalidation;

    #[test]
    fn a_heartbeat_is_told_from_every_invalidation() {
        assert!(is_heartbeat(&encode("9f3a")));
        assert_eq!(encode("9f3a"), r#"{"v":2,"node":"9f3a","kind":"heartbeat"}"#);
        for invalidation in [
            Invalidation::AccessToken { jti: "heartbeat".into() },
            Invalidation::Client { client_id: "c".into() },
            Invalidation::Everything,
        ] {
            assert!(!is_heartbeat(&invalidation.encode_from("9f3a")));
            assert!(!is_heartbeat(&invalidation.encode()));
        }
        assert!(Invalidation::decode(&encode("9f3a")).is_none(), "not an invalidation either");
    }
}
