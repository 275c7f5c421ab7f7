//! One step of the `text-bot` module with a 200-FAQ knowledge base, through kefu's
//! real plugin runtime:
//!
//!     cargo bench -p kefu-tests --bench text_bot
//!
//! Loads the component (compiled without the cache, timed: what every server start pays
//! for it), builds the knowledge base deterministically from topics, question templates
//! and phrasings in Chinese and English, runs `prepare` once (timed, and the prepared
//! size reported), then steps the module with user questions one after another on
//! one core (a current-thread runtime) and prints the latency percentiles and steps
//! per second. The target is p50 <= 1 ms. `KEFU_BENCH_TEXT_BOT=<path>` benchmarks
//! another build of the component.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu::flow::{self, GroupEntry, QueueStatus};
use kefu::plugin::{HostServices, Limits, Origin, Runtime, RuntimeConfig, StepContext};
use serde_json::{Value, json};

const WARMUP: usize = 200;
const ROUNDS: usize = 3_000;
const FAQS: usize = 200;

struct NoQueues;

#[async_trait::async_trait]
impl HostServices for NoQueues {
    async fn queue_status(&self, _: &str, _: &str) -> Option<QueueStatus> {
        None
    }

    async fn skill_groups(&self, _: &str) -> Vec<GroupEntry> {
        Vec::new()
    }
}

/// What the questions are about: (Chinese, English).
const TOPICS: &[(&str, &str)] = &[
    ("退款", "refund"),
    ("发票", "invoice"),
    ("物流", "tracking"),
    ("运费", "shipping fee"),
    ("收货地址", "delivery address"),
    ("密码", "password"),
    ("手机号", "phone number"),
    ("优惠券", "coupon"),
    ("会员积分", "member points"),
    ("订单", "order"),
    ("退货", "return"),
    ("换货", "exchange"),
    ("保修", "warranty"),
    ("售后", "after-sales service"),
    ("支付", "payment"),
    ("账号", "account"),
    ("预售商品", "pre-order item"),
    ("礼品卡", "gift card"),
    ("发货", "shipment"),
    ("价格保护", "price protection"),
    ("评价", "review"),
    ("客服", "customer service"),
    ("包装", "packaging"),
    ("尺码", "size"),
    ("赠品", "free gift"),
];

/// What is asked about a topic: (Chinese template, English template); `{}` is the topic.
const ASKS: &[(&str, &str)] = &[
    ("如何申请{}？", "How do I apply for a {}?"),
    ("{}多久能处理好？", "How long does the {} take?"),
    (
        "{}出现问题怎么办？",
        "What should I do if the {} has a problem?",
    ),
    ("可以修改{}吗？", "Can I change the {}?"),
    ("{}在哪里查看？", "Where can I see my {}?"),
    ("{}有什么规则？", "What are the rules for {}?"),
    ("{}需要收费吗？", "Is there a fee for the {}?"),
    ("为什么我的{}失败了？", "Why did my {} fail?"),
];

/// The knowledge base: `FAQS` FAQs, topic × question, each with three alternatives.
fn knowledge_base() -> Value {
    let mut faqs = Vec::new();
    'outer: for (a, (ask_zh, ask_en)) in ASKS.iter().enumerate() {
        for (t, (zh, en)) in TOPICS.iter().enumerate() {
            if faqs.len() == FAQS {
                break 'outer;
            }
            let id = format!("faq-{a}-{t}");
            faqs.push(json!({
                "id": id,
                "question": ask_zh.replace("{}", zh),
                "alternatives": [
                    ask_en.replace("{}", en),
                    format!("{zh}的问题{}", a + 1),
                    format!("请问{}", ask_zh.replace("{}", zh).trim_end_matches('？')),
                ],
                "answer": format!(
                    "${{SystemClientNickName}}您好，关于{zh}（{en}）：请进入“我的 > {zh}”页面按提示操作，如有疑问可回复“人工”。"
                ),
            }));
        }
    }
    let hot: Vec<String> = (0..5).map(|t| format!("faq-0-{t}")).collect();
    json!({ "faqs": faqs, "hot_questions": hot })
}

/// The user's questions, answered, offered or missed in turn.
const QUESTIONS: &[&str] = &[
    "我的退款多长时间能处理好",
    "how long does the refund take",
    "发票开错了可以改吗",
    "优惠券在哪里看",
    "我的支付为什么失败了？",
    "今天天气怎么样",
    "换货需要收费吗",
    "what are the rules for gift cards",
];

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
    let path = std::env::var("KEFU_BENCH_TEXT_BOT").unwrap_or_else(|_| {
        let (_, path) = kefu::builtin_plugins::MODULES
            .iter()
            .find(|(name, _)| *name == "kefu-module-text-bot")
            .expect("the text-bot module is built");
        (*path).to_owned()
    });
    let bytes = Arc::new(std::fs::read(&path).unwrap());
    let started = Instant::now();
    let module = runtime
        .load(bytes.clone(), &limits, Origin::Builtin, None)
        .await
        .unwrap();
    let load_time = started.elapsed();

    let config = knowledge_base().to_string();
    let node = runtime
        .validate_config(&module, &StepContext::default(), &limits, &config)
        .await
        .unwrap();
    let started = Instant::now();
    let prepared = runtime
        .prepare(&module, &StepContext::default(), &limits, &config)
        .await
        .unwrap();
    let prepare_time = started.elapsed();

    let ctx = StepContext {
        tenant_id: "bench".into(),
        time_zone: "Asia/Shanghai".into(),
        session_id: "s".into(),
        node_id: "n".into(),
        exits: Some(node.exits.iter().map(|e| e.name.clone()).collect()),
        turn_log: None,
    };
    let inputs: Vec<flow::StepInput> = QUESTIONS
        .iter()
        .map(|text| flow::StepInput {
            session: flow::SessionInfo {
                id: "s".into(),
                tenant_id: "bench".into(),
                channel_id: "c".into(),
                user_id: "user_42".into(),
                user_nickname: "小明".into(),
            },
            node_id: "n".into(),
            trigger: flow::Trigger::UserMessage(flow::UserMessage {
                elements: vec![flow::MessageElement::Text((*text).into())],
                text: (*text).into(),
                sent_at_ms: 1_763_700_000_000,
            }),
            config: config.clone(),
            prepared: Some(prepared.clone()),
            variables: Vec::new(),
            state: Some(br#"{"misses":1,"offered":[]}"#.to_vec()),
            turn: 2,
        })
        .collect();

    for i in 0..WARMUP {
        step(&runtime, &module, &ctx, &limits, &inputs[i % inputs.len()]).await;
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let input = inputs[i % inputs.len()].clone();
        let started = Instant::now();
        let out = runtime.step(&module, &ctx, &limits, input).await.unwrap();
        samples.push(started.elapsed());
        assert!(!out.actions.is_empty());
    }
    samples.sort();

    println!(
        "text-bot step benchmark: {FAQS} FAQs ({} bytes of configuration), {ROUNDS} steps after {WARMUP} warm-up, one core",
        config.len()
    );
    println!(
        "component: {} bytes, compiled in {:.0} ms",
        bytes.len(),
        load_time.as_secs_f64() * 1e3
    );
    println!(
        "prepare: {:.1} ms, prepared index {} bytes",
        prepare_time.as_secs_f64() * 1e3,
        prepared.len()
    );
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    println!(
        "{:<32} {:>10} {:>10} {:>10} {:>12}",
        "", "p50 µs", "p99 µs", "mean µs", "per second"
    );
    println!(
        "{:<32} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
        "one step (a user question)",
        p(&samples, 0.5),
        p(&samples, 0.99),
        mean,
        1e6 / mean
    );
    println!("p50 {:.3} ms (target <= 1 ms)", p(&samples, 0.5) / 1e3);
}

/// One step, checked to have answered something.
async fn step(
    runtime: &Runtime,
    module: &kefu::plugin::Module,
    ctx: &StepContext,
    limits: &Limits,
    input: &flow::StepInput,
) {
    let out = runtime
        .step(module, ctx, limits, input.clone())
        .await
        .unwrap();
    assert!(!out.actions.is_empty());
}

fn p(samples: &[Duration], q: f64) -> f64 {
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i].as_secs_f64() * 1e6
}
