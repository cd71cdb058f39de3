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
    ends: Box<[u32]>,
    wildcard: bool,
    inherit: bool,
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

    /// The scopes `feed` hands over, sorted, deduplicated and packed into two allocations
    /// whatever their number (the text and the ends); up to 16 are sorted on the stack.
    pub(crate) fn collect<'s>(inherit: bool, feed: impl FnOnce(&mut dyn FnMut(&'s str))) -> Self {
        const ON_STACK: usize = 16;
        let (mut stack, mut count, mut heap) = ([""; ON_STACK], 0usize, Vec::new());
        feed(&mut |scope: &'s str| {
            if scope.is_empty() {
                return;
            }
            if count < ON_STACK {
                stack[count] = scope;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(scope);
            }
            count += 1;
        });
        let granted: &mut [&str] = if heap.is_empty() { &mut stack[..count] } else { &mut heap };
        granted.sort_unstable();
        let (mut text_len, mut distinct, mut previous) = (0usize, 0usize, None);
        for &scope in granted.iter() {
            if previous != Some(scope) {
                text_len += scope.len();
                distinct += 1;
                previous = Some(scope);
            }
        }
        let mut text = String::with_capacity(text_len);
        let mut ends = Vec::with_capacity(distinct);
        let (mut previous, mut wildcard) = (None, false);
        for &scope in granted.iter() {
            if previous != Some(scope) {
                text.push_str(scope);
                ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
                wildcard |= scope == "*";
                previous = Some(scope);
            }
        }
        Self { text: text.into_boxed_str(), ends: ends.into_boxed_slice(), wildcard, inherit }
    }

    fn granted(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let end = end as usize;
            let scope = self.text.get(start..end).unwrap_or_default();
            start = end;
            scope
        })
    }

    /// The bytes these scopes hold on the heap.
    pub(crate) fn memory_size(&self) -> usize {
        self.text.len() + self.ends.len() * std::mem::size_of::<u32>()
    }

    /// Whether the token may do `scope` (Passport's `tokenCan`).
    pub fn can(&self, scope: &str) -> bool {
        if self.wildcard {
            return true;
        }
        let (text, wanted) = (self.text.as_bytes(), scope.as_bytes());
        let mut start = 0usize;
        for &end in self.ends.iter() {
            let end = end as usize;
            let granted = text.get(start..end).unwrap_or_default();
            start = end;
            // Lengths first: most granted scopes differ from the wanted one in length.
            if granted.len() == wanted.len() {
                if granted == wanted {
                    return true;
                }
            } else if self.inherit
                && wanted.len() > granted.len()
                && wanted.starts_with(granted)
                && wanted[granted.len()] == b':'
            {
                return true;
            }
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
        self.ends.is_empty()
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
