//! Timers are rows, not tasks: a wait's deadline and the idle deadline are columns of
//! the session, and this ticker fires the ones that are due (on any node), so they
//! survive a restart. A wait that times out steps its node with `wait-timed-out`; a
//! silent user's session ends with 108.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::{Session, Status, end_status};
use crate::flow::Trigger;
use crate::flow::engine::Outcome;
use crate::store::sessions::{self as store};
use crate::store::{StoreError, TenantId};

use super::service::{MAX_ATTEMPTS, SessionError, Sessions};
use super::turn::apply_outcome;

/// Due timers handled at once.
const TIMERS_AT_ONCE: usize = 16;

impl Sessions {
    /// Fires every due timer once: waits that timed out step their node with
    /// `wait-timed-out`; silent users' sessions end with 108. Sessions are handled a
    /// few at a time, so that one whose turn is slow (or whose user's lock is held)
    /// does not hold up every other tenant's timers.
    pub async fn fire_due_timers(&self) -> Result<usize, StoreError> {
        let now = Utc::now();
        let waits = store::due_waits(&self.db, now, 200).await?;
        let mut fired = self.fire(waits, Timer::Wait).await;
        let idle = store::due_idle(&self.db, now, 200).await?;
        fired += self.fire(idle, Timer::Idle).await;
        Ok(fired)
    }

    async fn fire(&self, due: Vec<Session>, timer: Timer) -> usize {
        use futures_util::StreamExt;
        use futures_util::stream::FuturesUnordered;

        let mut due = due.into_iter();
        let mut running = FuturesUnordered::new();
        let mut fired = 0;
        loop {
            while running.len() < TIMERS_AT_ONCE {
                let Some(session) = due.next() else { break };
                running.push(self.fire_one(session, timer));
            }
            match running.next().await {
                Some(true) => fired += 1,
                Some(false) => {}
                None => return fired,
            }
        }
    }

    async fn fire_one(&self, session: Session, timer: Timer) -> bool {
        match self
            .on_timer(session.channel_id, &session.user_id, timer)
            .await
        {
            Ok(fired) => fired,
            Err(e) => {
                tracing::warn!(session = %session.id, ?timer, error = %e, "a due timer failed");
                false
            }
        }
    }

    /// Handles one timer under the user's lock, if it is still due.
    async fn on_timer(
        &self,
        channel_id: Uuid,
        user_id: &str,
        timer: Timer,
    ) -> Result<bool, SessionError> {
        let lock = self.lock_for(channel_id, user_id);
        let _guard = lock.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            let now = Utc::now();
            let Some(mut session) = store::find_active(&self.db, channel_id, user_id).await? else {
                return Ok(false);
            };
            let due = match timer {
                Timer::Wait => {
                    session.status == Status::InFlow && session.wait_until.is_some_and(|t| t <= now)
                }
                // A queued or offered session is governed by its queue's limits.
                Timer::Idle => {
                    matches!(
                        session.status,
                        Status::InFlow | Status::WithAgent | Status::Survey
                    ) && session.idle_deadline.is_some_and(|t| t <= now)
                }
            };
            if !due {
                return Ok(false);
            }
            let channel =
                crate::store::channels::get(&self.db, TenantId(session.tenant_id), channel_id)
                    .await?;
            let before = (
                session.status,
                session.agent_id.map(|a| (a, session.status)),
            );
            let mut messages = Vec::new();
            match timer {
                Timer::Wait => {
                    session.wait_until = None;
                    self.run(
                        &channel,
                        TenantId(session.tenant_id),
                        &mut session,
                        Trigger::WaitTimedOut,
                        now,
                        &mut messages,
                    )
                    .await?;
                }
                Timer::Idle => apply_outcome(
                    &mut session,
                    Outcome::Ended {
                        end_status: end_status::USER_TIMEOUT,
                    },
                    now,
                ),
            }
            match self
                .commit(&channel, session, false, messages, None, before, now)
                .await
            {
                Err(SessionError::Raced) => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(true),
            }
        }
        Err(SessionError::Busy)
    }

    /// Fires due timers every tick until the task is dropped.
    pub async fn run_timers(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.config.timer_tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.fire_due_timers().await {
                tracing::warn!(error = %e, "looking for due session timers failed");
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    Wait,
    Idle,
}
