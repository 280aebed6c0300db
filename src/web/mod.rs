//! The wasm-bindgen boundary: the engine for the JS shell (js/client.js) and the
//! token helpers. No effects here: the shell performs them.

pub mod engine;
pub mod functions;

use core::cell::UnsafeCell;

/// A static buffer of the wasm's memory that JS reads or writes between calls into the
/// wasm (the engine's call input and answer, the token scratch buffer).
pub(crate) struct Shared<T>(UnsafeCell<T>);

// SAFETY: the wasm runs on one thread (see `Shared::get`).
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    pub(crate) const fn new(value: T) -> Self {
        Shared(UnsafeCell::new(value))
    }

    /// The buffer, for one export's use.
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn get(&self) -> &mut T {
        // SAFETY: one thread; JS touches the memory only between calls into the wasm,
        // and each export takes a buffer once and lets it go before returning (the
        // engine's `call` ends its borrow of the arguments before the next call).
        unsafe { &mut *self.0.get() }
    }

    /// Where the buffer is in the wasm's memory.
    pub(crate) fn address(&self) -> usize {
        self.0.get() as usize
    }
}
