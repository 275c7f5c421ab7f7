// Building a cargo workspace of WebAssembly guest components from a build script.
//
// Shared by the build scripts of kefu's packages: `include!("../build-support/wasm_build.rs")`
// defines the module `wasm_build`. A build script reports failure by panicking with a
// message, and so do these functions.
//
// A guest workspace (plugins/, tests/fixtures/) is built with a nested cargo and a
// target directory of its own: a nested cargo sharing ours would wait forever on the
// build lock the outer cargo holds.

// Not every build script uses every function.
#[allow(dead_code)]
mod wasm_build {
    use std::env;
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The target every guest component is built for.
    pub const TARGET: &str = "wasm32-wasip2";

    /// `<target>/<profile>/<name>`: a target directory for a guest workspace, beside the
    /// build output of the package whose build script this is.
    pub fn target_dir(out_dir: &Path, name: &str) -> PathBuf {
        out_dir
            .ancestors()
            .find(|p| p.file_name().is_some_and(|n| n == "build"))
            .and_then(Path::parent)
            .map(|profile| profile.join(name))
            .unwrap_or_else(|| out_dir.join(name))
    }

    /// Where `cargo build --release` of a guest workspace puts its components.
    pub fn release_dir(target_dir: &Path) -> PathBuf {
        target_dir.join(TARGET).join("release")
    }

    /// The folders directly inside `dir` that hold a crate (a `Cargo.toml`), sorted.
    pub fn crate_dirs(dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.join("Cargo.toml").is_file() && p.file_name().is_some_and(|n| n != "target")
            })
            .collect();
        dirs.sort();
        dirs
    }

    /// The `[package] name` of the crate in `dir`.
    pub fn package_name(dir: &Path) -> Option<String> {
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

    /// The file a crate's `cdylib` compiles to: its name with dashes as underscores.
    pub fn component_path(release_dir: &Path, crate_name: &str) -> PathBuf {
        release_dir.join(format!("{}.wasm", crate_name.replace('-', "_")))
    }

    /// Asks cargo to run the build script again when `path` (a file, or every file under
    /// a folder) changes.
    pub fn rerun_if_changed(path: &Path) {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    /// rust-toolchain.toml lists the target, but rustup only installs listed targets with
    /// a toolchain it installs itself; add it when the pinned toolchain was already there.
    pub fn ensure_target() {
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

    /// Builds every crate of the cargo workspace at `workspace` for [`TARGET`] in
    /// release mode into `target_dir`; panics, naming `what`, when the build fails.
    pub fn build_workspace(workspace: &Path, target_dir: &Path, what: &str) {
        ensure_target();
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace)
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
        let status = match cmd.status() {
            Ok(status) => status,
            Err(err) => panic!("running cargo to build {what}: {err}"),
        };
        if !status.success() {
            panic!(
                "building {what} for {TARGET} failed (see above). \
                 If the target is missing: rustup target add {TARGET}"
            );
        }
    }
}
