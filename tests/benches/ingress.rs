//! IM ingress throughput: the real server with the demo tenant and its flow (welcome,
//! service hours, menu, text bot), driven through `POST /v4/openim/sendmsg` by a pool
//! of IM users, its replies going out through the IM outbox to a fake IM server.
//!
//!     cargo bench -p kefu-tests --bench ingress
//!     KEFU_TEST_DATABASE_URL=postgres://user:password@localhost/postgres \
//!         cargo bench -p kefu-tests --bench ingress
//!
//! The load generator runs in the same process on threads of its own (the server's are
//! named `kefu-server`), so both share the machine's cores, as the targets assume.
//! Settings: `KEFU_BENCH_USERS` (2000 IM users), `KEFU_BENCH_SECONDS` (10 per phase),
//! `KEFU_BENCH_IN_FLIGHT` (32 requests at once).
//!
//! 1. Saturation: every worker sends its next message as soon as the last is answered.
//!    A user's first message opens a session (welcome, service hours, menu or bot);
//!    the next ones are FAQ questions for the text bot, in Chinese and in English.
//! 2. Half rate: messages at half the saturation rate, on a fixed schedule (latency is
//!    measured from when a message was due, so a stall counts against it).
//! 3. The floor: `GET /healthz` at saturation from the same workers.
//! 4. Checks: every accepted message is in a transcript, every reply in the outbox was
//!    delivered to IM, once. A failed check prints FAIL and exits with status 1.
//!
//! CPU per message counts the server's threads (those named `kefu-…`, and SQLite's
//! driver threads) from `/proc`, not the load generator's; statements per message are the
//! server's `kefu_db_statements` counter over the phase (background work included:
//! the outbox's deliveries, timers).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tokio::sync::Semaphore;

use kefu::app::Application;
use kefu::config::Config;
use kefu::directory::ChannelPatch;
use kefu::store::channels;
use kefu_tests::db::{TestDatabase, fresh_database};
use kefu_tests::fake_im::{FakeIm, admin_query};

/// What users ask once their session is open: FAQs of the demo's text bot, as
/// customers phrase them.
const QUESTIONS: &[&str] = &[
    "怎么退款",
    "How do I get a refund?",
    "发货要多久",
    "when will my order ship",
    "可以开发票吗",
    "I need an invoice",
    "你们几点上班",
    "what are your opening hours",
];

/// The demo IM application's secret key, shared with the fake IM server.
const IM_SECRET: &str = "bench-im-secret-key-0001";

struct Settings {
    users: usize,
    seconds: u64,
    in_flight: usize,
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo channel as the load generator sees it.
struct Target {
    base: String,
    client: reqwest::Client,
    query: String,
    account: String,
    users: usize,
    /// Messages sent so far, over all users: message `n` goes to user `n % users`.
    next: AtomicUsize,
}

impl Target {
    /// Sends the next message of the pool; the time it took, or why it failed.
    async fn send_next(&self) -> Result<Duration, String> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (user, round) = (n % self.users, n / self.users);
        let text = if round == 0 {
            "你好".to_owned()
        } else {
            QUESTIONS[(user + round) % QUESTIONS.len()].to_owned()
        };
        let body = json!({
            "SyncOtherMachine": 2, "From_Account": format!("bench_user_{user}"),
            "To_Account": self.account, "MsgSeq": n as u32, "MsgRandom": n as u32,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
        });
        let started = Instant::now();
        let resp = self
            .client
            .post(format!("{}/v4/openim/sendmsg?{}", self.base, self.query))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let answer: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
        if status != 200 || answer["ActionStatus"] != "OK" {
            return Err(format!("HTTP {status}: {answer}"));
        }
        Ok(started.elapsed())
    }

    async fn healthz(&self) -> Result<Duration, String> {
        let started = Instant::now();
        let resp = self
            .client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status()));
        }
        resp.bytes().await.map_err(|e| e.to_string())?;
        Ok(started.elapsed())
    }
}

/// What one phase saw.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    failures: Vec<String>,
    seconds: f64,
    cpu_seconds: f64,
    counted: Counted,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.seconds
    }
}

/// CPU seconds used so far by the server's threads (and, with `all`, by the whole
/// process), from `/proc/self/task/*/stat`.
fn cpu_seconds(all: bool) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        if !(all || name.starts_with("kefu-") || name.starts_with("sqlx-sqlite")) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // After the name: state is field 3 of stat(5); utime and stime are 14 and 15.
        let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
        total += utime + stime;
    }
    total as f64 / ticks
}

/// What the server's counters say, so far or over a phase (the server runs in this
/// process): database statements (`kefu_db_statements`), and on SQLite the time its
/// writer was taken (`kefu_sqlite_writer_busy_seconds`), its commits of grouped writes
/// and how many they were (`kefu_sqlite_grouped_commits`, `kefu_sqlite_grouped_writes`).
#[derive(Debug, Default, Clone, Copy)]
struct Counted {
    statements: u64,
    writer_busy: f64,
    commits: u64,
    grouped: u64,
}

impl Counted {
    fn now() -> Self {
        use kefu::metrics::{METRICS, ResultLabels};
        let statements = ["ok", "failed"]
            .into_iter()
            .map(|result| {
                METRICS
                    .db_statements
                    .get_or_create(&ResultLabels { result })
                    .get()
            })
            .sum();
        Self {
            statements,
            writer_busy: METRICS.sqlite_writer_busy.get(),
            commits: METRICS.sqlite_commits.get(),
            grouped: METRICS.sqlite_grouped_writes.get(),
        }
    }

    fn since(self, before: Self) -> Self {
        Self {
            statements: self.statements - before.statements,
            writer_busy: self.writer_busy - before.writer_busy,
            commits: self.commits - before.commits,
            grouped: self.grouped - before.grouped,
        }
    }
}

/// `workers` loops each sending as soon as its last request is answered, for `time`.
async fn closed_loop<F, Fut>(workers: usize, time: Duration, send: F) -> Tally
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Duration, String>> + Send,
{
    let send = Arc::new(send);
    let cpu = cpu_seconds(false);
    let counted = Counted::now();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while started.elapsed() < time {
                match send().await {
                    Ok(took) => tally.latencies_ms.push(took.as_secs_f64() * 1e3),
                    Err(e) => tally.failures.push(e),
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.unwrap();
        all.latencies_ms.extend(t.latencies_ms);
        all.failures.extend(t.failures);
    }
    all.seconds = started.elapsed().as_secs_f64();
    all.cpu_seconds = cpu_seconds(false) - cpu;
    all.counted = Counted::now().since(counted);
    all
}

/// Messages at `rate` a second for `time`, each timed from when it was due.
async fn open_loop(target: Arc<Target>, rate: f64, time: Duration) -> Tally {
    let cpu = cpu_seconds(false);
    let counted = Counted::now();
    let started = Instant::now();
    let count = (rate * time.as_secs_f64()) as usize;
    // Bounded, so that a stalled server cannot make the generator hold without limit.
    let permits = Arc::new(Semaphore::new(4096));
    let mut tasks = Vec::with_capacity(count);
    for k in 0..count {
        let due = started + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let permit = permits.clone().acquire_owned().await.unwrap();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let result = target.send_next().await;
            drop(permit);
            result.map(|_| due.elapsed())
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        match task.await.unwrap() {
            Ok(took) => all.latencies_ms.push(took.as_secs_f64() * 1e3),
            Err(e) => all.failures.push(e),
        }
    }
    all.seconds = started.elapsed().as_secs_f64();
    all.cpu_seconds = cpu_seconds(false) - cpu;
    all.counted = Counted::now().since(counted);
    all
}

fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

fn main() {
    let s = Settings {
        users: env_num("KEFU_BENCH_USERS", 2000).max(1),
        seconds: env_num("KEFU_BENCH_SECONDS", 10).max(1) as u64,
        in_flight: env_num("KEFU_BENCH_IN_FLIGHT", 32).max(1),
    };
    kefu::telemetry::init(&kefu::config::LogConfig {
        format: "text".into(),
        filter: "warn".into(),
    });
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name("kefu-server")
        .enable_all()
        .build()
        .unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-clients")
        .enable_all()
        .build()
        .unwrap();
    let im = clients.block_on(FakeIm::start(
        kefu::demo::DEFAULT_SDKAPPID,
        IM_SECRET,
        "administrator",
    ));
    let (target, db, database) = server.block_on(start(&s, &im.base_url()));
    let ok = clients.block_on(run(&s, target, &db, &im, &database));
    drop(clients);
    drop(server);
    if !ok {
        std::process::exit(1);
    }
}

/// Boots kefu on a fresh database with the demo tenant, as `kefu serve --demo` does.
/// Its channel's replies go to the fake IM server at `im`.
async fn start(s: &Settings, im: &str) -> (Arc<Target>, sea_orm::DatabaseConnection, TestDatabase) {
    let database = fresh_database().await;
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(database.url.clone()),
        data_dir: database.dir.path().to_path_buf(),
        ..Config::default()
    };
    // The fake IM server listens on loopback.
    config.outbound.allow_private_addresses = true;
    let app = Application::build(config).await.expect("building kefu");
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    let seeded = kefu::demo::seed(&state.db, &state.plugins, None)
        .await
        .expect("seeding the demo tenant");
    let patch = ChannelPatch {
        im_base_url: Some(Some(im.to_owned())),
        secret_key: Some(IM_SECRET.to_owned()),
        ..ChannelPatch::default()
    };
    let channel = channels::update(&state.db, seeded.tenant, seeded.channel.id, &patch)
        .await
        .expect("pointing the demo channel at the fake IM server");
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let target = Target {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(s.in_flight * 2)
            .build()
            .unwrap(),
        query: admin_query(channel.sdkappid, IM_SECRET, &channel.admin_identifier),
        account: kefu::demo::CHANNEL_ACCOUNT.to_owned(),
        users: s.users,
        next: AtomicUsize::new(0),
    };
    (Arc::new(target), state.db.clone(), database)
}

fn row(label: &str, t: &Tally) {
    println!(
        "  {label:<28} {:>7.0} /s   p50 {:>6.1} ms   p99 {:>6.1} ms   {:>6} ok   {:>3} failed   {:.3} ms CPU and {:.1} statements each",
        t.rate(),
        percentile(&t.latencies_ms, 0.50),
        percentile(&t.latencies_ms, 0.99),
        t.latencies_ms.len(),
        t.failures.len(),
        t.cpu_seconds * 1e3 / t.latencies_ms.len().max(1) as f64,
        t.counted.statements as f64 / t.latencies_ms.len().max(1) as f64,
    );
    if t.counted.commits > 0 {
        println!(
            "  {:<28} SQLite's writer taken {:.0} % of the time; {:.1} turns a commit",
            "",
            t.counted.writer_busy * 100.0 / t.seconds,
            t.counted.grouped as f64 / t.counted.commits as f64,
        );
    }
}

async fn run(
    s: &Settings,
    target: Arc<Target>,
    db: &sea_orm::DatabaseConnection,
    im: &FakeIm,
    database: &TestDatabase,
) -> bool {
    let backend = if database.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "IM ingress on {backend}: demo flow, {} users, {} in flight, {} s a phase, {cores} cores (load generator included)",
        s.users, s.in_flight, s.seconds
    );
    let time = Duration::from_secs(s.seconds);
    let cpu_all = cpu_seconds(true);
    let counted_all = Counted::now();

    let t = target.clone();
    let saturated = closed_loop(s.in_flight, time, move || {
        let t = t.clone();
        async move { t.send_next().await }
    })
    .await;
    row("sendmsg at saturation", &saturated);

    let half = open_loop(target.clone(), saturated.rate() / 2.0, time).await;
    row("sendmsg at half that rate", &half);

    let t = target.clone();
    let floor = closed_loop(s.in_flight, time / 2, move || {
        let t = t.clone();
        async move { t.healthz().await }
    })
    .await;
    row("/healthz (the floor)", &floor);

    let sent = saturated.latencies_ms.len() + half.latencies_ms.len();
    let new_sessions = sent.min(s.users);
    println!(
        "  messages accepted {sent}: {new_sessions} opened a session, {} asked the bot",
        sent - new_sessions
    );
    let mut ok = true;
    for (phase, t) in [("saturation", &saturated), ("half rate", &half)] {
        if let Some(e) = t.failures.first() {
            println!(
                "FAIL {phase}: {} sendmsg requests failed, e.g. {e}",
                t.failures.len()
            );
            ok = false;
        }
    }

    // Everything accepted is persisted and every reply reaches IM: wait for the outbox.
    let drain = Instant::now();
    let (mut pending, mut sent_rows, mut failed);
    loop {
        pending = count(
            db,
            "SELECT COUNT(*) FROM im_outbox WHERE status = 'pending'",
        )
        .await;
        sent_rows = count(db, "SELECT COUNT(*) FROM im_outbox WHERE status = 'sent'").await;
        failed = count(db, "SELECT COUNT(*) FROM im_outbox WHERE status = 'failed'").await;
        if pending == 0 || drain.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let user_messages = count(
        db,
        "SELECT COUNT(*) FROM session_messages WHERE direction = 'in'",
    )
    .await;
    let replies = count(
        db,
        "SELECT COUNT(*) FROM session_messages WHERE direction = 'out'",
    )
    .await;
    let sessions = count(db, "SELECT COUNT(*) FROM sessions").await;
    let delivered = im.received().len();
    println!(
        "  transcripts: {user_messages} user messages, {replies} replies, {sessions} sessions; outbox: {sent_rows} sent, {pending} pending, {failed} failed (drained {:.1} s after the load); IM received {delivered}, {} twice",
        drain.elapsed().as_secs_f64(),
        im.duplicates()
    );
    if user_messages != sent as i64 {
        println!("FAIL {sent} messages accepted but {user_messages} in transcripts");
        ok = false;
    }
    if replies < user_messages {
        println!("FAIL fewer replies ({replies}) than user messages ({user_messages})");
        ok = false;
    }
    if pending != 0 || failed != 0 || delivered as i64 != sent_rows {
        println!(
            "FAIL outbox: {pending} pending, {failed} failed, {sent_rows} sent but {delivered} received by IM"
        );
        ok = false;
    }
    let cpu = cpu_seconds(true) - cpu_all;
    let statements = Counted::now().since(counted_all).statements;
    println!(
        "  over the run: {:.1} s of CPU by the whole process (server, load generator, fake IM); {:.1} database statements per message accepted (the outbox's included)",
        cpu,
        statements as f64 / sent.max(1) as f64
    );
    let (sqlite_target, pg_target) = (5000.0, 3000.0);
    let goal = if database.postgres {
        pg_target
    } else {
        sqlite_target
    };
    println!(
        "  target: ≥ {goal:.0} messages/s at saturation ({}), p99 ≤ 20 ms at half rate ({})",
        if saturated.rate() >= goal {
            "met"
        } else {
            "not met"
        },
        if percentile(&half.latencies_ms, 0.99) <= 20.0 {
            "met"
        } else {
            "not met"
        },
    );
    ok
}
