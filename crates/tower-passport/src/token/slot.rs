//! A write-once slot a verified token carries for a layer that knows more than the token
//! does: the DPoP guard's remembered proof header (`dpop::header_memo`). The token holds it
//! without knowing its type, so this module depends on no layer that reads tokens.

use std::any::Any;
use std::fmt;
use std::sync::OnceLock;

/// A value set once, of a type only its writer and readers know.
#[derive(Default)]
pub(crate) struct Slot(OnceLock<Box<dyn Any + Send + Sync>>);

impl Slot {
    /// The value, if one of type `T` was set.
    #[inline]
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        self.0.get()?.downcast_ref()
    }

    /// Whether a value was set.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.0.get().is_some()
    }

    /// Sets `value` unless a value was set already (then `value` is dropped).
    pub(crate) fn set<T: Send + Sync + 'static>(&self, value: T) {
        // Two writers may race: the first wins; the other's value is simply not kept.
        let _ = self.0.set(Box::new(value));
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "Slot(set)" } else { "Slot(empty)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_stays_and_is_found_by_its_type() {
        let slot = Slot::default();
        assert!(!slot.is_set());
        assert_eq!(slot.get::<u32>(), None);
        slot.set(7u32);
        slot.set(8u32);
        assert_eq!(slot.get::<u32>(), Some(&7));
        assert_eq!(slot.get::<u64>(), None, "another type is not found");
    }
}
