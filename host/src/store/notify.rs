//! Events stored on one node, announced to the others (PostgreSQL only): storing an
//! agent event notifies `CHANNEL` with `node:agent:seq` when the agent has a socket on
//! another node (`presence::push`), and each node listens here. A notification only
//! says where to look: the event itself is read from `agent_events`, so one lost while
//! a node reconnects is found by the socket's next read.

use sea_orm::sqlx::postgres::PgListener;
use uuid::Uuid;

/// The channel agent events are announced on.
pub const CHANNEL: &str = "kefu_agent";

/// One announced event: stored by `node`, for `agent`, at `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub node: Uuid,
    pub agent: Uuid,
    pub seq: i64,
}

impl Stored {
    /// Reads a notification's payload; anything else is `None`.
    pub fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(':');
        let stored = Self {
            node: Uuid::parse_str(parts.next()?).ok()?,
            agent: Uuid::parse_str(parts.next()?).ok()?,
            seq: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stored)
    }
}

/// Hands every event announced on `CHANNEL` to `on_event`, until the task is dropped;
/// a broken connection is made again.
pub async fn listen(url: &str, on_event: impl Fn(Stored)) {
    loop {
        let listener = async {
            let mut l = PgListener::connect(url).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(l)
        }
        .await;
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "listening for other nodes' events failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
        };
        loop {
            match listener.recv().await {
                Ok(n) => {
                    if let Some(stored) = Stored::parse(n.payload()) {
                        on_event(stored);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the notification connection broke; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_node_agent_and_seq() {
        let (node, agent) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            Stored::parse(&format!("{node}:{agent}:42")),
            Some(Stored {
                node,
                agent,
                seq: 42
            })
        );
        for bad in [
            "",
            "x:y:1",
            &format!("{node}:{agent}"),
            &format!("{node}:{agent}:1:2"),
            &format!("{node}:{agent}:seq"),
        ] {
            assert_eq!(Stored::parse(bad), None, "{bad}");
        }
    }
}
