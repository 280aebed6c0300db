//! Cross-tab effects: Web Locks around refreshes, a BroadcastChannel for state,
//! timers and page events. No decisions: client.rs asks core what to do.

use crate::prelude::*;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::js;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Longest delay setTimeout honours (2^31 - 1 ms); longer waits are re-armed.
const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;

/// A pending timeout; cleared on drop.
pub struct Timer {
    id: JsValue,
    _handler: Closure<dyn FnMut()>,
}

impl Timer {
    pub fn start(ms: f64, handler: Closure<dyn FnMut()>) -> Timer {
        let id = set_timeout(handler.as_ref(), ms.clamp(0.0, MAX_TIMEOUT_MS));
        Timer {
            id,
            _handler: handler,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Resolve after `ms` (used only for short waits inside a refresh).
pub async fn sleep(ms: f64) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = set_timeout(&resolve, ms.clamp(0.0, MAX_TIMEOUT_MS));
    });
    let _ = JsFuture::from(promise).await;
}

/// `navigator.locks`, where the browser has it.
pub fn lock_manager() -> Option<JsValue> {
    let navigator = js::get(&js_sys::global(), "navigator");
    let locks = js::get(&navigator, "locks");
    js::get(&locks, "request").is_function().then_some(locks)
}

fn abort_after(ms: f64) -> JsValue {
    let signal_ctor = js::get(&js_sys::global(), "AbortSignal");
    match js::get(&signal_ctor, "timeout").dyn_into::<Function>() {
        Ok(timeout) => timeout
            .call1(&signal_ctor, &JsValue::from_f64(ms))
            .unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    }
}

pub enum LockOutcome {
    /// The callback ran under the lock; its promise settled with this.
    Ran(Result<JsValue, JsValue>),
    /// Waiting for the lock took longer than the timeout (a hung holder).
    TimedOut,
}

/// Run `callback` (returning a promise) while holding the exclusive lock `name`,
/// waiting at most `timeout_ms` for it.
pub async fn with_lock(
    locks: &JsValue,
    name: &str,
    timeout_ms: f64,
    callback: Closure<dyn FnMut(JsValue) -> Promise>,
) -> LockOutcome {
    let options = Object::new();
    js::set(&options, "signal", &abort_after(timeout_ms));
    let Ok(request) = js::get(locks, "request").dyn_into::<Function>() else {
        return LockOutcome::TimedOut;
    };
    let promise = match request.call3(locks, &JsValue::from_str(name), &options, callback.as_ref())
    {
        Ok(p) => Promise::from(p),
        Err(_) => return LockOutcome::TimedOut,
    };
    let result = JsFuture::from(promise).await;
    drop(callback);
    match result {
        Err(e)
            if matches!(
                js::get_string(&e, "name").as_deref(),
                Some("TimeoutError" | "AbortError")
            ) && !js::get(&e, "code").is_string() =>
        {
            LockOutcome::TimedOut
        }
        other => LockOutcome::Ran(other),
    }
}

/// Hold the lock `name` until the returned release function is called (or the tab
/// closes). Used as a marker other tabs can see through `locks.query()`.
pub fn hold_marker(locks: &JsValue, name: &str) -> Option<Function> {
    let mut release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let callback = Closure::once_into_js(move |_lock: JsValue| held);
    let options = Object::new();
    js::set(&options, "ifAvailable", &JsValue::TRUE);
    let request = js::get(locks, "request").dyn_into::<Function>().ok()?;
    request
        .call3(locks, &JsValue::from_str(name), &options, &callback)
        .ok()?;
    release
}

/// Whether some tab holds the lock `name` right now (the lock manager is one
/// sequential authority, so this is consistent with lock grants, unlike storage).
pub async fn is_held(locks: &JsValue, name: &str) -> bool {
    let Ok(query) = js::get(locks, "query").dyn_into::<Function>() else {
        return false;
    };
    let Ok(promise) = query.call0(locks) else {
        return false;
    };
    let Ok(state) = JsFuture::from(Promise::from(promise)).await else {
        return false;
    };
    let held = js::get(&state, "held");
    Array::is_array(&held)
        && Array::from(&held)
            .iter()
            .any(|l| js::get_string(&l, "name").as_deref() == Some(name))
}

/// Page state the scheduler needs.
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// A short fingerprint (FNV-1a, 64 bits) naming a refresh token in lock names and
/// messages without revealing it.
pub fn fingerprint(token: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| HEX[((hash >> (i * 4)) & 15) as usize] as char)
        .collect()
}
