//! Memory of one node holding 10,000 workbench WebSockets: 10,000 agents signed in,
//! each with its socket open and its status `free`, held past the heartbeat timeout.
//!
//!     cargo bench -p kefu-tests --bench sockets
//!     KEFU_TEST_DATABASE_URL=postgres://user:password@localhost/postgres \
//!         cargo bench -p kefu-tests --bench sockets
//!
//! The server runs in a process of its own (this program started again with
//! `KEFU_BENCH_SERVER=1`), so that its resident memory is read alone from
//! `/proc/<pid>/status` and the sockets' two ends do not share one process's file
//! limit. Its agents are written straight to its database, all with one password hash
//! (hashing 10,000 passwords is set-up, not what is measured); each agent then signs in
//! through the API, as a person would, and opens `GET /api/v1/agent/ws`. Settings:
//! `KEFU_BENCH_AGENTS` (10000), `KEFU_BENCH_HOLD_SECS` (90: three times the server's
//! 30 s heartbeat timeout, with a ping from each socket every 10 s).
//!
//! At the end every socket must still be open and every agent's status must say online
//! and free; otherwise it prints FAIL and exits with status 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt, stream};
use kefu::auth::password;
use kefu::directory::{Membership, NewAgent, Role};
use kefu::store::agents;
use kefu_tests::{PASSWORD, spawn_app};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

const TARGET_BYTES: u64 = 1 << 30;
/// Sign-ins check a password hash (Argon2, 19 MiB each): a few at a time.
const SIGN_INS_IN_FLIGHT: usize = 4;
const IN_FLIGHT: usize = 64;
const PING_EVERY: Duration = Duration::from_secs(10);
const SLUG: &str = "bench";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::var_os("KEFU_BENCH_SERVER").is_some() {
        runtime.block_on(serve(env_num("KEFU_BENCH_AGENTS", 10_000)));
    } else if !runtime.block_on(measure()) {
        std::process::exit(1);
    }
}

/// The server's process: a fresh database with the tenant, one skill group and the
/// agents, then the server until its standard input closes.
async fn serve(n: usize) {
    let app = spawn_app().await;
    let tenant = app.tenant(SLUG).await;
    let admin = app.admin_token(&tenant).await;
    let group = app
        .post(
            "/api/v1/skill-groups",
            &admin,
            json!({"name": "Bench", "routing": {"accept_mode": "auto"}}),
        )
        .await;
    assert_eq!(group.status, 201, "creating the group: {:?}", group.body);
    let group: uuid::Uuid = group.body["id"].as_str().unwrap().parse().unwrap();
    let hash = password::hash(PASSWORD).expect("hash");
    for i in 0..n {
        let new = NewAgent {
            email: email(i),
            name: format!("Agent {i}"),
            nickname: None,
            phone: None,
            staff_no: None,
            role: Role::Agent,
            max_concurrent_sessions: 10,
            password: PASSWORD.to_owned(),
            skill_groups: vec![Membership {
                skill_group_id: group,
                priority: 5,
            }],
        };
        agents::create(&app.db, tenant.id, new, hash.clone())
            .await
            .expect("agent");
    }
    println!("ready {}", app.addr);
    std::io::stdout().flush().unwrap();
    // Until the measuring process is done (or gone).
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await
    .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), app.stop()).await;
}

fn email(i: usize) -> String {
    format!("agent{i:05}@bench.test")
}

/// Resident and peak resident memory of process `pid`, in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("a memory figure")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn measure() -> bool {
    let n = env_num("KEFU_BENCH_AGENTS", 10_000);
    let hold = Duration::from_secs(env_num("KEFU_BENCH_HOLD_SECS", 90) as u64);
    let backend = if std::env::var_os("KEFU_TEST_DATABASE_URL").is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!("sockets bench on {backend}: {n} agents; setting up the server…");
    let setup = Instant::now();
    let mut server = Command::new(std::env::current_exe().expect("this program"))
        .env("KEFU_BENCH_SERVER", "1")
        .env("KEFU_BENCH_AGENTS", n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the server's process");
    let pid = server.id();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server's process ended before it was ready")
            .expect("reading the server's output");
        if let Some(addr) = line.strip_prefix("ready ") {
            break addr.to_owned();
        }
    };
    let created = setup.elapsed();
    let (started_rss, _) = memory(pid);
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    let started = Instant::now();
    let tokens: Vec<String> = stream::iter(0..n)
        .map(|i| {
            let (client, base) = (&client, &base);
            async move {
                let reply = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"tenant": SLUG, "email": email(i), "password": PASSWORD}))
                    .send()
                    .await
                    .expect("login request");
                assert_eq!(reply.status(), 200, "signing in {}", email(i));
                let body: Value = reply.json().await.expect("login reply");
                body["access_token"].as_str().unwrap().to_owned()
            }
        })
        .buffered(SIGN_INS_IN_FLIGHT)
        .collect()
        .await;
    let signed_in = started.elapsed();
    let (before, _) = memory(pid);
    eprintln!("  {n} agents signed in; opening sockets…");

    let started = Instant::now();
    let open = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let holders: Vec<tokio::task::JoinHandle<()>> = stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| {
            let url = format!("ws://{addr}/api/v1/agent/ws?token={token}");
            async move { (i, connect(&url, i).await) }
        })
        .buffer_unordered(IN_FLIGHT)
        .map(|(i, ws)| {
            open.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(hold_open(i, ws, lost.clone(), stopped.clone()))
        })
        .collect()
        .await;
    let connected = started.elapsed();

    let started = Instant::now();
    stream::iter(tokens.iter())
        .map(|token| {
            let (client, base) = (&client, &base);
            async move {
                let reply = client
                    .put(format!("{base}/api/v1/agent/status"))
                    .bearer_auth(token)
                    .json(&json!({"status": "free"}))
                    .send()
                    .await
                    .expect("status request");
                assert_eq!(reply.status(), 200, "setting free");
            }
        })
        .buffer_unordered(IN_FLIGHT / 2)
        .collect::<Vec<()>>()
        .await;
    let freed = started.elapsed();
    let (with_sockets, _) = memory(pid);
    eprintln!(
        "  {n} sockets open and free; holding them {} s…",
        hold.as_secs()
    );
    // Resident memory every 10 s of the hold: it must level off, not keep growing.
    let mut samples = Vec::new();
    let holding = Instant::now();
    while holding.elapsed() < hold {
        tokio::time::sleep(PING_EVERY.min(hold.saturating_sub(holding.elapsed()))).await;
        samples.push(format!("{:.0}", mib(memory(pid).0)));
    }
    let (held, peak) = memory(pid);

    let mut problems = Vec::new();
    let lost_now = lost.load(Ordering::Relaxed);
    if open.load(Ordering::Relaxed) != n || lost_now > 0 {
        problems.push(format!(
            "{} sockets opened of {n}; {lost_now} closed by the server while held",
            open.load(Ordering::Relaxed)
        ));
    }
    let online = stream::iter(tokens.iter())
        .map(|token| {
            let (client, base) = (&client, &base);
            async move {
                let reply = client
                    .get(format!("{base}/api/v1/agent/status"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("status request");
                let status: Value = reply.json().await.expect("status reply");
                status["online"] == true && status["status"] == "free"
            }
        })
        .buffer_unordered(IN_FLIGHT / 2)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    if online != n {
        problems.push(format!("{online} of {n} agents are online and free"));
    }

    let _ = stop.send(true);
    for h in holders {
        let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
    }
    drop(server.stdin.take());
    let _ = tokio::task::spawn_blocking(move || server.wait()).await;

    println!(
        "workbench sockets on {backend}: {n} agents, each signed in with one socket open and \
         free, held {} s (server heartbeat 30 s, a ping every {} s); server in its own process",
        hold.as_secs(),
        PING_EVERY.as_secs()
    );
    println!(
        "setup: server and agents {:.1} s, sign-ins {:.1} s ({SIGN_INS_IN_FLIGHT} at a time), \
         sockets {:.1} s, set free {:.1} s",
        created.as_secs_f64(),
        signed_in.as_secs_f64(),
        connected.as_secs_f64(),
        freed.as_secs_f64()
    );
    println!(
        "server resident memory: {:.1} MiB started; {:.1} MiB signed in, no socket; {:.1} MiB \
         with {n} sockets open; {:.1} MiB after holding them (peak {:.1} MiB)",
        mib(started_rss),
        mib(before),
        mib(with_sockets),
        mib(held),
        mib(peak)
    );
    println!(
        "while held, every {} s (MiB): {}",
        PING_EVERY.as_secs(),
        samples.join(" ")
    );
    println!(
        "per socket: {:.1} KiB (held minus signed in, over {n})",
        held.saturating_sub(before) as f64 / 1024.0 / n as f64
    );
    println!(
        "target: {n} sockets in <= 1024 MiB resident (peak {:.1} MiB): {}",
        mib(peak),
        if peak <= TARGET_BYTES {
            "met"
        } else {
            "MISSED"
        }
    );
    if problems.is_empty() {
        println!("invariants: ok");
        true
    } else {
        for p in &problems {
            println!("FAIL: {p}");
        }
        false
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens agent `i`'s socket and reads its `ready` frame.
async fn connect(url: &str, i: usize) -> Socket {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .unwrap_or_else(|e| panic!("agent {i}: opening the socket failed: {e}"));
    let first = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .unwrap_or_else(|_| panic!("agent {i}: no ready frame within 30 s"));
    match first {
        Some(Ok(Ws::Text(t))) if t.contains("\"ready\"") => ws,
        other => panic!("agent {i}: expected the ready frame, got {other:?}"),
    }
}

/// Reads the socket and pings it until told to stop; counts a socket the server closes.
async fn hold_open(
    i: usize,
    mut ws: Socket,
    lost: Arc<AtomicUsize>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    // Spread the pings over the interval.
    let first = PING_EVERY.mul_f64((i % 1000) as f64 / 1000.0);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + first, PING_EVERY);
    loop {
        tokio::select! {
            _ = stopped.changed() => {
                let _ = ws.close(None).await;
                return;
            }
            _ = ping.tick() => {
                let frame = Ws::Text(json!({"type": "ping"}).to_string().into());
                if ws.send(frame).await.is_err() {
                    lost.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Ws::Close(_))) | Some(Err(_)) | None => {
                    lost.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
