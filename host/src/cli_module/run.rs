//! `kefu module run FILE.wasm`: describe, validate-config, prepare, then a script of
//! steps, carrying the module's state and the session's variables from step to step
//! as the flow engine does.
//!
//! A script has one event a line: `entered`, `> TEXT` (the user writes TEXT),
//! `timeout` (the wait timed out), `resume transfer-failed|agent-finished|session-ended`;
//! `#` starts a comment. After an exit the next step is on a freshly entered node.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::ComponentArgs;
use crate::config::Config;
use crate::flow::{
    self, Action, MessageElement, Next, QueueStatus, ResumeReason, StepInput, Trigger,
};
use crate::plugin::StepContext;

/// Most steps one run may take (a script times its repeats).
const MAX_STEPS: usize = 1_000_000;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub component: ComponentArgs,
    /// The node's configuration (JSON, or @FILE).
    /// (`--config` names kefu's own configuration file, as for every command.)
    #[arg(long = "node-config", default_value = "{}")]
    pub node_config: String,
    /// The script of events (default: `entered` only).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Runs the script this many times, as as many sessions, and prints the step
    /// times' percentiles; only the first run's steps are printed.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// A session variable at the start, NAME=JSON (repeatable).
    #[arg(long = "var")]
    pub vars: Vec<String>,
    /// The user's nickname.
    #[arg(long, default_value = "")]
    pub nickname: String,
    /// The tenant's time zone, for `host.now`.
    #[arg(long, default_value = "Asia/Shanghai")]
    pub time_zone: String,
    /// A skill group's queue, for `host.skill-group-queue`:
    /// ID=ONLINE,FREE,WAITING,WAIT_SECS (repeatable).
    #[arg(long = "queue")]
    pub queues: Vec<String>,
}

pub async fn run(config: &Config, args: RunArgs) -> anyhow::Result<()> {
    let script = match &args.script {
        Some(path) => parse_script(
            &std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?,
        )?,
        None => vec![Trigger::Entered],
    };
    anyhow::ensure!(
        args.repeat >= 1 && args.repeat.saturating_mul(script.len()) <= MAX_STEPS,
        "--repeat × the script's steps must be 1 to {MAX_STEPS}"
    );
    let node_config = match args.node_config.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| path.to_owned())?,
        None => args.node_config.clone(),
    };
    let queues = args
        .queues
        .iter()
        .map(|q| parse_queue(q))
        .collect::<Result<_, _>>()?;
    let runtime = super::runtime(config, queues)?;
    let bytes = std::fs::read(&args.component.file)
        .with_context(|| args.component.file.display().to_string())?;
    let limits = args.component.limits(&runtime, &bytes)?;
    let size = bytes.len();
    let (module, took) = super::load(&runtime, bytes, &limits).await?;
    println!(
        "{}@{}: {size} bytes, compiled and described in {took:.2?}",
        module.info.name, module.info.version
    );
    let mut ctx = StepContext {
        tenant_id: "kefu-module".into(),
        time_zone: args.time_zone.clone(),
        session_id: "run-1".into(),
        node_id: "node-1".into(),
        ..StepContext::default()
    };
    let node = runtime
        .validate_config(&module, &ctx, &limits, &node_config)
        .await
        .map_err(|f| anyhow::anyhow!("validate-config: {}: {}", f.kind.as_str(), f.message))?;
    let exits: Vec<String> = node.exits.iter().map(|e| e.name.clone()).collect();
    println!(
        "validate-config: exits {}, waits {}",
        exits.join(", "),
        node.waits
    );
    ctx.exits = Some(exits.into());
    let prepared = runtime
        .prepare(&module, &ctx, &limits, &node_config)
        .await
        .map_err(|f| anyhow::anyhow!("prepare: {}: {}", f.kind.as_str(), f.message))?;
    println!("prepare: {} bytes", prepared.len());
    let prepared = (!prepared.is_empty()).then_some(prepared);

    let mut initial = BTreeMap::new();
    for var in &args.vars {
        let (name, value) = var.split_once('=').context("--var takes NAME=JSON")?;
        serde_json::from_str::<serde_json::Value>(value)
            .with_context(|| format!("--var {name}: the value is not JSON"))?;
        initial.insert(name.to_owned(), value.to_owned());
    }
    let mut times = Vec::with_capacity(args.repeat * script.len());
    let mut fuel = Vec::with_capacity(times.capacity());
    let mut failures = BTreeMap::new();
    for round in 0..args.repeat {
        let print = round == 0;
        let mut variables = initial.clone();
        let mut state = None;
        let mut turn = 0;
        ctx.session_id = format!("run-{}", round + 1);
        for (n, trigger) in script.iter().enumerate() {
            let input = StepInput {
                session: flow::SessionInfo {
                    id: ctx.session_id.clone(),
                    tenant_id: ctx.tenant_id.clone(),
                    channel_id: "channel-1".into(),
                    user_id: "user-1".into(),
                    user_nickname: args.nickname.clone(),
                },
                node_id: ctx.node_id.clone(),
                trigger: trigger.clone(),
                config: node_config.clone(),
                prepared: prepared.clone(),
                variables: variables
                    .iter()
                    .map(|(name, value)| flow::Variable {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                state: state.take(),
                turn,
            };
            let started = Instant::now();
            let (result, used) = runtime.step_measured(&module, &ctx, &limits, input).await;
            let elapsed = started.elapsed();
            times.push(elapsed);
            fuel.push(used);
            let output = match result {
                Ok(output) => output,
                Err(f) => {
                    // The engine takes the node's `error` exit: the next step enters anew.
                    println!(
                        "step {}  {}  FAILED {}: {}  (fuel {used}, {elapsed:.2?})",
                        n + 1,
                        describe(trigger),
                        f.kind.as_str(),
                        f.message
                    );
                    *failures.entry(f.kind.as_str()).or_insert(0) += 1;
                    turn = 0;
                    continue;
                }
            };
            for action in &output.actions {
                match action {
                    Action::SetVariable(v) => {
                        variables.insert(v.name.clone(), v.value.clone());
                    }
                    Action::UnsetVariable { name } => {
                        variables.remove(name);
                    }
                    _ => {}
                }
            }
            if print {
                println!(
                    "step {}  {}  → {}  (fuel {used}, {elapsed:.2?})",
                    n + 1,
                    describe(trigger),
                    next(&output.next)
                );
                for action in &output.actions {
                    println!("        {}", serde_json::to_string(action)?);
                }
                if let Some(s) = &output.state {
                    println!("        state {} bytes", s.len());
                }
            }
            if let Next::Exit { .. } = output.next {
                turn = 0;
            } else {
                state = output.state;
                turn += 1;
            }
        }
        if print {
            println!("variables {}", serde_json::to_string(&variables)?);
        }
    }
    summary(&mut times, &fuel);
    if !failures.is_empty() {
        anyhow::bail!("failed steps: {failures:?}");
    }
    Ok(())
}

fn summary(times: &mut [Duration], fuel: &[u64]) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let mean_fuel = fuel.iter().sum::<u64>() / fuel.len().max(1) as u64;
    println!(
        "{} steps: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; fuel {} per step on average",
        times.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
        mean_fuel
    );
}

fn describe(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Entered => "entered".into(),
        Trigger::UserMessage(m) => format!("> {}", m.text),
        Trigger::WaitTimedOut => "timeout".into(),
        Trigger::Resumed(r) => format!("resume {r:?}"),
    }
}

fn next(next: &Next) -> String {
    match next {
        Next::Exit { exit } => format!("exit {exit}"),
        Next::Wait { timeout_ms } => format!("wait {timeout_ms} ms"),
        Next::Suspend => "suspend".into(),
    }
}

/// Reads a script: one event a line.
pub fn parse_script(text: &str) -> anyhow::Result<Vec<Trigger>> {
    let mut events = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let event = if let Some(said) = line.strip_prefix('>') {
            let text = said.trim().to_owned();
            Trigger::UserMessage(flow::UserMessage {
                elements: vec![MessageElement::Text(text.clone())],
                text,
                sent_at_ms: chrono::Utc::now().timestamp_millis(),
            })
        } else {
            match line {
                "entered" => Trigger::Entered,
                "timeout" => Trigger::WaitTimedOut,
                "resume transfer-failed" => Trigger::Resumed(ResumeReason::TransferFailed),
                "resume agent-finished" => Trigger::Resumed(ResumeReason::AgentFinished),
                "resume session-ended" => Trigger::Resumed(ResumeReason::SessionEnded),
                _ => anyhow::bail!(
                    "script line {}: expected `entered`, `> TEXT`, `timeout` or `resume REASON`",
                    n + 1
                ),
            }
        };
        events.push(event);
    }
    anyhow::ensure!(!events.is_empty(), "the script has no events");
    Ok(events)
}

/// `ID=ONLINE,FREE,WAITING,WAIT_SECS`.
fn parse_queue(text: &str) -> anyhow::Result<(String, QueueStatus)> {
    let err = || anyhow::anyhow!("--queue takes ID=ONLINE,FREE,WAITING,WAIT_SECS");
    let (id, figures) = text.split_once('=').ok_or_else(err)?;
    let n: Vec<u32> = figures
        .split(',')
        .map(|f| f.trim().parse().map_err(|_| err()))
        .collect::<Result<_, _>>()?;
    let [
        agents_online,
        agents_free,
        sessions_waiting,
        estimated_wait_secs,
    ] = n[..]
    else {
        return Err(err());
    };
    Ok((
        id.to_owned(),
        QueueStatus {
            agents_online,
            agents_free,
            sessions_waiting,
            estimated_wait_secs,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_read_every_event() {
        let events =
            parse_script("# try\nentered\n> 12 34\n\ntimeout\nresume agent-finished\n").unwrap();
        assert_eq!(events.len(), 4);
        assert!(matches!(&events[1], Trigger::UserMessage(m) if m.text == "12 34"));
        assert!(parse_script("jump\n").is_err());
        assert!(parse_script("# nothing\n").is_err());
        assert!(parse_queue("sg=1,2,3").is_err());
        assert_eq!(parse_queue("sg=1,2,3,4").unwrap().1.estimated_wait_secs, 4);
    }
}
