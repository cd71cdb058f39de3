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
}

impl<'a> OtherScheme<'a> {
    /// Reads `value` (trimmed, its scheme not `Bearer`).
    ///
    /// # Errors
    /// `invalid_request` ([`Reason::DuplicateCredentials`]) when a `Bearer` credential is
    /// folded into it, unless `defer` and the value is under the `DPoP` scheme: then
    /// [`check_folded`](Self::check_folded) looks.
    pub(super) fn read(value: &'a [u8], defer: bool) -> Result<Self, AuthError> {
        let scheme = Self { value, unchecked: true };
        if defer && names_dpop(value) {
            return Ok(scheme);
        }
        scheme.check_folded()?;
        Ok(Self { value, unchecked: false })
    }

    /// The value, trimmed.
    #[inline]
    pub(crate) fn value(&self) -> &'a [u8] {
        self.value
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

/// Whether `value` is under the `DPoP` scheme as [`crate::dpop`] reads it: `DPoP`, any case,
/// then a space.
fn names_dpop(value: &[u8]) -> bool {
    value.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"dpop")) && value.get(4) == Some(&b' ')
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
