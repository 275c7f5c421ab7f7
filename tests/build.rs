//! Builds the guest components in `tests/fixtures/` for `wasm32-wasip2`, writes the
//! two non-component fixtures (a core wasm module and random bytes), and records the
//! path of each in `$OUT_DIR/fixtures.rs`, one `pub const` per fixture.
//!
//! `tests/fixtures/` is a cargo workspace of its own, built with its own target
//! directory (`<target>/<profile>/wasm-fixtures`). Setting `KEFU_SKIP_PLUGIN_BUILD`
//! skips the build, as it does for the built-in modules; the paths are still written.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

include!("../build-support/wasm_build.rs");

/// `(const name, crate)` of every component in `tests/fixtures/`, and what it is.
const COMPONENTS: &[(&str, &str, &str)] = &[
    (
        "ECHO",
        "echo",
        "A well-behaved module: greets, echoes, leaves by `next` on \"bye\".",
    ),
    (
        "ECHO_NEXT",
        "echo-next",
        "The echo module's source at version 0.2.0: a second version of one module.",
    ),
    (
        "EMPTY",
        "empty",
        "A component of its own world whose `run` returns 0: the benchmark floor.",
    ),
    (
        "MINIMAL",
        "minimal",
        "The simplest `kefu:flow` module: bare bindings, greets and waits.",
    ),
    ("SPIN", "spin", "A module whose step loops forever."),
    (
        "HOG",
        "hog",
        "A module whose step allocates and touches 1 GiB.",
    ),
    (
        "BIGSTRING",
        "bigstring",
        "A module whose step sends a 100 MiB text.",
    ),
    (
        "FLOOD",
        "flood",
        "A module whose step returns one million actions.",
    ),
    ("PANIC", "panic", "A module whose step panics."),
    (
        "UNREACHABLE",
        "unreachable",
        "A module whose step executes `unreachable`.",
    ),
    (
        "BADEXIT",
        "badexit",
        "A module whose step leaves by an exit it does not declare.",
    ),
    (
        "SOCKETS",
        "sockets",
        "A module whose step opens a TCP connection (imports `wasi:sockets`).",
    ),
    (
        "FILES",
        "files",
        "A module whose step reads /etc/passwd (imports `wasi:filesystem`).",
    ),
    (
        "OTHERWORLD",
        "otherworld",
        "A component of another world than `kefu:flow/flow-module`.",
    ),
    (
        "HAVOC",
        "havoc",
        "A module whose validate-config, prepare and step misbehave as the node's configuration says.",
    ),
    (
        "DESCRIBE_SLEEP",
        "describe-sleep",
        "A module whose describe sleeps for an hour.",
    ),
    (
        "DESCRIBE_SPIN",
        "describe-spin",
        "A module whose describe loops forever.",
    ),
    (
        "DESCRIBE_HOG",
        "describe-hog",
        "A module whose describe allocates without end.",
    ),
    (
        "DESCRIBE_BIG",
        "describe-big",
        "A module whose describe answers megabytes.",
    ),
];

/// The compile bomb's one function: this many locals, all live across this many
/// blocks. Reading it is instant; compiling it takes seconds and gigabytes.
const BOMB_LOCALS: u32 = 3_000;
const BOMB_BLOCKS: u32 = 15_000;

/// The smallest valid core (non-component) WebAssembly module: magic and version.
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// How many bytes `random.bin` holds.
const RANDOM_LEN: usize = 4096;

fn main() {
    let manifest_dir = cargo_path("CARGO_MANIFEST_DIR");
    let Some(root) = manifest_dir.parent().map(Path::to_path_buf) else {
        panic!("tests/ has a parent");
    };
    let fixtures = manifest_dir.join("fixtures");
    let out_dir = cargo_path("OUT_DIR");

    wasm_build::rerun_if_changed(&fixtures.join("Cargo.toml"));
    wasm_build::rerun_if_changed(&fixtures.join("Cargo.lock"));
    for (_, name, _) in COMPONENTS {
        wasm_build::rerun_if_changed(&fixtures.join(name));
    }
    // The modules are written with the SDK, which reads the WIT.
    wasm_build::rerun_if_changed(&root.join("plugins").join("sdk"));
    wasm_build::rerun_if_changed(&root.join("plugins").join("Cargo.toml"));
    wasm_build::rerun_if_changed(&root.join("wit"));
    println!("cargo:rerun-if-env-changed=KEFU_SKIP_PLUGIN_BUILD");

    let target_dir = wasm_build::target_dir(&out_dir, "wasm-fixtures");
    if env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_none() {
        wasm_build::build_workspace(
            &fixtures,
            &target_dir,
            "the test fixtures in tests/fixtures/",
        );
    }
    let release = wasm_build::release_dir(&target_dir);

    let mut code = String::from(
        "// The fixtures of kefu's tests: absolute paths, written by tests/build.rs.\n",
    );
    for (constant, name, doc) in COMPONENTS {
        let path = wasm_build::component_path(&release, name);
        if env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_none() && !path.is_file() {
            panic!("the fixture `{name}` did not produce {}", path.display());
        }
        push_const(&mut code, constant, doc, &path);
    }

    let core_module = out_dir.join("core-module.wasm");
    write(&core_module, CORE_MODULE);
    push_const(
        &mut code,
        "CORE_MODULE",
        "A valid core WebAssembly module that is not a component.",
        &core_module,
    );

    let bomb = out_dir.join("compile-bomb.wasm");
    let minimal = wasm_build::component_path(&release, "minimal");
    if let Ok(base) = fs::read(&minimal) {
        write(&bomb, &compile_bomb(&base, BOMB_LOCALS, BOMB_BLOCKS));
    }
    push_const(
        &mut code,
        "COMPILE_BOMB",
        "The minimal module with an extra core module whose one function keeps 3,000 locals live across 15,000 blocks: built to be slow to compile.",
        &bomb,
    );

    let random = out_dir.join("random.bin");
    write(&random, &random_bytes(RANDOM_LEN));
    push_const(
        &mut code,
        "RANDOM_BYTES",
        "4096 bytes that are not WebAssembly (the same bytes on every build).",
        &random,
    );

    write(&out_dir.join("fixtures.rs"), code.as_bytes());
}

/// `component` with one more core module, never instantiated (a compiler compiles it
/// all the same), whose one function sets `locals` locals, changes one of them in
/// each of `blocks` conditional blocks, and adds them all up at the end: every local
/// is live across every block.
fn compile_bomb(component: &[u8], locals: u32, blocks: u32) -> Vec<u8> {
    use wasm_encoder::{
        BlockType, CodeSection, Function, FunctionSection, Instruction as I, Module, TypeSection,
        ValType,
    };
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut body = Function::new([(locals, ValType::I32)]);
    for l in 1..=locals {
        body.instruction(&I::I32Const(l as i32));
        body.instruction(&I::LocalSet(l));
    }
    for b in 0..blocks {
        let l = 1 + b % locals;
        body.instruction(&I::LocalGet(0));
        body.instruction(&I::If(BlockType::Empty));
        body.instruction(&I::LocalGet(l));
        body.instruction(&I::I32Const(1));
        body.instruction(&I::I32Add);
        body.instruction(&I::LocalSet(l));
        body.instruction(&I::End);
    }
    body.instruction(&I::LocalGet(0));
    for l in 1..=locals {
        body.instruction(&I::LocalGet(l));
        body.instruction(&I::I32Add);
    }
    body.instruction(&I::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&code);
    let core = module.finish();
    // A component's core module section: id 1, the size as unsigned LEB128, the module.
    let mut out = component.to_vec();
    out.push(1);
    let mut size = core.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&core);
    out
}

/// A path cargo gives every build script.
fn cargo_path(var: &str) -> PathBuf {
    match env::var_os(var) {
        Some(path) => PathBuf::from(path),
        None => panic!("{var} is set by cargo"),
    }
}

fn push_const(code: &mut String, constant: &str, doc: &str, path: &Path) {
    code.push_str(&format!(
        "/// {doc}\npub const {constant}: &str = {:?};\n",
        path.display().to_string()
    ));
}

/// Writes `bytes` to `path` unless it already holds them, so that an unchanged
/// fixture keeps its modification time.
fn write(path: &Path, bytes: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    if let Err(err) = fs::write(path, bytes) {
        panic!("writing {}: {err}", path.display());
    }
}

/// `len` pseudo-random bytes from a fixed seed (SplitMix64): random-looking, and the
/// same on every build and every machine.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x6b65_6675_7465_7374;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        bytes.extend_from_slice(&z.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
