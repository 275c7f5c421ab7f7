//! The workbench sockets this node holds. Their rows in `agent_connections` are kept
//! fresh by one task per node (`Router::keep_alive_forever`), in one write per beat
//! however many agents are online, and the same beat ends the sockets whose sign-in
//! ended. Each socket still watches its own client: one that stops answering pings
//! closes itself and lets go of its row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

use crate::store::TenantId;

/// One held socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub connection: Uuid,
    pub tenant: TenantId,
    pub agent: Uuid,
    /// The sign-in (`auth_sessions`) whose token opened the socket.
    pub sign_in: Uuid,
}

#[derive(Debug, Default)]
pub struct Sockets {
    held: Mutex<HashMap<Uuid, (Held, Arc<Notify>)>>,
    /// The server is stopping: sockets let go without writing, and the node's rows
    /// go at once.
    stopping: std::sync::atomic::AtomicBool,
}

impl Sockets {
    /// Registers a socket; the answer is notified when the node wants it closed.
    pub fn hold(&self, held: Held) -> Arc<Notify> {
        let close = Arc::new(Notify::new());
        self.lock().insert(held.connection, (held, close.clone()));
        close
    }

    /// The socket closed.
    pub fn release(&self, connection: Uuid) {
        self.lock().remove(&connection);
    }

    /// Every socket held now.
    pub fn all(&self) -> Vec<Held> {
        self.lock().values().map(|(h, _)| *h).collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks one socket to close.
    pub fn close(&self, connection: Uuid) {
        if let Some((_, close)) = self.lock().get(&connection) {
            close.notify_one();
        }
    }

    /// Whether the server is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Asks every socket to close: the server is stopping.
    pub fn close_all(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for (_, close) in self.lock().values() {
            close.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Held, Arc<Notify>)>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(n: u128) -> Held {
        Held {
            connection: Uuid::from_u128(n),
            tenant: TenantId(Uuid::from_u128(100)),
            agent: Uuid::from_u128(200 + n),
            sign_in: Uuid::from_u128(300 + n),
        }
    }

    #[tokio::test]
    async fn a_closed_socket_is_told_and_a_released_one_is_forgotten() {
        let sockets = Sockets::default();
        let first = sockets.hold(held(1));
        let _second = sockets.hold(held(2));
        assert_eq!(sockets.len(), 2);
        sockets.close(Uuid::from_u128(1));
        // The permit is stored: a socket busy elsewhere sees it on its next wait.
        tokio::time::timeout(std::time::Duration::from_secs(1), first.notified())
            .await
            .expect("the socket was told to close");
        sockets.release(Uuid::from_u128(1));
        assert_eq!(sockets.all(), vec![held(2)]);
        assert!(!sockets.is_empty());
    }
}
