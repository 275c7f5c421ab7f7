//! `kefu module install FILE.wasm --url … --token …`: uploads a component to a running
//! kefu (`POST /api/v1/plugins`) and prints what the server answered.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// kefu's address, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "KEFU_URL")]
    pub url: String,
    /// An admin's access token (`POST /api/v1/auth/login` answers one).
    #[arg(long, env = "KEFU_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Installs it disabled.
    #[arg(long)]
    pub disabled: bool,
}

pub async fn install(args: InstallArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file).with_context(|| args.file.display().to_string())?;
    let url = format!(
        "{}/api/v1/plugins?enabled={}",
        args.url.trim_end_matches('/'),
        !args.disabled
    );
    // An upload waits for its compilation, which the server bounds itself.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(660))
        .build()?;
    let response = client
        .post(&url)
        .bearer_auth(&args.token)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "{status}: {} {}",
            body["error"]["code"].as_str().unwrap_or("?"),
            body["error"]["message"].as_str().unwrap_or("")
        );
    }
    println!(
        "installed {}@{} as {} ({} bytes, sha256 {})",
        body["name"].as_str().unwrap_or("?"),
        body["version"].as_str().unwrap_or("?"),
        body["id"].as_str().unwrap_or("?"),
        body["size"],
        body["sha256"].as_str().unwrap_or("?")
    );
    Ok(())
}
