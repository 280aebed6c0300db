//! Pure decisions: no wasm-bindgen, no web-sys. Time is always an input.

pub mod account;
pub mod clock;
pub mod config;
pub mod dpop;
pub mod engine;
pub mod error;
pub mod json;
pub mod jwt;
pub mod persist;
mod properties;
pub mod protocol;
pub mod schedule;
pub mod session;
pub mod social;
pub mod url;
