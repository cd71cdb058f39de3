//! An `Authorization` value under a scheme other than `Bearer`, and the check that no
//! `Bearer` credential is folded into it (`Basic x, Bearer y`: two sets of credentials,
//! `invalid_request`).
//!
//! For the `DPoP` scheme the check waits: a comma search over the whole value (~150
//! instructions for a DPoP token) is spent for nothing when the token is in the
//! verified-token cache. A cached token passed the b64token check, which admits neither a
//! comma nor a space, and what the `DPoP` path reads around it is whitespace alone; so a
//! value whose token is a cache hit has no comma and folds nothing. The guard runs the
//! check on every other way (a cache miss, a refused `DPoP` header, a guard without DPoP)
//! before any other error, and answers as it answered when the check came first.

use crate::error::{AuthError, Reason};

/// The trimmed value of an `Authorization` header under a scheme other than `Bearer`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OtherScheme<'a> {
    value: &'a [u8],
    /// Whether the folded-credential check is still to be run ([`check_folded`](Self::check_folded)).
    unchecked: bool,
    /// Whether the value is under the `DPoP` scheme ([`names_dpop`]), found once when it was
    /// read: the `DPoP` path takes its credential without reading the scheme again.
    dpop: bool,
}

impl<'a> OtherScheme<'a> {
    /// Reads `value` (trimmed, its scheme not `Bearer`).
    ///
    /// # Errors
    /// `invalid_request` ([`Reason::DuplicateCredentials`]) when a `Bearer` credential is
    /// folded into it, unless `defer` and the value is under the `DPoP` scheme: then
    /// [`check_folded`](Self::check_folded) looks.
    pub(super) fn read(value: &'a [u8], defer: bool) -> Result<Self, AuthError> {
        Self::read_named(value, defer, names_dpop(value))
    }

    /// [`read`](Self::read) of a value known to be under the `DPoP` scheme
    /// ([`names_dpop`] of it is `true`).
    pub(super) fn read_dpop(value: &'a [u8], defer: bool) -> Result<Self, AuthError> {
        Self::read_named(value, defer, true)
    }

    /// [`read`](Self::read), `dpop` being [`names_dpop`] of `value`.
    #[inline]
    fn read_named(value: &'a [u8], defer: bool, dpop: bool) -> Result<Self, AuthError> {
        let scheme = Self { value, unchecked: true, dpop };
        if defer && dpop {
            return Ok(scheme);
        }
        scheme.check_folded()?;
        Ok(Self { unchecked: false, ..scheme })
    }

    /// The value, trimmed.
    #[cfg(test)]
    pub(crate) fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The credential of a value under the `DPoP` scheme (what follows `DPoP `, trimmed,
    /// unchecked); `None` under any other scheme.
    #[inline]
    pub(crate) fn dpop_credential(&self) -> Option<&'a [u8]> {
        if !self.dpop {
            return None;
        }
        self.value.get(DPOP_PREFIX..).map(<[u8]>::trim_ascii)
    }

    /// The folded-credential check, when [`read`](Self::read) left it for later.
    ///
    /// # Errors
    /// `invalid_request` ([`Reason::DuplicateCredentials`]), not under the `DPoP`
    /// challenge, as when it is found at once.
    pub(crate) fn check_folded(&self) -> Result<(), AuthError> {
        if self.unchecked && folds_bearer(self.value) {
            return Err(AuthError::invalid_request(Reason::DuplicateCredentials));
        }
        Ok(())
    }
}

/// The length of `DPoP ` (the scheme and its space), which a `DPoP` credential follows.
const DPOP_PREFIX: usize = b"dpop ".len();

/// Whether `value` is under the `DPoP` scheme as [`crate::dpop`] reads it: `DPoP`, any case,
/// then a space.
#[inline]
pub(super) fn names_dpop(value: &[u8]) -> bool {
    after_scheme(value, b"dpop").is_some()
}

/// What follows `scheme` (lower-case ASCII letters, at most seven), in any case, and one
/// space at the start of `value`. One word compare: each letter lowercased by setting bit
/// 5 (every letter has exactly two byte values that map to it, its upper and its lower
/// case), then the space, which must be exactly a space.
#[inline(always)]
pub(super) fn after_scheme<'v>(value: &'v [u8], scheme: &[u8]) -> Option<&'v [u8]> {
    let letters = scheme.len();
    let (head, rest) = value.split_at_checked(letters + 1)?;
    let (mut word, mut mask, mut expected) = ([0u8; 8], [0u8; 8], [0u8; 8]);
    word.get_mut(..=letters)?.copy_from_slice(head);
    mask.get_mut(..letters)?.fill(0x20);
    expected.get_mut(..letters)?.copy_from_slice(scheme);
    expected[letters] = b' ';
    let folded = u64::from_le_bytes(word) | u64::from_le_bytes(mask);
    (folded == u64::from_le_bytes(expected)).then_some(rest)
}

/// Whether a `Bearer` credential is folded into `value`: a comma (looked for first, in one
/// SIMD pass: a DPoP token is not scanned word by word) and a `Bearer` word.
fn folds_bearer(value: &[u8]) -> bool {
    memchr::memchr(b',', value).is_some()
        && value.split(|&b| b == b',' || b == b' ').any(|word| word.eq_ignore_ascii_case(b"bearer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDED: [&str; 6] = [
        "DPoP abc, Bearer xyz",
        "dpop abc,Bearer xyz",
        "DPOP  abc , bearer",
        "DPoP ,Bearer",
        "Basic x, Bearer y",
        "DPoP a,b Bearer c",
    ];

    #[test]
    fn a_folded_bearer_credential_is_refused_at_once_or_when_checked() {
        for value in FOLDED {
            let error = OtherScheme::read(value.as_bytes(), false).unwrap_err();
            assert_eq!(error.reason(), Reason::DuplicateCredentials, "{value}");
            assert!(!error.is_dpop());
            match OtherScheme::read(value.as_bytes(), true) {
                Ok(scheme) => {
                    assert!(names_dpop(value.as_bytes()), "{value}: only DPoP waits");
                    let error = scheme.check_folded().unwrap_err();
                    assert_eq!(error.reason(), Reason::DuplicateCredentials, "{value}");
                    assert!(!error.is_dpop());
                }
                Err(error) => assert_eq!(error.reason(), Reason::DuplicateCredentials, "{value}"),
            }
        }
    }

    #[test]
    fn values_without_a_folded_bearer_pass_either_way() {
        for value in
            ["DPoP abc.def", "DPoP a,b", "Basic x", "Basic x, Digest y", "DPoPabc, Bearer", "Bearerish"]
        {
            for defer in [false, true] {
                let scheme = OtherScheme::read(value.as_bytes(), defer);
                if value == "DPoPabc, Bearer" {
                    // Not the DPoP scheme as its path reads it: checked at once.
                    assert!(scheme.is_err());
                    continue;
                }
                let scheme = scheme.unwrap();
                assert_eq!(scheme.value(), value.as_bytes());
                scheme.check_folded().unwrap();
            }
        }
    }

    /// Deferred then checked answers as checked at once, for generated values made of the
    /// bytes that matter (scheme letters, spaces, tabs, commas).
    #[test]
    fn a_deferred_check_answers_as_an_immediate_one() {
        const BYTES: &[u8] = b"DdPpOoBbEeAaRr ,\tx";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let prefixes: [&[u8]; 4] = [b"", b"DPoP ", b"dpop ", b"DPoP  "];
        for _ in 0..200_000 {
            let prefix = prefixes[next() % prefixes.len()];
            let length = next() % 16;
            let mut value = prefix.to_vec();
            value.extend((0..length).map(|_| BYTES[next() % BYTES.len()]));
            let at_once =
                OtherScheme::read(&value, false).map(|scheme| scheme.value()).map_err(|e| e.reason());
            let deferred = OtherScheme::read(&value, true)
                .and_then(|scheme| scheme.check_folded().map(|()| scheme.value()))
                .map_err(|e| e.reason());
            assert_eq!(deferred, at_once, "{:?}", String::from_utf8_lossy(&value));
        }
    }

    #[test]
    fn the_word_compare_is_a_case_insensitive_compare() {
        for first in 0..=255u8 {
            for rest in [&b"PoP "[..], b"pop ", b"POP ", b"PoP\t", b"PoP", b"PoPx", b"PoP  x"] {
                let mut value = vec![first];
                value.extend_from_slice(rest);
                let by_bytes = value.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"dpop"))
                    && value.get(4) == Some(&b' ');
                assert_eq!(names_dpop(&value), by_bytes, "{value:?}");
            }
        }
        for at in 1..5 {
            for byte in 0..=255u8 {
                let mut value = b"dpop x".to_vec();
                value[at] = byte;
                let by_bytes = value[..4].eq_ignore_ascii_case(b"dpop") && value[4] == b' ';
                assert_eq!(names_dpop(&value), by_bytes, "{value:?}");
            }
        }
    }

    #[test]
    fn the_dpop_credential_is_what_follows_the_scheme_trimmed() {
        for (value, credential) in [
            (&b"DPoP abc"[..], Some(&b"abc"[..])),
            (b"dpop   abc \t", Some(b"abc")),
            (b"DPoP ", Some(b"")),
            (b"Basic abc", None),
            (b"DPoPabc", None),
        ] {
            for defer in [false, true] {
                let scheme = OtherScheme::read(value, defer).unwrap();
                assert_eq!(scheme.dpop_credential(), credential, "{value:?}");
            }
        }
    }

    #[test]
    fn only_the_dpop_scheme_and_a_space_wait() {
        assert!(names_dpop(b"DPoP x"));
        assert!(names_dpop(b"dPOp "));
        for value in [&b"DPoP"[..], b"DPoPx", b"DPo", b"", b"Basic x", b"DPoP\tx"] {
            assert!(!names_dpop(value), "{value:?}");
        }
        // Checked at once: the DPoP path would not read it.
        assert!(OtherScheme::read(b"DPoP\tabc,Bearer x", true).is_err());
    }
}
