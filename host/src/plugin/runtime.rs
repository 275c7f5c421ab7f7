//! The wasmtime engine and everything that runs a module: loading (through the
//! bounded compiler), linking, and one call with limits.
//!
//! A call ends within its limits whatever the module does. Fuel and an epoch deadline
//! stop its own code; the epoch also makes it yield every tick, so guest code never
//! holds a server thread for longer than that; the host imports charge fuel and count
//! against the deadline (`imports.rs`); nothing in WASI can sleep; and the whole call
//! runs under a host-side timeout, which drops the store when it fires. A call first
//! takes an instance slot under the tenant's and the module's caps (`slots.rs`).

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    StoreLimitsBuilder, Trap,
};

use super::bindings::guest::{Guest, ModuleError};
use super::bindings::{self, FlowModulePre, StepContext, StepState};
use super::compile::{
    CompileBounds, Compiler, LoadError, Origin, check_header, first_line, link_error,
};
use super::convert::{self, Rejected};
use super::failures::{classify, module_failure};
use super::imports::TICK;
use super::imports::Timing;
use super::limits::Limits;
use super::logs::{Allowance, LogRate};
use super::metrics::ModuleMetrics;
use super::slots::{Claim, SlotPolicy, Slots};
use super::{FailureKind, HostServices, StepFailure};
use crate::flow::{ModuleInfo, NodeInfo, StepInput, StepOutput};

/// A call of one of the module's exports, running on its instance's store.
type GuestCall<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// Fuel between cooperative yields to tokio, so a long step never hogs a worker.
const YIELD_FUEL: u64 = 200_000;
/// Most bytes one host call may take from a module (a log line, a stdout write), or
/// a call's answer hold, beyond what its limits let it answer: the rest of a larger
/// one is never copied.
const HOSTCALL_BYTES: u64 = 1024 * 1024;
/// Failures of one module written to the log per minute; the rest are counted only.
const FAILURES_LOGGED_PER_MINUTE: u64 = 60;

/// Runtime settings (from `kefu.toml`'s `[plugins]`).
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled modules are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Module instances that may exist at once across all sessions.
    pub max_instances: u32,
    /// The ceiling for any module's limits.
    pub max_limits: Limits,
    /// Most instances one tenant's calls may hold at once.
    pub instances_per_tenant: u32,
    /// Most instances one module may hold at once for one tenant.
    pub instances_per_module: u32,
    /// How long a call waits for an instance before it fails with `capacity`.
    pub slot_wait: Duration,
    pub compile: CompileBounds,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_instances: 256,
            max_limits: Limits::server_max(),
            instances_per_tenant: 64,
            instances_per_module: 32,
            slot_wait: Duration::from_secs(1),
            compile: CompileBounds::default(),
        }
    }
}

/// A validated, compiled and linked module, ready to instantiate.
pub struct Module {
    pub sha256: String,
    pub info: ModuleInfo,
    /// One of kefu's own modules, which may use the slots kept for them.
    pub builtin: bool,
    component: Component,
    pre: FlowModulePre<StepState>,
    pub(super) label: Arc<str>,
    pub metrics: ModuleMetrics,
    /// What it may log per minute.
    pub(super) log_rate: Arc<LogRate>,
    /// Its failures written to the log per minute.
    failures_logged: LogRate,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .finish()
    }
}

/// The engine, its linker and its settings. One per server.
pub struct Runtime {
    engine: Engine,
    linker: wasmtime::component::Linker<StepState>,
    services: Arc<dyn HostServices>,
    config: RuntimeConfig,
    compiler: Compiler,
    slots: Arc<Slots>,
    ticker: Arc<AtomicBool>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    pub fn new(config: RuntimeConfig, services: Arc<dyn HostServices>) -> anyhow::Result<Self> {
        let engine = Engine::new(&engine_config(&config))?;
        let linker = bindings::linker(&engine)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir)?;
        }
        let ticker = Arc::new(AtomicBool::new(false));
        let stop = ticker.clone();
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("kefu-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })?;
        let compiler = Compiler::new(
            engine.clone(),
            config.cache_dir.clone(),
            engine_key,
            config.compile,
        );
        let slots = Slots::new(SlotPolicy::new(
            config.max_instances,
            config.instances_per_tenant,
            config.instances_per_module,
            config.slot_wait,
        ));
        Ok(Self {
            engine,
            linker,
            services,
            config,
            compiler,
            slots,
            ticker,
        })
    }

    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Keeps the compiled form of an accepted module for the next start.
    pub fn keep_compiled(&self, module: &Module) {
        self.compiler.keep(&module.sha256, &module.component);
    }

    /// Drops the compiled form of a component nothing uses any more.
    pub fn forget_compiled(&self, sha256: &str) {
        self.compiler.forget(sha256);
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn max_limits(&self) -> &Limits {
        &self.config.max_limits
    }

    /// Inspects, compiles (or loads from the cache), links and describes a component.
    /// With `known`, what the module said of itself when it was installed, it is not
    /// asked again: no module code runs to read what is stored.
    pub async fn load(
        self: &Arc<Self>,
        bytes: Arc<Vec<u8>>,
        limits: &Limits,
        origin: Origin<'_>,
        known: Option<ModuleInfo>,
    ) -> Result<Module, LoadError> {
        check_header(&bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes.as_slice()));
        let component = self.compiler.compile(bytes, &sha256, origin).await?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let pre =
            FlowModulePre::new(instance_pre).map_err(|e| LoadError::WrongWorld(first_line(&e)))?;
        let mut module = Module {
            sha256,
            info: known.clone().unwrap_or_else(|| ModuleInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                config_schema: serde_json::Value::Null,
                exits: vec![],
            }),
            builtin: origin == Origin::Builtin,
            component,
            pre,
            label: Arc::from("(loading)"),
            metrics: ModuleMetrics::default(),
            log_rate: Arc::new(LogRate::default()),
            failures_logged: LogRate::new(Allowance {
                lines: FAILURES_LOGGED_PER_MINUTE,
                bytes: u64::MAX,
            }),
        };
        if known.is_none() {
            let ctx = StepContext {
                tenant_id: match origin {
                    Origin::Tenant(t) => t.to_owned(),
                    Origin::Builtin => String::new(),
                },
                ..StepContext::default()
            };
            let setup = limits.for_setup(&self.config.max_limits);
            let (info, _) = self
                .call(&module, &ctx, &setup, |guest, store| {
                    Box::pin(guest.call_describe(store))
                })
                .await;
            let info = info.map_err(|f| LoadError::Describe(f.message))?;
            module.info = convert::module_info(info).map_err(LoadError::Describe)?;
        }
        module.label = Arc::from(format!("{}@{}", module.info.name, module.info.version));
        Ok(module)
    }

    /// Checks a node configuration with the module's `validate-config`; a valid one is
    /// answered with what a node so configured looks like: its exits, whether it waits.
    pub async fn validate_config(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        config: &str,
    ) -> Result<NodeInfo, StepFailure> {
        let node = self
            .call_setup(module, ctx, limits, config, |guest, store, config| {
                Box::pin(async move { guest.call_validate_config(store, &config).await })
            })
            .await?;
        let exits = convert::exits(node.exits)
            .map_err(|m| StepFailure::new(FailureKind::InvalidOutput, m))?;
        Ok(NodeInfo {
            exits,
            waits: node.waits,
        })
    }

    /// Runs `prepare` for a configuration.
    pub async fn prepare(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        config: &str,
    ) -> Result<Vec<u8>, StepFailure> {
        let prepared = self
            .call_setup(module, ctx, limits, config, |guest, store, config| {
                Box::pin(async move { guest.call_prepare(store, &config).await })
            })
            .await?;
        // Every step of the node is handed the prepared form: it is bounded by the
        // module's own limits, not by the roomier ones `prepare` runs with.
        if prepared.len() as u64 > limits.max_output_bytes.max(limits.max_state_bytes) * 8 {
            return Err(StepFailure::new(
                FailureKind::OversizedOutput,
                "the prepared form is too large",
            ));
        }
        Ok(prepared)
    }

    /// Runs one step in a fresh instance under `limits`, recording it in the module's
    /// metrics. Every failure is contained and returned.
    #[tracing::instrument(skip_all, fields(module = %module.label, session = %ctx.session_id, node = %ctx.node_id))]
    pub async fn step(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        input: StepInput,
    ) -> Result<StepOutput, StepFailure> {
        self.step_measured(module, ctx, limits, input).await.0
    }

    /// [`Runtime::step`], also answering the fuel the step used.
    pub async fn step_measured(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        input: StepInput,
    ) -> (Result<StepOutput, StepFailure>, u64) {
        let started = Instant::now();
        let input = convert::input(input);
        let (result, fuel_used) = self
            .call(module, ctx, limits, move |guest, store| {
                Box::pin(async move { guest.call_step(store, &input).await })
            })
            .await;
        let result = result
            .and_then(|r| r.map_err(module_failure))
            .and_then(|out| {
                convert::output(out, &module.info, ctx.exits.as_deref(), limits).map_err(
                    |r| match r {
                        Rejected::Oversized(m) => StepFailure::new(FailureKind::OversizedOutput, m),
                        Rejected::Invalid(m) => StepFailure::new(FailureKind::InvalidOutput, m),
                    },
                )
            });
        let failure = result.as_ref().err().map(|f| f.kind);
        module.metrics.record(started.elapsed(), fuel_used, failure);
        crate::metrics::flow_step(
            &module.info.name,
            module.builtin,
            started.elapsed(),
            failure,
        );
        if let Err(f) = &result
            && module.failures_logged.take(0)
        {
            tracing::warn!(kind = f.kind.as_str(), message = %f.message, "module step failed");
        }
        (result, fuel_used)
    }

    /// Runs `f` on a fresh instance of the module with `limits`, in an instance slot
    /// and under the host-side timeout. Answers the outcome and the fuel used.
    /// Calls a setup export (`validate-config`, `prepare`) with a node configuration,
    /// under the roomier limits setup runs with; what the module refuses is its failure.
    async fn call_setup<R: Send + 'static>(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        config: &str,
        f: impl for<'a> FnOnce(
            &'a Guest,
            &'a mut Store<StepState>,
            String,
        ) -> GuestCall<'a, Result<R, ModuleError>>
        + Send,
    ) -> Result<R, StepFailure> {
        let setup = limits.for_setup(&self.config.max_limits);
        let config = config.to_owned();
        let answer = self
            .call(module, ctx, &setup, move |guest, store| {
                f(guest, store, config)
            })
            .await
            .0?;
        answer.map_err(module_failure)
    }

    async fn call<R: Send + 'static>(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        f: impl for<'a> FnOnce(&'a Guest, &'a mut Store<StepState>) -> GuestCall<'a, R> + Send,
    ) -> (Result<R, StepFailure>, u64) {
        let claim = Claim {
            tenant: &ctx.tenant_id,
            module: &module.sha256,
            builtin: module.builtin,
        };
        let Some(_slot) = self.slots.acquire(claim).await else {
            let failure = StepFailure::new(
                FailureKind::Capacity,
                "no module instance was free in time (the server, the tenant or the module runs as many as it may)",
            );
            return (Err(failure), 0);
        };
        let deadline = Duration::from_millis(limits.deadline_ms);
        let run = self.run(module, ctx, limits, deadline, f);
        match tokio::time::timeout(Timing::hard_limit(deadline), run).await {
            Ok(done) => done,
            Err(_) => {
                let failure = StepFailure::new(
                    FailureKind::Deadline,
                    "ran past its deadline and was stopped",
                );
                (Err(failure), limits.fuel)
            }
        }
    }

    /// Instantiates the module in a fresh store with `limits` and runs `f` on it.
    async fn run<R: Send + 'static>(
        &self,
        module: &Module,
        ctx: &StepContext,
        limits: &Limits,
        deadline: Duration,
        f: impl for<'a> FnOnce(&'a Guest, &'a mut Store<StepState>) -> GuestCall<'a, R> + Send,
    ) -> (Result<R, StepFailure>, u64) {
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX))
            .instances(self.config.compile.component.max_core_instances)
            .tables(self.config.compile.component.max_tables as usize)
            .memories(self.config.compile.component.max_memories as usize)
            .table_elements(1 << 20)
            .trap_on_grow_failure(true)
            .build();
        let state = StepState::new(
            self.services.clone(),
            ctx.clone(),
            module,
            store_limits,
            deadline,
        );
        let stderr = state.stderr.clone();
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        // Room for the largest answer the limits allow (a prepared form may be eight
        // times the output), and no more.
        let answer = limits.max_output_bytes.max(limits.max_state_bytes) * 8;
        store.set_hostcall_fuel(usize::try_from(answer + HOSTCALL_BYTES).unwrap_or(usize::MAX));
        let setup = store
            .set_fuel(limits.fuel)
            .and_then(|()| store.fuel_async_yield_interval(Some(YIELD_FUEL)));
        if let Err(e) = setup {
            return (Err(StepFailure::new(FailureKind::Trap, first_line(&e))), 0);
        }
        // Every tick: stop the module when its own time is up, and otherwise yield,
        // so that its code never holds a worker thread for longer than a tick.
        store.epoch_deadline_callback(|mut ctx| {
            let timing = &mut ctx.data_mut().timing;
            timing.running();
            if timing.left().is_zero() {
                Err(Trap::Interrupt.into())
            } else {
                timing.yielded();
                Ok(wasmtime::UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);

        let outcome = async {
            let instance = module.pre.instantiate_async(&mut store).await?;
            let guest = instance.kefu_flow_module();
            f(guest, &mut store).await
        }
        .await;
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        module.metrics.logs_dropped(store.data().logs_dropped);
        (
            outcome.map_err(|e| classify(&e, &stderr.contents())),
            fuel_used,
        )
    }
}

/// How much of a memory slot may be reset in place rather than decommitted.
const KEEP_RESIDENT_BYTES: usize = 4 * 1024 * 1024;

fn engine_config(config: &RuntimeConfig) -> Config {
    let n = config.max_instances.max(1);
    let shape = &config.compile.component;
    let per_component = u32::try_from(shape.max_core_instances).unwrap_or(u32::MAX);
    let mut pool = PoolingAllocationConfig::new();
    // Core instances are only counted (their state is allocated as they are made), so
    // every instance may have as many as a component may create. Memories and tables
    // reserve their slots up front: the pool holds four memories and eight tables per
    // instance on average, and one instance may use up to its component's bound.
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(per_component))
        .total_memories(n.saturating_mul(4).max(shape.max_memories))
        .total_tables(n.saturating_mul(8).max(shape.max_tables))
        .total_stacks(n)
        .max_core_instances_per_component(per_component)
        .max_memories_per_component(shape.max_memories)
        .max_tables_per_component(shape.max_tables)
        .max_memory_size(usize::try_from(config.max_limits.memory_bytes).unwrap_or(usize::MAX))
        .max_unused_warm_slots(n / 4)
        // A step touches a few pages of a fresh instance's memory (its stack, a little
        // heap). Resetting just those pages in place when the slot is reused, found with
        // Linux's PAGEMAP_SCAN, spares the next step the page faults that `madvise`
        // would cause; elsewhere (or beyond the bound) wasmtime decommits as usual.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(64 * 1024);
    let mut c = Config::new();
    c.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(1024 * 1024)
        .async_stack_size(2 * 1024 * 1024)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    c
}
