use kefu::directory::Role;
use kefu_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn skill_groups_are_created_with_routing_defaults_and_updated() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let created = app
        .post(
            "/api/v1/skill-groups",
            &admin,
            json!({"name": " 售前 ", "routing": {"accept_mode": "manual"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let g = &created.body;
    assert_eq!(g["name"], "售前");
    assert_eq!(g["agent_count"], 0);
    assert_eq!(
        g["routing"],
        json!({
            "strategy": "longest_idle", "prefer_last_agent": true, "last_agent_window_secs": 86400,
            "accept_mode": "manual", "offer_timeout_secs": 30, "queue_max_length": 200, "queue_max_wait_secs": 600
        })
    );
    let id = g["id"].as_str().unwrap();
    let updated = app
        .patch(&format!("/api/v1/skill-groups/{id}"), &admin, json!({"description": "Pre-sales", "routing": {"strategy": "round_robin", "offer_timeout_secs": 20}}))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["routing"]["strategy"], "round_robin");
    assert_eq!(updated.body["routing"]["offer_timeout_secs"], 20);
    assert_eq!(
        updated.body["routing"]["accept_mode"], "manual",
        "untouched settings are kept"
    );
    let fetched = app.get(&format!("/api/v1/skill-groups/{id}"), &admin).await;
    assert_eq!(fetched.body, updated.body);
}

#[tokio::test]
async fn bad_skill_groups_are_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let bad = app
        .post("/api/v1/skill-groups", &admin, json!({"name": "", "routing": {"offer_timeout_secs": 1, "queue_max_wait_secs": 1, "strategy": "random"}}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.field("routing.strategy").is_some(), "{:?}", bad.body);
    let bad = app
        .post(
            "/api/v1/skill-groups",
            &admin,
            json!({"name": "", "routing": {"offer_timeout_secs": 1, "queue_max_wait_secs": 1}}),
        )
        .await;
    assert_eq!(bad.field("name"), Some("must not be empty"));
    assert_eq!(
        bad.field("routing.offer_timeout_secs"),
        Some("must be between 5 and 600")
    );
    assert_eq!(
        bad.field("routing.queue_max_wait_secs"),
        Some("must be between 10 and 86400")
    );

    assert_eq!(
        app.post("/api/v1/skill-groups", &admin, json!({"name": "VIP"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let dup = app
        .post("/api/v1/skill-groups", &admin, json!({"name": "VIP"}))
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "skill_group_name_taken")
    );
    let missing = app
        .get(
            &format!("/api/v1/skill-groups/{}", uuid::Uuid::new_v4()),
            &admin,
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let list = app.get("/api/v1/skill-groups", &admin).await;
    assert_eq!(list.body["total"], 1);
}

#[tokio::test]
async fn a_group_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let group = app
        .post(
            "/api/v1/skill-groups",
            &admin,
            json!({"name": "After-sales"}),
        )
        .await
        .body;
    let gid = group["id"].as_str().unwrap();
    let agent = app.account(tenant.id, "a@acme.test", Role::Agent).await;
    app.patch(
        &format!("/api/v1/agents/{agent}"),
        &admin,
        json!({"skill_groups": [{"skill_group_id": gid, "priority": 1}]}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/skill-groups/{gid}"), &admin)
            .await
            .body["agent_count"],
        1
    );

    let refused = app
        .delete(&format!("/api/v1/skill-groups/{gid}"), &admin)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "skill_group_in_use")
    );
    assert_eq!(
        app.get(&format!("/api/v1/skill-groups/{gid}"), &admin)
            .await
            .status,
        StatusCode::OK
    );

    app.patch(
        &format!("/api/v1/agents/{agent}"),
        &admin,
        json!({"skill_groups": []}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/v1/skill-groups/{gid}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/skill-groups/{gid}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn groups_are_listed_by_name_a_page_at_a_time() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        app.post("/api/v1/skill-groups", &admin, json!({"name": name}))
            .await;
    }
    let page = app
        .get("/api/v1/skill-groups?page=2&page_size=2", &admin)
        .await;
    assert_eq!(page.body["total"], 5);
    let names: Vec<_> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("charlie"), json!("delta")]);
}
