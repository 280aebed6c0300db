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

// The package's allocator, and its native tests (wasm-bindgen tests keep std's).
#[cfg(any(
    all(test, not(target_arch = "wasm32")),
    all(target_arch = "wasm32", not(feature = "std"))
))]
mod allocator;
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

/// The package's allocator (src/allocator.rs): free lists by size class over the wasm
/// memory.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: allocator::SizeClasses<allocator::WasmMemory> =
    allocator::SizeClasses::new(allocator::WasmMemory);
