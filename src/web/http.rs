//! Sending requests with the global `fetch` and reading what the core needs back.

use crate::prelude::*;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::core::error::{AuthError, ErrorCode};
use crate::core::protocol::HttpRequest;

#[wasm_bindgen]
extern "C" {
    /// The global fetch: window, worker or Node.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
}

/// A response read whole: what the protocol parsers take.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub date: Option<String>,
    pub retry_after: Option<String>,
    /// Better Auth's bearer plugin: the session token of a sign-in.
    pub auth_token: Option<String>,
}

fn js_error_name(err: &JsValue) -> Option<String> {
    Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
}

/// A rejected fetch: aborted by its signal, or a network failure (offline, DNS,
/// CORS, refused connection); the browser does not say which of the latter.
fn fetch_error(err: &JsValue) -> AuthError {
    if js_error_name(err).as_deref() == Some("AbortError") {
        AuthError::new(ErrorCode::Aborted, "The request was aborted")
    } else {
        AuthError::new(ErrorCode::Network, "The server could not be reached")
    }
}

pub fn bearer_value(token: &str) -> String {
    ["Bearer ", token].concat()
}

pub async fn fetch(request: &Request) -> Result<Response, AuthError> {
    let value = JsFuture::from(global_fetch(request))
        .await
        .map_err(|e| fetch_error(&e))?;
    value.dyn_into::<Response>().map_err(|_| {
        AuthError::new(
            ErrorCode::InvalidResponse,
            "fetch did not return a Response",
        )
    })
}

/// Build a web Request from the core's description.
pub fn build(req: &HttpRequest, token: Option<&str>) -> Result<Request, AuthError> {
    let config_error = |_| AuthError::config("Could not build the request");
    let headers = Headers::new().map_err(config_error)?;
    headers
        .set("Accept", "application/json")
        .map_err(config_error)?;
    if let Some(ct) = req.content_type {
        headers.set("Content-Type", ct).map_err(config_error)?;
    }
    if let Some(token) = token {
        headers
            .set("Authorization", &bearer_value(token))
            .map_err(config_error)?;
    }
    let init = RequestInit::new();
    init.set_method(req.method);
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        init.set_body(&JsValue::from_str(body));
    }
    Request::new_with_str_and_init(&req.url, &init).map_err(config_error)
}

pub async fn read(response: Response) -> Result<Reply, AuthError> {
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let date = header("Date");
    // Better Auth's rate limiter says X-Retry-After.
    let retry_after = header("Retry-After").or_else(|| header("X-Retry-After"));
    let auth_token = header("set-auth-token");
    let status = response.status();
    let text = response.text().map_err(|e| fetch_error(&e))?;
    let body = JsFuture::from(text)
        .await
        .map_err(|e| fetch_error(&e))?
        .as_string()
        .unwrap_or_default();
    Ok(Reply {
        status,
        body,
        date,
        retry_after,
        auth_token,
    })
}

pub async fn send(req: &HttpRequest, token: Option<&str>) -> Result<Reply, AuthError> {
    let request = build(req, token)?;
    read(fetch(&request).await?).await
}
