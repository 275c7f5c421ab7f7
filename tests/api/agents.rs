use kefu_tests::{PASSWORD, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_admin_creates_reads_and_updates_an_agent() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let group = app
        .post("/api/v1/skill-groups", &admin, json!({"name": "售后"}))
        .await
        .body["id"]
        .clone();

    let created = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({
                "email": " Li.Lei@ACME.test ",
                "name": "李雷",
                "phone": "+86 138 0000 0000",
                "staff_no": "1001",
                "max_concurrent_sessions": 4,
                "password": "initial password",
                "skill_groups": [{"skill_group_id": group, "priority": 2}]
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let agent = &created.body;
    assert_eq!(agent["email"], "li.lei@acme.test");
    assert_eq!(agent["nickname"], "李雷");
    assert_eq!(agent["role"], "agent");
    assert_eq!(agent["max_concurrent_sessions"], 4);
    assert_eq!(agent["active"], true);
    assert_eq!(
        agent["skill_groups"],
        json!([{"skill_group_id": group, "priority": 2}])
    );
    let id = agent["id"].as_str().unwrap();

    let fetched = app.get(&format!("/api/v1/agents/{id}"), &admin).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);

    // The new agent can sign in with the password the admin chose.
    assert_eq!(
        app.login("acme", "li.lei@acme.test", "initial password")
            .await
            .status,
        StatusCode::OK
    );

    let updated = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &admin,
            json!({"nickname": "小李", "phone": null, "skill_groups": [], "role": "admin"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["nickname"], "小李");
    assert_eq!(updated.body["phone"], json!(null));
    assert_eq!(updated.body["staff_no"], "1001", "absent fields are kept");
    assert_eq!(updated.body["skill_groups"], json!([]));
    assert_eq!(updated.body["role"], "admin");
}

#[tokio::test]
async fn invalid_agents_are_refused_with_every_field_named() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let reply = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({
                "email": "not-an-email",
                "name": "   ",
                "password": "short",
                "max_concurrent_sessions": 0,
                "phone": "call me",
                "skill_groups": [{"skill_group_id": uuid::Uuid::new_v4(), "priority": 99}]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "validation_failed");
    for field in [
        "email",
        "name",
        "password",
        "max_concurrent_sessions",
        "phone",
        "skill_groups[0].priority",
    ] {
        assert!(
            reply.field(field).is_some(),
            "{field} not reported: {:?}",
            reply.body
        );
    }

    let unknown_group = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "a@acme.test", "name": "A", "password": PASSWORD,
                   "skill_groups": [{"skill_group_id": uuid::Uuid::new_v4()}]}),
        )
        .await;
    assert_eq!(unknown_group.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown_group.field("skill_groups[0].skill_group_id"),
        Some("no such skill group")
    );

    let unknown_field = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "b@acme.test", "name": "B", "password": PASSWORD, "colour": "red"}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        format!("{:?}", unknown_field.body).contains("unknown field `colour`"),
        "{:?}",
        unknown_field.body
    );

    let wrong_type = app.post("/api/v1/agents", &admin, json!({"email": "c@acme.test", "name": "C", "password": PASSWORD, "max_concurrent_sessions": "many"})).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_type.field("max_concurrent_sessions").is_some(),
        "{:?}",
        wrong_type.body
    );

    let too_long = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "d@acme.test", "name": "名".repeat(65), "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        too_long.field("name"),
        Some("must be at most 64 characters")
    );

    // Nothing was written by any of these.
    let list = app.get("/api/v1/agents", &admin).await;
    assert_eq!(list.body["total"], 1);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(|c| c.http.max_body_bytes = 4096).await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let reply = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "x@acme.test", "name": "x".repeat(10_000), "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");
}

#[tokio::test]
async fn duplicates_are_conflicts() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let first =
        json!({"email": "dup@acme.test", "name": "One", "password": PASSWORD, "staff_no": "7"});
    assert_eq!(
        app.post("/api/v1/agents", &admin, first).await.status,
        StatusCode::CREATED
    );
    let same_email = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "DUP@acme.test", "name": "Two", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (same_email.status, same_email.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
    let same_staff_no = app.post("/api/v1/agents", &admin, json!({"email": "other@acme.test", "name": "Three", "password": PASSWORD, "staff_no": "7"})).await;
    assert_eq!(
        (same_staff_no.status, same_staff_no.code()),
        (StatusCode::CONFLICT, "staff_no_taken")
    );
    let rename = app
        .patch(
            &format!("/api/v1/agents/{}", tenant.admin_id),
            &admin,
            json!({"email": "dup@acme.test"}),
        )
        .await;
    assert_eq!(
        (rename.status, rename.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let id = uuid::Uuid::new_v4();
    for reply in [
        app.get(&format!("/api/v1/agents/{id}"), &admin).await,
        app.patch(
            &format!("/api/v1/agents/{id}"),
            &admin,
            json!({"name": "x"}),
        )
        .await,
        app.post(
            &format!("/api/v1/agents/{id}/deactivate"),
            &admin,
            json!({}),
        )
        .await,
        app.get("/api/v1/agents/not-a-uuid", &admin).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
        assert_eq!(reply.code(), "not_found");
    }
    let empty = app
        .patch(
            &format!("/api/v1/agents/{}", tenant.admin_id),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_list_pages_and_filters() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let group = app
        .post("/api/v1/skill-groups", &admin, json!({"name": "VIP"}))
        .await
        .body["id"]
        .clone();
    for i in 0..24 {
        let mut body = json!({"email": format!("agent{i:02}@acme.test"), "name": format!("Agent {i:02}"), "password": PASSWORD});
        if i % 4 == 0 {
            body["skill_groups"] = json!([{"skill_group_id": group}]);
        }
        if i == 7 {
            body["name"] = json!("Wang 王芳");
        }
        assert_eq!(
            app.post("/api/v1/agents", &admin, body).await.status,
            StatusCode::CREATED
        );
    }
    // 25 accounts with the admin: pages of 10, 10 and 5, in creation order.
    let mut seen = Vec::new();
    for (page, expected) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
        let reply = app
            .get(&format!("/api/v1/agents?page={page}&page_size=10"), &admin)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["total"], 25);
        assert_eq!(reply.body["page"], page);
        let items = reply.body["items"].as_array().unwrap();
        assert_eq!(items.len(), expected, "page {page}");
        seen.extend(
            items
                .iter()
                .map(|a| a["email"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen[0], "admin@acme.test");
    assert_eq!(seen[1], "agent00@acme.test");
    assert_eq!(seen[24], "agent23@acme.test");

    let q = app.get("/api/v1/agents?q=%E7%8E%8B", &admin).await; // 王
    assert_eq!(q.body["total"], 1);
    assert_eq!(q.body["items"][0]["email"], "agent07@acme.test");
    let q = app.get("/api/v1/agents?q=AGENT1", &admin).await;
    assert_eq!(q.body["total"], 10, "case-insensitive: agent10..agent19");
    let q = app.get("/api/v1/agents?q=%25", &admin).await;
    assert_eq!(q.body["total"], 0, "% is matched literally");
    let admins = app.get("/api/v1/agents?role=admin", &admin).await;
    assert_eq!(admins.body["total"], 1);
    let members = app
        .get(
            &format!("/api/v1/agents?skill_group_id={}", group.as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(members.body["total"], 6);

    for bad in [
        "page=0",
        "page_size=101",
        "page=abc",
        "role=boss",
        "active=maybe",
        "sort=name",
    ] {
        let reply = app.get(&format!("/api/v1/agents?{bad}"), &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn deactivation_signs_out_blocks_login_and_can_be_undone() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let created = app
        .post(
            "/api/v1/agents",
            &admin,
            json!({"email": "temp@acme.test", "name": "Temp", "password": PASSWORD}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let agent_token = app.token("acme", "temp@acme.test").await;

    let off = app
        .post(
            &format!("/api/v1/agents/{id}/deactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(off.body["active"], false);
    assert!(off.body["deactivated_at"].is_string());
    assert_eq!(
        app.get("/api/v1/me", &agent_token).await.code(),
        "token_revoked"
    );
    assert_eq!(
        app.login("acme", "temp@acme.test", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let inactive = app.get("/api/v1/agents?active=false", &admin).await;
    assert_eq!(inactive.body["total"], 1);

    let on = app
        .post(
            &format!("/api/v1/agents/{id}/reactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(on.body["active"], true);
    assert_eq!(
        app.login("acme", "temp@acme.test", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_tenant_always_keeps_an_active_admin() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let me = tenant.admin_id;
    let self_off = app
        .post(
            &format!("/api/v1/agents/{me}/deactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        (self_off.status, self_off.code()),
        (StatusCode::CONFLICT, "cannot_deactivate_self")
    );
    let demote = app
        .patch(
            &format!("/api/v1/agents/{me}"),
            &admin,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(
        (demote.status, demote.code()),
        (StatusCode::CONFLICT, "last_admin")
    );

    // With a second admin, the first may step down.
    let second = app.post("/api/v1/agents", &admin, json!({"email": "boss2@acme.test", "name": "Boss", "password": PASSWORD, "role": "admin"})).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let demote = app
        .patch(
            &format!("/api/v1/agents/{me}"),
            &admin,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK);
    // The role is read per request: the same token is now an agent's.
    assert_eq!(
        app.get("/api/v1/agents", &admin).await.status,
        StatusCode::FORBIDDEN
    );
}
