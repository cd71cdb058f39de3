//! The counting global allocator the `memory` and `soak` bins install (each declares its
//! own `#[global_allocator]` static of [`Counting`]; the library forbids `unsafe`, so this
//! file is compiled into each bin with `#[path]`): live bytes, every thread's allocations,
//! and the calling thread's own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};

/// Counts allocations and live bytes, then asks the system allocator.
pub struct Counting;

/// Bytes allocated and not freed yet, all threads.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

/// Allocations (reallocations included) so far, all threads.
static ALLOCATIONS_TOTAL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Allocations made by this thread: another thread's (the test harness reporting a
    /// result, say) never count against the requests measured here.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts one allocation of the calling thread.
fn count_allocation() {
    ALLOCATIONS_TOTAL.fetch_add(1, Ordering::Relaxed);
    // During a thread's teardown its counter may be gone already: that allocation is not
    // one of a measured request's.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

/// This thread's allocations so far.
pub fn allocations() -> usize {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// Every thread's allocations so far.
pub fn allocations_total() -> u64 {
    ALLOCATIONS_TOTAL.load(Ordering::Relaxed)
}

/// Bytes allocated and not freed yet, all threads.
pub fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
