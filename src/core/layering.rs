//! The core's modules depend on one another without a cycle (a cycle such as
//! config -> schedule -> session -> protocol -> config makes no module testable or
//! understandable alone). Reads each module's source before its tests.

use crate::prelude::*;

/// Each module's source; a module with submodules (engine/) is listed once per file.
const MODULES: [(&str, &str); 20] = [
    ("account", include_str!("account.rs")),
    ("clock", include_str!("clock.rs")),
    ("config", include_str!("config.rs")),
    ("engine", include_str!("engine.rs")),
    ("engine", include_str!("engine/requests.rs")),
    ("error", include_str!("error.rs")),
    ("float", include_str!("float.rs")),
    ("json", include_str!("json.rs")),
    ("jwt", include_str!("jwt.rs")),
    ("passkey", include_str!("passkey.rs")),
    ("persist", include_str!("persist.rs")),
    ("protocol", include_str!("protocol.rs")),
    ("schedule", include_str!("schedule.rs")),
    ("session", include_str!("session.rs")),
    ("social", include_str!("social.rs")),
    ("url", include_str!("url.rs")),
    ("better_auth", include_str!("better_auth.rs")),
    ("fields", include_str!("fields.rs")),
    ("dpop", include_str!("dpop.rs")),
    ("object", include_str!("object.rs")),
];

/// The core modules `source` names (`super::x` or `crate::core::x`) outside its tests.
fn dependencies(source: &str) -> Vec<&'static str> {
    let code = source.split("#[cfg(test)]").next().unwrap_or("");
    let mut deps: Vec<&'static str> = MODULES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            [["super::", name].concat(), ["crate::core::", name].concat()]
                .iter()
                .any(|path| {
                    code.match_indices(path.as_str()).any(|(at, _)| {
                        !code[at + path.len()..]
                            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                    })
                })
        })
        .collect();
    deps.dedup(); // a module listed once per file
    deps
}

/// A path of modules from `from` back to `to`, if there is one.
fn path_to(from: &str, to: &str, seen: &mut Vec<&'static str>) -> Option<Vec<&'static str>> {
    let deps = MODULES
        .iter()
        .filter(|(name, _)| *name == from)
        .flat_map(|(_, source)| dependencies(source));
    for dep in deps {
        if dep == to {
            return Some(vec![dep]);
        }
        if !seen.contains(&dep) {
            seen.push(dep);
            if let Some(mut rest) = path_to(dep, to, seen) {
                rest.insert(0, dep);
                return Some(rest);
            }
        }
    }
    None
}

#[test]
fn the_core_modules_form_no_cycle() {
    for (name, _) in MODULES {
        if let Some(cycle) = path_to(name, name, &mut Vec::new()) {
            panic!("module cycle: {name} -> {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_sees_dependencies() {
    let jwt = MODULES
        .iter()
        .find(|(name, _)| *name == "jwt")
        .map_or("", |(_, s)| s);
    assert_eq!(dependencies(jwt), ["error", "float", "json"], "jwt");
    assert!(dependencies("use super::configx;").is_empty());
    assert_eq!(dependencies("use super::url::{find, join};"), ["url"]);
}

#[test]
fn every_core_module_is_checked() {
    for line in include_str!("mod.rs").lines() {
        // Module declarations only (mod.rs also holds a macro, whose lines end in `;`).
        let Some((_, name)) = line.strip_suffix(';').and_then(|l| l.split_once("mod ")) else {
            continue;
        };
        if !["properties", "layering"].contains(&name) {
            assert!(
                MODULES.iter().any(|(known, _)| *known == name),
                "core::{name} is not in core::layering's MODULES"
            );
        }
    }
}
