use std::fmt;

/// The scopes a token was granted, read from the `scope` claim (space-delimited, RFC 9068)
/// and the `scp` / `scopes` arrays (Okta, Azure, Passport, league).
///
/// `*` grants every scope, as in Passport. With inherited scopes switched on
/// ([`VerifierBuilder::inherited_scopes`](crate::verify::VerifierBuilder::inherited_scopes)),
/// a granted `orders` also satisfies `orders:create`.
///
/// ```
/// use tower_passport::Scopes;
/// let scopes = Scopes::from_space_delimited("read-posts check-status");
/// assert!(scopes.can("read-posts"));
/// assert!(!scopes.can("admin"));
/// assert!(scopes.can_any(["admin", "check-status"]));
/// assert!(!scopes.can_all(["admin", "check-status"]));
/// assert!(Scopes::from_space_delimited("*").can("anything"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// The granted scopes, sorted, without duplicates, concatenated.
    text: Box<str>,
    /// Where each scope ends in `text`.
    ends: Ends,
    wildcard: bool,
    inherit: bool,
}

/// How many scope ends are kept inline, without an allocation of their own.
const INLINE_ENDS: usize = 10;

/// Where each scope ends in the text: inline for a handful of scopes in a short text
/// (nearly every token), so that the scopes take one allocation, the text.
#[derive(Clone, PartialEq, Eq)]
enum Ends {
    /// The first `len` of `ends`; the rest are zero.
    Inline {
        len: u8,
        ends: [u16; INLINE_ENDS],
    },
    Heap(Box<[u32]>),
}

impl Default for Ends {
    fn default() -> Self {
        Self::Inline { len: 0, ends: [0; INLINE_ENDS] }
    }
}

impl Ends {
    /// The ends of `text_len` bytes of text holding `count` scopes, filled by `fill`.
    fn build(text_len: usize, count: usize, fill: impl FnOnce(&mut dyn FnMut(usize))) -> Self {
        if count <= INLINE_ENDS && text_len <= usize::from(u16::MAX) {
            let (mut ends, mut len) = ([0u16; INLINE_ENDS], 0usize);
            fill(&mut |end| {
                if let Some(slot) = ends.get_mut(len) {
                    *slot = u16::try_from(end).unwrap_or(u16::MAX);
                    len += 1;
                }
            });
            return Self::Inline { len: u8::try_from(len).unwrap_or(0), ends };
        }
        let mut ends = Vec::with_capacity(count);
        fill(&mut |end| ends.push(u32::try_from(end).unwrap_or(u32::MAX)));
        Self::Heap(ends.into_boxed_slice())
    }

    fn len(&self) -> usize {
        match self {
            Self::Inline { len, .. } => usize::from(*len),
            Self::Heap(ends) => ends.len(),
        }
    }

    /// The bytes these ends hold on the heap.
    fn heap_size(&self) -> usize {
        match self {
            Self::Inline { .. } => 0,
            Self::Heap(ends) => ends.len() * std::mem::size_of::<u32>(),
        }
    }

    /// Where the `i`-th scope ends (0 past the last).
    #[inline]
    fn get(&self, i: usize) -> usize {
        match self {
            Self::Inline { ends, .. } => ends.get(i).map_or(0, |&end| usize::from(end)),
            Self::Heap(ends) => ends.get(i).map_or(0, |&end| end as usize),
        }
    }
}

impl Scopes {
    /// Scopes from a space-delimited string such as an RFC 9068 `scope` claim.
    pub fn from_space_delimited(scope: &str) -> Self {
        Self::from_iter(scope.split(' '))
    }

    /// The same scopes, with inherited matching switched on or off: when on, a granted
    /// `orders` satisfies `orders:create` (and `orders:create:bulk`).
    ///
    /// ```
    /// use tower_passport::Scopes;
    /// let scopes = Scopes::from_space_delimited("orders");
    /// assert!(!scopes.can("orders:create"));
    /// let scopes = scopes.with_inheritance(true);
    /// assert!(scopes.can("orders:create"));
    /// assert!(!scopes.can("ordersx"));
    /// ```
    #[must_use]
    pub fn with_inheritance(mut self, inherit: bool) -> Self {
        self.inherit = inherit;
        self
    }

    pub(crate) fn from_parts<S: AsRef<str>>(granted: Vec<S>, inherit: bool) -> Self {
        Self::collect(inherit, |push| granted.iter().for_each(|scope| push(scope.as_ref())))
    }

    /// The scopes `feed` hands over, sorted, deduplicated and packed into one allocation (the
    /// text; their ends are inline for up to ten, a second allocation past that); up to 16
    /// are sorted on the stack, by their first eight bytes before the rest.
    pub(crate) fn collect<'s>(inherit: bool, feed: impl FnOnce(&mut dyn FnMut(&'s str))) -> Self {
        const ON_STACK: usize = 16;
        let (mut stack, mut count, mut heap) = ([(0u64, ""); ON_STACK], 0usize, Vec::new());
        feed(&mut |scope: &'s str| {
            if scope.is_empty() {
                return;
            }
            if count < ON_STACK {
                stack[count] = (prefix_key(scope), scope);
            } else {
                if heap.is_empty() {
                    heap.extend(stack.iter().map(|&(_, scope)| scope));
                }
                heap.push(scope);
            }
            count += 1;
        });
        if !heap.is_empty() {
            heap.sort_unstable();
            return Self::pack(inherit, heap.iter().copied());
        }
        let granted = &mut stack[..count];
        insertion_sort(granted);
        Self::pack(inherit, granted.iter().map(|&(_, scope)| scope))
    }

    /// `granted`, sorted, without its duplicates, packed.
    fn pack<'g>(inherit: bool, granted: impl Iterator<Item = &'g str> + Clone) -> Self {
        let (mut text_len, mut distinct, mut previous) = (0usize, 0usize, None);
        for scope in granted.clone() {
            if previous != Some(scope) {
                text_len += scope.len();
                distinct += 1;
                previous = Some(scope);
            }
        }
        let mut text = String::with_capacity(text_len);
        let mut wildcard = false;
        let ends = Ends::build(text_len, distinct, |push_end| {
            let mut previous = None;
            for scope in granted {
                if previous != Some(scope) {
                    text.push_str(scope);
                    push_end(text.len());
                    wildcard |= scope == "*";
                    previous = Some(scope);
                }
            }
        });
        Self { text: text.into_boxed_str(), ends, wildcard, inherit }
    }

    fn granted(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        (0..self.ends.len()).map(move |i| {
            let end = self.ends.get(i);
            let scope = self.text.get(start..end).unwrap_or_default();
            start = end;
            scope
        })
    }

    /// The bytes these scopes hold on the heap.
    pub(crate) fn memory_size(&self) -> usize {
        self.text.len() + self.ends.heap_size()
    }

    /// Whether the token may do `scope` (Passport's `tokenCan`).
    pub fn can(&self, scope: &str) -> bool {
        if self.wildcard {
            return true;
        }
        match &self.ends {
            Ends::Inline { len, ends } => self.can_among(&ends[..usize::from(*len).min(INLINE_ENDS)], scope),
            Ends::Heap(ends) => self.can_among(ends, scope),
        }
    }

    /// [`can`](Self::can) over the scopes ending at `ends`.
    #[inline]
    fn can_among<E: Copy + Into<u64>>(&self, ends: &[E], scope: &str) -> bool {
        let (text, wanted) = (self.text.as_bytes(), scope.as_bytes());
        let mut start = 0usize;
        for &end in ends {
            let end = usize::try_from(end.into()).unwrap_or(usize::MAX);
            // Lengths first, before any slicing: most granted scopes differ from the wanted
            // one in length.
            let length = end.wrapping_sub(start);
            if length == wanted.len() {
                if text.get(start..end) == Some(wanted) {
                    return true;
                }
            } else if self.inherit
                && length < wanted.len()
                && wanted[length] == b':'
                && text.get(start..end).is_some_and(|granted| wanted.starts_with(granted))
            {
                return true;
            }
            start = end;
        }
        false
    }

    /// Whether the token may do every one of `scopes` (Passport's `scopes` middleware).
    pub fn can_all<I>(&self, scopes: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        scopes.into_iter().all(|scope| self.can(scope.as_ref()))
    }

    /// Whether the token may do at least one of `scopes` (Passport's `scope` middleware).
    /// An empty list is never satisfied.
    pub fn can_any<I>(&self, scopes: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        scopes.into_iter().any(|scope| self.can(scope.as_ref()))
    }

    /// Whether `*` was granted.
    ///
    /// ```
    /// assert!(tower_passport::Scopes::from_space_delimited("a *").is_wildcard());
    /// ```
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The granted scopes, sorted and without duplicates.
    ///
    /// ```
    /// let scopes = tower_passport::Scopes::from_space_delimited("b a b");
    /// assert_eq!(scopes.iter().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.granted()
    }

    /// How many distinct scopes were granted.
    ///
    /// ```
    /// assert_eq!(tower_passport::Scopes::from_space_delimited("a b").len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no scope was granted.
    ///
    /// ```
    /// assert!(tower_passport::Scopes::from_space_delimited("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ends.len() == 0
    }
}

/// The first eight bytes of `scope`, big-endian, zero-padded: ordering by it and then by the
/// whole text is the text's own order (a zero pad only ties with a real zero byte).
#[inline]
fn prefix_key(scope: &str) -> u64 {
    let bytes = scope.as_bytes();
    match bytes.first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        None => bytes.iter().enumerate().fold(0, |key, (i, &byte)| key | u64::from(byte) << (56 - 8 * i)),
    }
}

/// Sorts a handful of keyed scopes, comparing the texts only when their keys tie.
fn insertion_sort(scopes: &mut [(u64, &str)]) {
    for i in 1..scopes.len() {
        let mut j = i;
        while j > 0 && {
            let (a, b) = (scopes[j - 1], scopes[j]);
            a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
        } {
            scopes.swap(j - 1, j);
            j -= 1;
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let owned: Vec<S> = iter.into_iter().collect();
        Self::from_parts(owned, false)
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scopes sorted and deduplicated the plain way, for comparison.
    fn plain(scopes: &[&str]) -> Vec<String> {
        let mut sorted: Vec<String> =
            scopes.iter().filter(|s| !s.is_empty()).map(|s| (*s).to_owned()).collect();
        sorted.sort();
        sorted.dedup();
        sorted
    }

    #[test]
    fn the_keyed_sort_orders_as_the_texts_do() {
        let cases: &[&[&str]] = &[
            &["read-posts", "write-posts", "read-comments", "profile", "email"],
            &["abcdefgh2", "abcdefgh1", "abcdefgh", "abcdefg", "abcdefg\0", "abc\0d", "abc"],
            &["b", "a", "b", "", "a", "*"],
            &["\u{e9}t\u{e9}", "zz", "\u{7f}", "~", "orders:create", "orders"],
            &["k10", "k09", "k08", "k07", "k06", "k05", "k04", "k03", "k02", "k01", "k00", "k11"],
        ];
        for case in cases {
            let scopes = Scopes::from_iter(case.iter());
            assert_eq!(scopes.iter().collect::<Vec<_>>(), plain(case), "{case:?}");
            for scope in plain(case) {
                assert!(scopes.can(&scope), "{scope} in {case:?}");
            }
            assert!(!scopes.can("absent") || scopes.is_wildcard());
        }
    }

    #[test]
    fn many_scopes_keep_their_ends_on_the_heap_and_still_answer() {
        let names: Vec<String> = (0..40).rev().map(|i| format!("scope-{i:03}")).collect();
        let scopes = Scopes::from_iter(names.iter());
        assert_eq!(scopes.len(), 40);
        assert!(matches!(scopes.ends, Ends::Heap(_)));
        assert_eq!(scopes.iter().next(), Some("scope-000"));
        assert!(scopes.can("scope-039") && scopes.can("scope-000") && !scopes.can("scope-040"));
        let few = Scopes::from_space_delimited("a b c");
        assert!(matches!(few.ends, Ends::Inline { len: 3, .. }));
        assert_eq!(few.memory_size(), 3);
    }
}
