//! The demo tenant: enough data to try kefu at once. Seeding is idempotent: it adds
//! what is missing and never duplicates.

use sea_orm::DatabaseConnection;

use crate::auth::password;
use crate::auth::service::random_secret;
use crate::directory::{
    ChannelPatch, Membership, NewAgent, NewChannel, NewSkillGroup, Role, RoutingSettings,
};
use crate::flow::catalog::{self, PublishError};
use crate::flow::graph::Graph;
use crate::plugin::Registry;
use crate::store::{TenantId, agents, channels, flows, skill_groups, tenants};

pub const TENANT: &str = "demo";
pub const ADMIN_EMAIL: &str = "admin@demo.kefu";
/// The demo tenant's conversation service flow.
pub const FLOW_NAME: &str = "演示服务流 Demo service flow";

/// The demo flow: welcome → service time → menu → text bot → transfer → survey → end.
/// `@presales` stands for the id of the pre-sales skill group.
const FLOW_GRAPH: &str = include_str!("flow.json");

/// What seeding did, for the start-up banner.
#[derive(Debug)]
pub struct Seeded {
    pub tenant: TenantId,
    /// The password of every demo account, when this run set it.
    pub password: Option<String>,
    /// Whether the password came from `KEFU_DEMO_PASSWORD`.
    pub password_from_env: bool,
    /// The demo flow and its live revision (none when it could not be published).
    pub flow: Option<(uuid::Uuid, Option<i32>)>,
    /// The demo channel, wired to the flow, the web chat and (optionally) IM.
    pub channel: DemoChannel,
}

/// The demo channel's account.
pub const CHANNEL_ACCOUNT: &str = "kefu_demo";
/// The demo channel's name.
pub const CHANNEL_NAME: &str = "演示渠道 Demo channel";
/// The demo IM app when `KEFU_DEMO_SDKAPPID` is not set.
pub const DEFAULT_SDKAPPID: u64 = 1_400_000_000;

/// What the banner shows of the demo channel.
#[derive(Debug)]
pub struct DemoChannel {
    pub id: uuid::Uuid,
    pub sdkappid: u64,
    pub admin_identifier: String,
    pub secret_key: String,
    /// Whether the secret key came from `KEFU_DEMO_IM_SECRET`.
    pub secret_from_env: bool,
    pub callback_token: String,
    pub im_base_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Creates the demo channel, or brings it in line with the environment:
/// `KEFU_DEMO_SDKAPPID`, `KEFU_DEMO_IM_SECRET` (otherwise a generated key, kept) and
/// `KEFU_DEMO_IM_BASE_URL` (IM egress, off when unset).
async fn seed_channel(
    db: &DatabaseConnection,
    tenant: TenantId,
    flow_id: Option<uuid::Uuid>,
    fallback_group: uuid::Uuid,
) -> anyhow::Result<DemoChannel> {
    let sdkappid = match env("KEFU_DEMO_SDKAPPID") {
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && *n <= u64::from(u32::MAX))
            .ok_or_else(|| anyhow::anyhow!("KEFU_DEMO_SDKAPPID must be an IM SDKAppID"))?,
        None => DEFAULT_SDKAPPID,
    };
    let secret_env = env("KEFU_DEMO_IM_SECRET");
    let base_url = env("KEFU_DEMO_IM_BASE_URL");
    let channel = match channels::find_by_name(db, tenant, CHANNEL_NAME).await? {
        Some(existing) => {
            let mut patch = ChannelPatch {
                im_base_url: Some(base_url),
                ..ChannelPatch::default()
            };
            if let Some(secret) = &secret_env {
                patch.secret_key = Some(secret.clone());
            }
            if existing.flow_id.is_none() && flow_id.is_some() {
                patch.flow_id = Some(flow_id);
            }
            patch
                .validate()
                .map_err(|e| anyhow::anyhow!("demo channel: {e:?}"))?;
            let updated = channels::update(db, tenant, existing.id, &patch).await?;
            if updated.sdkappid != sdkappid {
                // The app is part of the channel's identity: a new one is a new channel.
                channels::delete(db, tenant, existing.id).await?;
                create_channel(
                    db,
                    tenant,
                    sdkappid,
                    secret_env.clone(),
                    updated.im_base_url,
                    flow_id,
                    fallback_group,
                )
                .await?
            } else {
                updated
            }
        }
        None => {
            create_channel(
                db,
                tenant,
                sdkappid,
                secret_env.clone(),
                base_url,
                flow_id,
                fallback_group,
            )
            .await?
        }
    };
    Ok(DemoChannel {
        id: channel.id,
        sdkappid: channel.sdkappid,
        admin_identifier: channel.admin_identifier.clone(),
        secret_key: channel.secret_key.clone(),
        secret_from_env: secret_env.is_some(),
        callback_token: channel.callback_token.clone(),
        im_base_url: channel.im_base_url.clone(),
    })
}

async fn create_channel(
    db: &DatabaseConnection,
    tenant: TenantId,
    sdkappid: u64,
    secret: Option<String>,
    base_url: Option<String>,
    flow_id: Option<uuid::Uuid>,
    fallback_group: uuid::Uuid,
) -> anyhow::Result<crate::directory::Channel> {
    let mut new = NewChannel {
        name: CHANNEL_NAME.into(),
        account: CHANNEL_ACCOUNT.into(),
        sdkappid,
        admin_identifier: "administrator".into(),
        secret_key: secret,
        callback_token: None,
        flow_id,
        default_skill_group_id: Some(fallback_group),
        im_base_url: base_url,
        webchat_enabled: true,
        webchat_require_identity: false,
        idle_timeout_secs: crate::directory::channel::DEFAULT_IDLE_TIMEOUT_SECS,
    };
    new.validate()
        .map_err(|e| anyhow::anyhow!("demo channel: {e:?}"))?;
    let secrets = crate::directory::ChannelSecrets {
        secret_key: match &new.secret_key {
            Some(s) => s.clone(),
            None => random_secret(24)?,
        },
        callback_token: random_secret(24)?,
        webchat_identity_secret: random_secret(24)?,
    };
    Ok(channels::create(db, tenant, &new, &secrets).await?)
}

/// Seeds the demo tenant. With `password` (from `KEFU_DEMO_PASSWORD`) every demo
/// account gets that password, also on later starts; without it, accounts created now
/// get a generated one, and existing accounts keep theirs.
pub async fn seed(
    db: &DatabaseConnection,
    registry: &Registry,
    password: Option<String>,
) -> anyhow::Result<Seeded> {
    let (tenant, _) = tenants::ensure(db, TENANT, "kefu demo", "Asia/Shanghai").await?;
    let groups = [
        (
            "售前咨询 Pre-sales",
            "Questions before buying: products, prices, stock.",
        ),
        (
            "售后服务 After-sales",
            "Orders, deliveries, returns and refunds.",
        ),
    ];
    let mut group_ids = Vec::new();
    for (name, description) in groups {
        let group = match skill_groups::find_by_name(db, tenant.id, name).await? {
            Some(g) => g,
            None => {
                skill_groups::create(
                    db,
                    tenant.id,
                    NewSkillGroup {
                        name: name.into(),
                        description: description.into(),
                        routing: RoutingSettings::default(),
                    },
                )
                .await?
            }
        };
        group_ids.push(group.id);
    }
    let from_env = password.is_some();
    let generated = match password {
        Some(p) => p,
        None => random_secret(12)?,
    };
    let hash = password::hash_blocking(generated.clone()).await?;
    let mut created_any = false;
    let accounts = [
        (ADMIN_EMAIL, "Demo Admin", "管理员", Role::Admin, vec![]),
        (
            "agent1@demo.kefu",
            "Agent One",
            "小一",
            Role::Agent,
            vec![(0, 1), (1, 5)],
        ),
        (
            "agent2@demo.kefu",
            "Agent Two",
            "小二",
            Role::Agent,
            vec![(0, 5)],
        ),
        (
            "agent3@demo.kefu",
            "Agent Three",
            "小三",
            Role::Agent,
            vec![(1, 1)],
        ),
    ];
    for (i, (email, name, nickname, role, memberships)) in accounts.into_iter().enumerate() {
        match agents::credentials(db, tenant.id, email).await? {
            Some(existing) => {
                if from_env && !password::verify(&generated, &existing.password_hash) {
                    agents::set_password(db, tenant.id, existing.agent_id, hash.clone()).await?;
                }
            }
            None => {
                let new = NewAgent {
                    email: email.into(),
                    name: name.into(),
                    nickname: Some(nickname.into()),
                    phone: None,
                    staff_no: Some(format!("{:04}", i + 1)),
                    role,
                    max_concurrent_sessions: 3,
                    password: generated.clone(),
                    skill_groups: memberships
                        .into_iter()
                        .map(|(g, priority)| Membership {
                            skill_group_id: group_ids[g],
                            priority,
                        })
                        .collect(),
                };
                agents::create(db, tenant.id, new, hash.clone()).await?;
                created_any = true;
            }
        }
    }
    let flow = seed_flow(db, registry, tenant.id, group_ids[0]).await?;
    let channel = seed_channel(db, tenant.id, flow.map(|(id, _)| id), group_ids[0]).await?;
    Ok(Seeded {
        flow,
        channel,
        tenant: tenant.id,
        password: (from_env || created_any).then_some(generated),
        password_from_env: from_env,
    })
}

/// Creates and publishes the demo flow unless the tenant already has it (an admin may
/// have changed it since: it is left alone). A flow the installed modules refuse is
/// kept as a draft and the problems are logged.
async fn seed_flow(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    presales: uuid::Uuid,
) -> anyhow::Result<Option<(uuid::Uuid, Option<i32>)>> {
    if let Some(existing) = flows::find_by_name(db, tenant, FLOW_NAME).await? {
        return Ok(Some((existing.id, existing.live_revision)));
    }
    let graph: Graph =
        serde_json::from_str(&FLOW_GRAPH.replace("@presales", &presales.to_string()))?;
    let flow = flows::create(
        db,
        tenant,
        FLOW_NAME,
        "Welcome, service time, menu, FAQ bot, transfer to an agent, satisfaction survey.",
        &graph,
    )
    .await?;
    match catalog::publish(db, registry, tenant, flow.id, "demo seed", None).await {
        Ok(revision) => Ok(Some((flow.id, Some(revision.summary.number)))),
        Err(PublishError::Invalid(problems)) => {
            for p in &problems {
                tracing::warn!(path = %p.path, problem = %p.message, "the demo flow is not valid");
            }
            Ok(Some((flow.id, None)))
        }
        Err(PublishError::Store(e)) => Err(e.into()),
    }
}
