//! Every protocol's response parsers, and the engine that uses them, on any status,
//! body and headers: a typed result, never a panic.
#![no_main]

use auth_wasm::core::config::{Config, RawConfig};
use auth_wasm::core::engine::Engine;
use auth_wasm::core::json;
use auth_wasm::core::protocol::{self, HttpResponse, Op};
use libfuzzer_sys::fuzz_target;

const PROTOCOLS: [&str; 3] = ["json", "oauth2-password", "better-auth"];
const OPS: [Op; 5] = [Op::Login, Op::Register, Op::Refresh, Op::Logout, Op::Me];

fuzz_target!(|input: (u16, u8, &str, &str)| {
    let (status, pick, body, header) = input;
    // Every other json client reads nested `fields` (a token server with other names).
    let nested = usize::from(pick) % 3 == 0 && pick & 0x80 != 0;
    let fields = if nested {
        [
            ("accessToken", "data.token"),
            ("refreshToken", "data.refresh"),
            ("expiresIn", "data.ttl"),
            ("user", "data.user"),
            ("refreshBody", "refresh"),
        ]
        .iter()
        .map(|(k, v)| ((*k).into(), json::Json::Str((*v).into())))
        .collect()
    } else {
        Vec::new()
    };
    let Ok(cfg) = Config::validate(RawConfig {
        base_url: Some("http://127.0.0.1:8000"),
        protocol: Some(PROTOCOLS[usize::from(pick) % 3]),
        fields: &fields,
        ..RawConfig::default()
    }) else {
        return;
    };
    let op = OPS[usize::from(pick / 3) % 5];
    let resp = HttpResponse {
        status,
        body,
        date: header,
        retry_after: header,
        auth_token: header,
        now: 1.7e12,
    };
    let parsed = json::parse(body);
    let _ = protocol::parse_tokens(&cfg, op, &resp, parsed.as_ref());
    let _ = protocol::parse_session_token(op, &resp, header, parsed.as_ref());
    let _ = protocol::parse_user(cfg.protocol, &resp);
    let _ = protocol::has_tokens(&cfg, parsed.as_ref(), header);
    let err = protocol::error_from_response(op, &resp);
    assert!(!err.message.is_empty());
    let mut engine = Engine::new(cfg);
    let _ = engine.observe(resp.date, 1.7e12);
    let _ = engine.sign_in_answer(op, &resp, 1.7e12);
    let _ = engine.refresh_answer(&resp, 1.7e12);
    let _ = engine.me_answer(&resp);
    let _ = engine.view(1.7e12);
});
