//! Builds the flow modules in `plugins/` for `wasm32-wasip2`, so that `cargo run` and
//! `cargo test` are enough to get every built-in module, and records where each
//! component landed in `$OUT_DIR/builtin_plugins.rs`.
//!
//! `plugins/` is a cargo workspace of its own (another target, other dependencies),
//! built with its own target directory; see `build-support/wasm_build.rs`. Setting
//! `KEFU_SKIP_PLUGIN_BUILD` skips the build (kefu then starts with no built-ins).

// A build script reports failure by panicking with a message; that is its interface.
#![allow(clippy::expect_used)]

use std::env;
use std::fs;
use std::path::PathBuf;

include!("../build-support/wasm_build.rs");

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ has a parent")
        .to_path_buf();
    let plugins = root.join("plugins");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    wasm_build::rerun_if_changed(&plugins.join("Cargo.toml"));
    wasm_build::rerun_if_changed(&plugins.join(".cargo"));
    wasm_build::rerun_if_changed(&root.join("wit"));
    wasm_build::rerun_if_changed(&root.join("build-support"));
    println!("cargo:rerun-if-env-changed=KEFU_SKIP_PLUGIN_BUILD");

    let crates = wasm_build::crate_dirs(&plugins);
    for dir in &crates {
        wasm_build::rerun_if_changed(dir);
    }
    let mut modules = Vec::new();
    if !crates.is_empty() && env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_none() {
        let target_dir = wasm_build::target_dir(&out_dir, "wasm-plugins");
        wasm_build::build_workspace(&plugins, &target_dir, "the flow modules in plugins/");
        let release = wasm_build::release_dir(&target_dir);
        for dir in &crates {
            let Some(name) = wasm_build::package_name(dir) else {
                continue;
            };
            let wasm = wasm_build::component_path(&release, &name);
            // Library crates (the SDK) produce no component.
            if wasm.exists() {
                modules.push((name, wasm));
            }
        }
    }
    modules.sort();
    let mut code = String::from(
        "/// `(crate name, path of the compiled component)` for every module in `plugins/`.\n\
         pub const MODULES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &modules {
        code.push_str(&format!(
            "    ({name:?}, {:?}),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out_dir.join("builtin_plugins.rs"), code).expect("writing builtin_plugins.rs");
}
