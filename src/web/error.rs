//! AuthError <-> a real JS `Error` (the `AuthError` class of js/auth-error.js).

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::{AuthError, ErrorCode};

#[wasm_bindgen(module = "/js/auth-error.js")]
extern "C" {
    #[wasm_bindgen(js_name = AuthError)]
    type JsAuthError;

    #[wasm_bindgen(constructor, js_class = "AuthError")]
    fn new(
        code: &str,
        message: &str,
        status: Option<u16>,
        retry_after: Option<u32>,
        fields: JsValue,
    ) -> JsAuthError;
}

/// The JS error object for `err`.
pub fn to_js(err: &AuthError) -> JsValue {
    let fields = if err.fields.is_empty() {
        JsValue::UNDEFINED
    } else {
        let obj = Object::new();
        for (k, v) in &err.fields {
            let _ = Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        obj.into()
    };
    JsAuthError::new(
        err.code.as_str(),
        &err.message,
        err.status,
        err.retry_after,
        fields,
    )
    .into()
}

/// Read back an AuthError that crossed a promise (the shared refresh).
pub fn from_js(value: &JsValue) -> AuthError {
    let text = |k: &str| {
        Reflect::get(value, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let num = |k: &str| {
        Reflect::get(value, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    let code = text("code")
        .and_then(|c| ErrorCode::parse(&c))
        .unwrap_or(ErrorCode::Network);
    let mut err = AuthError::new(code, text("message").unwrap_or_default());
    err.status = num("status").map(|s| s as u16);
    err.retry_after = num("retryAfter").map(|s| s as u32);
    err
}
