//! `Dpop`: core::dpop behind the boundary, for js/dpop.js (internal). Conversions only.

use crate::prelude::*;

use wasm_bindgen::prelude::*;

use crate::core::dpop::{self, Verdict};

/// An empty argument is an absent one.
fn some(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The DPoP decisions of one client: the claims to sign, the nonces, the verdicts.
#[wasm_bindgen]
#[derive(Default)]
pub struct Dpop(dpop::Dpop);

#[wasm_bindgen]
impl Dpop {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Dpop {
        Dpop::default()
    }

    /// The claims to sign as JSON text, "" when `url` is no absolute http(s) URL.
    /// `ath`: "" for an auth request, else the access token's hash.
    pub fn claims(&self, method: &str, url: &str, jti: &str, now: f64, ath: &str) -> String {
        self.0
            .claims(method, url, jti, now, (!ath.is_empty()).then_some(ath))
            .unwrap_or_default()
    }

    /// 0: as it is; 1: send again with a fresh proof; 2: tokens the backend did not bind.
    #[allow(clippy::too_many_arguments)]
    pub fn answer(
        &mut self,
        url: &str,
        status: u16,
        nonce: &str,
        www: &str,
        body: &str,
        date: &str,
        now: f64,
    ) -> u8 {
        match self
            .0
            .answer(url, status, some(nonce), www, body, some(date), now)
        {
            Verdict::Done => 0,
            Verdict::Retry => 1,
            Verdict::Unbound => 2,
        }
    }

    /// Signed out: forget the nonces with the key.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}
