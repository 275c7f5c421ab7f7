//! `kefu module check FILE.wasm`: what the registry would say of a component.

use clap::Args;
use sha2::{Digest, Sha256};

use super::ComponentArgs;
use crate::config::Config;
use crate::plugin::StepContext;
use crate::plugin::compile::check_header;
use crate::plugin::inspect::{self, allowed_import};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub component: ComponentArgs,
    /// A node configuration (JSON) to check with the module's `validate-config`.
    /// (`--config` names kefu's own configuration file, as for every command.)
    #[arg(long = "node-config")]
    pub node_config: Option<String>,
}

pub async fn check(config: &Config, args: CheckArgs) -> anyhow::Result<()> {
    let path = &args.component.file;
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let max = config.plugins.max_component_bytes;
    println!("file        {}", path.display());
    println!(
        "size        {} bytes (the server accepts up to {max})",
        bytes.len()
    );
    println!("sha256      {}", hex::encode(Sha256::digest(&bytes)));
    anyhow::ensure!(
        bytes.len() <= max,
        "payload_too_large: over plugins.max_component_bytes"
    );
    check_header(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let shape = inspect::measure(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    for import in &shape.imports {
        let verdict = if allowed_import(import) {
            "ok"
        } else {
            "REFUSED"
        };
        println!("import      {import}  {verdict}");
    }
    for export in &shape.exports {
        println!("export      {export}");
    }
    let b = &config.plugins.component;
    println!(
        "shape       {} core modules (≤ {}), {} core instances (≤ {}), {} functions (≤ {}), {} bytes of code (≤ {})",
        shape.modules,
        b.max_modules,
        shape.core_instances,
        b.max_core_instances,
        shape.functions,
        b.max_functions,
        shape.code_bytes,
        b.max_code_bytes
    );
    println!(
        "            largest function {} bytes (≤ {}), most locals {} (≤ {}), most blocks {} (≤ {}), locals × blocks {} (≤ {}), in all {} (≤ {})",
        shape.largest_function,
        b.max_function_bytes,
        shape.most_locals,
        b.max_locals,
        shape.most_blocks,
        b.max_blocks,
        shape.worst,
        b.max_locals_times_blocks,
        shape.total,
        b.max_total_locals_times_blocks
    );
    if let Some(language) = inspect::interpreter(&bytes) {
        println!(
            "interpreter {language}: installs with deadline_ms {} (an interpreter is started for every step)",
            crate::plugin::limits::INTERPRETED_DEADLINE_MS
        );
    }
    inspect::inspect(&bytes, b).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let runtime = super::runtime(config, vec![])?;
    let limits = args.component.limits(&runtime, &bytes)?;
    let (module, took) = super::load(&runtime, bytes, &limits).await?;
    println!(
        "compiled    in {:.2?} (linked against kefu:flow/host and kefu's WASI)",
        took
    );
    let info = &module.info;
    println!("module      {}@{}", info.name, info.version);
    println!("            {}", info.description);
    for exit in &info.exits {
        println!("exit        {}  {}", exit.name, exit.description);
    }
    println!("schema      {}", info.config_schema);
    if let Some(node_config) = &args.node_config {
        let ctx = StepContext {
            tenant_id: "kefu-module".into(),
            ..StepContext::default()
        };
        match runtime
            .validate_config(&module, &ctx, &limits, node_config)
            .await
        {
            Ok(node) => {
                let exits: Vec<&str> = node.exits.iter().map(|e| e.name.as_str()).collect();
                println!(
                    "config      valid: exits {}, waits {}",
                    exits.join(", "),
                    node.waits
                );
            }
            Err(f) => anyhow::bail!("config refused ({}): {}", f.kind.as_str(), f.message),
        }
    }
    println!("verdict     kefu would install it");
    Ok(())
}
