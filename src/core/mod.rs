//! Pure decisions: no wasm-bindgen, no web-sys. Time is always an input.
//!
//! Public only what the fuzz targets (fuzz/fuzz_targets/) drive; the rest is the
//! crate's own. The modules form no cycle (core::layering's test keeps it so).

/// The `Ok` value of `$result`, or its error sent out of the labelled block `$exit`
/// (`break $exit error`): the one-exit form of `?` for functions whose refusals all
/// leave by one block, so that the answer is written once (design-notes, leaf6, r3cfg).
/// The label is passed in: labels are hygienic, a macro cannot name its caller's.
macro_rules! ok_or_break {
    ($result:expr, $exit:lifetime) => {
        match $result {
            Ok(value) => value,
            Err(refusal) => break $exit refusal,
        }
    };
}

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
