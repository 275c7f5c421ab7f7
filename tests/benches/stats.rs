//! Statistics over a large history: 1,000,000 ended session legs spread over 90 days
//! (records written straight into the store, then rolled up as the server does), and
//! the time a 30-day daily session report, a 30-day agent report and a day of hours
//! take to answer over HTTP. Target: the 30-day daily report in ≤ 200 ms.
//!
//! `cargo bench -p kefu-tests --bench stats` (SQLite), or with
//! `KEFU_TEST_DATABASE_URL=postgres://…` for PostgreSQL. `KEFU_BENCH_SESSIONS` changes
//! the count.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};
use serde_json::json;
use uuid::Uuid;

use kefu_tests::agent_desk::Desk;
use kefu_tests::spawn_app;

const TARGET_MS: f64 = 200.0;
const DAYS: i64 = 90;
/// Rows per INSERT: under SQLite's 32,766 bound values.
const ROWS: usize = 500;

fn count() -> usize {
    std::env::var("KEFU_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A small deterministic generator: the history is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform enough below `n`: two draws make 62 bits, more than any `n` here.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() << 31) | self.next()) % n
    }
}

const COLUMNS: &str = "id, tenant_id, conversation_id, channel_id, source, user_id, user_nickname, \
     skill_group_id, agent_id, status, started_ms, queued_ms, left_queue_ms, offered_ms, accepted_ms, \
     first_reply_ms, ended_ms, end_status, ended_by, user_messages, bot_messages, agent_messages, \
     system_messages, response_ms, responses, survey_invited_ms, survey_score, rolled_up";
const PER_ROW: usize = 28;

fn placeholders(backend: sea_orm::DatabaseBackend, rows: usize) -> String {
    let mut n = 0;
    (0..rows)
        .map(|_| {
            let marks: Vec<String> = (0..PER_ROW)
                .map(|_| {
                    n += 1;
                    match backend {
                        sea_orm::DatabaseBackend::Postgres => format!("${n}"),
                        _ => "?".to_owned(),
                    }
                })
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total = count();
    let app = spawn_app().await;
    let backend = app.db.get_database_backend();
    let desk = Desk::new(&app, "bench", json!({"accept_mode": "auto"})).await;
    let agents = desk.agents(&app, "agent", 20, 5).await;
    let agent_ids: Vec<Uuid> = agents.iter().map(|a| a.id.parse().unwrap()).collect();
    let tenant = desk.tenant.id.0;
    let channel: Uuid = desk.channel.parse().unwrap();
    let group: Uuid = desk.group.parse().unwrap();
    let first_day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let start_ms = Utc
        .from_utc_datetime(&first_day.and_hms_opt(0, 0, 0).unwrap())
        .timestamp_millis();
    let span_ms = DAYS * 86_400_000;

    let written = Instant::now();
    let mut rng = Lcg(17);
    let mut done = 0;
    while done < total {
        let n = ROWS.min(total - done);
        let mut values: Vec<Value> = Vec::with_capacity(n * PER_ROW);
        for _ in 0..n {
            let id = Uuid::now_v7();
            let started = start_ms + rng.below(span_ms as u64) as i64;
            let kind = rng.below(10);
            let agent = agent_ids[rng.below(agent_ids.len() as u64) as usize];
            // 30 % bot only, 60 % served, 10 % abandoned in the queue.
            let (queued, offered, accepted, reply, ended, end_status, agent_id) = match kind {
                0..=2 => (None, None, None, None, started + 60_000, 1, None),
                3..=8 => {
                    let q = started + 5_000;
                    let o = q + rng.below(120_000) as i64;
                    let r = o + rng.below(60_000) as i64;
                    (
                        Some(q),
                        Some(o),
                        Some(o),
                        Some(r),
                        r + 300_000,
                        1,
                        Some(agent),
                    )
                }
                _ => {
                    let q = started + 5_000;
                    (Some(q), None, None, None, q + 180_000, 108, None)
                }
            };
            let score = kind.is_multiple_of(3).then(|| 1 + rng.below(5) as i16);
            values.extend([
                id.into(),
                tenant.into(),
                id.into(),
                channel.into(),
                "im".into(),
                format!("u{}", rng.below(100_000)).into(),
                "用户".into(),
                queued.map(|_| group).into(),
                agent_id.into(),
                "ended".into(),
                started.into(),
                queued.into(),
                (accepted.is_none() && queued.is_some())
                    .then_some(ended)
                    .into(),
                offered.into(),
                accepted.into(),
                reply.into(),
                ended.into(),
                Some(end_status).into(),
                Some("user").into(),
                3i32.into(),
                2i32.into(),
                i32::from(agent_id.is_some()).into(),
                0i32.into(),
                0i64.into(),
                0i32.into(),
                score.map(|_| ended).into(),
                score.into(),
                false.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO session_records ({COLUMNS}) VALUES {}",
            placeholders(backend, n)
        );
        app.db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .expect("records written");
        done += n;
    }
    println!(
        "wrote {total} records over {DAYS} days in {:.1} s",
        written.elapsed().as_secs_f64()
    );
    let rolled = Instant::now();
    let mut added = 0;
    loop {
        added += kefu::records::rollup::catch_up(&app.db)
            .await
            .expect("rolled up");
        let left = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM session_records WHERE rolled_up = FALSE",
            ))
            .await
            .expect("count")
            .map(|r| r.try_get::<i64>("", "n").unwrap_or(0))
            .unwrap_or(0);
        if left == 0 {
            break;
        }
    }
    println!(
        "rolled up {total} legs (this process: {added}, the server's task: the rest) in {:.1} s",
        rolled.elapsed().as_secs_f64()
    );

    let reports = [
        (
            "30-day daily sessions",
            "/api/v1/stats/sessions?from=2026-09-01&to=2026-09-30&interval=day",
        ),
        (
            "30-day daily sessions, one group",
            &format!("/api/v1/stats/sessions?from=2026-09-01&to=2026-09-30&skill_group_id={group}"),
        ),
        (
            "one day hourly sessions",
            "/api/v1/stats/sessions?from=2026-09-15&to=2026-09-15&interval=hour",
        ),
        (
            "30-day agents",
            "/api/v1/stats/agents?from=2026-09-01&to=2026-09-30",
        ),
        (
            "records page",
            "/api/v1/records?limit=50&from=2026-09-01&to=2026-09-30",
        ),
    ];
    let mut daily_median = f64::NAN;
    for (name, path) in reports {
        let mut times = Vec::new();
        let mut incoming = 0;
        for _ in 0..11 {
            let t = Instant::now();
            let r = app.get(path, &desk.admin).await;
            times.push(millis(t.elapsed()));
            assert_eq!(r.status, 200, "{name}: {:?}", r.body);
            incoming = r.body["total"]["incoming"].as_i64().unwrap_or(0);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        if name == "30-day daily sessions" {
            daily_median = median;
        }
        println!(
            "{name:36} median {median:7.1} ms  min {:7.1} ms  max {:7.1} ms{}",
            times[0],
            times[times.len() - 1],
            if incoming > 0 {
                format!("  ({incoming} legs)")
            } else {
                String::new()
            }
        );
    }
    println!(
        "30-day daily report: {daily_median:.1} ms against a target of {TARGET_MS} ms: {}",
        if daily_median <= TARGET_MS {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
    app.stop().await;
}
