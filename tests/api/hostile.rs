//! The hostile-module campaign: modules written to stall, starve or flood kefu, each
//! refused at installation or contained with its failure kind, while a prober asks
//! `/healthz` every few milliseconds from a thread of its own. The campaign prints
//! what each attack did and the worst `/healthz` latency seen while it ran
//! (`cargo test -p kefu-tests --test api hostile -- --nocapture`).
//!
//! Latencies are printed, not asserted, but for a generous bound that shows the
//! server kept answering (a loaded CI machine must not fail the suite).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kefu_tests::fixtures;
use kefu_tests::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The bound asserted on `/healthz` while an attack runs; the real figure is printed.
const HEALTHZ_BOUND: Duration = Duration::from_secs(1);

/// Asks `/healthz` every 5 ms from its own thread and runtime, keeping the worst
/// latency since it was last read.
struct Prober {
    worst_us: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Prober {
    fn start(url: String) -> Self {
        let worst_us = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (worst, stopped) = (worst_us.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let client = reqwest::Client::new();
                while !stopped.load(Ordering::Relaxed) {
                    let asked = Instant::now();
                    let ok = client
                        .get(&url)
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    let us = asked.elapsed().as_micros() as u64;
                    worst.fetch_max(if ok { us } else { u64::MAX }, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        });
        Self {
            worst_us,
            stop,
            thread: Some(thread),
        }
    }

    /// The worst latency since the last call.
    fn take(&self) -> Duration {
        Duration::from_micros(self.worst_us.swap(0, Ordering::Relaxed))
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One line of the campaign's table.
struct Row {
    module: &'static str,
    attack: String,
    outcome: String,
    took: Duration,
    healthz: Duration,
}

struct Campaign<'a> {
    app: &'a TestApp,
    admin: String,
    prober: Prober,
    rows: Vec<Row>,
}

impl Campaign<'_> {
    fn record(&mut self, module: &'static str, attack: &str, outcome: String, took: Duration) {
        let healthz = self.prober.take();
        println!("{module:<14} {attack:<44} {outcome:<52} {took:>9.2?} {healthz:>9.2?}");
        self.rows.push(Row {
            module,
            attack: attack.to_owned(),
            outcome,
            took,
            healthz,
        });
    }

    async fn upload(&self, path: &str) -> kefu_tests::Reply {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
        let resp = self
            .app
            .client
            .post(self.app.url("/api/v1/plugins"))
            .bearer_auth(&self.admin)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .unwrap();
        TestApp::reply(resp).await
    }

    /// Uploads a component that must be refused, recording the code it got.
    async fn refused(&mut self, module: &'static str, attack: &str, path: &str, codes: &[&str]) {
        let started = Instant::now();
        let reply = self.upload(path).await;
        let took = started.elapsed();
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{module}: {:?}",
            reply.body
        );
        assert!(codes.contains(&reply.code()), "{module}: {:?}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap_or("");
        let outcome = format!("refused {} ({})", reply.code(), first_words(message, 4));
        self.record(module, attack, outcome, took);
    }

    /// Runs one call of the havoc module (`validate-config` or a dry run) with
    /// `config`, which must fail with one of `kinds` (`ok` when it must not fail).
    async fn contained(&mut self, id: &str, call: &str, config: Value, kinds: &[&str]) {
        let started = Instant::now();
        let (path, body) = match call {
            "validate-config" => ("validate-config", json!({"config": config})),
            _ => (
                "dry-run",
                json!({"config": config, "trigger": {"type": "entered"}}),
            ),
        };
        let reply = self
            .app
            .post(&format!("/api/v1/plugins/{id}/{path}"), &self.admin, body)
            .await;
        let took = started.elapsed();
        let kind = match (reply.status, reply.code()) {
            (StatusCode::OK, _) if reply.body["valid"] == false => "invalid_config".to_owned(),
            (StatusCode::OK, _) => "ok".to_owned(),
            (StatusCode::UNPROCESSABLE_ENTITY, "step_failed") => {
                let message = reply.body["error"]["message"].as_str().unwrap_or("");
                message.split(':').next().unwrap_or("").to_owned()
            }
            _ => panic!("{call} {config}: {:?}", reply.body),
        };
        assert!(
            kinds.contains(&kind.as_str()),
            "{call} {config}: {kind}: {:?}",
            reply.body
        );
        let what = config
            .as_object()
            .and_then(|c| c.iter().find(|(k, _)| *k != "nonce"))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("");
        let fuel = if config.get("nonce").is_some() {
            " (all the fuel allowed)"
        } else {
            ""
        };
        let attack = format!("{call}: {what}{fuel}");
        let outcome = if kind == "ok" {
            "harmless (clock stopped: returns at once)".to_owned()
        } else {
            format!("contained: {kind}")
        };
        self.record("havoc", &attack, outcome, took);
    }
}

fn first_words(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_modules_are_refused_or_contained_while_the_server_answers() {
    let app = spawn_app_with(|c| c.plugins.max_instances_per_module = 8).await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let mut campaign = Campaign {
        app: &app,
        prober: Prober::start(app.url("/healthz")),
        admin,
        rows: Vec::new(),
    };
    println!(
        "\n{:<14} {:<44} {:<52} {:>9} {:>9}",
        "module", "attack", "outcome", "took", "healthz"
    );
    campaign
        .refused(
            "compile-bomb",
            "slow to compile (3000 locals × 15000 blocks)",
            fixtures::COMPILE_BOMB,
            &["too_complex"],
        )
        .await;
    campaign
        .refused(
            "describe-spin",
            "describe loops",
            fixtures::DESCRIBE_SPIN,
            &["describe_failed"],
        )
        .await;
    campaign
        .refused(
            "describe-hog",
            "describe allocates without end",
            fixtures::DESCRIBE_HOG,
            &["describe_failed"],
        )
        .await;
    campaign
        .refused(
            "describe-big",
            "describe answers 25 MB",
            fixtures::DESCRIBE_BIG,
            &["describe_failed"],
        )
        .await;
    // A module that sleeps in describe installs at once: nothing in kefu sleeps.
    let started = Instant::now();
    let slept = campaign.upload(fixtures::DESCRIBE_SLEEP).await;
    assert_eq!(slept.status, StatusCode::CREATED, "{:?}", slept.body);
    campaign.record(
        "describe-sleep",
        "describe sleeps an hour",
        "harmless (clock stopped: returns at once)".into(),
        started.elapsed(),
    );

    let installed = campaign.upload(fixtures::HAVOC).await;
    assert_eq!(
        installed.status,
        StatusCode::CREATED,
        "{:?}",
        installed.body
    );
    let havoc = installed.body["id"].as_str().unwrap().to_owned();
    let fuel_or_time = &["deadline", "out_of_fuel"][..];
    for (attack, kinds) in [
        ("loop", fuel_or_time),
        ("sleep", &["ok"][..]),
        ("alloc", &["out_of_memory"][..]),
        ("recurse", &["trap"][..]),
        ("big", &["out_of_memory", "oversized_output"][..]),
        ("log", fuel_or_time),
        ("queue", &["trap"][..]),
    ] {
        campaign
            .contained(
                &havoc,
                "validate-config",
                json!({"validate": attack}),
                kinds,
            )
            .await;
    }
    for (attack, kinds) in [
        ("loop", fuel_or_time),
        ("alloc", &["out_of_memory"][..]),
        ("big", &["oversized_output", "out_of_memory"][..]),
        ("log", fuel_or_time),
        ("fail", &["module_error"][..]),
    ] {
        campaign
            .contained(&havoc, "prepare", json!({"prepare": attack}), kinds)
            .await;
    }
    for (attack, kinds) in [
        ("loop", fuel_or_time),
        ("sleep", &["ok"][..]),
        ("alloc", &["out_of_memory"][..]),
        ("recurse", &["trap"][..]),
        ("big", &["oversized_output", "out_of_memory"][..]),
        ("log", fuel_or_time),
        ("queue", &["trap"][..]),
        ("exit", &["invalid_output"][..]),
        ("wait0", &["invalid_output"][..]),
        ("status", &["invalid_output"][..]),
        ("actions", &["oversized_output", "out_of_fuel"][..]),
    ] {
        campaign
            .contained(&havoc, "step", json!({"step": attack}), kinds)
            .await;
    }

    // With all the fuel the server allows, a loop meets its deadline instead.
    let tuned = app
        .patch(
            &format!("/api/v1/plugins/{havoc}"),
            &campaign.admin,
            json!({"limits": {"fuel": 2_000_000_000u64}}),
        )
        .await;
    assert_eq!(tuned.status, StatusCode::OK, "{:?}", tuned.body);
    // (Setup calls get at least 2 s; a fast machine may burn 2 G fuel in that time.)
    for (call, key, kinds) in [
        (
            "validate-config",
            "validate",
            &["deadline", "out_of_fuel"][..],
        ),
        ("step", "step", &["deadline"][..]),
    ] {
        campaign
            .contained(&havoc, call, json!({key: "loop", "nonce": 1}), kinds)
            .await;
    }

    // What was logged stayed within the allowances: the rest was counted, not written.
    let metrics = app
        .get(&format!("/api/v1/plugins/{havoc}"), &campaign.admin)
        .await
        .body["metrics"]
        .clone();
    assert!(
        metrics["logs_dropped"].as_u64().unwrap() > 1_000,
        "{metrics}"
    );

    let worst = campaign
        .rows
        .iter()
        .map(|r| r.healthz)
        .max()
        .unwrap_or_default();
    let contained = campaign
        .rows
        .iter()
        .filter(|r| !r.outcome.starts_with("harmless"))
        .count();
    println!(
        "\n{} attacks: {} refused or contained, {} harmless; worst /healthz {worst:.2?}; {} log lines dropped",
        campaign.rows.len(),
        contained,
        campaign.rows.len() - contained,
        metrics["logs_dropped"]
    );
    for row in &campaign.rows {
        assert!(
            row.healthz < HEALTHZ_BOUND,
            "/healthz took {:?} while {} {} ran ({}, {:?})",
            row.healthz,
            row.module,
            row.attack,
            row.outcome,
            row.took
        );
    }
}
