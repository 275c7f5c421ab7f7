//! `/api/v1/plugins`: admins install, inspect, tune and remove flow modules, and try
//! one step of a module without a flow.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json, Query};
use crate::directory::FieldErrors;
use crate::flow::{self, ConfigProblem, ExitInfo, ModuleError, StepOutput};
use crate::plugin::registry::InstallError;
use crate::plugin::{FailureKind, Limits, LoadError, MetricsSnapshot, StepContext, StepFailure};
use crate::state::AppState;
use crate::store::plugins::PluginRow;
use crate::store::tenants;

pub fn router(max_component_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(install_plugin))
        .layer(DefaultBodyLimit::max(max_component_bytes))
        .routes(routes!(get_plugin, update_plugin, delete_plugin))
        .routes(routes!(validate_config))
        .routes(routes!(dry_run))
}

/// An installed flow module.
#[derive(Debug, Serialize, ToSchema)]
pub struct Plugin {
    pub id: Uuid,
    pub name: String,
    pub version: String,
    pub description: String,
    /// JSON Schema of a node's configuration.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    pub exits: Vec<ExitInfo>,
    /// Built-in modules come with kefu and serve every tenant.
    pub builtin: bool,
    pub enabled: bool,
    pub limits: Limits,
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Figures since this node started (only on `GET /plugins/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsSnapshot>,
}

impl From<PluginRow> for Plugin {
    fn from(r: PluginRow) -> Self {
        Self {
            id: r.id,
            name: r.info.name,
            version: r.info.version,
            description: r.info.description,
            config_schema: r.info.config_schema,
            exits: r.info.exits,
            builtin: r.builtin,
            enabled: r.enabled,
            limits: r.limits,
            sha256: r.sha256,
            size: r.size,
            created_at: r.created_at,
            updated_at: r.updated_at,
            metrics: None,
        }
    }
}

/// Built-in modules and the tenant's own, by name and version.
#[utoipa::path(
    get,
    path = "/api/v1/plugins",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<Plugin>), (status = 403, body = ErrorBody))
)]
async fn list_plugins(
    State(state): State<AppState>,
    Admin(auth): Admin,
) -> Result<axum::Json<Vec<Plugin>>> {
    let rows = state.plugins.list(auth.tenant).await?;
    Ok(axum::Json(rows.into_iter().map(Plugin::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InstallQuery {
    /// Install disabled (default: enabled at once).
    pub enabled: Option<bool>,
}

/// Installs a flow module: the body is the component (`application/wasm`). It is
/// inspected (its world, imports, and what compiling it would cost), compiled within
/// bounds, linked against what kefu provides and described before it is accepted,
/// and usable at once.
#[utoipa::path(
    post,
    path = "/api/v1/plugins",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(InstallQuery),
    request_body(content(
        (super::bodies::ComponentBytes = "application/wasm"),
        (super::bodies::ComponentBytes = "application/octet-stream"),
    )),
    responses(
        (status = 201, body = Plugin),
        (status = 409, description = "`plugin_exists`, `plugin_quota`", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "`not_wasm`, `not_a_component`, `invalid_component`, `unsupported_import`, `wrong_world`, `too_complex`, `compile_timeout` or `describe_failed`", body = ErrorBody),
        (status = 503, description = "`compiler_busy`: another upload of the tenant, or too many of all tenants, are being compiled", body = ErrorBody),
    )
)]
async fn install_plugin(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Query(query): Query<InstallQuery>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, axum::Json<Plugin>)> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = mime.split(';').next().unwrap_or_default().trim();
    if mime != "application/wasm" && mime != "application/octet-stream" {
        return Err(Error::bad_request_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the component as the body with Content-Type: application/wasm",
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge(state.config.plugins.max_component_bytes)
        } else {
            Error::bad_request("invalid_body", r.body_text())
        }
    })?;
    let row = state
        .plugins
        .install(auth.tenant, body.to_vec(), query.enabled.unwrap_or(true))
        .await
        .map_err(|e| match e {
            InstallError::Load(load @ LoadError::Busy(_)) => Error::Status {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: load.code(),
                message: load.to_string(),
            },
            InstallError::Load(load) => Error::Unprocessable {
                code: load.code(),
                message: load.to_string(),
            },
            InstallError::Store(s) => s.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(row.into())))
}

/// One module, with its metrics on this node.
#[utoipa::path(
    get,
    path = "/api/v1/plugins/{id}",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Plugin id")),
    responses((status = 200, body = Plugin), (status = 404, body = ErrorBody))
)]
async fn get_plugin(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Plugin>> {
    let row = state
        .plugins
        .get(auth.tenant, id)
        .await
        .or_not_found("plugin")?;
    let mut plugin = Plugin::from(row);
    plugin.metrics = Some(
        state
            .plugins
            .metrics(id)
            .await
            .unwrap_or_else(|| crate::plugin::ModuleMetrics::default().snapshot()),
    );
    Ok(axum::Json(plugin))
}

/// At least one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct PluginPatch {
    /// A disabled module cannot be used in new flow revisions.
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    /// New limits (all fields; omitted ones take their defaults), within the server maximum.
    #[schema(nullable = false)]
    pub limits: Option<Limits>,
}

/// Enables or disables a module, or changes its limits.
#[utoipa::path(
    patch,
    path = "/api/v1/plugins/{id}",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Plugin id")),
    request_body = PluginPatch,
    responses(
        (status = 200, body = Plugin),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`builtin_plugin`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_plugin(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(patch): Json<PluginPatch>,
) -> Result<axum::Json<Plugin>> {
    let mut errors = FieldErrors::new();
    if patch.enabled.is_none() && patch.limits.is_none() {
        errors.add("body", "nothing to change");
    }
    if let Some(limits) = &patch.limits {
        limits.validate(state.plugins.runtime().max_limits(), &mut errors);
    }
    errors.into_result()?;
    let row = state
        .plugins
        .update(auth.tenant, id, patch.enabled, patch.limits.as_ref())
        .await
        .or_not_found("plugin")?;
    Ok(axum::Json(row.into()))
}

/// Removes one of the tenant's own modules. Refused with 409 `plugin_in_use` while the
/// live revision of a flow runs it.
#[utoipa::path(
    delete,
    path = "/api/v1/plugins/{id}",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Plugin id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`builtin_plugin`, `plugin_in_use`", body = ErrorBody),
    )
)]
async fn delete_plugin(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<StatusCode> {
    crate::flow::catalog::delete_plugin(&state.db, &state.plugins, auth.tenant, id)
        .await
        .or_not_found("plugin")?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigCheck {
    /// A node configuration for this module.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// The answer of a configuration check.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigVerdict {
    pub valid: bool,
    pub problems: Vec<ConfigProblem>,
    /// The exits a node with this configuration can leave by (empty when invalid).
    pub exits: Vec<ExitInfo>,
    /// Whether such a node may wait for the user (a loop must pass through one).
    pub waits: bool,
}

/// Checks a node configuration with the module's own rules.
#[utoipa::path(
    post,
    path = "/api/v1/plugins/{id}/validate-config",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Plugin id")),
    request_body = ConfigCheck,
    responses((status = 200, body = ConfigVerdict), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn validate_config(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(check): Json<ConfigCheck>,
) -> Result<axum::Json<ConfigVerdict>> {
    let row = state
        .plugins
        .get(auth.tenant, id)
        .await
        .or_not_found("plugin")?;
    match state
        .plugins
        .validate_config(auth.tenant, &row, &check.config.to_string())
        .await
    {
        Ok(node) => Ok(axum::Json(ConfigVerdict {
            valid: true,
            problems: vec![],
            exits: node.exits,
            waits: node.waits,
        })),
        Err(StepFailure {
            module_error: Some(ModuleError::InvalidConfig(problems)),
            ..
        }) => Ok(axum::Json(ConfigVerdict {
            valid: false,
            problems,
            exits: vec![],
            waits: false,
        })),
        Err(failure) => Err(step_failed(failure)),
    }
}

/// What woke the module in a dry run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DryTrigger {
    Entered,
    UserMessage { text: String },
    WaitTimedOut,
    Resumed { reason: DryResume },
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DryResume {
    TransferFailed,
    AgentFinished,
    SessionEnded,
}

/// One step of a module outside any flow, as a module author or an admin tries it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub trigger: DryTrigger,
    /// Session variables, name → JSON value (at most 200).
    #[serde(default)]
    #[schema(schema_with = super::bodies::variables)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// The private state the module returned from its previous step.
    #[serde(default)]
    #[schema(schema_with = super::bodies::byte_list)]
    pub state: Option<Vec<u8>>,
    #[serde(default)]
    #[schema(maximum = 4294967295.0)]
    pub turn: u32,
    /// The end user's nickname.
    #[serde(default)]
    pub user_nickname: String,
}

/// Runs `prepare` and then one `step` with the module's limits and answers what the
/// module did. A contained failure is a 422 `step_failed` naming its kind.
#[utoipa::path(
    post,
    path = "/api/v1/plugins/{id}/dry-run",
    tag = "plugins",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Plugin id")),
    request_body = DryRun,
    responses((status = 200, body = StepOutput), (status = 404, body = ErrorBody), (status = 422, description = "`step_failed`", body = ErrorBody))
)]
async fn dry_run(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(run): Json<DryRun>,
) -> Result<axum::Json<StepOutput>> {
    if run.variables.len() > 200 {
        return Err(FieldErrors::single("variables", "at most 200 variables").into());
    }
    let row = state
        .plugins
        .get(auth.tenant, id)
        .await
        .or_not_found("plugin")?;
    let config = run.config.to_string();
    let node = state
        .plugins
        .validate_config(auth.tenant, &row, &config)
        .await
        .map_err(step_failed)?;
    let prepared = state
        .plugins
        .prepare(auth.tenant, &row, &config)
        .await
        .map_err(step_failed)?;
    let tenant = tenants::get(&state.db, auth.tenant).await?;
    let session_id = format!("dry-run-{}", Uuid::new_v4());
    let ctx = StepContext {
        tenant_id: auth.tenant.0.to_string(),
        time_zone: tenant.time_zone,
        session_id: session_id.clone(),
        node_id: "dry-run".into(),
        exits: Some(node.exits.into_iter().map(|e| e.name).collect()),
        turn_log: None,
    };
    let input = flow::StepInput {
        session: flow::SessionInfo {
            id: session_id,
            tenant_id: ctx.tenant_id.clone(),
            channel_id: String::new(),
            user_id: format!("admin-{}", auth.agent_id),
            user_nickname: run.user_nickname,
        },
        node_id: ctx.node_id.clone(),
        trigger: match run.trigger {
            DryTrigger::Entered => flow::Trigger::Entered,
            DryTrigger::UserMessage { text } => flow::Trigger::UserMessage(flow::UserMessage {
                elements: vec![flow::MessageElement::Text(text.clone())],
                text,
                sent_at_ms: Utc::now().timestamp_millis(),
            }),
            DryTrigger::WaitTimedOut => flow::Trigger::WaitTimedOut,
            DryTrigger::Resumed { reason } => flow::Trigger::Resumed(match reason {
                DryResume::TransferFailed => flow::ResumeReason::TransferFailed,
                DryResume::AgentFinished => flow::ResumeReason::AgentFinished,
                DryResume::SessionEnded => flow::ResumeReason::SessionEnded,
            }),
        },
        config,
        prepared: (!prepared.is_empty()).then(|| prepared.as_ref().clone()),
        variables: run
            .variables
            .into_iter()
            .map(|(name, value)| flow::Variable {
                name,
                value: value.to_string(),
            })
            .collect(),
        state: run.state,
        turn: run.turn,
    };
    let output = state
        .plugins
        .step(&row, &ctx, input)
        .await
        .map_err(step_failed)?;
    Ok(axum::Json(output))
}

fn step_failed(f: StepFailure) -> Error {
    let kind = match f.kind {
        FailureKind::ModuleError => "module_error",
        other => other.as_str(),
    };
    Error::Unprocessable {
        code: "step_failed",
        message: format!("{kind}: {}", f.message),
    }
}
