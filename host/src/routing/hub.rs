//! The agents' sockets on this node: each stored event is handed to every open
//! socket of its agent. A socket that falls behind, or an event that was stored on
//! another node, is caught up from the database: the in-memory path is only the
//! fast one.

use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::feeds::Feeds;

/// One stored event on its way to the sockets: its number and its JSON frame.
pub type Frame = (i64, Arc<str>);

#[derive(Debug)]
pub struct Hub {
    agents: Feeds<Uuid, Frame>,
}

/// Events buffered per agent for sockets that have not sent them yet. A socket further
/// behind reads the rest from the database; a small buffer keeps 10,000 sockets light.
const BUFFERED: usize = 32;

impl Default for Hub {
    fn default() -> Self {
        Self {
            agents: Feeds::new(BUFFERED),
        }
    }
}

impl Hub {
    /// Opens a feed of the agent's events for one socket.
    pub fn subscribe(&self, agent: Uuid) -> broadcast::Receiver<Frame> {
        self.agents.subscribe(agent)
    }

    /// Hands an event to the agent's sockets on this node, if any.
    pub fn deliver(&self, agent: Uuid, seq: i64, frame: Arc<str>) {
        self.agents.publish(&agent, (seq, frame));
    }

    /// Whether the agent has a socket on this node.
    pub fn has(&self, agent: Uuid) -> bool {
        self.agents.has(&agent)
    }

    /// Agents with a socket on this node.
    pub fn agents(&self) -> Vec<Uuid> {
        self.agents.keys()
    }

    /// Tells the agent's sockets that an event was stored elsewhere: they read it
    /// from the database (an empty frame means "look").
    pub fn poke(&self, agent: Uuid, seq: i64) {
        self.deliver(agent, seq, Arc::from(""));
    }
}
