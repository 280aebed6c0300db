//! auth-wasm: a typed auth client compiled to WebAssembly.
//!
//! `core` holds every decision as pure Rust (natively testable, no JS types);
//! `web` is the wasm-bindgen shell that performs effects (fetch, storage, events).

pub mod core;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use crate::core::error::{AuthError, ErrorCode};
