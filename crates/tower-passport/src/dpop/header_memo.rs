//! A bound token's remembered proof header: the one header its holder's proofs carry,
//! found by one compare instead of a lookup in the verifier's table of known headers.
//!
//! A client signs every proof for a token with the key the token is bound to, under the
//! same JOSE header (the same `jwk`, serialised the same way). The verifier's table
//! ([`ProofVerifier`](super::ProofVerifier)'s `headers`) finds such a header by hashing its
//! ~250 characters and comparing them (~320 instructions a proof); the token, which is in
//! the verified-token cache for as long as its proofs come, can hold that header itself
//! and find it by comparing alone.
//!
//! The memo is written once, with the first header whose proof's signature verified under
//! a key whose thumbprint is the token's `cnf.jkt`: only the holder of the token's key can
//! fill it, it holds one header a token (bounded by the verified-token cache), and what it
//! holds is a header that passed every header check and the key parsed from it. Like the
//! verifier's table, it saves parsing and never a check: every proof's signature is still
//! verified with the key, and the binding is still checked against the proof's thumbprint.

use std::sync::Arc;

use super::proof::ProofKey;
use crate::token::Slot;

/// The longest header a token remembers, in characters of base64url.
const MAX_REMEMBERED: usize = 2048;

/// The proof header a DPoP-bound token's proofs carry, once one passed (see the module):
/// a view of the token's [`Slot`], which holds a [`Remembered`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderMemo<'a>(&'a Slot);

struct Remembered {
    header: Box<[u8]>,
    key: Arc<ProofKey>,
}

impl<'a> HeaderMemo<'a> {
    /// The memo kept in `slot` (a token's, or a test's).
    pub(crate) fn of(slot: &'a Slot) -> Self {
        Self(slot)
    }

    /// The length and key of the remembered header when `proof` starts with it and a dot:
    /// its first dot is then found without a search (a remembered header, base64url that
    /// decoded, holds none).
    ///
    /// Compared with `==`, not in constant time: a proof header is public (the client's
    /// public key, sent in the clear with every proof), and reaching this memo at all takes
    /// the token, which the verified-token cache compared in constant time.
    #[inline]
    pub(super) fn key_at_start(&self, proof: &[u8]) -> Option<(usize, &'a Arc<ProofKey>)> {
        let remembered = self.0.get::<Remembered>()?;
        let length = remembered.header.len();
        let starts = proof.get(length) == Some(&b'.') && proof.get(..length) == Some(&*remembered.header);
        starts.then_some((length, &remembered.key))
    }

    /// Whether a header is remembered already.
    #[inline]
    pub(super) fn is_set(&self) -> bool {
        self.0.is_set()
    }

    /// Remembers `header` and its `key` unless a header is remembered already or it is
    /// longer than [`MAX_REMEMBERED`]. The caller has checked that a proof under it
    /// verified with `key`, whose thumbprint is the token's `cnf.jkt`.
    pub(super) fn remember(&self, header: &[u8], key: &Arc<ProofKey>) {
        if header.len() <= MAX_REMEMBERED && !self.0.is_set() {
            // Two requests may race to fill it: the first wins, the other's header (the
            // same key's, checked just as well) is simply not remembered.
            self.0.set(Remembered { header: Box::from(header), key: key.clone() });
        }
    }
}

/// Whether a verified proof's key is known to be its bound token's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// The proof came under the header its token remembers ([`HeaderMemo`]), which a
    /// proof fills only when its key's thumbprint is the token's `cnf.jkt` (compared in
    /// constant time then): the key is the token's, and the binding check would compare
    /// the same two thumbprints again.
    Remembered,
    /// Not known: [`check_binding`](super::check_binding) compares the thumbprints.
    ToCheck,
}

/// The bound token a proof comes with, when it is known before the proof is checked: the
/// header it remembers ([`HeaderMemo`]), and its `cnf.jkt`, which a header's key must
/// have to be remembered by it.
#[derive(Clone, Copy)]
pub(crate) struct BoundToken<'a> {
    pub(crate) memo: HeaderMemo<'a>,
    pub(crate) jkt: &'a str,
}
