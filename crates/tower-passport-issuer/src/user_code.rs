//! The device grant's user codes (RFC 8628 §6.1): eight letters from an alphabet of twenty
//! consonants, shown as `BCDF-GHJK`. No vowels (no words spelled by accident), no digits
//! and no letters that pass for one another (`I`/`1`, `O`/`0`), about 34.5 bits, and typed
//! in any case, with or without the dash.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The alphabet: the twenty consonants RFC 8628 §6.1 suggests.
pub(crate) const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code.
pub(crate) const LEN: usize = 8;

/// A fresh user code, as shown: `XXXX-XXXX`. Each letter is drawn uniformly (bytes of 240
/// and above are drawn again, so that no letter is likelier than another).
pub(crate) fn generate() -> Result<String, aws_lc_rs::error::Unspecified> {
    let random = SystemRandom::new();
    let mut code = String::with_capacity(LEN + 1);
    let mut letters = 0;
    while letters < LEN {
        let mut bytes = [0u8; 16];
        random.fill(&mut bytes)?;
        for byte in bytes.into_iter().filter(|byte| *byte < 240) {
            if letters == LEN {
                break;
            }
            if letters == LEN / 2 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[usize::from(byte % 20)]));
            letters += 1;
        }
    }
    Ok(code)
}

/// A typed user code as it is hashed: upper case, with spaces and dashes dropped; `None` when
/// what is left is not a code of ours (so nothing is looked up): ` bcdf-ghjk ` is `BCDFGHJK`.
pub(crate) fn normalize(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let code: String =
        typed.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_unambiguous_letters_with_a_dash_in_the_middle() {
        for _ in 0..200 {
            let code = generate().unwrap();
            assert_eq!(code.len(), 9);
            assert_eq!(&code[4..5], "-");
            assert!(code.bytes().filter(|b| *b != b'-').all(|b| ALPHABET.contains(&b)), "{code}");
            assert!(!code.contains(['A', 'E', 'I', 'O', 'U', 'Y', '0', '1']));
            assert_eq!(normalize(&code).map(|c| c.len()), Some(8));
        }
    }

    #[test]
    fn typed_codes_are_compared_without_case_dashes_or_spaces() {
        assert_eq!(normalize(" bcdf-ghjk ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize("BcDf GhJk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize("BCDFGHJK").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize("BCDF-GHJ"), None, "too short");
        assert_eq!(normalize("BCDF-GHJA"), None, "a vowel is never in a code");
        assert_eq!(normalize(&"B".repeat(100)), None);
    }
}
