//! Builds the flow modules in `plugins/` for `wasm32-wasip2`, so that `cargo run` and
//! `cargo test` are enough to get every built-in module, and records where each
//! component landed in `$OUT_DIR/builtin_plugins.rs`.
//!
//! `plugins/` is a cargo workspace of its own (different target, different
//! dependencies). It is built with its own target directory: a nested cargo sharing
//! ours would wait forever on the build lock we hold.

// A build script reports failure by panicking with a message; that is its interface.
#![allow(clippy::expect_used)]

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ has a parent")
        .to_path_buf();
    let plugins = root.join("plugins");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!(
        "cargo:rerun-if-changed={}",
        plugins.join("Cargo.toml").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!("cargo:rerun-if-env-changed=KEFU_SKIP_PLUGIN_BUILD");

    let crates = plugin_crates(&plugins);
    for dir in &crates {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut modules = Vec::new();
    if !crates.is_empty() && env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_none() {
        let target_dir = plugin_target_dir(&out_dir);
        build(&plugins, &target_dir);
        let release = target_dir.join(TARGET).join("release");
        for dir in &crates {
            let Some(name) = package_name(dir) else {
                continue;
            };
            let wasm = release.join(format!("{}.wasm", name.replace('-', "_")));
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

/// Folders of `plugins/` that hold a crate.
fn plugin_crates(plugins: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(plugins) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file() && p.file_name().is_some_and(|n| n != "target"))
        .collect();
    dirs.sort();
    dirs
}

fn package_name(dir: &Path) -> Option<String> {
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest
                .trim_start()
                .strip_prefix('=')?
                .trim()
                .trim_matches('"');
            return Some(value.to_owned());
        }
    }
    None
}

/// `<target>/<profile>/wasm-plugins`, beside our own build output.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .map(|profile| profile.join("wasm-plugins"))
        .unwrap_or_else(|| out_dir.join("wasm-plugins"))
}

/// rust-toolchain.toml lists the target, but rustup only installs listed targets with
/// a toolchain it installs itself; add it when the pinned toolchain was already there.
fn ensure_target() {
    let sysroot = env::var("RUSTC")
        .ok()
        .and_then(|rustc| {
            Command::new(rustc)
                .args(["--print", "sysroot"])
                .output()
                .ok()
        })
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed = sysroot.is_some_and(|root| root.join("lib/rustlib").join(TARGET).is_dir());
    if installed {
        return;
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        cmd.args(["--toolchain", &toolchain]);
    }
    match cmd.status() {
        Ok(status) if status.success() => {}
        _ => println!(
            "cargo:warning=could not add the {TARGET} target; run: rustup target add {TARGET}"
        ),
    }
}

fn build(plugins: &Path, target_dir: &Path) {
    ensure_target();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(plugins)
        .args([
            "build",
            "--release",
            "--workspace",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir);
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build plugins/");
    if !status.success() {
        panic!(
            "building the flow modules in plugins/ for {TARGET} failed (see above). \
             If the target is missing: rustup target add {TARGET}"
        );
    }
}
