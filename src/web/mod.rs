//! The wasm-bindgen boundary: the engine for the JS shell (js/client.js) and the
//! token helpers. No effects here: the shell performs them.

pub mod engine;
pub mod functions;
