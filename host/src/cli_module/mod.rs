//! `kefu module …`: what a module's author needs without a server — a new project
//! from a template (`new`), what the registry would say of a component (`check`),
//! steps driven from a script under the server's own runtime and limits (`run`), and
//! installing into a running kefu (`install`).
//!
//! `check` and `run` build the plugin runtime from the same configuration as `kefu
//! serve` (`kefu.toml`, `KEFU_*`), so a component they accept is one the server
//! accepts, and a step that fits its limits here fits them there.

mod check;
mod install;
mod new;
mod run;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::config::Config;
use crate::flow::QueueStatus;
use crate::plugin::{HostServices, Limits, Module, Origin, Runtime};

#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// Writes a new module project from a template: it builds, tests and installs.
    New(new::NewArgs),
    /// Says what kefu would say of a component: its world, imports, shape, size and
    /// what it describes, under the server's bounds.
    Check(check::CheckArgs),
    /// Runs steps of a component from a script, carrying state and variables from
    /// step to step, with the server's runtime and limits; prints each step's
    /// actions, next, fuel and time.
    Run(run::RunArgs),
    /// Installs a component into a running kefu through its admin API.
    Install(install::InstallArgs),
}

#[derive(Debug, Args)]
pub struct UsersigArgs {
    /// The IM app's SDKAppID.
    #[arg(long)]
    pub sdkappid: u64,
    /// The app's secret key (the channel's `secret_key`). Also KEFU_IM_SECRET.
    #[arg(long, env = "KEFU_IM_SECRET", hide_env_values = true)]
    pub key: String,
    /// Who the UserSig speaks for (the channel's administrator, for ingress).
    #[arg(long, default_value = "administrator")]
    pub identifier: String,
    /// How long it is valid, in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub ttl_secs: u64,
}

/// `kefu usersig`: a UserSig as kefu itself makes and checks them.
pub fn usersig(args: UsersigArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let sig = crate::im::usersig::generate(
        args.sdkappid,
        &args.key,
        &args.identifier,
        args.ttl_secs,
        now,
    );
    println!("{sig}");
    Ok(())
}

/// The language of a new module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

/// The component a command works on, and the limits its steps run with.
#[derive(Debug, Args)]
pub struct ComponentArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// Per-step limits as JSON, e.g. `{"fuel": 200000000, "memory_bytes": 67108864}`
    /// (what an admin sets with `PATCH /plugins/{id}`; the rest keep their defaults).
    #[arg(long)]
    pub limits: Option<String>,
}

impl ComponentArgs {
    /// The limits given, or those the server would install `bytes` with.
    fn limits(&self, runtime: &Runtime, bytes: &[u8]) -> anyhow::Result<Limits> {
        let limits: Limits = match &self.limits {
            Some(text) => serde_json::from_str(text).context("--limits")?,
            None => Limits::for_component(crate::plugin::inspect::interpreter(bytes)),
        };
        let mut errors = crate::directory::FieldErrors::new();
        limits.validate(runtime.max_limits(), &mut errors);
        if let Some((field, message)) = errors.iter().next() {
            anyhow::bail!("--limits: {field}: {message}");
        }
        Ok(limits)
    }
}

pub async fn main(config: &Config, command: ModuleCommand) -> anyhow::Result<()> {
    match command {
        ModuleCommand::New(args) => new::new(args),
        ModuleCommand::Check(args) => check::check(config, args).await,
        ModuleCommand::Run(args) => run::run(config, args).await,
        ModuleCommand::Install(args) => install::install(args).await,
    }
}

/// What the host imports answer outside a server: the machine's clock, and the
/// queues given on the command line.
struct Offline {
    queues: Vec<(String, QueueStatus)>,
}

#[async_trait::async_trait]
impl HostServices for Offline {
    async fn queue_status(&self, _tenant: &str, skill_group_id: &str) -> Option<QueueStatus> {
        self.queues
            .iter()
            .find(|(id, _)| id == skill_group_id)
            .map(|(_, q)| *q)
    }
}

/// The server's runtime, without its compile cache (nothing is written to disk).
fn runtime(config: &Config, queues: Vec<(String, QueueStatus)>) -> anyhow::Result<Arc<Runtime>> {
    config.validate().map_err(anyhow::Error::msg)?;
    let mut settings = crate::app::runtime_config(config);
    settings.cache_dir = None;
    // On the author's own machine nothing else waits for the compiler: wait as long as
    // the server's longest allowed setting (an interpreter compiles for 10–40 s in a
    // debug build).
    settings.compile.timeout = std::time::Duration::from_secs(600);
    Ok(Arc::new(Runtime::new(
        settings,
        Arc::new(Offline { queues }),
    )?))
}

/// Reads, inspects, compiles and describes a component as an upload would be.
async fn load(
    runtime: &Arc<Runtime>,
    bytes: Vec<u8>,
    limits: &Limits,
) -> anyhow::Result<(Module, std::time::Duration)> {
    let started = std::time::Instant::now();
    let module = runtime
        .load(Arc::new(bytes), limits, Origin::Tenant("kefu-module"), None)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    Ok((module, started.elapsed()))
}
