//! What the guard leaves for the layers and extractors behind it, found without knowing the
//! user type `U`: one boxed value in the request's extensions, the [`Principal<U>`] itself.
//!
//! `http::Extensions` is keyed by type, so a layer that does not know `U` cannot ask for a
//! `Principal<U>`. Each guard registers a reader for its `U` here when it is built (a
//! monomorphised `fn` that asks for `Principal<U>`), and [`GuardContext::of`] tries the
//! registered readers. A request that no `Principal` describes carries a [`ContextEntry`]
//! instead: behind an optional guard that saw no token, when the registry is full, or
//! behind two guards of different user types (the innermost guard's context wins, as it
//! did when every guard inserted one).

use std::any::{type_name, TypeId};
use std::sync::{Arc, LazyLock, OnceLock};

use http::Extensions;

use super::Principal;
use crate::error::ResponseConfig;
use crate::token::VerifiedToken;

/// What the guard left in the request extensions for the layers and extractors behind it,
/// whatever the user type, as found by [`GuardContext::of`].
///
/// The verified token (or none, behind an optional guard that saw no token) and how to render
/// rejections. Its absence means no guard ran: a server bug, answered 500.
///
/// ```
/// use tower_passport::guard::GuardContext;
/// let request = http::Request::new(());
/// assert!(GuardContext::of(request.extensions()).is_none()); // no guard ran
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GuardContext<'a> {
    /// The verified token; `None` behind an optional guard that saw no token.
    pub token: Option<&'a VerifiedToken>,
    /// How the layers behind the guard render their rejections.
    pub responses: &'a Arc<ResponseConfig>,
    /// The user type `U` of the `Principal<U>` the guard put in the extensions
    /// (`std::any::type_name`), so that a handler asking for another can be told which.
    pub principal_type: &'static str,
}

impl<'a> GuardContext<'a> {
    /// What the guard in front left in `extensions`: the context of its `Principal<U>`,
    /// whatever `U`; `None` when no guard ran.
    #[inline]
    pub fn of(extensions: &'a Extensions) -> Option<Self> {
        // One value only (the principal alone, as the guard leaves a request that had no
        // extension): no entry can be beside it, so it is looked for first.
        if extensions.len() == 1 {
            return read_registered(extensions)
                .or_else(|| extensions.get::<ContextEntry>().map(ContextEntry::context));
        }
        match extensions.get::<ContextEntry>() {
            Some(entry) => Some(entry.context()),
            None => read_registered(extensions),
        }
    }
}

/// The context of the first principal of a registered user type in `extensions`.
#[inline]
fn read_registered(extensions: &Extensions) -> Option<GuardContext<'_>> {
    for slot in &READERS {
        let (_, read) = slot.get()?;
        if let Some(context) = read(extensions) {
            return Some(context);
        }
    }
    None
}

/// The context as a value of its own in the extensions, for the requests a [`Principal`]
/// does not describe (see the [module docs](self)).
#[derive(Clone)]
pub(crate) struct ContextEntry {
    token: Option<VerifiedToken>,
    responses: Arc<ResponseConfig>,
    principal_type: &'static str,
}

impl ContextEntry {
    /// The context of a guard whose principals are `Principal<U>`.
    pub(crate) fn new<U>(token: Option<VerifiedToken>, responses: Arc<ResponseConfig>) -> Self {
        Self { token, responses, principal_type: type_name::<U>() }
    }

    fn context(&self) -> GuardContext<'_> {
        GuardContext {
            token: self.token.as_ref(),
            responses: &self.responses,
            principal_type: self.principal_type,
        }
    }
}

/// The rendering of a principal that no guard admitted (none does: the guard sets it).
pub(crate) fn default_responses() -> &'static Arc<ResponseConfig> {
    static DEFAULT: LazyLock<Arc<ResponseConfig>> = LazyLock::new(|| Arc::new(ResponseConfig::default()));
    &DEFAULT
}

/// Reads the context of the `Principal<U>` of one `U`.
type Reader = for<'a> fn(&'a Extensions) -> Option<GuardContext<'a>>;

/// How many user types are found through their `Principal` alone; a guard of one more
/// type puts a [`ContextEntry`] beside its principals.
const READER_SLOTS: usize = 16;

/// Filled from the front, never emptied: a slot is only taken once every slot before it is.
static READERS: [OnceLock<(TypeId, Reader)>; READER_SLOTS] = [const { OnceLock::new() }; READER_SLOTS];

fn read<U: Send + Sync + 'static>(extensions: &Extensions) -> Option<GuardContext<'_>> {
    extensions.get::<Principal<U>>().map(Principal::context)
}

/// Lets [`GuardContext::of`] find `Principal<U>`; `false` when every slot holds another type.
pub(crate) fn register<U: Send + Sync + 'static>() -> bool {
    let id = TypeId::of::<U>();
    READERS.iter().any(|slot| slot.get_or_init(|| (id, read::<U>)).0 == id)
}

/// Whether [`GuardContext::of`] finds `Principal<U>` through the registry.
#[inline]
fn registered<U: 'static>() -> bool {
    let id = TypeId::of::<U>();
    for slot in &READERS {
        match slot.get() {
            Some((held, _)) if *held == id => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// Whether `extensions` hold the principal of a registered user type other than `U`.
fn holds_other_principal<U: 'static>(extensions: &Extensions) -> bool {
    let id = TypeId::of::<U>();
    READERS.iter().map_while(OnceLock::get).any(|(held, read)| *held != id && read(extensions).is_some())
}

/// Puts `principal` into `extensions` so that `get::<Principal<U>>()` and
/// [`GuardContext::of`] both find it: on a request with no extension yet, the principal
/// alone (one box); otherwise whatever a guard in front left is kept out of the way.
#[inline]
pub(crate) fn hand_over<U: Clone + Send + Sync + 'static>(
    extensions: &mut Extensions,
    principal: Principal<U>,
) {
    if extensions.is_empty() && registered::<U>() {
        extensions.insert(principal);
        return;
    }
    hand_over_beside_others(extensions, principal);
}

#[inline(never)]
fn hand_over_beside_others<U: Clone + Send + Sync + 'static>(
    extensions: &mut Extensions,
    principal: Principal<U>,
) {
    if registered::<U>() && !holds_other_principal::<U>(extensions) {
        // An optional guard in front that saw no token left an entry: this one decides now.
        extensions.remove::<ContextEntry>();
    } else {
        let context = principal.context();
        let entry = ContextEntry {
            token: context.token.cloned(),
            responses: context.responses.clone(),
            principal_type: context.principal_type,
        };
        extensions.insert(entry);
    }
    extensions.insert(principal);
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
