//! The state every request handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::service::Authenticator;
use crate::cache::Fresh;
use crate::config::Config;
use crate::directory::Channel;
use crate::im::webchat::AddressGuard;
use crate::plugin::Registry;
use crate::routing::Router;
use crate::sessions::Sessions;

/// Cheap to clone: one `Arc`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: DatabaseConnection,
    pub config: Config,
    pub auth: Authenticator,
    pub plugins: Arc<Registry>,
    pub sessions: Arc<Sessions>,
    pub router: Arc<Router>,
    /// The channels of each IM app (by SDKAppID) as ingress reads them on every
    /// request; handlers that change a channel clear it.
    pub im_apps: Fresh<u64, Arc<Vec<Channel>>>,
    /// Bumped whenever a channel is changed here: copies of channels kept elsewhere
    /// (the IM egress's) are read again.
    pub channels_generation: std::sync::atomic::AtomicU64,
    /// The administrators' UserSigs that ingress verified, until they expire.
    pub im_sigs: crate::im::usersig::Remembered,
    /// How many web chat sockets each client address holds and opens.
    pub webchat: Arc<AddressGuard>,
    /// Live figures, and the live streams and record exports in progress.
    pub records: Arc<crate::records::Live>,
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        config: Config,
        auth: Authenticator,
        plugins: Arc<Registry>,
        sessions: Arc<Sessions>,
        router: Arc<Router>,
    ) -> Self {
        let webchat = Arc::new(AddressGuard::new(
            config.webchat.max_sockets_per_address,
            config.webchat.connects_per_minute_per_address,
        ));
        Self(Arc::new(Inner {
            db,
            config,
            auth,
            plugins,
            sessions,
            webchat,
            router,
            im_apps: Fresh::default(),
            im_sigs: Default::default(),
            channels_generation: Default::default(),
            records: Arc::default(),
        }))
    }
}

impl AppState {
    /// A channel was created, changed or deleted here: this node's copies of channels
    /// are dropped at once.
    pub fn channels_changed(&self) {
        self.im_apps.clear();
        self.channels_generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
