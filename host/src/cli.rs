//! The `kefu` command line: `serve`, `migrate`, `admin create`, `im-app` and `module`
//! (in `cli_module/`).

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::{self, Application};
use crate::auth::password;
use crate::config::Config;
use crate::demo;
use crate::directory::{NewAgent, Role};
use crate::store::{StoreError, agents, channels, tenants};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "kefu",
    version,
    about = "Online customer service with sandboxed WebAssembly flow modules"
)]
pub struct Cli {
    /// Configuration file (default: ./kefu.toml when present). Also KEFU_CONFIG.
    #[arg(long, global = true, env = "KEFU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server (migrating the database first).
    Serve(ServeArgs),
    /// Applies pending database migrations, then exits.
    Migrate(StoreArgs),
    /// Manages admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Which tenant owns each IM app (SDKAppID), for the server's operator.
    #[command(subcommand, name = "im-app")]
    ImApp(ImAppCommand),
    /// Flow modules without a server: new, check, run, install.
    #[command(subcommand)]
    Module(crate::cli_module::ModuleCommand),
    /// Prints a UserSig (TLSSigAPIv2) for an identifier of an IM app, e.g. to try IM
    /// ingress: `sendmsg?…&identifier=administrator&usersig=…`.
    Usersig(crate::cli_module::UsersigArgs),
}

#[derive(Debug, Subcommand)]
enum ImAppCommand {
    /// Lists every claimed IM app with its owner and channel count.
    List(StoreArgs),
    /// Releases an IM app from the tenant that claimed it, deleting that tenant's
    /// channels of the app (with their sessions), so that another tenant can claim it.
    Release(ImAppReleaseArgs),
}

#[derive(Debug, Args)]
struct ImAppReleaseArgs {
    #[arg(long)]
    sdkappid: u64,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// Database URL (sqlite://… or postgres://…). Also KEFU_DATABASE_URL.
    #[arg(long)]
    database: Option<String>,
    /// Data directory. Also KEFU_DATA_DIR.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080. Also KEFU_LISTEN.
    #[arg(long)]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    store: StoreArgs,
    /// Seeds the demo tenant (idempotent). Password from KEFU_DEMO_PASSWORD, else
    /// generated and printed.
    #[arg(long)]
    demo: bool,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Creates an admin (and the tenant, if new). The password is read from
    /// KEFU_ADMIN_PASSWORD or, failing that, from standard input.
    Create(AdminCreateArgs),
}

#[derive(Debug, Args)]
struct AdminCreateArgs {
    /// Tenant slug: lower-case letters, digits and dashes.
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    email: String,
    /// Display name (default: the part of the e-mail before @).
    #[arg(long)]
    name: Option<String>,
    /// Tenant display name, when the tenant is created.
    #[arg(long)]
    tenant_name: Option<String>,
    /// Tenant time zone (IANA name), when the tenant is created.
    #[arg(long, default_value = "Asia/Shanghai")]
    time_zone: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Entry point of the binary.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref()).context("reading configuration")?;
    telemetry::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                args.store.apply(&mut config);
                if let Some(listen) = args.listen {
                    config.listen = listen;
                }
                serve(config, args.demo).await
            }
            Command::Migrate(store) => {
                store.apply(&mut config);
                app::open_database(&config).await?;
                println!(
                    "database at {} is up to date",
                    app::redact(&config.database_url())
                );
                Ok(())
            }
            Command::Admin(AdminCommand::Create(args)) => {
                args.store.apply(&mut config);
                create_admin(&config, args).await
            }
            Command::Module(command) => crate::cli_module::main(&config, command).await,
            Command::Usersig(args) => crate::cli_module::usersig(args),
            Command::ImApp(ImAppCommand::List(store)) => {
                store.apply(&mut config);
                let db = app::open_database(&config).await?;
                let apps = channels::apps(&db).await?;
                if apps.is_empty() {
                    println!("no IM app is claimed");
                }
                for (sdkappid, owner, count) in apps {
                    let tenant = tenants::get(&db, owner).await?;
                    println!("{sdkappid}\ttenant {}\t{count} channel(s)", tenant.slug);
                }
                Ok(())
            }
            Command::ImApp(ImAppCommand::Release(args)) => {
                args.store.apply(&mut config);
                let db = app::open_database(&config).await?;
                match channels::release_app(&db, args.sdkappid).await {
                    Ok(deleted) => {
                        println!(
                            "released IM app {}; deleted {deleted} channel(s) of its owner",
                            args.sdkappid
                        );
                        Ok(())
                    }
                    Err(StoreError::NotFound) => {
                        anyhow::bail!("no tenant owns IM app {}", args.sdkappid)
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    })
}

impl StoreArgs {
    fn apply(&self, config: &mut Config) {
        if let Some(db) = &self.database {
            config.database_url = Some(db.clone());
        }
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let state = app.state().clone();
    let url = match &state.config.public_url {
        Some(_) => state.config.public_url(),
        None => format!("http://{}", app.local_addr()?),
    };
    tracing::info!(address = %app.local_addr()?, database = %app::redact(&state.config.database_url()), "kefu listening");
    if demo {
        let seeded = demo::seed(
            &state.db,
            &state.plugins,
            std::env::var("KEFU_DEMO_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
        )
        .await?;
        print_demo_banner(&url, &seeded);
    }
    app.run_until_stopped(app::shutdown_signal()).await
}

fn print_demo_banner(url: &str, seeded: &demo::Seeded) {
    let password = match (&seeded.password, seeded.password_from_env) {
        (Some(_), true) => "the value of KEFU_DEMO_PASSWORD".to_owned(),
        (Some(p), false) => p.clone(),
        (None, _) => {
            "unchanged (printed when first seeded; set KEFU_DEMO_PASSWORD to choose one)".to_owned()
        }
    };
    let flow = match seeded.flow {
        Some((id, Some(revision))) => {
            format!("{} (id {id}, revision {revision} live)", demo::FLOW_NAME)
        }
        Some((id, None)) => format!(
            "{} (id {id}): draft only, the installed modules refused it (see the log)",
            demo::FLOW_NAME
        ),
        None => "none".to_owned(),
    };
    let c = &seeded.channel;
    let secret = if c.secret_from_env {
        "the value of KEFU_DEMO_IM_SECRET".to_owned()
    } else {
        c.secret_key.clone()
    };
    let egress = match &c.im_base_url {
        Some(base) => format!("{base}/v4/openim/sendmsg (KEFU_DEMO_IM_BASE_URL)"),
        None => "off (set KEFU_DEMO_IM_BASE_URL to send replies to IM)".to_owned(),
    };
    println!(
        "\nkefu is running with the demo tenant.\n\
         \n  Admin console  {url}/admin       the admin signs in here: instance {tenant}, {admin}, the password below\n\
         \n  Workbench      {url}/workbench   agents sign in here: instance {tenant}, agent1@demo.kefu, the password below\n\
         \n  API            {url}/api/v1\n  OpenAPI        {url}/api/v1/openapi.json\n  Health         {url}/healthz  {url}/readyz\n\
         \n  Tenant         {tenant}\n  Admin          {admin}\n  Agents         agent1@demo.kefu  agent2@demo.kefu  agent3@demo.kefu\n  Password       {password}\n  Flow           {flow}\n\
         \n  Log in:  curl -s {url}/api/v1/auth/login -H 'content-type: application/json' \\\n             -d '{{\"tenant\":\"{tenant}\",\"email\":\"{admin}\",\"password\":\"…\"}}'\n",
        tenant = demo::TENANT,
        admin = demo::ADMIN_EMAIL,
    );
    println!(
        "\n  Web chat       {url}/chat/{id}\n\
         \n  IM channel     account {account}, SDKAppID {sdkappid}, administrator {admin}\n  IM secret key  {secret}\n  IM ingress     POST {url}/v4/openim/sendmsg?sdkappid={sdkappid}&identifier={admin}&usersig=…&random=…&contenttype=json\n  IM callback    POST {url}/im/callback (token {token})\n  IM egress      {egress}",
        id = c.id,
        account = demo::CHANNEL_ACCOUNT,
        sdkappid = c.sdkappid,
        admin = c.admin_identifier,
        token = c.callback_token,
    );
}

async fn create_admin(config: &Config, args: AdminCreateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        tenants::valid_slug(&args.tenant),
        "--tenant must be 2-64 lower-case letters, digits or dashes"
    );
    let password = match std::env::var("KEFU_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => read_password()?,
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| args.email.split('@').next().unwrap_or("admin").to_owned());
    let mut new = NewAgent {
        email: args.email.clone(),
        name,
        nickname: None,
        phone: None,
        staff_no: None,
        role: Role::Admin,
        max_concurrent_sessions: crate::directory::agent::DEFAULT_MAX_CONCURRENT_SESSIONS,
        password,
        skill_groups: vec![],
    };
    if let Err(errors) = new.validate() {
        let lines: Vec<String> = errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        anyhow::bail!("{}", lines.join("; "));
    }
    let db = app::open_database(config).await?;
    let tenant_name = args
        .tenant_name
        .clone()
        .unwrap_or_else(|| args.tenant.clone());
    let (tenant, created) =
        tenants::ensure(&db, &args.tenant, &tenant_name, &args.time_zone).await?;
    let hash = password::hash_blocking(new.password.clone()).await?;
    match agents::create(&db, tenant.id, new, hash).await {
        Ok(agent) => {
            if created {
                println!("created tenant {}", tenant.slug);
            }
            println!(
                "created admin {} ({}) in tenant {}",
                agent.email, agent.id, tenant.slug
            );
            Ok(())
        }
        Err(StoreError::Conflict { message, .. }) => anyhow::bail!("{message}"),
        Err(e) => Err(e.into()),
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for the new admin (input is shown): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password given (KEFU_ADMIN_PASSWORD or standard input)"
    );
    Ok(password)
}
