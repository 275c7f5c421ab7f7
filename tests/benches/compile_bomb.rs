//! What the compile bomb would cost without the pre-compile inspection, and what the
//! inspection costs instead: `cargo bench -p kefu-tests --bench compile_bomb`.
//!
//! The bomb (`tests/build.rs`) is a flow module with one more core module whose one
//! function keeps 3,000 locals live across 15,000 blocks: about 270 KB. The bench
//! times kefu's inspection refusing it, then compiles it with a plain wasmtime engine
//! (what an upload did before) and prints the time and the process's peak memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use kefu_tests::fixtures;

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let bytes = std::fs::read(fixtures::COMPILE_BOMB).unwrap();
    println!("compile bomb: {} bytes", bytes.len());
    let started = Instant::now();
    let refused = kefu::plugin::inspect::inspect(&bytes, &Default::default());
    println!(
        "inspection: {:?} in {:.2?} (peak memory {})",
        refused.err().map(|e| e.code()),
        started.elapsed(),
        peak_memory()
    );
    if std::env::var_os("KEFU_BENCH_SKIP_COMPILE").is_some() {
        return;
    }
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let started = Instant::now();
    let compiled = wasmtime::component::Component::new(&engine, &bytes);
    println!(
        "compiling it anyway: {} in {:.2?} (peak memory {})",
        if compiled.is_ok() {
            "compiled"
        } else {
            "failed"
        },
        started.elapsed(),
        peak_memory()
    );
}
