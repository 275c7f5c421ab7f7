//! Compiling components, within bounds.
//!
//! An uploaded component is read before it is compiled (`inspect.rs`), so that what
//! is of another world, imports what kefu lacks, or would be too costly to compile is
//! refused without compiling. What passes is compiled on a small pool (one tenant one
//! compilation at a time, the server `concurrent_compiles` at a time) and the upload
//! waits at most `compile_timeout` for it. A compilation cannot be stopped halfway,
//! so one that runs over keeps its place in the pool until it ends: the pool's size is
//! what bounds the work, not the answer's timeout. What it compiled is then kept in
//! memory (a few components at most) for the upload that sends it again, which is
//! answered at once: a large component installs off the request path, in two tries.
//!
//! The compile cache is written only for components kefu accepted (`keep`), so a
//! refused upload leaves nothing on disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::Component;

use super::inspect::{self, ComponentBounds};

/// Why a component could not be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly binary")]
    NotWasm,
    #[error(
        "a core WebAssembly module, not a component: build it for wasm32-wasip2 (or wrap it with `wasm-tools component new`)"
    )]
    NotComponent,
    #[error("the component is invalid: {0}")]
    Invalid(String),
    #[error(
        "the component imports {0}, which kefu does not provide (modules get no sockets, files or environment beyond kefu:flow/host)"
    )]
    UnsupportedImport(String),
    #[error("the component does not implement kefu:flow@0.1.x (no `kefu:flow/module` export): {0}")]
    WrongWorld(String),
    #[error("describe() failed: {0}")]
    Describe(String),
    #[error("the component is too costly to compile: {0}")]
    TooComplex(String),
    #[error(
        "compiling the component takes longer than {0} s; it goes on compiling: send it again in a while"
    )]
    CompileTimeout(u64),
    #[error("{0}; try again in a moment")]
    Busy(String),
}

impl LoadError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotWasm => "not_wasm",
            Self::NotComponent => "not_a_component",
            Self::Invalid(_) => "invalid_component",
            Self::UnsupportedImport(_) => "unsupported_import",
            Self::WrongWorld(_) => "wrong_world",
            Self::Describe(_) => "describe_failed",
            Self::TooComplex(_) => "too_complex",
            Self::CompileTimeout(_) => "compile_timeout",
            Self::Busy(_) => "compiler_busy",
        }
    }
}

/// Where a component comes from: kefu's own modules are trusted to compile quickly
/// and are never kept waiting behind tenants' uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    Builtin,
    Tenant(&'a str),
}

/// How compilation is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileBounds {
    /// Compilations of tenants' components that may run at once.
    pub concurrent: u32,
    /// How long an upload waits for its compilation (and for its turn).
    pub timeout: Duration,
    /// What a component may hold (read before it is compiled).
    pub component: ComponentBounds,
}

impl Default for CompileBounds {
    fn default() -> Self {
        Self {
            concurrent: 1,
            timeout: Duration::from_secs(30),
            component: ComponentBounds::default(),
        }
    }
}

pub struct Compiler {
    engine: Engine,
    cache_dir: Option<PathBuf>,
    engine_key: String,
    bounds: CompileBounds,
    pool: Arc<Semaphore>,
    compiling: Mutex<HashSet<String>>,
    /// Components compiled after their upload stopped waiting, by SHA-256, oldest first.
    finished: Arc<Mutex<Vec<(String, Component)>>>,
}

/// Components kept for an upload sent again after `compile_timeout`.
const FINISHED_KEPT: usize = 4;

/// Forgets a tenant's compilation when the upload ends, however it ends.
struct Compiling<'a>(&'a Compiler, String);

impl Drop for Compiling<'_> {
    fn drop(&mut self) {
        self.0.lock().remove(&self.1);
    }
}

impl Compiler {
    pub fn new(
        engine: Engine,
        cache_dir: Option<PathBuf>,
        engine_key: String,
        bounds: CompileBounds,
    ) -> Self {
        Self {
            engine,
            cache_dir,
            engine_key,
            pool: Arc::new(Semaphore::new(bounds.concurrent.max(1) as usize)),
            bounds,
            compiling: Mutex::default(),
            finished: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.compiling.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_path(&self, sha256: &str) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// The compiled component: from the cache, or inspected and compiled.
    pub async fn compile(
        &self,
        bytes: Arc<Vec<u8>>,
        sha256: &str,
        origin: Origin<'_>,
    ) -> Result<Component, LoadError> {
        if let Some(component) = self.cached(sha256) {
            return Ok(component);
        }
        if let Some(component) = self.take_finished(sha256) {
            return Ok(component);
        }
        let inspected = bytes.clone();
        let bounds = self.bounds.component;
        tokio::task::spawn_blocking(move || inspect::inspect(&inspected, &bounds))
            .await
            .map_err(|e| LoadError::Invalid(e.to_string()))??;
        let engine = self.engine.clone();
        let compile = move || {
            Component::new(&engine, bytes.as_slice())
                .map_err(|e| LoadError::Invalid(first_line(&e)))
        };
        let Origin::Tenant(tenant) = origin else {
            return tokio::task::spawn_blocking(compile)
                .await
                .map_err(|e| LoadError::Invalid(e.to_string()))?;
        };
        if !self.lock().insert(tenant.to_owned()) {
            return Err(LoadError::Busy(
                "another component of this tenant is being compiled".into(),
            ));
        }
        let _compiling = Compiling(self, tenant.to_owned());
        let timeout = self.bounds.timeout;
        let permit = tokio::time::timeout(timeout, self.pool.clone().acquire_owned())
            .await
            .map_err(|_| LoadError::Busy("the compiler is busy with other uploads".into()))?
            .map_err(|_| LoadError::Busy("the compiler is stopping".into()))?;
        let finished = self.finished.clone();
        let key = sha256.to_owned();
        let compiling = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let compiled = compile();
            if let Ok(component) = &compiled {
                let mut kept = finished.lock().unwrap_or_else(|p| p.into_inner());
                if kept.len() >= FINISHED_KEPT {
                    kept.remove(0);
                }
                kept.push((key, component.clone()));
            }
            compiled
        });
        let compiled = tokio::time::timeout(timeout, compiling)
            .await
            .map_err(|_| LoadError::CompileTimeout(timeout.as_secs()))?
            .map_err(|e| LoadError::Invalid(e.to_string()))?;
        // Answered in time: nothing needs to be kept for a second try.
        self.take_finished(sha256);
        compiled
    }

    fn take_finished(&self, sha256: &str) -> Option<Component> {
        let mut kept = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        let at = kept.iter().position(|(k, _)| k == sha256)?;
        Some(kept.remove(at).1)
    }

    fn cached(&self, sha256: &str) -> Option<Component> {
        let path = self.cached_path(sha256)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `Component::serialize` of an engine with
        // the same compatibility hash (it is in the name), in kefu's own cache
        // directory, for a component kefu accepted; wasmtime also checks the header
        // before using it.
        #[allow(unsafe_code)]
        match unsafe { Component::deserialize_file(&self.engine, &path) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled module");
                None
            }
        }
    }

    /// Keeps an accepted component's compiled form, so that restarts load it at once.
    pub fn keep(&self, sha256: &str, component: &Component) {
        let Some(path) = self.cached_path(sha256) else {
            return;
        };
        if path.exists() {
            return;
        }
        match component.serialize() {
            Ok(compiled) => write_atomically(&path, &compiled),
            Err(e) => tracing::warn!(error = %e, "cannot serialize a compiled module"),
        }
    }

    /// Removes a component's compiled form once nothing installed uses it.
    pub fn forget(&self, sha256: &str) {
        if let Some(path) = self.cached_path(sha256)
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a compiled module");
        }
    }
}

pub fn first_line(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(1024)
        .collect()
}

fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot cache a compiled module");
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Refuses what is obviously not a component before wasmtime sees it.
pub fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    match bytes[4..8] {
        [1, 0, 0, 0] => Err(LoadError::NotComponent),
        [_, _, 1, 0] => Ok(()),
        _ => Err(LoadError::Invalid(
            "unknown WebAssembly version or layer".into(),
        )),
    }
}

pub fn link_error(e: wasmtime::Error) -> LoadError {
    let text = format!("{e:#}");
    // wasmtime says: "component imports instance `wasi:sockets/tcp@0.2.x`, but a matching
    // implementation was not found in the linker".
    match text.split('`').nth(1) {
        Some(name) if text.contains("import") => LoadError::UnsupportedImport(name.to_owned()),
        _ => LoadError::Invalid(first_line(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(check_header(b"hello world"), Err(LoadError::NotWasm));
        assert_eq!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(LoadError::NotComponent)
        );
        assert_eq!(check_header(b"\0asm\x0d\0\x01\0"), Ok(()));
    }
}
