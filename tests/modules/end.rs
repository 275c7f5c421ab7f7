//! `end`: a last message, then the session ends with the chosen status.

use kefu_tests::modules::Harness;
use serde_json::json;

#[tokio::test]
async fn ends_with_the_configured_status_after_the_last_message() {
    let h = Harness::new();
    let mut c = h
        .conversation(
            "end",
            json!({"end_status": 108, "message": "再见，${SystemClientUserID}"}),
        )
        .await;
    let step = c.enter().await;
    assert_eq!(step.end_status(), Some(108));
    assert!(step.suspended());
    assert_eq!(step.texts(), ["再见，user_42"]);
}

#[tokio::test]
async fn refuses_an_unknown_end_status() {
    let h = Harness::new();
    let problems = h
        .validate("end", &json!({"end_status": 2}))
        .await
        .unwrap_err();
    assert_eq!(problems[0].path, "/end_status");
    assert!(h.validate("end", &json!({})).await.unwrap().is_empty());
}
