//! Wiring: builds kefu from its configuration and runs it until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::service::{Authenticator, random_secret};
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::{LoginThrottle, TokenKeys};
use crate::config::Config;
use crate::http;
use crate::plugin::{CompileBounds, Limits, Registry, Runtime, RuntimeConfig};
use crate::routing::{Kick, QueueFigures, Router, RoutingConfig, Signals};
use crate::sessions::{Sessions, SessionsConfig};
use crate::state::AppState;
use crate::store::{self, auth_sessions, secrets};

/// The plugin runtime's settings from kefu's configuration: the server and the
/// `kefu module` commands run modules under the same ones.
pub fn runtime_config(config: &Config) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: config
            .plugins
            .compile_cache
            .then(|| config.data_dir.join("module-cache")),
        max_instances: config.plugins.max_instances,
        max_limits: Limits::server_max(),
        instances_per_tenant: config.plugins.max_instances_per_tenant,
        instances_per_module: config.plugins.max_instances_per_module,
        slot_wait: Duration::from_millis(config.plugins.instance_wait_ms),
        compile: CompileBounds {
            concurrent: config.plugins.concurrent_compiles,
            timeout: Duration::from_secs(config.plugins.compile_timeout_secs),
            component: config.plugins.component,
        },
    }
}

/// A built server: database migrated, socket bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    kicks: tokio::sync::mpsc::UnboundedReceiver<Kick>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate().map_err(anyhow::Error::msg)?;
        let db = open_database(&config).await?;
        let secret = match &config.auth.jwt_secret {
            Some(s) => s.clone(),
            None => secrets::get_or_create(&db, "jwt_signing_key", || {
                random_secret(48).unwrap_or_default()
            })
            .await
            .context("loading the token signing key")?,
        };
        anyhow::ensure!(secret.len() >= 32, "the token signing key is too short");
        let keys = TokenKeys::new(
            secret.as_bytes(),
            &config.auth.audience,
            Duration::from_secs(config.auth.access_token_ttl_secs),
        );
        let throttle = LoginThrottle::new(ThrottlePolicy {
            account_failures: config.auth.login_failures_per_account,
            address_failures: config.auth.login_failures_per_address,
            base_delay: Duration::from_secs(config.auth.login_delay_secs),
            ..ThrottlePolicy::default()
        });
        let auth = Authenticator::new(
            db.clone(),
            keys,
            throttle,
            Duration::from_secs(config.auth.session_ttl_secs),
            config.auth.max_concurrent_logins,
        );
        let runtime = Runtime::new(
            runtime_config(&config),
            Arc::new(QueueFigures::new(
                db.clone(),
                Duration::from_secs(config.routing.heartbeat_timeout_secs),
            )),
        )
        .context("starting the plugin runtime")?;
        let plugins = Arc::new(
            Registry::new(db.clone(), Arc::new(runtime))
                .with_quota(config.plugins.max_modules_per_tenant),
        );
        plugins
            .start(crate::builtin_plugins::MODULES)
            .await
            .context("loading flow modules")?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let (signals, kicks) = Signals::new(RoutingConfig {
            heartbeat_timeout: Duration::from_secs(config.routing.heartbeat_timeout_secs),
            tick: Duration::from_millis(config.routing.tick_ms),
        });
        let sessions = Arc::new(Sessions::new(
            db.clone(),
            plugins.clone(),
            SessionsConfig {
                max_steps_per_turn: config.sessions.max_steps_per_turn,
                timer_tick: Duration::from_millis(config.sessions.timer_tick_ms),
                max_turn: Duration::from_millis(config.sessions.max_turn_ms),
                max_turn_output_bytes: config.sessions.max_turn_output_bytes,
                max_flow_state_bytes: config.sessions.max_flow_state_bytes,
            },
            signals.clone(),
        ));
        let router = Arc::new(Router::new(db.clone(), sessions.clone(), signals));
        Ok(Self {
            listener,
            state: AppState::new(db, config, auth, plugins, sessions, router),
            kicks,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let janitor = tokio::spawn(janitor(self.state.db.clone()));
        let checkpoints = tokio::spawn(store::write::checkpoint_forever(self.state.db.clone()));
        let timers = tokio::spawn(self.state.sessions.clone().run_timers());
        let outbox = tokio::spawn(crate::im::egress::run(self.state.clone()));
        let routing = tokio::spawn(self.state.router.clone().run(self.kicks));
        let sweeper = tokio::spawn(self.state.router.clone().sweep_forever());
        let keep_alive = tokio::spawn(self.state.router.clone().keep_alive_forever());
        let url = self.state.config.database_url();
        let listen =
            (!store::is_sqlite(&url)).then(|| tokio::spawn(self.state.router.clone().listen(url)));
        let rollup = tokio::spawn(crate::records::rollup::run(self.state.db.clone()));
        let webhooks = tokio::spawn(crate::webhooks::worker::run(self.state.clone()));
        let metrics = match (
            self.state.config.metrics.enabled,
            self.state.config.metrics.listen,
        ) {
            (true, Some(addr)) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for metrics on {addr}"))?;
                let app = http::metrics::router(self.state.clone());
                Some(tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "serving metrics failed");
                    }
                }))
            }
            _ => None,
        };
        let app = http::router(self.state.clone());
        // Small writes leave at once: with Nagle's algorithm a second event written
        // before the agent's machine acknowledged the first waits for that
        // acknowledgement, which the receiver delays by up to 40 ms.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "setting TCP_NODELAY on a connection failed");
            }
        });
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        // Workbench sockets outlive the HTTP server: close them while the database is
        // still there for them to go offline in.
        self.state
            .router
            .close_sockets(std::time::Duration::from_secs(5))
            .await;
        keep_alive.abort();
        checkpoints.abort();
        janitor.abort();
        timers.abort();
        outbox.abort();
        routing.abort();
        sweeper.abort();
        rollup.abort();
        webhooks.abort();
        if let Some(m) = metrics {
            m.abort();
        }
        if let Some(l) = listen {
            l.abort();
        }
        crate::store::write::close(&self.state.db).await;
        self.state.db.clone().close().await.ok();
        served.context("serving HTTP")
    }
}

/// Connects and migrates, creating the data directory for SQLite.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    if store::is_sqlite(&url) && config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    store::observe_statements(crate::metrics::db_statement);
    let db = store::connect(&url, config.database.max_connections)
        .await
        .with_context(|| format!("connecting to {}", redact(&url)))?;
    store::migrate(&db).await.context("running migrations")?;
    Ok(db)
}

/// Hides the password of a database URL in logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Periodic housekeeping that any node may do.
async fn janitor(db: DatabaseConnection) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        // Workbenches resume within minutes; a day of events is plenty.
        let day_ago = chrono::Utc::now() - chrono::Duration::days(1);
        if let Err(e) = crate::store::presence::purge_events(&db, day_ago).await {
            tracing::warn!(error = %e, "purging old agent events failed");
        }
        match auth_sessions::purge_expired(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "purged expired sign-in sessions"),
            Err(e) => tracing::warn!(error = %e, "purging expired sign-in sessions failed"),
        }
        // IM retries within minutes; a week of receipts is plenty.
        let before = chrono::Utc::now() - chrono::Duration::days(7);
        if let Err(e) = crate::store::sessions::purge_receipts(&db, before).await {
            tracing::warn!(error = %e, "purging old IM receipts failed");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://kefu:s3cret@db:5432/kefu"),
            "postgres://kefu:***@db:5432/kefu"
        );
        assert_eq!(
            super::redact("sqlite://data/kefu.db?mode=rwc"),
            "sqlite://data/kefu.db?mode=rwc"
        );
    }
}
