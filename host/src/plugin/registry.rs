//! The registry of installed modules: installs (validating through the runtime),
//! lists, enables and disables, deletes, and hands the flow engine a ready module.
//!
//! Installations live in the database (`store::plugins`), so every node sees what any
//! node installed; compiled modules are kept in memory per installation, loaded on
//! first use from the database bytes and the local compile cache.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::RwLock;
use uuid::Uuid;

use super::verdicts::{self, Verdicts};
use super::{
    Limits, LoadError, MetricsSnapshot, Module, Origin, Runtime, StepContext, StepFailure,
};
use crate::cache::Fresh;
use crate::flow::{NodeInfo, StepInput, StepOutput};
use crate::store::plugins::{self, PluginRow};
use crate::store::{StoreError, TenantId};

/// Modules one tenant may install, unless configured otherwise.
pub const MODULES_PER_TENANT: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A compiled module and the installation it was compiled for.
struct Loaded {
    sha256: String,
    module: Arc<Module>,
}

pub struct Registry {
    db: DatabaseConnection,
    runtime: Arc<Runtime>,
    loaded: RwLock<HashMap<Uuid, Loaded>>,
    prepared: std::sync::Mutex<PreparedCache>,
    verdicts: Verdicts,
    /// Most modules one tenant may install.
    quota: usize,
    /// Installations as flow steps read them, by tenant and id.
    rows: Fresh<(Uuid, Uuid), Arc<PluginRow>>,
}

/// Most bytes of prepared forms kept in memory.
const PREPARED_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// What `prepare` answered, per installation (its exact bytes) and configuration. A
/// published revision never changes its nodes' configurations or pinned modules, so
/// this is the per-revision cache the flow engine needs, shared by revisions whose
/// nodes are alike. The oldest entries go first when it is full.
#[derive(Default)]
struct PreparedCache {
    entries: HashMap<(String, [u8; 32]), Arc<Vec<u8>>>,
    order: std::collections::VecDeque<(String, [u8; 32])>,
    bytes: usize,
}

impl PreparedCache {
    fn get(&self, key: &(String, [u8; 32])) -> Option<Arc<Vec<u8>>> {
        self.entries.get(key).cloned()
    }

    fn insert(&mut self, key: (String, [u8; 32]), value: Arc<Vec<u8>>) {
        if value.len() > PREPARED_CACHE_BYTES / 4 || self.entries.contains_key(&key) {
            return;
        }
        self.bytes += value.len();
        self.entries.insert(key.clone(), value);
        self.order.push_back(key);
        while self.bytes > PREPARED_CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.entries.remove(&oldest) {
                self.bytes -= v.len();
            }
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    pub fn new(db: DatabaseConnection, runtime: Arc<Runtime>) -> Self {
        Self {
            db,
            runtime,
            loaded: RwLock::new(HashMap::new()),
            prepared: std::sync::Mutex::new(PreparedCache::default()),
            verdicts: Verdicts::default(),
            quota: MODULES_PER_TENANT,
            rows: Fresh::default(),
        }
    }

    /// Sets how many modules one tenant may install.
    pub fn with_quota(mut self, modules_per_tenant: usize) -> Self {
        self.quota = modules_per_tenant;
        self
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Installs the modules built from `plugins/` and loads every installation, so
    /// the first session does not pay for compilation.
    pub async fn start(&self, builtins: &[(&str, &str)]) -> anyhow::Result<()> {
        for (crate_name, path) in builtins {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(module = crate_name, path, error = %e, "built-in module missing; rebuild kefu");
                    continue;
                }
            };
            let started = std::time::Instant::now();
            let module = self
                .runtime
                .load(
                    Arc::new(bytes.clone()),
                    &Limits::default(),
                    Origin::Builtin,
                    None,
                )
                .await
                .map_err(|e| anyhow::anyhow!("built-in module {crate_name} does not load: {e}"))?;
            self.runtime.keep_compiled(&module);
            let row =
                plugins::upsert_builtin(&self.db, &module.info, &module.sha256, &bytes).await?;
            tracing::info!(module = %format!("{}@{}", row.info.name, row.info.version), ms = started.elapsed().as_millis() as u64, "built-in module ready");
            self.loaded.write().await.insert(
                row.id,
                Loaded {
                    sha256: module.sha256.clone(),
                    module: Arc::new(module),
                },
            );
        }
        for row in plugins::all(&self.db).await? {
            if let Err(e) = self.module(&row).await {
                tracing::error!(plugin = %row.id, module = %row.info.name, error = %e, "installed module does not load");
            }
        }
        Ok(())
    }

    /// Validates and installs a component for a tenant. It is usable at once. Its
    /// compiled form is kept only once it is installed: a refused component leaves
    /// nothing behind.
    pub async fn install(
        &self,
        tenant: TenantId,
        bytes: Vec<u8>,
        enabled: bool,
    ) -> Result<PluginRow, InstallError> {
        if plugins::count_installed(&self.db, tenant).await? >= self.quota {
            return Err(StoreError::conflict(
                "plugin_quota",
                format!(
                    "a tenant may install at most {} modules; delete one first",
                    self.quota
                ),
            )
            .into());
        }
        let bytes = Arc::new(bytes);
        let owner = tenant.0.to_string();
        let module = self
            .runtime
            .load(
                bytes.clone(),
                &Limits::default(),
                Origin::Tenant(&owner),
                None,
            )
            .await?;
        // An interpreter starts with the deadline it needs; an admin may change it.
        let limits = Limits::for_component(super::inspect::interpreter(&bytes));
        let row = plugins::insert(
            &self.db,
            Some(tenant),
            &module.info,
            &module.sha256,
            &bytes,
            enabled,
            &limits,
        )
        .await?;
        self.runtime.keep_compiled(&module);
        self.loaded.write().await.insert(
            row.id,
            Loaded {
                sha256: module.sha256.clone(),
                module: Arc::new(module),
            },
        );
        tracing::info!(plugin = %row.id, module = %format!("{}@{}", row.info.name, row.info.version), "module installed");
        Ok(row)
    }

    pub async fn list(&self, tenant: TenantId) -> Result<Vec<PluginRow>, StoreError> {
        plugins::list_visible(&self.db, tenant).await
    }

    pub async fn get(&self, tenant: TenantId, id: Uuid) -> Result<PluginRow, StoreError> {
        plugins::get_visible(&self.db, tenant, id).await
    }

    /// The installation a flow step runs, at most a second old: every step of every
    /// session reads it, and it changes only when an admin changes the module (this
    /// node drops its copies then; other nodes within the second).
    pub async fn get_for_step(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Arc<PluginRow>, StoreError> {
        self.rows
            .get_or_load((tenant.0, id), || async {
                plugins::get_visible(&self.db, tenant, id)
                    .await
                    .map(Arc::new)
            })
            .await
    }

    /// Metrics of an installation since this node started, if it ran here.
    pub async fn metrics(&self, id: Uuid) -> Option<MetricsSnapshot> {
        self.loaded
            .read()
            .await
            .get(&id)
            .map(|l| l.module.metrics.snapshot())
    }

    pub async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        enabled: Option<bool>,
        limits: Option<&Limits>,
    ) -> Result<PluginRow, StoreError> {
        let row = plugins::update(&self.db, tenant, id, enabled, limits).await;
        self.rows.clear();
        row
    }

    pub async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let (row, unused) = plugins::delete(&self.db, tenant, id).await?;
        self.rows.clear();
        self.loaded.write().await.remove(&row.id);
        if unused {
            self.runtime.forget_compiled(&row.sha256);
        }
        tracing::info!(plugin = %id, module = %format!("{}@{}", row.info.name, row.info.version), "module deleted");
        Ok(())
    }

    /// The compiled module of an installation, loading it on first use.
    pub async fn module(&self, row: &PluginRow) -> anyhow::Result<Arc<Module>> {
        if let Some(l) = self.loaded.read().await.get(&row.id)
            && l.sha256 == row.sha256
        {
            return Ok(l.module.clone());
        }
        let bytes = plugins::blob(&self.db, &row.sha256).await?;
        let owner = row.tenant.map(|t| t.0.to_string());
        let origin = match &owner {
            Some(t) => Origin::Tenant(t),
            None => Origin::Builtin,
        };
        let module = self
            .runtime
            .load(Arc::new(bytes), &row.limits, origin, Some(row.info.clone()))
            .await?;
        self.runtime.keep_compiled(&module);
        let module = Arc::new(module);
        self.loaded.write().await.insert(
            row.id,
            Loaded {
                sha256: row.sha256.clone(),
                module: module.clone(),
            },
        );
        Ok(module)
    }

    /// The compiled module, or a failure a caller can report like any other step failure.
    async fn loaded_for_call(&self, row: &PluginRow) -> Result<Arc<Module>, StepFailure> {
        self.module(row).await.map_err(|e| {
            StepFailure::new(
                super::FailureKind::Trap,
                format!("the module cannot be loaded: {e}"),
            )
        })
    }

    /// Runs one step of an installation with its limits.
    pub async fn step(
        &self,
        row: &PluginRow,
        ctx: &StepContext,
        input: StepInput,
    ) -> Result<StepOutput, StepFailure> {
        let module = self.loaded_for_call(row).await?;
        self.runtime.step(&module, ctx, &row.limits, input).await
    }

    /// Checks a node configuration with the module's own `validate-config`, answering
    /// the exits of a node so configured and whether it waits. Answers are kept
    /// (`verdicts.rs`): the same component asked the same thing is not asked again.
    pub async fn validate_config(
        &self,
        tenant: TenantId,
        row: &PluginRow,
        config: &str,
    ) -> Result<NodeInfo, StepFailure> {
        let key = verdicts::key("validate-config", &row.sha256, &row.limits, config);
        if let Some(answer) = self.verdicts.configs.get(&key) {
            return answer;
        }
        let module = self.loaded_for_call(row).await?;
        let answer = self
            .runtime
            .validate_config(&module, &setup_context(tenant), &row.limits, config)
            .await;
        self.verdicts.configs.put(key, &answer);
        answer
    }

    /// The prepared form of a node configuration: `prepare` runs once per module and
    /// configuration, and later calls are answered from memory; so, for a while, is a
    /// failure, so that a flow looping through a failing node does not run it again
    /// on every pass.
    pub async fn prepare(
        &self,
        tenant: TenantId,
        row: &PluginRow,
        config: &str,
    ) -> Result<Arc<Vec<u8>>, StepFailure> {
        use sha2::Digest;
        let key = (
            row.sha256.clone(),
            sha2::Sha256::digest(config.as_bytes()).into(),
        );
        if let Some(hit) = self.lock_prepared().get(&key) {
            return Ok(hit);
        }
        let failed = verdicts::key("prepare", &row.sha256, &row.limits, config);
        if let Some(Err(failure)) = self.verdicts.prepares.get(&failed) {
            return Err(failure);
        }
        let module = self.loaded_for_call(row).await?;
        let prepared = self
            .runtime
            .prepare(&module, &setup_context(tenant), &row.limits, config)
            .await;
        match prepared {
            Ok(prepared) => {
                let prepared = Arc::new(prepared);
                self.lock_prepared().insert(key, prepared.clone());
                Ok(prepared)
            }
            Err(failure) => {
                self.verdicts.prepares.put(failed, &Err(failure.clone()));
                Err(failure)
            }
        }
    }

    fn lock_prepared(&self) -> std::sync::MutexGuard<'_, PreparedCache> {
        self.prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Who a configuration check or a `prepare` runs for: the tenant's share of the
/// instance slots pays for it.
fn setup_context(tenant: TenantId) -> StepContext {
    StepContext {
        tenant_id: tenant.0.to_string(),
        ..StepContext::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(module: &str, n: u8) -> (String, [u8; 32]) {
        (module.to_owned(), [n; 32])
    }

    #[test]
    fn prepared_forms_are_kept_per_module_and_configuration_within_a_bound() {
        let mut cache = PreparedCache::default();
        let big = Arc::new(vec![0u8; PREPARED_CACHE_BYTES / 4]);
        cache.insert(key("a", 1), Arc::new(vec![1]));
        assert_eq!(cache.get(&key("a", 1)).as_deref(), Some(&vec![1]));
        assert!(cache.get(&key("a", 2)).is_none());
        assert!(cache.get(&key("b", 1)).is_none());
        for n in 2..=6 {
            cache.insert(key("a", n), big.clone());
        }
        // Full: the oldest went first.
        assert!(cache.get(&key("a", 1)).is_none());
        assert!(cache.get(&key("a", 2)).is_none());
        assert!(cache.get(&key("a", 3)).is_some());
        assert!(cache.get(&key("a", 6)).is_some());
        assert!(cache.bytes <= PREPARED_CACHE_BYTES);
        // Larger than a quarter of the bound: answered, never kept.
        cache.insert(
            key("c", 1),
            Arc::new(vec![0u8; PREPARED_CACHE_BYTES / 4 + 1]),
        );
        assert!(cache.get(&key("c", 1)).is_none());
    }
}
