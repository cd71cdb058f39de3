//! A small borrowed JSON reader (RFC 8259, strict) for the one object the verifier reads on
//! every cold request: a token's claims.
//!
//! It reads in place, left to right, and allocates only for a string with escapes (or for
//! values nested more than 64 deep, skipped). It accepts and refuses exactly what
//! `serde_json` does for the same reads:
//! - whitespace is space, tab, line feed and carriage return only;
//! - a string refuses control characters and unknown escapes; one that is *read*
//!   ([`Reader::string`]) refuses unpaired UTF-16 surrogates in `\u` escapes as well, one
//!   that is only *skipped* ([`Reader::skip_value`]) checks its escapes' syntax alone;
//! - numbers follow the grammar (no leading zeros, digits after `.` and `e`); their value
//!   is the caller's to read ([`Reader::number`] hands out the text);
//! - a skipped value is validated in full, whatever its depth, without recursion;
//! - a trailing comma, a missing one, or anything after the value is refused.
//!
//! `crates/integration/tests/properties/claims_reader.rs` and the `claims` fuzz target check
//! the claims read with it against `serde_json`'s typed parse, case by case.

use std::borrow::Cow;

/// The input is not the JSON the reader was asked for. Deliberately without detail: every
/// refusal ends as the same `invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

pub(crate) type Read<T> = Result<T, Malformed>;

/// A JSON text being read from its start.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
}

/// A number's text, and its value when it is a plain non-negative integer of at most 19
/// digits (which a `u64` always holds).
pub(crate) struct Number<'a> {
    pub(crate) text: &'a str,
    pub(crate) plain: Option<u64>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        match self.bytes().get(self.at) {
            Some(&byte) if byte > b' ' => Some(byte),
            _ => self.peek_past_whitespace(),
        }
    }

    /// [`peek`](Self::peek) where the next byte may be whitespace (rare in a token's claims).
    #[inline(never)]
    fn peek_past_whitespace(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// Consumes `byte` if it comes next (after whitespace).
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the literal `word` (`null`, `true`, `false`) at the current byte.
    fn literal(&mut self, word: &[u8]) -> Read<()> {
        if self.bytes().get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// Consumes a `null` if one comes next: `true` if it did.
    #[inline(always)]
    pub(crate) fn null(&mut self) -> Read<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Consumes a `true` or `false` if one comes next: `true` if it did.
    pub(crate) fn boolean(&mut self) -> Read<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| true),
            _ => Ok(false),
        }
    }

    /// The end of the text: only whitespace may be left.
    pub(crate) fn end(&mut self) -> Read<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Malformed),
        }
    }

    /// Consumes the `{` of an object.
    pub(crate) fn open_object(&mut self) -> Read<()> {
        if self.eat(b'{') {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// Consumes the `[` of an array.
    pub(crate) fn open_array(&mut self) -> Read<()> {
        if self.eat(b'[') {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// The name of the object's next member, its `:` consumed, or `None` at its closing
    /// `}` (consumed). `first` is whether no member was read yet.
    #[inline(always)]
    pub(crate) fn member(&mut self, first: bool) -> Read<Option<Cow<'a, str>>> {
        match self.peek() {
            Some(b'}') => {
                self.at += 1;
                return Ok(None);
            }
            Some(b'"') if first => {}
            Some(b',') if !first => {
                self.at += 1;
                if self.peek() != Some(b'"') {
                    return Err(Malformed);
                }
            }
            _ => return Err(Malformed),
        }
        // At the name's opening quote: read past it without looking again.
        self.at += 1;
        let name = self.string_body()?;
        if self.eat(b':') {
            Ok(Some(name))
        } else {
            Err(Malformed)
        }
    }

    /// Whether the array has a next element (positioned at it), or ended with its `]`
    /// (consumed). `first` is whether no element was read yet.
    #[inline]
    pub(crate) fn element(&mut self, first: bool) -> Read<bool> {
        match self.peek() {
            Some(b']') => {
                self.at += 1;
                Ok(false)
            }
            Some(_) if first => Ok(true),
            Some(b',') => {
                self.at += 1;
                match self.peek() {
                    Some(b']') | None => Err(Malformed),
                    Some(_) => Ok(true),
                }
            }
            _ => Err(Malformed),
        }
    }

    /// A string, read: borrowed when it has no escapes, decoded when it has. Unpaired
    /// surrogates in `\u` escapes are refused.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Read<Cow<'a, str>> {
        if !self.eat(b'"') {
            return Err(Malformed);
        }
        self.string_body()
    }

    /// [`string`](Self::string) after its opening quote.
    #[inline(always)]
    fn string_body(&mut self) -> Read<Cow<'a, str>> {
        let start = self.at;
        let stop = scan_string(self.bytes(), start)?;
        if self.bytes()[stop] == b'"' {
            self.at = stop + 1;
            return self.text.get(start..stop).map(Cow::Borrowed).ok_or(Malformed);
        }
        self.at = stop;
        self.decode_escaped(start).map(Cow::Owned)
    }

    /// The rest of a string with escapes, from `start` (after its opening quote), the
    /// reader at its first backslash.
    #[cold]
    #[inline(never)]
    fn decode_escaped(&mut self, start: usize) -> Read<String> {
        let mut decoded = String::from(&self.text[start..self.at]);
        loop {
            match self.bytes()[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(decoded);
                }
                _ => {
                    // A backslash: `scan_string` stops at nothing else but control bytes,
                    // which it refuses.
                    self.at += 1;
                    self.escape(&mut decoded)?;
                }
            }
            let run = self.at;
            let stop = scan_string(self.bytes(), self.at)?;
            decoded.push_str(&self.text[run..stop]);
            self.at = stop;
        }
    }

    /// One escape after its backslash, decoded onto `into`.
    fn escape(&mut self, into: &mut String) -> Read<()> {
        let byte = *self.bytes().get(self.at).ok_or(Malformed)?;
        self.at += 1;
        let decoded = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return Err(Malformed),
        };
        into.push(decoded);
        Ok(())
    }

    /// A `\u` escape's character (after the `u`): a surrogate must be a leading one,
    /// followed at once by a `\u` trailing one.
    fn unicode_escape(&mut self) -> Read<char> {
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => return Err(Malformed),
            0xD800..=0xDBFF => {
                if self.bytes().get(self.at..self.at + 2) != Some(b"\\u") {
                    return Err(Malformed);
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(Malformed);
                }
                0x1_0000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            other => u32::from(other),
        };
        char::from_u32(code).ok_or(Malformed)
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Read<u16> {
        let digits = self.bytes().get(self.at..self.at + 4).ok_or(Malformed)?;
        let mut value = 0u16;
        for &digit in digits {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return Err(Malformed),
            };
            value = value << 4 | u16::from(nibble);
        }
        self.at += 4;
        Ok(value)
    }

    /// A string skipped after its opening quote: escapes checked for syntax only.
    #[inline]
    fn skip_string(&mut self) -> Read<()> {
        loop {
            let stop = scan_string(self.bytes(), self.at)?;
            self.at = stop + 1;
            if self.bytes()[stop] == b'"' {
                return Ok(());
            }
            match self.bytes().get(self.at) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 1,
                Some(b'u') => {
                    self.at += 1;
                    self.hex4()?;
                }
                _ => return Err(Malformed),
            }
        }
    }

    /// A number: its text, checked against the grammar, and the value of a plain one.
    #[inline(always)]
    pub(crate) fn number(&mut self) -> Read<Number<'a>> {
        self.peek();
        let bytes = self.bytes();
        let start = self.at;
        let negative = bytes.get(start) == Some(&b'-');
        let digits = start + usize::from(negative);
        let mut at = digits;
        let mut value = 0u64;
        match bytes.get(at) {
            // A second leading digit after a 0 is refused, as serde_json does.
            Some(b'0') if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) => return Err(Malformed),
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                while let Some(&byte) = bytes.get(at) {
                    let digit = byte.wrapping_sub(b'0');
                    if digit > 9 {
                        break;
                    }
                    value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
                    at += 1;
                }
            }
            _ => return Err(Malformed),
        }
        let mut plain = !negative && at - digits <= 19;
        if bytes.get(at) == Some(&b'.') {
            plain = false;
            let fraction = at + 1;
            at = skip_digits(bytes, fraction);
            if at == fraction {
                return Err(Malformed);
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            plain = false;
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let exponent = at;
            at = skip_digits(bytes, exponent);
            if at == exponent {
                return Err(Malformed);
            }
        }
        self.at = at;
        let text = self.text.get(start..at).ok_or(Malformed)?;
        Ok(Number { text, plain: plain.then_some(value) })
    }

    /// Skips one value of any kind, validated in full.
    #[inline(always)]
    pub(crate) fn skip_value(&mut self) -> Read<()> {
        // A string, the most common unknown claim, without the nesting machinery.
        if self.peek() == Some(b'"') {
            self.at += 1;
            return self.skip_string();
        }
        self.skip_any()
    }

    /// [`skip_value`](Self::skip_value) for any value. Nesting is tracked on a bit stack
    /// (inline for 64 levels, on the heap past them), never by recursion.
    #[inline(never)]
    fn skip_any(&mut self) -> Read<()> {
        let mut open = Nesting::default();
        loop {
            // A value.
            match self.peek().ok_or(Malformed)? {
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'"' => {
                    self.at += 1;
                    self.skip_string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                bracket @ (b'[' | b'{') => {
                    self.at += 1;
                    let object = bracket == b'{';
                    open.push(object);
                    match self.peek() {
                        Some(b']') if !object => self.at += 1,
                        Some(b'}') if object => self.at += 1,
                        _ => {
                            if object {
                                self.skipped_member_name()?;
                            }
                            continue;
                        }
                    }
                    open.pop();
                }
                _ => return Err(Malformed),
            }
            // After a value: the end of its enclosing containers, or the next one's start.
            loop {
                let Some(object) = open.top() else { return Ok(()) };
                match self.peek().ok_or(Malformed)? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.skipped_member_name()?;
                        }
                        break;
                    }
                    b']' if !object => {}
                    b'}' if object => {}
                    _ => return Err(Malformed),
                }
                self.at += 1;
                open.pop();
            }
        }
    }

    /// A member name in a skipped object, and its `:`.
    fn skipped_member_name(&mut self) -> Read<()> {
        if !self.eat(b'"') {
            return Err(Malformed);
        }
        self.skip_string()?;
        if self.eat(b':') {
            Ok(())
        } else {
            Err(Malformed)
        }
    }
}

/// From `at` in a string, the position of its closing quote or next backslash. A control
/// character (below U+0020) or the text's end is refused.
#[inline(always)]
fn scan_string(bytes: &[u8], mut at: usize) -> Read<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Eight bytes at a time: the high bit of each byte that is a quote, a backslash or
    // below 0x20 (a borrow can only mark bytes after the first such byte, never before).
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).map_err(|_| Malformed)?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if found != 0 {
            at += (found.trailing_zeros() / 8) as usize;
            return match bytes.get(at) {
                Some(&byte) if byte >= 0x20 => Ok(at),
                _ => Err(Malformed),
            };
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' | b'\\' => return Ok(at),
            0..=0x1f => return Err(Malformed),
            _ => at += 1,
        }
    }
    Err(Malformed)
}

fn skip_digits(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    at
}

/// The open containers of a skipped value, innermost last: `true` for an object.
#[derive(Default)]
struct Nesting {
    /// The innermost 64 at most, innermost in the lowest bit.
    bits: u64,
    /// How many are open.
    depth: usize,
    /// The outer ones' words, once more than 64 are open.
    outer: Vec<u64>,
}

impl Nesting {
    fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth % 64 == 0 {
            self.outer.push(self.bits);
            self.bits = 0;
        }
        self.bits = self.bits << 1 | u64::from(object);
        self.depth += 1;
    }

    fn top(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.bits & 1 == 1)
    }

    fn pop(&mut self) {
        self.bits >>= 1;
        self.depth -= 1;
        if self.depth > 0 && self.depth % 64 == 0 {
            self.bits = self.outer.pop().unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(text: &str) -> bool {
        let mut reader = Reader::new(text);
        reader.skip_value().is_ok() && reader.end().is_ok()
    }

    #[test]
    fn skipping_accepts_what_serde_json_accepts() {
        for text in [
            "null",
            " true ",
            "-0.5e+7",
            r#""a\u00e9\"\\\/\b\f\n\r\t""#,
            r#""\ud800""#,
            "[]",
            "{}",
            r#"[1, {"a": [true, {"b": null}], "c": {}}, "x", []]"#,
        ] {
            assert!(skips(text), "{text}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn skipping_refuses_what_serde_json_refuses() {
        for text in [
            "",
            "nul",
            "[1,]",
            "[1 2]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "{1:2}",
            "01",
            "1.",
            "1e",
            "-",
            "[",
            "]",
            r#""\x""#,
            "\"\u{1}\"",
            r#""\u12g4""#,
            "[}",
            "{]",
            "\u{c}1",
        ] {
            assert!(!skips(text), "{text:?}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn skipping_handles_nesting_deeper_than_the_inline_stack() {
        for depth in [63, 64, 65, 128, 129, 1000] {
            let nested = format!("{}1{}", "[{\"k\":".repeat(depth), "}]".repeat(depth));
            assert!(skips(&nested), "{depth}");
            let unbalanced = format!("{}1{}", "[{\"k\":".repeat(depth), "]}".repeat(depth));
            assert!(!skips(&unbalanced), "{depth}");
        }
    }

    #[test]
    fn strings_borrow_without_escapes_and_decode_with_them() {
        let mut reader = Reader::new(r#""plain" "a\u00e9\ud83d\ude00\n""#);
        assert!(matches!(reader.string(), Ok(Cow::Borrowed("plain"))));
        assert_eq!(reader.string().map(Cow::into_owned), Ok("aé😀\n".to_owned()));
    }

    #[test]
    fn strings_read_refuse_unpaired_surrogates() {
        for text in [r#""\ud800""#, r#""\udc00""#, r#""\ud800\n""#, r#""\ud800\u0041""#, r#""\ud800x""#] {
            assert_eq!(Reader::new(text).string(), Err(Malformed), "{text}");
            assert!(serde_json::from_str::<String>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn the_string_scan_finds_the_first_special_byte_in_every_position() {
        for len in 0..20 {
            let body = "x".repeat(len);
            assert_eq!(Reader::new(&format!("\"{body}\"")).string().map(Cow::into_owned), Ok(body.clone()));
            assert_eq!(Reader::new(&format!("\"{body}\u{1f}\"")).string(), Err(Malformed), "{len}");
            assert_eq!(
                Reader::new(&format!("\"{body}\\\"\"")).string().map(Cow::into_owned),
                Ok(body + "\"")
            );
        }
        // Bytes at and above 0x80 are content, not control characters.
        assert_eq!(Reader::new("\"é€😀\"").string().map(Cow::into_owned), Ok("é€😀".to_owned()));
    }

    #[test]
    fn numbers_follow_the_grammar_and_know_plain_integers() {
        let plain = |text: &str| Reader::new(text).number().ok().and_then(|number| number.plain);
        assert_eq!(plain("0"), Some(0));
        assert_eq!(plain("1700000000"), Some(1_700_000_000));
        assert_eq!(plain("9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(plain("18446744073709551616"), None);
        assert_eq!(plain("-1"), None);
        assert_eq!(plain("1.0"), None);
        assert_eq!(plain("1e3"), None);
        for bad in ["01", "-", "1.", "1.e3", "1e+", ".5", "+1"] {
            assert!(Reader::new(bad).number().is_err(), "{bad}");
        }
    }
}
