//! The wasm-bindgen shell: performs effects (fetch, storage, events, JS objects)
//! and asks `core` for every decision.

pub mod client;
pub mod coordinate;
pub mod engine;
pub mod error;
pub mod functions;
pub mod http;
pub mod js;
pub mod storage;
pub mod sync;
pub mod types;
