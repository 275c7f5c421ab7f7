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

use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu::flow::{self, QueueStatus};
use kefu::plugin::bindings::FlowModulePre;
use kefu::plugin::{HostServices, Limits, Runtime, RuntimeConfig, StepContext};
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
                max_limits: Limits::server_max(),
            },
            Arc::new(NoQueues),
        )
        .unwrap(),
    );
    let limits = Limits::default();
    let echo = runtime
        .load(Arc::new(std::fs::read(fixtures::ECHO).unwrap()), &limits)
        .await
        .unwrap();
    let ctx = StepContext {
        tenant_id: "bench".into(),
        time_zone: "Asia/Shanghai".into(),
        session_id: "s".into(),
        node_id: "n".into(),
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
        .load(Arc::new(std::fs::read(fixtures::MINIMAL).unwrap()), &limits)
        .await
        .unwrap();
    let simple = measure(|| {
        let (runtime, minimal, ctx, input, limits) =
            (&runtime, &minimal, &ctx, input.clone(), &limits);
        async move {
            let out = runtime.step(minimal, ctx, limits, input).await.unwrap();
            assert_eq!(out.actions.len(), 1);
        }
    })
    .await;

    let step = measure(|| {
        let (runtime, echo, ctx, input, limits) = (&runtime, &echo, &ctx, input.clone(), &limits);
        async move {
            let out = runtime.step(echo, ctx, limits, input).await.unwrap();
            assert_eq!(out.actions.len(), 2);
        }
    })
    .await;

    // The floor: the same engine, the smallest store that can hold an instance, the
    // empty component instantiated from its own pre-instance and called.
    let engine = runtime.engine().clone();
    let component = Component::new(&engine, std::fs::read(fixtures::EMPTY).unwrap()).unwrap();
    let mut linker = Linker::<Floor>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    let floor = measure(|| {
        let (engine, pre) = (&engine, &pre);
        async move {
            let mut store = Store::new(
                engine,
                Floor {
                    wasi: WasiCtx::builder().build(),
                    table: ResourceTable::new(),
                },
            );
            store.set_fuel(u64::MAX / 2).unwrap();
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = pre.instantiate_async(&mut store).await.unwrap();
            let run = instance
                .get_typed_func::<(), (u32,)>(&mut store, "run")
                .unwrap();
            let (v,) = run.call_async(&mut store, ()).await.unwrap();
            assert_eq!(v, 0);
        }
    })
    .await;

    // The same modules and input without kefu: the difference is kefu's own overhead.
    let wit_input = kefu::plugin::convert::input(input.clone());
    let bare_minimal = bare_steps(&engine, fixtures::MINIMAL, &wit_input, 1).await;
    let bare = bare_steps(&engine, fixtures::ECHO, &wit_input, 2).await;

    println!("kefu plugin step benchmark: {ROUNDS} rounds after {WARMUP} warm-up, one core");
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>12}",
        "", "p50 µs", "p99 µs", "mean µs", "per second"
    );
    report("floor: instantiate + call empty component", &floor);
    report("bare: instantiate + step minimal, no kefu", &bare_minimal);
    report("kefu step: minimal module, fresh limited store", &simple);
    report("bare: instantiate + step echo (SDK), no kefu", &bare);
    report("kefu step: echo module (SDK), fresh limited", &step);
    println!(
        "simple module: step p50 / floor p50 = {:.2}x (target <= 1.5x)",
        p(&simple, 0.5) / p(&floor, 0.5)
    );
    println!(
        "SDK module: kefu step p50 / bare p50 = {:.2}x; kefu's own overhead at p50 = {:.1} µs",
        p(&step, 0.5) / p(&bare, 0.5),
        p(&step, 0.5) - p(&bare, 0.5)
    );
}

/// Steps the module at `path` on a bare store of the same engine (default WASI context,
/// no limits, the input converted once): what wasmtime and the guest cost without kefu.
async fn bare_steps(
    engine: &wasmtime::Engine,
    path: &str,
    input: &kefu::plugin::bindings::wit::StepInput,
    actions: usize,
) -> Vec<Duration> {
    let component = Component::new(engine, std::fs::read(path).unwrap()).unwrap();
    let mut linker = Linker::<Floor>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    linker.define_unknown_imports_as_traps(&component).unwrap();
    let pre = FlowModulePre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    measure(|| {
        let pre = &pre;
        async move {
            let mut store = Store::new(
                engine,
                Floor {
                    wasi: WasiCtx::builder().build(),
                    table: ResourceTable::new(),
                },
            );
            store.set_fuel(u64::MAX / 2).unwrap();
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = pre.instantiate_async(&mut store).await.unwrap();
            let out = instance
                .kefu_flow_module()
                .call_step(&mut store, input)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(out.actions.len(), actions);
        }
    })
    .await
}

async fn measure<F, Fut>(mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        f().await;
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    samples.sort();
    samples
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
