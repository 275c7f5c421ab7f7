//! `kefu module new NAME --lang rust|python|js`: a module project from the
//! order-number example of that language (`examples/order-number/`), renamed. It
//! builds with its `build.sh`, tests (Rust: `cargo test`; every language: `kefu module
//! run … --script script.txt`) and installs with `kefu module install`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::Lang;

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The module's name: lower-case letters, digits and dashes.
    pub name: String,
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// Where to write it (default: ./NAME); must not exist yet.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Rust: the path of kefu's `plugins/sdk` (default: the one this kefu was built from).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

const WIT: &str = include_str!("../../../wit/flow.wit");
const SCRIPT: &str = include_str!("../../../examples/order-number/script.txt");
const PY_APP: &str = include_str!("../../../examples/order-number/python/app.py");
const PY_BUILD: &str = include_str!("../../../examples/order-number/python/build.sh");
const JS_MODULE: &str = include_str!("../../../examples/order-number/js/module.js");
const JS_PACKAGE: &str = include_str!("../../../examples/order-number/js/package.json");
const JS_LOCK: &str = include_str!("../../../examples/order-number/js/package-lock.json");
const JS_BUILD: &str = include_str!("../../../examples/order-number/js/build.sh");
const RS_CARGO: &str = include_str!("../../../examples/order-number/rust/Cargo.toml");
const RS_LIB: &str = include_str!("../../../examples/order-number/rust/src/lib.rs");
const RS_TESTS: &str = include_str!("../../../examples/order-number/rust/tests/conversation.rs");
const RS_BUILD: &str = include_str!("../../../examples/order-number/rust/build.sh");

/// Whether `name` is a valid module name.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// The files of a new project, by path.
pub fn files(name: &str, lang: Lang, sdk: &Path) -> Vec<(&'static str, String)> {
    let snake = name.replace('-', "_");
    let wasm = format!("{snake}.wasm");
    let mut files = vec![
        ("wit/flow.wit", WIT.to_owned()),
        ("script.txt", SCRIPT.to_owned()),
        (
            ".gitignore",
            "*.wasm\nnode_modules/\n__pycache__/\ntarget/\n".to_owned(),
        ),
    ];
    match lang {
        Lang::Python => {
            files.push((
                "app.py",
                PY_APP.replace("\"order-number-py\"", &format!("\"{name}\"")),
            ));
            files.push((
                "build.sh",
                PY_BUILD
                    .replace("order_number_py.wasm", &wasm)
                    .replace("../../../wit", "wit"),
            ));
        }
        Lang::Js => {
            files.push((
                "module.js",
                JS_MODULE.replace("\"order-number-js\"", &format!("\"{name}\"")),
            ));
            files.push((
                "package.json",
                JS_PACKAGE.replace("kefu-order-number-js", name),
            ));
            files.push((
                "package-lock.json",
                JS_LOCK.replace("kefu-order-number-js", name),
            ));
            files.push((
                "build.sh",
                JS_BUILD
                    .replace("order_number_js.wasm", &wasm)
                    .replace("../../../wit", "wit"),
            ));
        }
        Lang::Rust => {
            files.push((
                "Cargo.toml",
                RS_CARGO
                    .replace("name = \"order-number\"", &format!("name = \"{name}\""))
                    .replace("../../../plugins/sdk", &sdk.display().to_string()),
            ));
            files.push((
                "src/lib.rs",
                RS_LIB.replace("\"order-number-rs\"", &format!("\"{name}\"")),
            ));
            files.push((
                "tests/conversation.rs",
                RS_TESTS.replace("use order_number::", &format!("use {snake}::")),
            ));
            files.push((
                "build.sh",
                RS_BUILD
                    .replace("order_number_rs.wasm", &wasm)
                    .replace("release/order_number.wasm", &format!("release/{wasm}")),
            ));
        }
    }
    files
}

pub fn new(args: NewArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        valid_name(&args.name),
        "the name must be lower-case letters, digits and dashes (at most 64), starting with a letter"
    );
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    anyhow::ensure!(!dir.exists(), "{} exists already", dir.display());
    let sdk = match args.sdk {
        Some(path) => path,
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk"),
    };
    let sdk = if args.lang == Lang::Rust {
        sdk.canonicalize().with_context(|| {
            format!(
                "kefu's Rust SDK is not at {}: give its path with --sdk",
                sdk.display()
            )
        })?
    } else {
        sdk
    };
    for (path, text) in files(&args.name, args.lang, &sdk) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| path.display().to_string())?;
        if path.extension().is_some_and(|e| e == "sh") {
            set_executable(&path)?;
        }
    }
    let wasm = format!("{}.wasm", args.name.replace('-', "_"));
    println!("wrote {} ({:?})", dir.display(), args.lang);
    println!("  build:    {}/build.sh", dir.display());
    if args.lang == Lang::Rust {
        println!(
            "  test:     cargo test --manifest-path {}/Cargo.toml",
            dir.display()
        );
    }
    println!(
        "  try:      kefu module run {0}/{wasm} --script {0}/script.txt",
        dir.display()
    );
    println!(
        "  install:  kefu module install {}/{wasm} --url http://127.0.0.1:8080 --token …",
        dir.display()
    );
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_renames() {
        assert!(valid_name("order-lookup"));
        assert!(!valid_name("Order"));
        assert!(!valid_name("-x"));
        assert!(!valid_name(""));
        let rust = files("order-lookup", Lang::Rust, Path::new("/sdk"));
        let cargo = &rust.iter().find(|(p, _)| *p == "Cargo.toml").unwrap().1;
        assert!(cargo.contains("name = \"order-lookup\""));
        assert!(cargo.contains("path = \"/sdk\""));
        let tests = &rust
            .iter()
            .find(|(p, _)| *p == "tests/conversation.rs")
            .unwrap()
            .1;
        assert!(tests.contains("use order_lookup::OrderNumber"));
        let py = files("order-lookup", Lang::Python, Path::new("/sdk"));
        let app = &py.iter().find(|(p, _)| *p == "app.py").unwrap().1;
        assert!(app.contains("NAME = \"order-lookup\""));
        let build = &py.iter().find(|(p, _)| *p == "build.sh").unwrap().1;
        assert!(build.contains("-d wit") && build.contains("order_lookup.wasm"));
    }
}
