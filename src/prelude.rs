//! The `alloc` names std's prelude would give (the crate is `no_std`).

pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::boxed::Box;
pub(crate) use alloc::string::String;
pub(crate) use alloc::vec;
pub(crate) use alloc::vec::Vec;

/// What std's prelude gives tests beyond the above.
#[cfg(test)]
pub(crate) use std::{format, string::ToString};
