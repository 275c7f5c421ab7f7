//! One flow-module step with a fresh, limited instance, against the floor: instantiate
//! and call an empty component with the same engine.
//!
//!     cargo bench -p kefu-tests --bench plugin_step
//!
//! Runs on one core (a current-thread runtime, steps one after another) and prints
//! latency percentiles and steps per second for:
//! - the floor: the empty component instantiated and called on the same engine;
//! - one kefu step of the simplest module (bare bindings, a fixed answer);
//! - the SDK-built echo module stepped on a bare store without kefu, and through kefu,
//!   whose difference is kefu's own overhead (store set-up, limits, conversions,
//!   output checks, metrics).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu::flow::{self, QueueStatus};
use kefu::plugin::bindings::FlowModulePre;
use kefu::plugin::bindings::wit::StepInput as WitStepInput;
use kefu::plugin::{HostServices, Limits, Origin, Runtime, RuntimeConfig, StepContext};
use kefu_tests::fixtures;
use wasmtime::Store;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const WARMUP: usize = 300;
const ROUNDS: usize = 3_000;

struct NoQueues;

#[async_trait::async_trait]
impl HostServices for NoQueues {
    async fn queue_status(&self, _: &str, _: &str) -> Option<QueueStatus> {
        None
    }
}

struct Floor {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Floor {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let runtime = Arc::new(
        Runtime::new(
            RuntimeConfig {
                cache_dir: None,
                max_instances: 16,
                ..RuntimeConfig::default()
            },
            Arc::new(NoQueues),
        )
        .unwrap(),
    );
    let limits = Limits::default();
    let echo = runtime
        .load(
            Arc::new(std::fs::read(fixtures::ECHO).unwrap()),
            &limits,
            Origin::Builtin,
            None,
        )
        .await
        .unwrap();
    let ctx = StepContext {
        tenant_id: "bench".into(),
        time_zone: "Asia/Shanghai".into(),
        session_id: "s".into(),
        node_id: "n".into(),
        exits: None,
        turn_log: None,
    };
    let input = flow::StepInput {
        session: flow::SessionInfo {
            id: "s".into(),
            tenant_id: "bench".into(),
            channel_id: "c".into(),
            user_id: "user_42".into(),
            user_nickname: "小明".into(),
        },
        node_id: "n".into(),
        trigger: flow::Trigger::UserMessage(flow::UserMessage {
            elements: vec![flow::MessageElement::Text("你好，我要退款".into())],
            text: "你好，我要退款".into(),
            sent_at_ms: 1_763_700_000_000,
        }),
        config: r#"{"greeting":"hello"}"#.into(),
        prepared: None,
        variables: vec![flow::Variable {
            name: "order".into(),
            value: "\"A-1001\"".into(),
        }],
        state: Some(br#"{"count":3}"#.to_vec()),
        turn: 3,
    };

    let minimal = runtime
        .load(
            Arc::new(std::fs::read(fixtures::MINIMAL).unwrap()),
            &limits,
            Origin::Builtin,
            None,
        )
        .await
        .unwrap();

    // The floor: the same engine, the smallest store that can hold an instance, the
    // empty component instantiated from its own pre-instance and called.
    let engine = runtime.engine().clone();
    let component = Component::new(&engine, std::fs::read(fixtures::EMPTY).unwrap()).unwrap();
    let mut linker = Linker::<Floor>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let empty_pre = linker.instantiate_pre(&component).unwrap();
    // The same modules and input without kefu: the difference is kefu's own overhead.
    let wit_input = kefu::plugin::convert::input(input.clone());
    let minimal_pre = bare_pre(&engine, fixtures::MINIMAL);
    let echo_pre = bare_pre(&engine, fixtures::ECHO);

    let cases: Vec<(&str, Case<'_>)> = vec![
        ("floor: instantiate + call empty component", {
            let (engine, pre) = (&engine, &empty_pre);
            Box::new(move || {
                Box::pin(async move {
                    let mut store = bare_store(engine);
                    let instance = pre.instantiate_async(&mut store).await.unwrap();
                    let run = instance
                        .get_typed_func::<(), (u32,)>(&mut store, "run")
                        .unwrap();
                    let (v,) = run.call_async(&mut store, ()).await.unwrap();
                    assert_eq!(v, 0);
                })
            })
        }),
        (
            "bare: instantiate + step minimal, no kefu",
            bare_case(&engine, &minimal_pre, &wit_input, 1),
        ),
        (
            "kefu step: minimal module, fresh limited store",
            kefu_case(&runtime, &minimal, &ctx, &input, &limits, 1),
        ),
        (
            "bare: instantiate + step echo (SDK), no kefu",
            bare_case(&engine, &echo_pre, &wit_input, 2),
        ),
        (
            "kefu step: echo module (SDK), fresh limited",
            kefu_case(&runtime, &echo, &ctx, &input, &limits, 2),
        ),
    ];
    let results = measure_interleaved(cases).await;

    println!(
        "kefu plugin step benchmark: {ROUNDS} rounds after {WARMUP} warm-up, one core, cases interleaved"
    );
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>12}",
        "", "p50 µs", "p99 µs", "mean µs", "per second"
    );
    for (name, samples) in &results {
        report(name, samples);
    }
    let [floor, bare_minimal, simple, bare_echo, echo_step] =
        [0, 1, 2, 3, 4].map(|i| &results[i].1);
    println!(
        "simple module: kefu step p50 / floor p50 = {:.2}x (target <= 1.5x); bare step p50 / floor p50 = {:.2}x",
        p(simple, 0.5) / p(floor, 0.5),
        p(bare_minimal, 0.5) / p(floor, 0.5)
    );
    println!(
        "kefu's own overhead at p50: minimal {:.1} µs ({:.2}x of bare), SDK module {:.1} µs ({:.2}x of bare)",
        p(simple, 0.5) - p(bare_minimal, 0.5),
        p(simple, 0.5) / p(bare_minimal, 0.5),
        p(echo_step, 0.5) - p(bare_echo, 0.5),
        p(echo_step, 0.5) / p(bare_echo, 0.5)
    );
}

/// One benchmarked operation.
type Case<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

/// Runs every case once per round, in a rotating order, so that drift in the machine's
/// speed affects all cases alike; returns each case's sorted samples.
async fn measure_interleaved<'a>(
    mut cases: Vec<(&'a str, Case<'a>)>,
) -> Vec<(&'a str, Vec<Duration>)> {
    for _ in 0..WARMUP {
        for (_, case) in cases.iter_mut() {
            case().await;
        }
    }
    let mut samples: Vec<Vec<Duration>> =
        cases.iter().map(|_| Vec::with_capacity(ROUNDS)).collect();
    for round in 0..ROUNDS {
        for k in 0..cases.len() {
            let i = (round + k) % cases.len();
            let started = Instant::now();
            (cases[i].1)().await;
            samples[i].push(started.elapsed());
        }
    }
    cases
        .into_iter()
        .zip(samples)
        .map(|((name, _), mut s)| {
            s.sort();
            (name, s)
        })
        .collect()
}

fn bare_store(engine: &wasmtime::Engine) -> Store<Floor> {
    let mut store = Store::new(
        engine,
        Floor {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    store.set_fuel(u64::MAX / 2).unwrap();
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// The module at `path` linked on a bare linker of the same engine (all of WASI, any
/// other import a trap).
fn bare_pre(engine: &wasmtime::Engine, path: &str) -> FlowModulePre<Floor> {
    let component = Component::new(engine, std::fs::read(path).unwrap()).unwrap();
    let mut linker = Linker::<Floor>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    linker.define_unknown_imports_as_traps(&component).unwrap();
    FlowModulePre::new(linker.instantiate_pre(&component).unwrap()).unwrap()
}

/// One kefu step of `module`: a fresh, limited store, as the server runs it.
fn kefu_case<'a>(
    runtime: &'a Runtime,
    module: &'a kefu::plugin::Module,
    ctx: &'a StepContext,
    input: &'a flow::StepInput,
    limits: &'a Limits,
    actions: usize,
) -> Case<'a> {
    Box::new(move || {
        Box::pin(async move {
            let out = runtime
                .step(module, ctx, limits, input.clone())
                .await
                .unwrap();
            assert_eq!(out.actions.len(), actions);
        })
    })
}

/// Instantiates and steps a module on a bare store (default WASI context, no limits,
/// the input converted once): what wasmtime and the guest cost without kefu.
fn bare_case<'a>(
    engine: &'a wasmtime::Engine,
    pre: &'a FlowModulePre<Floor>,
    input: &'a WitStepInput,
    actions: usize,
) -> Case<'a> {
    Box::new(move || {
        Box::pin(async move {
            let mut store = bare_store(engine);
            let instance = pre.instantiate_async(&mut store).await.unwrap();
            let out = instance
                .kefu_flow_module()
                .call_step(&mut store, input)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(out.actions.len(), actions);
        })
    })
}

fn p(samples: &[Duration], q: f64) -> f64 {
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i].as_secs_f64() * 1e6
}

fn report(name: &str, samples: &[Duration]) {
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    println!(
        "{name:<48} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
        p(samples, 0.5),
        p(samples, 0.99),
        mean,
        1e6 / mean
    );
}
