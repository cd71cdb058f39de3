//! JOSE headers already seen, by their encoded text. An issuer signs all its tokens under
//! a few headers (one per key), so once a token verified under a header, later tokens with
//! the same header text skip decoding and parsing it (about 2,300 of a cold verify's
//! instructions). Only the headers of tokens that verified are kept, at most
//! [`KNOWN_HEADERS`]: a forged header costs its parse every time and never takes a slot.

use std::mem::MaybeUninit;
use std::sync::Arc;

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::UnitWeighter;

use super::jws;
use crate::error::AuthError;
use crate::keys::Algorithm;

/// How many distinct headers are kept: a handful of issuers with a few keys each.
const KNOWN_HEADERS: usize = 64;

/// The headers of tokens that verified.
pub(super) struct KnownHeaders {
    cache: Cache<Box<str>, Arc<KnownHeader>, UnitWeighter, foldhash::fast::RandomState>,
}

/// What the verifier reads from a header: its algorithm, `kid` and `typ`.
pub(super) struct KnownHeader {
    algorithm: Algorithm,
    kid: Option<Box<str>>,
    typ: Option<Box<str>>,
}

impl KnownHeaders {
    pub(super) fn new() -> Self {
        let cache = Cache::with(
            KNOWN_HEADERS,
            KNOWN_HEADERS as u64,
            UnitWeighter,
            foldhash::fast::RandomState::default(),
            DefaultLifecycle::default(),
        );
        Self { cache }
    }

    /// The header whose encoded text is `encoded`, known or parsed now from `buffer`.
    pub(super) fn read<'h>(
        &self,
        encoded: &str,
        buffer: &'h mut [MaybeUninit<u8>; 256],
        spill: &'h mut Vec<u8>,
    ) -> Result<Header<'h>, AuthError> {
        if let Some(known) = self.cache.get(encoded) {
            return Ok(Header::Known(known));
        }
        let bytes = jws::decode_into(encoded.as_bytes(), buffer, spill)
            .map_err(|_| AuthError::invalid_token(crate::error::Reason::MalformedHeaderParameters))?;
        Ok(Header::Fresh(jws::Header::parse(bytes)?))
    }

    /// Remembers `header`, encoded as `encoded`, once a token signed under it verified.
    pub(super) fn verified(&self, encoded: &str, header: &Header<'_>) {
        let Header::Fresh(fresh) = header else { return };
        let Ok(algorithm) = fresh.algorithm() else { return };
        let known = KnownHeader {
            algorithm,
            kid: fresh.kid.as_deref().map(Box::from),
            typ: fresh.typ.as_deref().map(Box::from),
        };
        self.cache.insert(Box::from(encoded), Arc::new(known));
    }
}

/// A token's JOSE header: one seen before, or parsed from this token.
pub(super) enum Header<'h> {
    /// A header a verified token carried before.
    Known(Arc<KnownHeader>),
    /// Parsed from this token's header.
    Fresh(jws::Header<'h>),
}

impl Header<'_> {
    pub(super) fn typ(&self) -> Option<&str> {
        match self {
            Self::Known(known) => known.typ.as_deref(),
            Self::Fresh(fresh) => fresh.typ.as_deref(),
        }
    }

    pub(super) fn kid(&self) -> Option<&str> {
        match self {
            Self::Known(known) => known.kid.as_deref(),
            Self::Fresh(fresh) => fresh.kid.as_deref(),
        }
    }

    pub(super) fn algorithm(&self) -> Result<Algorithm, AuthError> {
        match self {
            Self::Known(known) => Ok(known.algorithm),
            Self::Fresh(fresh) => fresh.algorithm(),
        }
    }
}
