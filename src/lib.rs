//! auth-wasm: a typed auth client compiled to WebAssembly.
//!
//! `core` holds every decision as pure Rust (natively testable, no JS types);
//! `web` is the wasm-bindgen shell that performs effects (fetch, storage, events).
//!
//! The crate is `no_std` (alloc only). Without the default `std` feature, as
//! scripts/build makes the npm package, nothing links std: the wasm then carries
//! neither std's panic machinery nor the `core::fmt` it formats panic messages with.
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod core;
mod prelude;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use crate::core::error::{AuthError, ErrorCode};

/// A panic is a bug (clippy denies the panicking calls); in the package it traps
/// without formatting a message, which JS sees as a `RuntimeError`.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

/// talc over memory it grows, each growth a heap of its own (`WasmGrowAndClaim`) rather
/// than an extension of the last (`new_wasm_dynamic_allocator`): 78 B gzip less code for
/// a little fragmentation at the few page boundaries the engine's small heap crosses.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<talc::wasm::WasmGrowAndClaim, Bins> =
    talc::cell::TalcSyncCell::new_wasm(talc::wasm::WasmGrowAndClaim);

/// talc's `WasmBinning` with 31 free lists, not 64: their availability is one `u32`
/// (i32 instructions) instead of a `u64`, and a bit of it spare (talc then skips a test
/// for the last list): 31 B gzip less code. The same first 30 lists (16 B steps to
/// 256 B, then two per power of two, to 32 KiB); every larger free chunk is in the last
/// one, which talc searches for one big enough. The engine's allocations are mostly
/// strings and small vectors far below that (a large answer's text is one allocation).
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
struct Bins;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
impl talc::base::binning::Binning for Bins {
    type AvailabilityBitField = u32;
    const BIN_COUNT: u32 = u32::BITS - 1;

    fn size_to_bin(size: usize) -> u32 {
        // `WasmBinning::size_to_bin`'s own parameters.
        talc::base::binning::linear_extent_then_linearly_divided_exponential_binning::<2, 8>(size)
    }
}
