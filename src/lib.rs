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
static ALLOCATOR: talc::cell::TalcSyncCell<talc::wasm::WasmGrowAndClaim, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(talc::wasm::WasmGrowAndClaim);
