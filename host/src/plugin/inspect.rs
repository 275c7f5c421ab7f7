//! What a component is, read before anything compiles it.
//!
//! Compiling is the one thing an upload makes kefu do that costs more than reading
//! the bytes: Cranelift's time and memory grow with the number of functions and,
//! within one function, with how many locals stay live across how many blocks. A
//! component built for that (a few hundred kilobytes can ask for gigabytes) must be
//! refused by reading it, not by compiling it. So is a component of another world, or
//! one importing what kefu does not provide: both are plain to see in its sections.
//!
//! The bounds leave a wide margin above every module kefu ships (their shapes are
//! checked in the tests below), and below what makes a compilation slow.

use serde::{Deserialize, Serialize};
use wasmparser::{ComponentExternalKind, Operator, Parser, Payload};

use super::compile::LoadError;

/// How large a component may be, in the shapes that decide what compiling and
/// instantiating it costs. Configurable (`[plugins.component]`), bounded by
/// [`ComponentBounds::ceiling`]. The defaults admit the runtimes of the languages kefu
/// documents — a Python (componentize-py) or JavaScript (componentize-js) component
/// carries a whole interpreter. Measured (`kefu module check`): componentize-py 0.25
/// makes 38 core modules and instances, 13,490 functions, 6.5 MB of code, a 427 KB
/// interpreter loop of 16,017 blocks (but 271 locals); componentize-js 0.23 makes 3
/// modules, 12,679 functions, 9.2 MB of code. What makes a compile bomb (locals ×
/// blocks) keeps the bounds it always had: both runtimes stay 10–25× below them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentBounds {
    /// Most core modules in one component (Rust: 2–3, Python: 38, JavaScript: 3).
    pub max_modules: usize,
    /// Most core instances one component creates; also the instance pool's bound
    /// per component instance.
    pub max_core_instances: usize,
    /// Most linear memories one component instance may have.
    pub max_memories: u32,
    /// Most tables one component instance may have.
    pub max_tables: u32,
    /// Most functions with a body, over all core modules.
    pub max_functions: usize,
    /// Most bytes of code, over all core modules.
    pub max_code_bytes: usize,
    /// Largest body of one function.
    pub max_function_bytes: usize,
    /// Most locals one function may declare.
    pub max_locals: u64,
    /// Most blocks (`block`, `loop`, `if`, and `br_table` targets) in one function.
    pub max_blocks: u64,
    /// Most of locals × blocks in one function: what register allocation and SSA
    /// construction pay for when every local may be live in every block. A function of
    /// 3,000 locals × 15,000 blocks (45 million, 250 KB) compiles for two minutes in
    /// 1.5 GB.
    pub max_locals_times_blocks: u64,
    /// Most of locals × blocks over all functions.
    pub max_total_locals_times_blocks: u64,
}

impl Default for ComponentBounds {
    fn default() -> Self {
        Self {
            max_modules: 64,
            max_core_instances: 64,
            max_memories: 4,
            max_tables: 8,
            max_functions: 40_000,
            max_code_bytes: 16 * 1024 * 1024,
            max_function_bytes: 1024 * 1024,
            max_locals: 4_096,
            max_blocks: 40_000,
            max_locals_times_blocks: 2_000_000,
            max_total_locals_times_blocks: 16_000_000,
        }
    }
}

impl ComponentBounds {
    /// What no configuration may exceed.
    pub fn ceiling() -> Self {
        Self {
            max_modules: 128,
            max_core_instances: 256,
            max_memories: 32,
            max_tables: 64,
            max_functions: 200_000,
            max_code_bytes: 128 * 1024 * 1024,
            max_function_bytes: 4 * 1024 * 1024,
            max_locals: 50_000,
            max_blocks: 500_000,
            max_locals_times_blocks: 20_000_000,
            max_total_locals_times_blocks: 500_000_000,
        }
    }

    /// The first bound that exceeds the ceiling or is zero, by its name.
    pub fn out_of_range(&self) -> Option<&'static str> {
        let c = Self::ceiling();
        let checks: [(&str, u64, u64); 11] = [
            ("max_modules", self.max_modules as u64, c.max_modules as u64),
            (
                "max_core_instances",
                self.max_core_instances as u64,
                c.max_core_instances as u64,
            ),
            (
                "max_memories",
                self.max_memories.into(),
                c.max_memories.into(),
            ),
            ("max_tables", self.max_tables.into(), c.max_tables.into()),
            (
                "max_functions",
                self.max_functions as u64,
                c.max_functions as u64,
            ),
            (
                "max_code_bytes",
                self.max_code_bytes as u64,
                c.max_code_bytes as u64,
            ),
            (
                "max_function_bytes",
                self.max_function_bytes as u64,
                c.max_function_bytes as u64,
            ),
            ("max_locals", self.max_locals, c.max_locals),
            ("max_blocks", self.max_blocks, c.max_blocks),
            (
                "max_locals_times_blocks",
                self.max_locals_times_blocks,
                c.max_locals_times_blocks,
            ),
            (
                "max_total_locals_times_blocks",
                self.max_total_locals_times_blocks,
                c.max_total_locals_times_blocks,
            ),
        ];
        checks
            .into_iter()
            .find(|(_, v, max)| *v == 0 || v > max)
            .map(|(name, _, _)| name)
    }

    /// Refuses a shape beyond these bounds, saying which bound it passes.
    pub fn check(&self, shape: &Shape) -> Result<(), LoadError> {
        let over = |what: String| Err(LoadError::TooComplex(what));
        if shape.modules > self.max_modules {
            return over(format!(
                "it holds {} core modules, over {}",
                shape.modules, self.max_modules
            ));
        }
        if shape.core_instances > self.max_core_instances {
            return over(format!(
                "it creates {} core instances, over {}",
                shape.core_instances, self.max_core_instances
            ));
        }
        if shape.functions > self.max_functions {
            return over(format!(
                "it has {} functions, over {}",
                shape.functions, self.max_functions
            ));
        }
        if shape.code_bytes > self.max_code_bytes {
            return over(format!(
                "it has {} bytes of code, over {}",
                shape.code_bytes, self.max_code_bytes
            ));
        }
        if shape.largest_function > self.max_function_bytes {
            return over(format!(
                "a function is {} bytes, over {}",
                shape.largest_function, self.max_function_bytes
            ));
        }
        if shape.most_locals > self.max_locals {
            return over(format!(
                "a function declares {} locals, over {}",
                shape.most_locals, self.max_locals
            ));
        }
        if shape.most_blocks > self.max_blocks || shape.worst > self.max_locals_times_blocks {
            return over(format!(
                "a function has {} blocks and locals × blocks of {}, too many to compile",
                shape.most_blocks, shape.worst
            ));
        }
        if shape.total > self.max_total_locals_times_blocks {
            return over(format!(
                "its functions have {} locals × blocks in all, too many to compile",
                shape.total
            ));
        }
        Ok(())
    }
}

/// The interfaces a module may import: `kefu:flow` and the WASI basics a Rust `std`
/// guest links against. The linker provides exactly these; anything else (sockets,
/// HTTP) is refused here, before compiling.
const ALLOWED_IMPORTS: &[&str] = &[
    "kefu:flow/types@0.1.",
    "kefu:flow/host@0.1.",
    "wasi:io/",
    "wasi:clocks/wall-clock@0.2.",
    "wasi:clocks/monotonic-clock@0.2.",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
];

/// The export that makes a component a flow module.
const MODULE_EXPORT: &str = "kefu:flow/module@0.1.";

/// What a component holds, as far as compiling it is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub modules: usize,
    pub core_instances: usize,
    pub functions: usize,
    pub code_bytes: usize,
    pub largest_function: usize,
    pub most_locals: u64,
    pub most_blocks: u64,
    /// The largest locals × blocks of one function.
    pub worst: u64,
    /// Locals × blocks over all functions.
    pub total: u64,
    /// The component's own imports (interfaces).
    pub imports: Vec<String>,
    /// The component's own exports.
    pub exports: Vec<String>,
}

/// Reads a component and refuses it when it is of another world, imports what kefu
/// does not provide, or is beyond `bounds`.
pub fn inspect(bytes: &[u8], bounds: &ComponentBounds) -> Result<Shape, LoadError> {
    let shape = measure(bytes)?;
    if let Some(name) = shape.imports.iter().find(|n| !allowed_import(n)) {
        return Err(LoadError::UnsupportedImport(name.clone()));
    }
    if !shape.exports.iter().any(|n| n.starts_with(MODULE_EXPORT)) {
        return Err(LoadError::WrongWorld(match shape.exports.first() {
            Some(name) => format!("it exports {name}"),
            None => "it exports nothing".to_owned(),
        }));
    }
    bounds.check(&shape)?;
    Ok(shape)
}

/// Whether kefu provides an interface a component imports.
pub fn allowed_import(name: &str) -> bool {
    ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p))
}

/// Reads a component's sections: its imports, exports and the shape of its code. Cheap:
/// one pass over the bytes, no allocation per function.
pub fn measure(bytes: &[u8]) -> Result<Shape, LoadError> {
    let mut shape = Shape::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(invalid)?;
        match payload {
            Payload::ModuleSection { .. } => {
                shape.modules += 1;
                depth += 1;
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::InstanceSection(reader) => {
                for instance in reader {
                    if let wasmparser::Instance::Instantiate { .. } = instance.map_err(invalid)? {
                        shape.core_instances += 1;
                    }
                }
            }
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    shape
                        .imports
                        .push(import.map_err(invalid)?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    if export.kind == ComponentExternalKind::Instance {
                        shape.exports.push(export.name.name.to_owned());
                    }
                }
            }
            Payload::CodeSectionEntry(body) => function(&mut shape, body)?,
            _ => {}
        }
    }
    Ok(shape)
}

/// The tools that build a component around an interpreter, as its `producers`
/// sections name them, and the language each runs.
const INTERPRETERS: &[(&str, &str)] = &[
    ("componentize-py", "Python"),
    ("ComponentizeJS", "JavaScript"),
    ("StarlingMonkey", "JavaScript"),
];

/// The shared library CPython is linked from inside a component (componentize-py
/// names no tool of its own in `producers`, but links its modules against it).
const LIBPYTHON: &str = "libpython3";

/// The language a component interprets (a CPython or SpiderMonkey inside it), when its
/// `producers` sections name the tool that built it or its modules import CPython;
/// `None` for compiled code. One pass over the sections, reading no function body.
pub fn interpreter(bytes: &[u8]) -> Option<&'static str> {
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::CustomSection(section)) => {
                let wasmparser::KnownCustom::Producers(fields) = section.as_known() else {
                    continue;
                };
                for field in fields.into_iter().flatten() {
                    for value in field.values.into_iter().flatten() {
                        if let Some((_, language)) =
                            INTERPRETERS.iter().find(|(tool, _)| *tool == value.name)
                        {
                            return Some(language);
                        }
                    }
                }
            }
            Ok(Payload::ImportSection(imports)) => {
                for import in imports.into_imports().flatten() {
                    if import.module.starts_with(LIBPYTHON) {
                        return Some("Python");
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Measures one function body.
fn function(shape: &mut Shape, body: wasmparser::FunctionBody<'_>) -> Result<(), LoadError> {
    shape.functions += 1;
    let size = body.range().len();
    shape.code_bytes += size;
    shape.largest_function = shape.largest_function.max(size);
    let mut locals = 0u64;
    for group in body.get_locals_reader().map_err(invalid)? {
        locals = locals.saturating_add(u64::from(group.map_err(invalid)?.0));
    }
    let mut blocks = 0u64;
    let mut ops = body.get_operators_reader().map_err(invalid)?;
    while !ops.eof() {
        blocks += match ops.read().map_err(invalid)? {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => 1,
            Operator::BrTable { targets } => u64::from(targets.len()),
            _ => 0,
        };
    }
    let worst = locals.max(1).saturating_mul(blocks);
    shape.most_locals = shape.most_locals.max(locals);
    shape.most_blocks = shape.most_blocks.max(blocks);
    shape.worst = shape.worst.max(worst);
    shape.total = shape.total.saturating_add(worst);
    Ok(())
}

fn invalid(e: wasmparser::BinaryReaderError) -> LoadError {
    LoadError::Invalid(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component holding only a `producers` section naming `tool`.
    fn built_by(tool: &str) -> Vec<u8> {
        let mut content = vec![1u8, 12];
        content.extend_from_slice(b"processed-by");
        content.push(1);
        content.push(tool.len() as u8);
        content.extend_from_slice(tool.as_bytes());
        content.push(5);
        content.extend_from_slice(b"1.0.0");
        let mut section = vec![9u8];
        section.extend_from_slice(b"producers");
        section.extend_from_slice(&content);
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        bytes.push(0);
        bytes.push(section.len() as u8);
        bytes.extend_from_slice(&section);
        bytes
    }

    #[test]
    fn interpreters_are_known_by_the_tool_that_built_them() {
        assert_eq!(interpreter(&built_by("componentize-py")), Some("Python"));
        assert_eq!(interpreter(&built_by("ComponentizeJS")), Some("JavaScript"));
        assert_eq!(interpreter(&built_by("wit-component")), None);
        assert_eq!(interpreter(b"not wasm at all"), None);
    }

    #[test]
    fn the_defaults_are_within_the_ceiling() {
        assert_eq!(ComponentBounds::default().out_of_range(), None);
        let zero = ComponentBounds {
            max_tables: 0,
            ..ComponentBounds::default()
        };
        assert_eq!(zero.out_of_range(), Some("max_tables"));
    }

    /// Every module kefu ships passes with room to spare: at most half of each bound.
    #[test]
    fn built_in_modules_are_well_within_the_bounds() {
        if std::env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_some() {
            return;
        }
        for (name, path) in crate::builtin_plugins::MODULES {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let b = ComponentBounds::default();
            let shape = inspect(&bytes, &b).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(shape.functions * 2 <= b.max_functions, "{name}: {shape:?}");
            assert!(
                shape.code_bytes * 2 <= b.max_code_bytes,
                "{name}: {shape:?}"
            );
            assert!(
                shape.largest_function * 2 <= b.max_function_bytes,
                "{name}: {shape:?}"
            );
            assert!(shape.most_locals * 2 <= b.max_locals, "{name}: {shape:?}");
            assert!(shape.most_blocks * 2 <= b.max_blocks, "{name}: {shape:?}");
            assert!(
                shape.worst * 2 <= b.max_locals_times_blocks,
                "{name}: {shape:?}"
            );
            assert!(
                shape.total * 2 <= b.max_total_locals_times_blocks,
                "{name}: {shape:?}"
            );
        }
    }

    #[test]
    fn what_is_not_a_component_of_the_flow_world_is_refused() {
        assert!(matches!(
            inspect(b"\0asm\x0d\0\x01\0", &ComponentBounds::default()),
            Err(LoadError::WrongWorld(_))
        ));
        assert!(matches!(
            inspect(b"\0asm\x0d\0\x01\0\xff", &ComponentBounds::default()),
            Err(LoadError::Invalid(_))
        ));
    }
}
