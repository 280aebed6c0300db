//! The package's allocator: a free list per power-of-two size class, over memory grown
//! by whole pages.
//!
//! Every block is 2^k bytes (16 B at least), carved once from the end of the heap and,
//! once freed, kept on its class's list for the next request of that class: alloc and
//! free are a few instructions each, blocks are never split or merged. A request takes
//! up to twice its size; the engine's heap is small (tokens, a user, a response's text)
//! and its sizes repeat, so what a class once needed it reuses. Measured against the
//! allocators made for wasm (docs/design-notes.md, "the allocator"): talc 5 (the previous
//! one) 486 B gzip more, lol_alloc's `FreeListAllocator` 86 B more and decodeJwt 20%
//! slower (its free list is searched on every call).
//!
//! The logic is generic over where pages come from, so native tests drive it over a
//! fake memory (`tests` below); the package's instance grows the wasm memory (lib.rs).
use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};

/// A wasm page: memory grows by these.
pub const PAGE: usize = 1 << 16;

/// Every block's alignment (its smallest size): enough for any type the crate allocates
/// (a larger alignment is refused with a null pointer, the allocation-failure answer).
pub const BLOCK_ALIGN: usize = 16;

/// Where new memory comes from.
pub trait Pages {
    /// Grows by `pages` pages: the address of the first new byte, or `None`.
    fn grow(&self, pages: usize) -> Option<usize>;
}

/// The wasm module's own memory (index 0).
#[cfg(target_arch = "wasm32")]
pub struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Pages for WasmMemory {
    fn grow(&self, pages: usize) -> Option<usize> {
        match ::core::arch::wasm32::memory_grow(0, pages) {
            usize::MAX => None,
            old => Some(old * PAGE),
        }
    }
}

/// Free lists by size class over memory from `P`.
pub struct SizeClasses<P> {
    /// Per class k, the address of the first free block of 2^k bytes (0: none); each
    /// free block's first word is the address of the next.
    free: UnsafeCell<[usize; usize::BITS as usize]>,
    /// Where the next new block starts, and where the memory grown so far ends.
    next: Cell<usize>,
    end: Cell<usize>,
    pages: P,
}

impl<P> SizeClasses<P> {
    pub const fn new(pages: P) -> Self {
        Self {
            free: UnsafeCell::new([0; usize::BITS as usize]),
            next: Cell::new(0),
            end: Cell::new(0),
            pages,
        }
    }
}

// SAFETY: the package's wasm (wasm32-unknown-unknown without the atomics feature) runs
// one thread, so the cells are never reached from two threads at once.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<P: Sync> Sync for SizeClasses<P> {}

/// The class of a block for `size` bytes: k for the smallest 2^k that holds it, from 16 B.
/// (A `Layout`'s size is at most `isize::MAX`, so k < usize::BITS: the mask only tells
/// the compiler so, saving the bounds check's panic path.)
fn class_of(size: usize) -> usize {
    (usize::BITS - (size.max(BLOCK_ALIGN) - 1).leading_zeros()) as usize
        & (usize::BITS as usize - 1)
}

impl<P: Pages> SizeClasses<P> {
    /// A new block of 2^class bytes from the end of the heap, growing memory if needed.
    fn carve(&self, class: usize) -> *mut u8 {
        let size = 1usize << class;
        if self.end.get() - self.next.get() < size {
            let pages = size / PAGE + 1;
            let Some(start) = self.pages.grow(pages) else {
                return ::core::ptr::null_mut();
            };
            // Memory grown right after the heap extends it; anything else (the first
            // growth) starts the heap there: grown pages are page-aligned, so every
            // block, a multiple of 16 B from there, is 16-aligned.
            // (The last page of a full 4 GiB memory cannot hold a block: its end is not
            // an address.)
            let Some(end) = start.checked_add(pages * PAGE) else {
                return ::core::ptr::null_mut();
            };
            if start != self.end.get() {
                self.next.set(start);
            }
            self.end.set(end);
        }
        let block = self.next.get();
        self.next.set(block + size);
        block as *mut u8
    }
}

// SAFETY: blocks handed out are within memory from `Pages`, 16-aligned, at least the
// layout's size, and never handed out twice while allocated: a block is on at most one
// free list, and only after `dealloc` (the caller's promise that it is no longer used).
unsafe impl<P: Pages> GlobalAlloc for SizeClasses<P> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > BLOCK_ALIGN {
            return ::core::ptr::null_mut();
        }
        let class = class_of(layout.size());
        let free = &mut (*self.free.get())[class];
        match *free {
            0 => self.carve(class),
            block => {
                *free = *(block as *const usize);
                block as *mut u8
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let free = &mut (*self.free.get())[class_of(layout.size())];
        *(ptr as *mut usize) = *free;
        *free = ptr as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Memory for the allocator under test: `capacity` pages reserved up front (so
    /// growth is contiguous, as the wasm memory's is), handed out by `grow`.
    struct FakeMemory {
        base: *mut u8,
        capacity: usize,
        grown: Cell<usize>,
        /// A growth that refuses: every call after this many pages fails.
        limit: usize,
    }

    impl FakeMemory {
        fn new(capacity: usize) -> Self {
            let layout = Layout::from_size_align(capacity * PAGE, PAGE).unwrap();
            // SAFETY: a non-zero size; freed in `drop` with the same layout.
            let base = unsafe { std::alloc::alloc_zeroed(layout) };
            assert!(!base.is_null());
            Self {
                base,
                capacity,
                grown: Cell::new(0),
                limit: capacity,
            }
        }
        fn start(&self) -> usize {
            self.base as usize
        }
    }

    impl Drop for FakeMemory {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe {
                std::alloc::dealloc(
                    self.base,
                    Layout::from_size_align(self.capacity * PAGE, PAGE).unwrap(),
                )
            }
        }
    }

    impl Pages for &FakeMemory {
        fn grow(&self, pages: usize) -> Option<usize> {
            let grown = self.grown.get();
            if grown + pages > self.limit {
                return None;
            }
            self.grown.set(grown + pages);
            Some(self.start() + grown * PAGE)
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_are_the_smallest_power_of_two_from_16_bytes() {
        assert_eq!(class_of(1), 4);
        assert_eq!(class_of(16), 4);
        assert_eq!(class_of(17), 5);
        assert_eq!(class_of(4096), 12);
        assert_eq!(class_of(4097), 13);
        assert_eq!(class_of(isize::MAX as usize), usize::BITS as usize - 1);
    }

    #[test]
    fn a_freed_block_is_the_next_of_its_class_and_no_other() {
        let memory = FakeMemory::new(4);
        let heap = SizeClasses::new(&memory);
        unsafe {
            let a = heap.alloc(layout(24, 8));
            let b = heap.alloc(layout(24, 8));
            assert_eq!(
                b as usize - a as usize,
                32,
                "a 24 B request takes a 32 B block"
            );
            heap.dealloc(a, layout(24, 8));
            let small = heap.alloc(layout(8, 8));
            assert_ne!(small, a, "a 16 B class request does not take a 32 B block");
            assert_eq!(
                heap.alloc(layout(30, 2)),
                a,
                "the freed block is reused by its class"
            );
            let c = heap.alloc(layout(32, 8));
            assert!(c != a && c != b);
        }
    }

    #[test]
    fn memory_grows_by_pages_and_stays_one_heap() {
        let memory = FakeMemory::new(8);
        let heap = SizeClasses::new(&memory);
        unsafe {
            let first = heap.alloc(layout(16, 8));
            assert_eq!(first as usize, memory.start());
            assert_eq!(memory.grown.get(), 1);
            // 16 B + 32 KiB + 16 KiB leave less than 32 KiB of the first page: the next
            // 32 KiB block takes a second page, grown right after it (one heap).
            let half = heap.alloc(layout(PAGE / 2, 8));
            let quarter = heap.alloc(layout(PAGE / 4, 8));
            assert_eq!(quarter as usize, half as usize + PAGE / 2);
            assert_eq!(memory.grown.get(), 1);
            let more = heap.alloc(layout(PAGE / 2, 8));
            assert_eq!(memory.grown.get(), 2);
            assert_eq!(more as usize, quarter as usize + PAGE / 4);
            // A block larger than a page grows memory by enough pages at once.
            let big = heap.alloc(layout(3 * PAGE, 8));
            assert!(!big.is_null());
            assert!(big as usize + 4 * PAGE <= memory.start() + memory.grown.get() * PAGE);
        }
    }

    #[test]
    fn refusals_are_null_pointers() {
        let mut memory = FakeMemory::new(2);
        memory.limit = 1;
        let heap = SizeClasses::new(&memory);
        unsafe {
            assert!(heap.alloc(layout(64, 32)).is_null(), "alignment above 16");
            assert_eq!(memory.grown.get(), 0);
            assert!(
                heap.alloc(layout(2 * PAGE, 8)).is_null(),
                "memory cannot grow"
            );
            let ok = heap.alloc(layout(100, 8));
            assert!(!ok.is_null(), "a refusal changes nothing");
            *ok = 7;
            assert!(heap.realloc(ok, layout(100, 8), 4 * PAGE).is_null());
            assert_eq!(*ok, 7, "the block survives a refused realloc");
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Alloc(usize, u8),
        Free(usize),
        Realloc(usize, usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        let size = prop_oneof![1usize..64, 1usize..600, 1usize..70_000];
        prop_oneof![
            (size.clone(), 0u8..5).prop_map(|(s, a)| Step::Alloc(s, a)),
            any::<usize>().prop_map(Step::Free),
            (any::<usize>(), size).prop_map(|(i, s)| Step::Realloc(i, s)),
        ]
    }

    proptest! {
        /// Any sequence of allocations, frees and reallocations: every live block is
        /// aligned, inside the grown memory, overlaps no other live block, and keeps the
        /// bytes written into it (through reallocation, up to the smaller size).
        #[test]
        fn live_blocks_are_aligned_disjoint_and_keep_their_bytes(steps in proptest::collection::vec(step(), 1..200)) {
            let memory = FakeMemory::new(64);
            let heap = SizeClasses::new(&memory);
            // (address, layout, fill byte)
            let mut live: Vec<(usize, Layout, u8)> = Vec::new();
            let fill = |ptr: usize, len: usize, byte: u8| unsafe { ::core::ptr::write_bytes(ptr as *mut u8, byte, len) };
            let intact = |ptr: usize, len: usize, byte: u8| unsafe { std::slice::from_raw_parts(ptr as *const u8, len).iter().all(|b| *b == byte) };
            for (n, step) in steps.into_iter().enumerate() {
                let byte = (n % 251) as u8 + 1;
                match step {
                    Step::Alloc(size, align_log) => {
                        let l = layout(size, 1 << align_log);
                        let ptr = unsafe { heap.alloc(l) } as usize;
                        prop_assert!(ptr != 0);
                        fill(ptr, size, byte);
                        live.push((ptr, l, byte));
                    }
                    Step::Free(i) if !live.is_empty() => {
                        let (ptr, l, _) = live.swap_remove(i % live.len());
                        unsafe { heap.dealloc(ptr as *mut u8, l) };
                    }
                    Step::Realloc(i, size) if !live.is_empty() => {
                        let i = i % live.len();
                        let (ptr, l, old) = live[i];
                        let moved = unsafe { heap.realloc(ptr as *mut u8, l, size) } as usize;
                        prop_assert!(moved != 0);
                        prop_assert!(intact(moved, l.size().min(size), old));
                        let l = layout(size, l.align());
                        fill(moved, size, byte);
                        live[i] = (moved, l, byte);
                    }
                    _ => {}
                }
                let heap_end = memory.start() + memory.grown.get() * PAGE;
                for &(ptr, l, b) in &live {
                    prop_assert_eq!(ptr % BLOCK_ALIGN, 0);
                    prop_assert!(ptr >= memory.start() && ptr + l.size() <= heap_end);
                    prop_assert!(intact(ptr, l.size(), b), "a block's bytes changed");
                }
                let mut spans: Vec<(usize, usize)> = live.iter().map(|&(p, l, _)| (p, p + l.size())).collect();
                spans.sort_unstable();
                prop_assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "two live blocks overlap");
            }
        }
    }
}
