//! The agents' sockets on this node: each stored event is handed to every open
//! socket of its agent. A socket that falls behind, or an event that was stored on
//! another node, is caught up from the database: the in-memory path is only the
//! fast one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use uuid::Uuid;

/// One stored event on its way to the sockets: its number and its JSON frame.
pub type Frame = (i64, Arc<str>);

#[derive(Debug, Default)]
pub struct Hub {
    agents: Mutex<HashMap<Uuid, broadcast::Sender<Frame>>>,
}

impl Hub {
    /// Opens a feed of the agent's events for one socket.
    pub fn subscribe(&self, agent: Uuid) -> broadcast::Receiver<Frame> {
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        agents
            .entry(agent)
            .or_insert_with(|| broadcast::channel(256).0)
            .subscribe()
    }

    /// Hands an event to the agent's sockets on this node, if any.
    pub fn deliver(&self, agent: Uuid, seq: i64, frame: Arc<str>) {
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = agents.get(&agent) {
            if tx.receiver_count() == 0 {
                agents.remove(&agent);
            } else {
                let _ = tx.send((seq, frame));
            }
        }
    }

    /// Whether the agent has a socket on this node.
    pub fn has(&self, agent: Uuid) -> bool {
        self.agents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&agent)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Agents with a socket on this node.
    pub fn agents(&self) -> Vec<Uuid> {
        self.agents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(a, _)| *a)
            .collect()
    }

    /// Tells the agent's sockets that an event was stored elsewhere: they read it
    /// from the database (an empty frame means "look").
    pub fn poke(&self, agent: Uuid, seq: i64) {
        self.deliver(agent, seq, Arc::from(""));
    }
}
