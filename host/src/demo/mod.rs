//! The demo tenant: enough data to try kefu at once. Seeding is idempotent: it adds
//! what is missing and never duplicates.

use sea_orm::DatabaseConnection;

use crate::auth::password;
use crate::auth::service::random_secret;
use crate::directory::{Membership, NewAgent, NewSkillGroup, Role, RoutingSettings};
use crate::flow::catalog::{self, PublishError};
use crate::flow::graph::Graph;
use crate::plugin::Registry;
use crate::store::{TenantId, agents, flows, skill_groups, tenants};

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
    Ok(Seeded {
        flow,
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
