//! `transfer`: the queue looked at first (nobody online, no such group), the queued
//! message with the queue's figures, the transfer at its priority, then the way back:
//! failed, or done after the agent.

use kefu::flow::{QueueStatus, ResumeReason};
use kefu_tests::modules::Harness;
use serde_json::json;

fn staffed(waiting: u32, wait_secs: u32) -> QueueStatus {
    QueueStatus {
        agents_online: 2,
        agents_free: 0,
        sessions_waiting: waiting,
        estimated_wait_secs: wait_secs,
    }
}

#[tokio::test]
async fn queues_with_the_figures_then_is_done_after_the_agent() {
    let h = Harness::new();
    h.world.set_queue("after-sales", staffed(3, 150));
    let mut c = h
        .conversation(
            "transfer",
            json!({
                "skill_group_id": "after-sales",
                "priority": 8,
                "queued_message": "${SystemClientNickName}，前面还有 ${WaitNo} 人，约 ${EstimatedWait} 分钟（${EstimatedWaitSecs} 秒）。"
            }),
        )
        .await;
    let step = c.enter().await;
    assert_eq!(step.texts(), ["小明，前面还有 3 人，约 3 分钟（150 秒）。"]);
    assert_eq!(step.transfer(), Some(("after-sales".to_owned(), 8)));
    assert!(step.suspended());

    // Messages while queued change nothing.
    let step = c.say("还要等多久？").await;
    assert!(step.suspended());
    assert!(step.0.actions.is_empty());

    let step = c.resume(ResumeReason::AgentFinished).await;
    assert_eq!(step.exit(), Some("done"));
    assert!(step.texts().is_empty());

    c.enter().await;
    assert_eq!(
        c.resume(ResumeReason::SessionEnded).await.exit(),
        Some("done")
    );
}

#[tokio::test]
async fn uses_the_default_priority_and_message() {
    let h = Harness::new();
    h.world.set_queue("g1", staffed(0, 0));
    let mut c = h
        .conversation("transfer", json!({"skill_group_id": "g1"}))
        .await;
    let step = c.enter().await;
    assert_eq!(step.transfer(), Some(("g1".to_owned(), 5)));
    assert_eq!(
        step.texts(),
        ["正在为您转接人工客服，您前面还有 0 人，预计等待 0 分钟。"]
    );
}

#[tokio::test]
async fn a_failed_transfer_says_so_and_leaves_by_failed() {
    let h = Harness::new();
    h.world.set_queue("g1", staffed(1, 60));
    let mut c = h
        .conversation(
            "transfer",
            json!({"skill_group_id": "g1", "queued_message": "", "failed_message": "排队超时，请稍后再试。"}),
        )
        .await;
    let step = c.enter().await;
    assert!(step.texts().is_empty());
    assert!(step.transfer().is_some());
    let step = c.resume(ResumeReason::TransferFailed).await;
    assert_eq!(step.exit(), Some("failed"));
    assert_eq!(step.texts(), ["排队超时，请稍后再试。"]);
}

#[tokio::test]
async fn leaves_by_no_agent_when_nobody_is_online() {
    let h = Harness::new();
    h.world.set_queue(
        "night",
        QueueStatus {
            sessions_waiting: 4,
            ..Default::default()
        },
    );
    let mut c = h
        .conversation(
            "transfer",
            json!({"skill_group_id": "night", "no_agent_message": "客服都下班了，${SystemClientNickName}。"}),
        )
        .await;
    let step = c.enter().await;
    assert_eq!(step.exit(), Some("no-agent"));
    assert_eq!(step.texts(), ["客服都下班了，小明。"]);
    assert_eq!(step.transfer(), None);

    // Unless told to queue anyway.
    let mut c = h
        .conversation(
            "transfer",
            json!({"skill_group_id": "night", "require_online_agent": false}),
        )
        .await;
    let step = c.enter().await;
    assert!(step.suspended());
    assert_eq!(step.transfer(), Some(("night".to_owned(), 5)));
}

#[tokio::test]
async fn takes_the_group_from_a_variable() {
    let h = Harness::new();
    h.world.set_queue("vip", staffed(0, 30));
    let config =
        json!({"skill_group_variable": "group", "priority": 10, "queued_message": "请稍候"});

    let mut c = h.conversation("transfer", config.clone()).await;
    c.set_variable("group", json!("vip"));
    let step = c.enter().await;
    assert_eq!(step.transfer(), Some(("vip".to_owned(), 10)));
    assert_eq!(step.texts(), ["请稍候"]);

    // A missing variable, one that is not a string, or a group that does not
    // exist: nobody can take the session.
    for value in [None, Some(json!(42)), Some(json!("")), Some(json!("nope"))] {
        let mut c = h.conversation("transfer", config.clone()).await;
        if let Some(value) = value.clone() {
            c.set_variable("group", value);
        }
        let step = c.enter().await;
        assert_eq!(step.exit(), Some("no-agent"), "{value:?}");
        assert_eq!(step.transfer(), None);
        assert_eq!(step.texts(), ["当前没有客服在线，请稍后再试。"]);
    }
}

#[tokio::test]
async fn refuses_bad_configuration_with_precise_paths() {
    let h = Harness::new();
    let exits = h
        .validate("transfer", &json!({"skill_group_id": "g1"}))
        .await
        .unwrap();
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["done", "failed", "no-agent"]);

    let found = h.validate("transfer", &json!({})).await.unwrap_err();
    assert_eq!(found[0].path, "");
    assert_eq!(
        found[0].message,
        "set either `skill_group_id` or `skill_group_variable`"
    );

    let found = h
        .validate("transfer", &json!({"skill_group_id": "g1", "priority": -1}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/priority");

    let found = h
        .validate("transfer", &json!({"skill_group_id": "g1", "queue": "x"}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/queue");

    let found = h
        .validate(
            "transfer",
            &json!({
                "skill_group_id": "x".repeat(65),
                "skill_group_variable": "group",
                "priority": 11,
                "no_agent_message": "y".repeat(1001)
            }),
        )
        .await
        .unwrap_err();
    let found: Vec<(String, String)> = found.into_iter().map(|p| (p.path, p.message)).collect();
    assert_eq!(
        found,
        [
            (
                "/skill_group_id".to_owned(),
                "is 65 characters long; at most 64 are allowed".to_owned()
            ),
            (
                "/no_agent_message".to_owned(),
                "is 1001 characters long; at most 1000 are allowed".to_owned()
            ),
            (
                "/skill_group_variable".to_owned(),
                "set either `skill_group_id` or `skill_group_variable`, not both".to_owned()
            ),
            (
                "/priority".to_owned(),
                "11 is out of range; expected 0 to 10".to_owned()
            ),
        ]
    );
}
