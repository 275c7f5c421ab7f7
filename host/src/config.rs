//! Configuration, layered: built-in defaults, then `kefu.toml` (or the file named by
//! `--config` / `KEFU_CONFIG`), then `KEFU_*` environment variables (nested keys with a
//! double underscore: `KEFU_AUTH__ACCESS_TOKEN_TTL_SECS`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything kefu can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on. `KEFU_LISTEN`.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`. Default: SQLite at `<data_dir>/kefu.db`.
    /// `KEFU_DATABASE_URL`.
    pub database_url: Option<String>,
    /// Where kefu keeps its files (the SQLite database, compiled modules).
    /// `KEFU_DATA_DIR`.
    pub data_dir: PathBuf,
    /// The address users reach kefu at, for the URLs it prints and links it makes.
    /// Default: `http://<listen>`.
    pub public_url: Option<String>,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub plugins: PluginsConfig,
    pub sessions: SessionsConfig,
    pub routing: RoutingConfig,
    pub im: ImConfig,
    pub webchat: WebchatConfig,
    pub outbound: OutboundConfig,
    pub log: LogConfig,
    pub webhooks: crate::webhooks::WebhooksConfig,
    pub metrics: crate::metrics::MetricsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebchatConfig {
    /// Web chat sockets one client address may hold open at once.
    pub max_sockets_per_address: u32,
    /// New web chat sockets one client address may open per minute (each may start a
    /// session and its flow).
    pub connects_per_minute_per_address: u32,
}

impl Default for WebchatConfig {
    fn default() -> Self {
        Self {
            max_sockets_per_address: 20,
            connects_per_minute_per_address: 30,
        }
    }
}

/// Requests kefu makes to addresses its tenants give (IM egress, webhooks).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundConfig {
    /// Allow loopback, private, link-local and other non-public addresses (a test
    /// bench, an IM server on the same network). Off by default: a tenant must not be
    /// able to make kefu call into the network it runs in.
    pub allow_private_addresses: bool,
    /// The most of a response body kefu reads, in bytes.
    pub max_response_bytes: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            max_response_bytes: 64 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingConfig {
    /// An agent whose workbench has not been heard from for this long is `offline`
    /// (and loses pending offers). The server pings each socket every third of it.
    pub heartbeat_timeout_secs: u64,
    /// How often expiring offers, queue waits, wrap-up ends and stale connections are
    /// looked for, in ms.
    pub tick_ms: u64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout_secs: 30,
            tick_ms: 500,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionsConfig {
    /// Most flow steps one turn of a session may run before it is stopped as a
    /// runaway loop (and the session falls back).
    pub max_steps_per_turn: u32,
    /// How often due timers (wait timeouts, idle ends) are looked for, in ms.
    pub timer_tick_ms: u64,
    /// How long one turn's module calls may take in all, in ms, before the turn is
    /// stopped (and the session falls back).
    pub max_turn_ms: u64,
    /// Most bytes of messages one turn may send.
    pub max_turn_output_bytes: u64,
    /// Most bytes a session's variables and modules' private states may hold in all.
    pub max_flow_state_bytes: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max_steps_per_turn: 50,
            timer_tick_ms: 500,
            max_turn_ms: 3_000,
            max_turn_output_bytes: 1024 * 1024,
            max_flow_state_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ImConfig {
    /// Attempts to deliver one reply to IM before giving up on it.
    pub egress_max_attempts: u32,
    /// The longest pause between two attempts, in seconds (backoff doubles up to it).
    pub egress_max_backoff_secs: u64,
    /// How long one call to IM may take, in ms.
    pub egress_timeout_ms: u64,
    /// Validity of the UserSigs kefu makes for its calls to IM, in seconds.
    pub usersig_ttl_secs: u64,
    /// How long a node may hold a reply it is sending before another node may send
    /// it instead (the node may have died), in seconds.
    pub egress_lease_secs: u64,
}

impl Default for ImConfig {
    fn default() -> Self {
        Self {
            egress_max_attempts: 12,
            egress_max_backoff_secs: 300,
            egress_timeout_ms: 5_000,
            usersig_ttl_secs: 24 * 3600,
            egress_lease_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginsConfig {
    /// Module instances that may run at once (each step uses one).
    pub max_instances: u32,
    /// Keep compiled modules under `<data_dir>/module-cache` so restarts are fast.
    pub compile_cache: bool,
    /// Largest component an admin may upload, in bytes.
    pub max_component_bytes: usize,
    /// Module instances one tenant may run at once (built-ins included).
    pub max_instances_per_tenant: u32,
    /// Instances one module may run at once for one tenant.
    pub max_instances_per_module: u32,
    /// How long a step waits for a free instance before it fails with `capacity`, in ms.
    pub instance_wait_ms: u64,
    /// Modules one tenant may install.
    pub max_modules_per_tenant: usize,
    /// Uploaded components compiled at once (each tenant one at a time).
    pub concurrent_compiles: u32,
    /// How long an upload waits for its compilation, in seconds.
    pub compile_timeout_secs: u64,
    /// What one component may hold: core modules and instances, memories, tables, code
    /// (`[plugins.component]`, see `plugin::inspect::ComponentBounds`).
    pub component: crate::plugin::inspect::ComponentBounds,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            max_instances: 128,
            compile_cache: true,
            // A Python or JavaScript component carries its interpreter: 12–19 MB.
            max_component_bytes: 32 * 1024 * 1024,
            max_instances_per_tenant: 32,
            max_instances_per_module: 16,
            instance_wait_ms: 1_000,
            max_modules_per_tenant: 50,
            concurrent_compiles: 1,
            compile_timeout_secs: 30,
            component: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// Connection pool size.
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Secret that signs access tokens (at least 32 bytes). Default: one generated on
    /// first start and kept in the database, so that all nodes share it.
    pub jwt_secret: Option<String>,
    /// The `aud` claim tokens are issued for and checked against.
    pub audience: String,
    /// Access-token lifetime.
    pub access_token_ttl_secs: u64,
    /// Sign-in session (refresh-token) lifetime.
    pub session_ttl_secs: u64,
    /// Failed logins per account before each further try is delayed.
    pub login_failures_per_account: u32,
    /// Failed logins per client address before each further try is delayed.
    pub login_failures_per_address: u32,
    /// First delay, doubled per further failure up to 15 minutes.
    pub login_delay_secs: u64,
    /// Password checks (Argon2, ~19 MiB and tens of ms each) that may run at once;
    /// a login waiting longer than a few seconds for one is answered 503.
    pub max_concurrent_logins: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info,kefu=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("kefu-data"),
            public_url: None,
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            http: HttpConfig::default(),
            plugins: PluginsConfig::default(),
            sessions: SessionsConfig::default(),
            routing: RoutingConfig::default(),
            im: ImConfig::default(),
            webchat: WebchatConfig::default(),
            outbound: OutboundConfig::default(),
            log: LogConfig::default(),
            webhooks: crate::webhooks::WebhooksConfig::default(),
            metrics: crate::metrics::MetricsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            audience: "kefu-api".into(),
            access_token_ttl_secs: 15 * 60,
            session_ttl_secs: 30 * 24 * 3600,
            login_failures_per_account: 5,
            login_failures_per_address: 50,
            login_delay_secs: 30,
            max_concurrent_logins: 4,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            trust_forwarded_for: false,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            filter: "info,sqlx=warn,sea_orm=warn".into(),
        }
    }
}

/// The config file read when none is named.
pub const DEFAULT_FILE: &str = "kefu.toml";

impl Config {
    /// Loads defaults ← file ← environment. A named file must exist; the default one
    /// is optional.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    let missing = format!("config file {} not found", path.display());
                    return Err(Box::new(figment::Error::from(missing)));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        figment
            .merge(
                Env::prefixed("KEFU_")
                    .ignore(&[
                        "config",
                        "demo",
                        "demo_password",
                        "admin_password",
                        "demo_sdkappid",
                        "demo_im_secret",
                        "demo_im_base_url",
                    ])
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kefu.db").display()
            ),
        }
    }

    /// The base URL users reach kefu at.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.webhooks.validate()?;
        self.metrics.validate()?;
        if let Some(secret) = &self.auth.jwt_secret
            && secret.len() < 32
        {
            return Err("auth.jwt_secret must be at least 32 bytes".into());
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.access_token_ttl_secs > 24 * 3600 {
            return Err("auth.access_token_ttl_secs must be between 1 and 86400".into());
        }
        if self.auth.session_ttl_secs < self.auth.access_token_ttl_secs {
            return Err("auth.session_ttl_secs must be at least auth.access_token_ttl_secs".into());
        }
        if self.http.max_body_bytes < 1024 {
            return Err("http.max_body_bytes must be at least 1024".into());
        }
        if self.plugins.max_instances == 0 || self.plugins.max_instances > 10_000 {
            return Err("plugins.max_instances must be between 1 and 10000".into());
        }
        let p = &self.plugins;
        if p.max_instances_per_tenant == 0 || p.max_instances_per_module == 0 {
            return Err(
                "plugins.max_instances_per_tenant and plugins.max_instances_per_module must be at least 1"
                    .into(),
            );
        }
        if p.instance_wait_ms > 60_000 {
            return Err("plugins.instance_wait_ms must be at most 60000".into());
        }
        if p.max_modules_per_tenant == 0 || p.max_modules_per_tenant > 10_000 {
            return Err("plugins.max_modules_per_tenant must be between 1 and 10000".into());
        }
        if p.concurrent_compiles == 0 || p.concurrent_compiles > 64 {
            return Err("plugins.concurrent_compiles must be between 1 and 64".into());
        }
        if p.compile_timeout_secs == 0 || p.compile_timeout_secs > 600 {
            return Err("plugins.compile_timeout_secs must be between 1 and 600".into());
        }
        if p.max_component_bytes < 1024 || p.max_component_bytes > 256 * 1024 * 1024 {
            return Err("plugins.max_component_bytes must be between 1024 and 268435456".into());
        }
        if let Some(name) = p.component.out_of_range() {
            return Err(format!(
                "plugins.component.{name} must be at least 1 and at most {:?}",
                crate::plugin::inspect::ComponentBounds::ceiling()
            ));
        }
        let s = &self.sessions;
        if s.max_turn_ms < 100 || s.max_turn_ms > 600_000 {
            return Err("sessions.max_turn_ms must be between 100 and 600000".into());
        }
        if s.max_turn_output_bytes < 1024 || s.max_flow_state_bytes < 1024 {
            return Err(
                "sessions.max_turn_output_bytes and sessions.max_flow_state_bytes must be at least 1024"
                    .into(),
            );
        }
        if self.database.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if self.sessions.max_steps_per_turn == 0 || self.sessions.max_steps_per_turn > 1_000 {
            return Err("sessions.max_steps_per_turn must be between 1 and 1000".into());
        }
        if self.sessions.timer_tick_ms < 10 || self.sessions.timer_tick_ms > 60_000 {
            return Err("sessions.timer_tick_ms must be between 10 and 60000".into());
        }
        if self.routing.heartbeat_timeout_secs < 2 || self.routing.heartbeat_timeout_secs > 3600 {
            return Err("routing.heartbeat_timeout_secs must be between 2 and 3600".into());
        }
        if self.routing.tick_ms < 10 || self.routing.tick_ms > 60_000 {
            return Err("routing.tick_ms must be between 10 and 60000".into());
        }
        if self.im.egress_max_attempts == 0 || self.im.egress_timeout_ms == 0 {
            return Err("im.egress_max_attempts and im.egress_timeout_ms must be positive".into());
        }
        if self.im.egress_lease_secs < 2
            || self.im.egress_lease_secs * 1000 < self.im.egress_timeout_ms * 2
        {
            return Err(
                "im.egress_lease_secs must be at least 2 and twice im.egress_timeout_ms".into(),
            );
        }
        if self.im.usersig_ttl_secs < 60 {
            return Err("im.usersig_ttl_secs must be at least 60".into());
        }
        if self.auth.max_concurrent_logins == 0 || self.auth.max_concurrent_logins > 256 {
            return Err("auth.max_concurrent_logins must be between 1 and 256".into());
        }
        if self.webchat.max_sockets_per_address == 0
            || self.webchat.connects_per_minute_per_address == 0
        {
            return Err(
                "webchat.max_sockets_per_address and webchat.connects_per_minute_per_address must be positive"
                    .into(),
            );
        }
        if self.outbound.max_response_bytes < 1024 || self.outbound.max_response_bytes > 16 << 20 {
            return Err("outbound.max_response_bytes must be between 1024 and 16777216".into());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err("log.format must be `text` or `json`".into());
        }
        Ok(())
    }
}
