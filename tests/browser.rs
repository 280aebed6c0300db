//! The client in headless Chromium against the real backend (scripts/test-wasm
//! starts it with AUTH_TEST_HOOKS=1 and passes its URL at compile time).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_wasm::web::client::AuthClient;
use auth_wasm::web::functions::{decode_jwt, is_expired};
use js_sys::{Array, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Request, RequestInit, Response};

wasm_bindgen_test_configure!(run_in_browser);

/// Set by scripts/test-wasm; the default only lets the file compile for linting.
const BACKEND: &str = match option_env!("AUTH_WASM_TEST_BACKEND") {
    Some(url) => url,
    None => "http://127.0.0.1:8000",
};
/// The same server under another origin: must never receive the bearer.
fn other_origin() -> String {
    BACKEND.replace("127.0.0.1", "localhost")
}

fn obj(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(k)).unwrap()
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}@example.com",
        (js_sys::Math::random() * 1e12) as u64
    )
}

async fn wait(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

async fn http(method: &str, path: &str, body: Option<&str>) -> Response {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
        let h = web_sys::Headers::new().unwrap();
        h.set("Content-Type", "application/json").unwrap();
        init.set_headers(&h);
    }
    let req = Request::new_with_str_and_init(&format!("{BACKEND}{path}"), &init).unwrap();
    let win = web_sys::window().unwrap();
    JsFuture::from(win.fetch_with_request(&req))
        .await
        .unwrap()
        .dyn_into()
        .unwrap()
}

async fn json_of(resp: Response) -> JsValue {
    JsFuture::from(resp.json().unwrap()).await.unwrap()
}

async fn reset() {
    http("POST", "/_test/reset", None).await;
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
}

async fn count(path: &str) -> u32 {
    let stats = json_of(http("GET", "/_test/stats", None).await).await;
    get(&get(&stats, "requests"), path).as_f64().unwrap_or(0.0) as u32
}

async fn fault(spec: &str) {
    let r = http("POST", "/_test/faults", Some(spec)).await;
    assert_eq!(r.status(), 204, "fault {spec}");
}

fn client(extra: &str) -> AuthClient {
    let cfg = format!(r#"{{"baseUrl":"{BACKEND}"{extra}}}"#);
    AuthClient::new(obj(&cfg)).unwrap()
}

async fn signed_up(c: &AuthClient) -> String {
    let email = unique("user");
    let input = format!(r#"{{"email":"{email}","password":"correct horse","name":"Ada"}}"#);
    wait(c.register(obj(&input))).await.unwrap();
    email
}

fn code_of(err: &JsValue) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "rejections are Error instances"
    );
    assert_eq!(get(err, "name").as_string().as_deref(), Some("AuthError"));
    get(err, "code").as_string().unwrap()
}

async fn rejection(p: Promise) -> JsValue {
    wait(p).await.expect_err("expected a rejection")
}

fn status(c: &AuthClient) -> String {
    get(&c.get_snapshot(), "status").as_string().unwrap()
}

fn stored() -> Option<String> {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item("auth-wasm:session")
        .unwrap()
}

fn store(value: &str) {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item("auth-wasm:session", value)
        .unwrap();
}

async fn fetch_via(c: &AuthClient, url: &str, init: JsValue) -> Result<Response, JsValue> {
    wait(c.fetch(JsValue::from_str(url), init.dyn_into().ok()))
        .await
        .map(|r| r.dyn_into().unwrap())
}

/// A JWT the client can read but whose `exp` is in the past (the signature is
/// irrelevant to the client; the backend is never sent it before a refresh).
fn expired_jwt(sub: &str) -> String {
    let b64 = |s: &str| {
        let raw = web_sys::window().unwrap().btoa(s).unwrap();
        raw.trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    };
    let now = (js_sys::Date::now() / 1000.0) as i64;
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"sub":"{sub}","iat":{},"exp":{}}}"#,
            now - 1000,
            now - 100
        ))
    )
}

#[wasm_bindgen_test]
async fn json_protocol_register_me_logout() {
    reset().await;
    let c = client("");
    let email = signed_up(&c).await;
    assert_eq!(status(&c), "authenticated");
    let snap = c.get_snapshot();
    assert_eq!(
        get(&get(&snap, "claims"), "email").as_string(),
        Some(email.clone())
    );
    assert!(get(&snap, "expiresAt").as_f64().unwrap() > js_sys::Date::now());
    assert_eq!(get(&snap, "storage").as_string().as_deref(), Some("local"));
    let me = wait(c.me()).await.unwrap();
    assert_eq!(get(&me, "email").as_string(), Some(email.clone()));
    assert_eq!(
        get(&get(&c.get_snapshot(), "user"), "email").as_string(),
        Some(email)
    );
    let refresh_token = get(&obj(&stored().unwrap()), "refresh_token")
        .as_string()
        .unwrap();
    wait(c.logout()).await.unwrap();
    assert_eq!(status(&c), "anonymous");
    assert_eq!(stored(), None, "logout clears storage");
    // The server revoked the session too.
    let r = http(
        "POST",
        "/auth/refresh",
        Some(&format!(r#"{{"refresh_token":"{refresh_token}"}}"#)),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_eq!(count("/auth/logout").await, 1);
}

#[wasm_bindgen_test]
async fn oauth2_password_protocol_login_refresh_me() {
    reset().await;
    let email = unique("oauth");
    http(
        "POST",
        "/auth/register",
        Some(&format!(
            r#"{{"email":"{email}","password":"correct horse"}}"#
        )),
    )
    .await;
    let c = client(
        r#","protocol":"oauth2-password","endpoints":{"login":"/auth/token","refresh":"/auth/token","me":"/auth/me"}"#,
    );
    wait(c.login(obj(&format!(
        r#"{{"username":"{email}","password":"correct horse"}}"#
    ))))
    .await
    .unwrap();
    assert_eq!(status(&c), "authenticated");
    let before = get(&obj(&stored().unwrap()), "refresh_token").as_string();
    wait(c.refresh()).await.unwrap();
    let after = get(&obj(&stored().unwrap()), "refresh_token").as_string();
    assert_ne!(before, after, "the refresh token rotated");
    assert_eq!(count("/auth/token").await, 2);
    assert_eq!(
        get(&wait(c.me()).await.unwrap(), "email").as_string(),
        Some(email)
    );
    let bad = rejection(c.login(obj(
        r#"{"username":"nobody@example.com","password":"wrong pass"}"#,
    )))
    .await;
    assert_eq!(code_of(&bad), "invalid_credentials");
}

#[wasm_bindgen_test]
async fn a_new_client_restores_the_stored_session() {
    reset().await;
    let first = client("");
    let email = signed_up(&first).await;
    let second = client("");
    assert_eq!(status(&second), "authenticated");
    assert_eq!(
        get(&get(&second.get_snapshot(), "claims"), "email").as_string(),
        Some(email)
    );
    let token = wait(second.get_access_token()).await.unwrap();
    assert!(token.as_string().unwrap().starts_with("eyJ"));
    let header = wait(second.auth_header()).await.unwrap();
    assert!(get(&header, "Authorization")
        .as_string()
        .unwrap()
        .starts_with("Bearer eyJ"));
}

#[wasm_bindgen_test]
async fn garbage_or_tampered_storage_starts_anonymous_and_is_removed() {
    for garbage in [
        "not json",
        r#"{"v":99,"access_token":"x"}"#,
        r#"{"v":1,"access_token":"eyJhbGci.bad.sig"}"#,
        "[]",
    ] {
        store(garbage);
        let c = client("");
        assert_eq!(status(&c), "anonymous", "{garbage}");
        assert_eq!(stored(), None, "{garbage} removed");
        assert_eq!(wait(c.get_access_token()).await.unwrap(), JsValue::NULL);
        assert_eq!(
            wait(c.auth_header())
                .await
                .unwrap()
                .dyn_into::<js_sys::Object>()
                .map(|o| js_sys::Object::keys(&o).length())
                .unwrap(),
            0
        );
    }
}

#[wasm_bindgen_test]
async fn a_401_triggers_one_refresh_and_one_replay() {
    reset().await;
    let c = client("");
    signed_up(&c).await;
    fault(r#"{"path":"/notes","status":401,"times":1}"#).await;
    let resp = fetch_via(&c, &format!("{BACKEND}/notes"), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(count("/auth/refresh").await, 1);
    assert_eq!(count("/notes").await, 2);
}

#[wasm_bindgen_test]
async fn a_post_body_is_replayed_after_the_refresh() {
    reset().await;
    let c = client("");
    signed_up(&c).await;
    fault(r#"{"path":"/notes","status":401,"times":1}"#).await;
    let init = obj(
        r#"{"method":"POST","headers":{"Content-Type":"application/json"},"body":"{\"text\":\"replayed\"}"}"#,
    );
    let resp = fetch_via(&c, &format!("{BACKEND}/notes"), init)
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        get(&json_of(resp).await, "text").as_string().as_deref(),
        Some("replayed")
    );
}

#[wasm_bindgen_test]
async fn twenty_concurrent_calls_with_an_expired_token_send_one_refresh() {
    reset().await;
    let c = client("");
    signed_up(&c).await;
    let mut session = obj(&stored().unwrap());
    let sub = get(&get(&c.get_snapshot(), "claims"), "sub")
        .as_string()
        .unwrap();
    Reflect::set(&session, &"access_token".into(), &expired_jwt(&sub).into()).unwrap();
    Reflect::set(&session, &"expires_at".into(), &JsValue::NULL).unwrap();
    session = JSON::stringify(&session).unwrap().into();
    store(&session.as_string().unwrap());
    let c = client("");
    assert_eq!(status(&c), "expired");
    let calls = Array::new();
    for i in 0..20 {
        let p = if i % 2 == 0 {
            c.fetch(JsValue::from_str(&format!("{BACKEND}/notes")), None)
        } else {
            c.get_access_token()
        };
        calls.push(&p);
    }
    let results: Array = wait(Promise::all(&calls)).await.unwrap().into();
    for (i, r) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(r.dyn_into::<Response>().unwrap().status(), 200);
        } else {
            assert!(r.as_string().unwrap().starts_with("eyJ"));
        }
    }
    assert_eq!(
        count("/auth/refresh").await,
        1,
        "one refresh for twenty callers"
    );
    assert_eq!(status(&c), "authenticated");
}

#[wasm_bindgen_test]
async fn an_expired_token_without_refresh_token_gives_null_and_expired() {
    store(&format!(
        r#"{{"v":1,"access_token":"{}","refresh_token":null}}"#,
        expired_jwt("42")
    ));
    let c = client(r#","leeway":0"#);
    assert_eq!(status(&c), "expired");
    assert_eq!(wait(c.get_access_token()).await.unwrap(), JsValue::NULL);
    assert_eq!(code_of(&get(&c.get_snapshot(), "error")), "session_expired");
    let err = rejection(c.refresh()).await;
    assert_eq!(code_of(&err), "session_expired");
}

#[wasm_bindgen_test]
async fn the_bearer_goes_only_to_allowed_origins() {
    reset().await;
    let c = client("");
    signed_up(&c).await;
    let has = |r: Response| async move {
        get(&json_of(r).await, "has_authorization")
            .as_bool()
            .unwrap()
    };
    assert!(
        has(
            fetch_via(&c, &format!("{BACKEND}/_test/echo"), JsValue::UNDEFINED)
                .await
                .unwrap()
        )
        .await
    );
    assert!(
        !has(fetch_via(
            &c,
            &format!("{}/_test/echo", other_origin()),
            JsValue::UNDEFINED
        )
        .await
        .unwrap())
        .await
    );
    let allowed = client(&format!(r#","allowedOrigins":["{}"]"#, other_origin()));
    assert!(
        has(fetch_via(
            &allowed,
            &format!("{}/_test/echo", other_origin()),
            JsValue::UNDEFINED
        )
        .await
        .unwrap())
        .await
    );
    // A Request object and a URL object work as inputs too.
    let req = Request::new_with_str(&format!("{}/_test/echo", other_origin())).unwrap();
    let r: Response = wait(c.fetch(req.into(), None))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(!has(r).await);
    let url = web_sys::Url::new(&format!("{BACKEND}/_test/echo")).unwrap();
    let r: Response = wait(c.fetch(url.into(), None))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(has(r).await);
}

#[wasm_bindgen_test]
async fn a_callers_authorization_header_is_kept_and_not_replayed() {
    reset().await;
    let c = client("");
    signed_up(&c).await;
    let init = obj(r#"{"headers":{"Authorization":"Bearer callers-own"}}"#);
    let resp = fetch_via(&c, &format!("{BACKEND}/notes"), init)
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "the caller's token reached the server unchanged"
    );
    assert_eq!(
        count("/auth/refresh").await,
        0,
        "and no refresh was attempted for it"
    );
}

#[wasm_bindgen_test]
async fn every_error_code_for_real() {
    reset().await;
    let c = client("");
    let email = signed_up(&c).await;
    wait(c.logout()).await.unwrap();

    let e = rejection(c.login(obj(&format!(
        r#"{{"email":"{email}","password":"wrong password"}}"#
    ))))
    .await;
    assert_eq!(code_of(&e), "invalid_credentials");
    assert_eq!(get(&e, "status").as_f64(), Some(401.0));
    assert_eq!(
        code_of(&get(&c.get_snapshot(), "error")),
        "invalid_credentials"
    );

    let e = rejection(c.register(obj(&format!(
        r#"{{"email":"{email}","password":"correct horse"}}"#
    ))))
    .await;
    assert_eq!(code_of(&e), "user_exists");

    let e = rejection(c.register(obj(r#"{"email":"not-an-email","password":"short"}"#))).await;
    assert_eq!(code_of(&e), "validation");
    let fields = get(&e, "fields");
    assert!(get(&fields, "password").is_string() && get(&fields, "email").is_string());

    fault(r#"{"path":"/auth/login","status":429,"retry_after":7}"#).await;
    let e = rejection(c.login(obj(&format!(
        r#"{{"email":"{email}","password":"correct horse"}}"#
    ))))
    .await;
    assert_eq!(code_of(&e), "rate_limited");
    assert_eq!(get(&e, "retryAfter").as_f64(), Some(7.0));

    fault(r#"{"path":"/auth/login","status":503}"#).await;
    let e = rejection(c.login(obj(&format!(
        r#"{{"email":"{email}","password":"correct horse"}}"#
    ))))
    .await;
    assert_eq!(code_of(&e), "server");
    assert_eq!(get(&e, "status").as_f64(), Some(503.0));

    for body in ["html", "empty"] {
        fault(&format!(
            r#"{{"path":"/auth/login","status":200,"body":"{body}"}}"#
        ))
        .await;
        let e = rejection(c.login(obj(&format!(
            r#"{{"email":"{email}","password":"correct horse"}}"#
        ))))
        .await;
        assert_eq!(code_of(&e), "invalid_response", "{body}");
    }
    assert_eq!(status(&c), "anonymous", "nothing was half-signed-in");

    // A dead backend: a closed loopback port.
    let dead = AuthClient::new(obj(
        r#"{"baseUrl":"http://127.0.0.1:9","storageKey":"dead"}"#,
    ))
    .unwrap();
    let e = rejection(dead.login(obj(r#"{"email":"a@b.co","password":"x"}"#))).await;
    assert_eq!(code_of(&e), "network");

    wait(c.login(obj(&format!(
        r#"{{"email":"{email}","password":"correct horse"}}"#
    ))))
    .await
    .unwrap();
    fault(r#"{"path":"/notes","status":401,"times":2}"#).await;
    let e = fetch_via(&c, &format!("{BACKEND}/notes"), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "unauthorized");
    assert_eq!(
        status(&c),
        "authenticated",
        "a 401 after a good refresh does not sign out"
    );

    fault(r#"{"path":"/auth/refresh","status":401}"#).await;
    let e = rejection(c.refresh()).await;
    assert_eq!(code_of(&e), "refresh_failed");
    assert_eq!(status(&c), "anonymous");
    assert_eq!(stored(), None);

    let e = rejection(c.refresh()).await;
    assert_eq!(code_of(&e), "session_expired");

    let e = decode_jwt("not.a.jwt").unwrap_err();
    assert_eq!(code_of(&e), "invalid_token");
    assert!(is_expired("garbage", None));

    let e = AuthClient::new(obj(r#"{"baseUrl":"http://api.example.com"}"#))
        .err()
        .unwrap();
    assert_eq!(code_of(&e), "config");
    let e = AuthClient::new(JsValue::UNDEFINED).err().unwrap();
    assert_eq!(code_of(&e), "config");

    let controller = web_sys::AbortController::new().unwrap();
    controller.abort();
    let init = js_sys::Object::new();
    Reflect::set(&init, &"signal".into(), &controller.signal()).unwrap();
    let e = fetch_via(&c, &format!("{BACKEND}/notes"), init.into())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "aborted");
}

#[wasm_bindgen_test]
async fn snapshot_identity_and_listeners() {
    reset().await;
    let c = client("");
    let a = c.get_snapshot();
    assert!(
        js_sys::Object::is(&a, &c.get_snapshot()),
        "same object until a change"
    );
    let events = Array::new();
    let log = events.clone();
    let thrower = Closure::<dyn Fn()>::new(|| wasm_bindgen::throw_str("listener bug"));
    let _unsub_thrower = c.subscribe(thrower.as_ref().clone().unchecked_into());
    let listener =
        Closure::<dyn Fn(JsValue, JsValue)>::new(move |_snap: JsValue, event: JsValue| {
            log.push(&event);
        });
    let unsubscribe: js_sys::Function = c
        .subscribe(listener.as_ref().clone().unchecked_into())
        .unchecked_into();
    signed_up(&c).await;
    let b = c.get_snapshot();
    assert!(!js_sys::Object::is(&a, &b));
    assert!(js_sys::Object::is(&b, &c.get_snapshot()));
    assert!(
        events.includes(&"signed_in".into(), 0),
        "a throwing listener did not stop the next"
    );
    unsubscribe.call0(&JsValue::NULL).unwrap();
    wait(c.logout()).await.unwrap();
    assert!(!events.includes(&"signed_out".into(), 0), "unsubscribed");
}

#[wasm_bindgen_test]
fn decode_jwt_returns_the_claims() {
    let claims = decode_jwt(&expired_jwt("7")).unwrap();
    assert_eq!(get(&claims, "sub").as_string().as_deref(), Some("7"));
    assert!(is_expired(&expired_jwt("7"), Some(30.0)));
    assert!(!is_expired(&expired_jwt("7"), Some(1e6)));
}
