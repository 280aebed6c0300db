//! Pure decisions: no wasm-bindgen, no web-sys. Time is always an input.
//!
//! Public only what the fuzz targets (fuzz/fuzz_targets/) drive; the rest is the
//! crate's own. The modules form no cycle (core::layering's test keeps it so).

pub(crate) mod account;
pub(crate) mod better_auth;
pub(crate) mod clock;
pub mod config;
pub mod dpop;
pub mod engine;
pub mod error;
pub mod fields;
pub(crate) mod float;
pub mod json;
pub mod jwt;
#[cfg(test)]
mod layering;
pub(crate) mod object;
pub(crate) mod passkey;
pub mod persist;
mod properties;
pub mod protocol;
pub(crate) mod schedule;
pub mod session;
pub(crate) mod social;
pub(crate) mod url;
