//! `survey`: the invitation menu (stars or numbers), replies of every kind, the
//! optional comment step, re-prompts, and the validity period.

use kefu::flow::{ResumeReason, SurveyAction};
use kefu_tests::modules::Harness;
use serde_json::json;

fn rated(score: u8, label: &str, comment: Option<&str>) -> SurveyAction {
    SurveyAction::Record {
        score,
        label: label.to_owned(),
        comment: comment.map(str::to_owned),
    }
}

#[tokio::test]
async fn invites_with_a_star_menu_and_records_the_rating() {
    let h = Harness::new();
    let mut c = h
        .conversation(
            "survey",
            json!({"invitation": "请为客服 ${StaffNickName} 评分", "thanks_message": "感谢您的评价：${Label}（${Score} 分）", "variable": "satisfaction"}),
        )
        .await;
    c.set_variable("StaffNickName", json!("小李"));
    let step = c.enter().await;
    assert_eq!(step.survey(), [SurveyAction::Invited]);
    assert_eq!(step.wait_ms(), Some(24 * 3_600_000));
    let (title, choices) = step.menu().unwrap();
    assert_eq!(title, "请为客服 小李 评分");
    assert_eq!(
        choices,
        [
            ("1", "★☆☆☆☆ 非常不满意"),
            ("2", "★★☆☆☆ 不满意"),
            ("3", "★★★☆☆ 一般"),
            ("4", "★★★★☆ 满意"),
            ("5", "★★★★★ 非常满意"),
        ]
        .map(|(id, label)| (id.to_owned(), label.to_owned()))
    );

    let step = c.say("⭐⭐⭐⭐").await;
    assert_eq!(step.exit(), Some("rated"));
    assert_eq!(step.survey(), [rated(4, "满意", None)]);
    assert_eq!(step.texts(), ["感谢您的评价：满意（4 分）"]);
    assert_eq!(c.variable("satisfaction"), Some(json!(4)));
}

#[tokio::test]
async fn understands_every_kind_of_rating() {
    let h = Harness::new();
    for (reply, score) in [
        ("5", 5),
        ("１", 1),
        ("３。", 3),
        ("★★★★★", 5),
        ("⭐️⭐️", 2),
        ("4星", 4),
        ("五星", 5),
        ("2分", 2),
        ("一般", 3),
        ("不满意", 2),
        ("非常满意！", 5),
        ("★★★★☆ 满意", 4),
    ] {
        let mut c = h.conversation("survey", json!({})).await;
        c.enter().await;
        let step = c.say(reply).await;
        assert_eq!(step.exit(), Some("rated"), "{reply}");
        match &step.survey()[..] {
            [SurveyAction::Record { score: got, .. }] => assert_eq!(*got, score, "{reply}"),
            other => panic!("{reply}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_numbers_style_on_resume_after_the_session_ends() {
    let h = Harness::new();
    let mut c = h
        .conversation(
            "survey",
            json!({"style": "numbers", "labels": ["Awful", "Bad", "OK", "Good", "Great"], "validity_hours": 2}),
        )
        .await;
    let step = c.resume(ResumeReason::SessionEnded).await;
    assert_eq!(step.survey(), [SurveyAction::Invited]);
    assert_eq!(step.wait_ms(), Some(2 * 3_600_000));
    let (_, choices) = step.menu().unwrap();
    assert_eq!(choices[0], ("1".to_owned(), "1 Awful".to_owned()));
    assert_eq!(choices[4], ("5".to_owned(), "5 Great".to_owned()));
    let step = c.say("great").await;
    assert_eq!(step.survey(), [rated(5, "Great", None)]);

    // Nobody served the user: nothing to rate.
    let mut c = h.conversation("survey", json!({})).await;
    let step = c.resume(ResumeReason::TransferFailed).await;
    assert_eq!(step.exit(), Some("skipped"));
    assert!(step.survey().is_empty());
}

#[tokio::test]
async fn re_prompts_once_then_skips() {
    let h = Harness::new();
    let mut c = h.conversation("survey", json!({})).await;
    h.world.set_local("Asia/Shanghai", "2026-11-23 18:00");
    c.enter().await;
    h.world.set_local("Asia/Shanghai", "2026-11-23 20:00");
    let step = c.say("我的订单什么时候到？").await;
    assert_eq!(
        step.texts(),
        ["抱歉，没有识别到您的评分，请回复 1-5 的数字（5 为非常满意）。"]
    );
    assert!(step.survey().is_empty());
    // The rest of the validity period: 22 hours.
    assert_eq!(step.wait_ms(), Some(22 * 3_600_000));
    let step = c.say("还是不想评").await;
    assert_eq!(step.exit(), Some("skipped"));
    assert!(step.texts().is_empty());
    assert!(step.survey().is_empty());

    // A rating after one retry still counts.
    let mut c = h.conversation("survey", json!({"max_retries": 2})).await;
    c.enter().await;
    c.say("嗯").await;
    c.say("？").await;
    let step = c.say("4").await;
    assert_eq!(step.survey(), [rated(4, "满意", None)]);

    // No retries at all.
    let mut c = h.conversation("survey", json!({"max_retries": 0})).await;
    c.enter().await;
    assert_eq!(c.say("你好").await.exit(), Some("skipped"));
}

#[tokio::test]
async fn after_the_validity_period_a_reply_is_a_new_message() {
    let h = Harness::new();
    let mut c = h
        .conversation("survey", json!({"validity_hours": 24}))
        .await;
    h.world.set_local("Asia/Shanghai", "2026-11-23 18:00");
    c.enter().await;
    h.world.set_local("Asia/Shanghai", "2026-11-24 18:01");
    let step = c.say("5").await;
    assert_eq!(step.exit(), Some("expired"));
    assert!(step.survey().is_empty());
    assert!(step.texts().is_empty());

    // Just within the period it counts.
    let mut c = h.conversation("survey", json!({})).await;
    h.world.set_local("Asia/Shanghai", "2026-11-23 18:00");
    c.enter().await;
    h.world.set_local("Asia/Shanghai", "2026-11-24 18:00");
    assert_eq!(c.say("5").await.exit(), Some("rated"));

    // The wait timing out ends the survey too.
    let mut c = h.conversation("survey", json!({})).await;
    c.enter().await;
    let step = c.time_out().await;
    assert_eq!(step.exit(), Some("expired"));
    assert!(step.survey().is_empty());
}

#[tokio::test]
async fn asks_for_a_comment_and_records_it_with_the_score() {
    let h = Harness::new();
    let config = json!({
        "comment": {"prompt": "请说说哪里需要改进？", "wait_minutes": 5, "max_score": 3},
        "thanks_message": "谢谢！"
    });
    let mut c = h.conversation("survey", config.clone()).await;
    c.enter().await;
    let step = c.say("2").await;
    // The score is recorded at once, so it stands without a comment.
    assert_eq!(step.survey(), [rated(2, "不满意", None)]);
    assert_eq!(step.texts(), ["请说说哪里需要改进？"]);
    assert_eq!(step.wait_ms(), Some(5 * 60_000));
    let step = c.say("  回复太慢了  ").await;
    assert_eq!(step.exit(), Some("rated"));
    assert_eq!(step.survey(), [rated(2, "不满意", Some("回复太慢了"))]);
    assert_eq!(step.texts(), ["谢谢！"]);

    // No comment in time: the rating stands.
    let mut c = h.conversation("survey", config.clone()).await;
    c.enter().await;
    c.say("★").await;
    let step = c.time_out().await;
    assert_eq!(step.exit(), Some("rated"));
    assert!(step.survey().is_empty());
    assert_eq!(step.texts(), ["谢谢！"]);

    // A score above max_score is not asked about.
    let mut c = h.conversation("survey", config).await;
    c.enter().await;
    let step = c.say("5").await;
    assert_eq!(step.exit(), Some("rated"));
    assert_eq!(step.survey(), [rated(5, "非常满意", None)]);
    assert_eq!(step.texts(), ["谢谢！"]);
}

#[tokio::test]
async fn refuses_bad_configuration_with_precise_paths() {
    let h = Harness::new();
    let exits = h.validate("survey", &json!({})).await.unwrap();
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["rated", "skipped", "expired"]);

    let found = h
        .validate("survey", &json!({"style": "hearts"}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/style");
    assert!(
        found[0].message.contains("unknown variant `hearts`"),
        "{found:?}"
    );

    let found = h
        .validate("survey", &json!({"comment": {"wait": 3}}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/comment/wait");

    let found = h
        .validate(
            "survey",
            &json!({
                "labels": ["差", "一般", "一般", "好", "5"],
                "validity_hours": 0,
                "max_retries": 9,
                "comment": {"wait_minutes": 0}
            }),
        )
        .await
        .unwrap_err();
    let found: Vec<(String, String)> = found.into_iter().map(|p| (p.path, p.message)).collect();
    assert_eq!(
        found,
        [
            (
                "/labels/2".to_owned(),
                "`一般` would be read as score 2, not 3".to_owned()
            ),
            (
                "/validity_hours".to_owned(),
                "0 is out of range; expected 1 to 168".to_owned()
            ),
            (
                "/max_retries".to_owned(),
                "9 is out of range; expected 0 to 5".to_owned()
            ),
            (
                "/comment/wait_minutes".to_owned(),
                "0 is out of range; expected 1 to 1440".to_owned()
            ),
        ]
    );

    let found = h
        .validate("survey", &json!({"labels": ["a", "b", "c", "d"]}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/labels");
    assert_eq!(
        found[0].message,
        "has 4 labels; exactly 5 are needed, for scores 1 to 5"
    );
}
