//! The wasm's linear-memory stack: 64 KiB instead of the toolchain's 1 MiB. It still comes
//! first in memory (an overflow runs below address 0 and traps, never into data), and the
//! data after it then sits below 1 MiB, where each address the code names takes a 3-byte
//! LEB128 instead of 4 (bytes of 0x80 and above, which the inlined entry's string escapes):
//! -50 B gzip for the .wasm, -182 B for the inlined entry. The deepest JSON the engine
//! accepts (64 levels) fits with room to spare (tests/engine_wasm.rs).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=65536");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
