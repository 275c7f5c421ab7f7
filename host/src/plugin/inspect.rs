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

use wasmparser::{ComponentExternalKind, Operator, Parser, Payload};

use super::compile::LoadError;

/// Most core modules in one component (a Rust component has two or three).
pub const MAX_MODULES: usize = 16;
/// Most core instances one component may create: the instance pool's own bound.
pub const MAX_CORE_INSTANCES: usize = 16;
/// Most functions with a body, over all core modules.
pub const MAX_FUNCTIONS: usize = 20_000;
/// Most bytes of code, over all core modules.
pub const MAX_CODE_BYTES: usize = 8 * 1024 * 1024;
/// Largest body of one function.
pub const MAX_FUNCTION_BYTES: usize = 256 * 1024;
/// Most locals one function may declare.
pub const MAX_LOCALS: u64 = 4_096;
/// Most blocks (`block`, `loop`, `if`, and `br_table` targets) in one function.
pub const MAX_BLOCKS: u64 = 40_000;
/// Most of locals × blocks in one function: what register allocation and SSA
/// construction pay for when every local may be live in every block. A function of
/// 3,000 locals × 15,000 blocks (45 million, 250 KB) compiles for two minutes in
/// 1.5 GB; kefu's own modules stay under 40,000.
pub const MAX_LOCALS_TIMES_BLOCKS: u64 = 2_000_000;
/// Most of locals × blocks over all functions.
pub const MAX_TOTAL_LOCALS_TIMES_BLOCKS: u64 = 16_000_000;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// Reads a component's sections and refuses it when it is of another world, imports
/// what kefu does not provide, or would be too costly to compile. Cheap: one pass
/// over the bytes, no allocation per function.
pub fn inspect(bytes: &[u8]) -> Result<Shape, LoadError> {
    let mut shape = Shape::default();
    let mut depth = 0usize;
    let mut exports_module = false;
    let mut first_export = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(invalid)?;
        match payload {
            Payload::ModuleSection { .. } => {
                shape.modules += 1;
                depth += 1;
                if shape.modules > MAX_MODULES {
                    return Err(too_complex(format!(
                        "it holds more than {MAX_MODULES} core modules"
                    )));
                }
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::InstanceSection(reader) => {
                for instance in reader {
                    if let wasmparser::Instance::Instantiate { .. } = instance.map_err(invalid)? {
                        shape.core_instances += 1;
                    }
                }
                if shape.core_instances > MAX_CORE_INSTANCES {
                    return Err(too_complex(format!(
                        "it creates more than {MAX_CORE_INSTANCES} core instances"
                    )));
                }
            }
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let name = import.map_err(invalid)?.name.name;
                    if !ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p)) {
                        return Err(LoadError::UnsupportedImport(name.to_owned()));
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    let name = export.name.name;
                    if export.kind == ComponentExternalKind::Instance
                        && name.starts_with(MODULE_EXPORT)
                    {
                        exports_module = true;
                    }
                    first_export.get_or_insert_with(|| name.to_owned());
                }
            }
            Payload::CodeSectionEntry(body) => function(&mut shape, body)?,
            _ => {}
        }
    }
    if !exports_module {
        return Err(LoadError::WrongWorld(match first_export {
            Some(name) => format!("it exports {name}"),
            None => "it exports nothing".to_owned(),
        }));
    }
    Ok(shape)
}

/// Counts one function body against the bounds.
fn function(shape: &mut Shape, body: wasmparser::FunctionBody<'_>) -> Result<(), LoadError> {
    shape.functions += 1;
    let size = body.range().len();
    shape.code_bytes += size;
    shape.largest_function = shape.largest_function.max(size);
    if shape.functions > MAX_FUNCTIONS {
        return Err(too_complex(format!(
            "it has more than {MAX_FUNCTIONS} functions"
        )));
    }
    if shape.code_bytes > MAX_CODE_BYTES {
        return Err(too_complex(format!(
            "it has more than {} MiB of code",
            MAX_CODE_BYTES / (1024 * 1024)
        )));
    }
    if size > MAX_FUNCTION_BYTES {
        return Err(too_complex(format!(
            "function {} is {size} bytes, over {MAX_FUNCTION_BYTES}",
            shape.functions - 1
        )));
    }
    let mut locals = 0u64;
    for group in body.get_locals_reader().map_err(invalid)? {
        locals += u64::from(group.map_err(invalid)?.0);
        if locals > MAX_LOCALS {
            return Err(too_complex(format!(
                "function {} declares more than {MAX_LOCALS} locals",
                shape.functions - 1
            )));
        }
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
    let worst = locals.max(1) * blocks;
    if blocks > MAX_BLOCKS || worst > MAX_LOCALS_TIMES_BLOCKS {
        return Err(too_complex(format!(
            "function {} has {blocks} blocks and {locals} locals, too many to compile",
            shape.functions - 1
        )));
    }
    shape.most_locals = shape.most_locals.max(locals);
    shape.most_blocks = shape.most_blocks.max(blocks);
    shape.worst = shape.worst.max(worst);
    shape.total += worst;
    if shape.total > MAX_TOTAL_LOCALS_TIMES_BLOCKS {
        return Err(too_complex(format!(
            "its functions have {} locals × blocks in all, too many to compile",
            shape.total
        )));
    }
    Ok(())
}

fn invalid(e: wasmparser::BinaryReaderError) -> LoadError {
    LoadError::Invalid(e.to_string())
}

fn too_complex(why: String) -> LoadError {
    LoadError::TooComplex(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module kefu ships passes with room to spare: at most half of each bound.
    #[test]
    fn built_in_modules_are_well_within_the_bounds() {
        if std::env::var_os("KEFU_SKIP_PLUGIN_BUILD").is_some() {
            return;
        }
        for (name, path) in crate::builtin_plugins::MODULES {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let shape = inspect(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(shape.functions * 2 <= MAX_FUNCTIONS, "{name}: {shape:?}");
            assert!(shape.code_bytes * 2 <= MAX_CODE_BYTES, "{name}: {shape:?}");
            assert!(
                shape.largest_function * 2 <= MAX_FUNCTION_BYTES,
                "{name}: {shape:?}"
            );
            assert!(shape.most_locals * 2 <= MAX_LOCALS, "{name}: {shape:?}");
            assert!(shape.most_blocks * 2 <= MAX_BLOCKS, "{name}: {shape:?}");
            assert!(
                shape.worst * 2 <= MAX_LOCALS_TIMES_BLOCKS,
                "{name}: {shape:?}"
            );
            assert!(
                shape.total * 2 <= MAX_TOTAL_LOCALS_TIMES_BLOCKS,
                "{name}: {shape:?}"
            );
        }
    }

    #[test]
    fn what_is_not_a_component_of_the_flow_world_is_refused() {
        assert!(matches!(
            inspect(b"\0asm\x0d\0\x01\0"),
            Err(LoadError::WrongWorld(_))
        ));
        assert!(matches!(
            inspect(b"\0asm\x0d\0\x01\0\xff"),
            Err(LoadError::Invalid(_))
        ));
    }
}
