//! An id from another tenant must behave exactly like an id that does not exist.

use kefu::directory::Role;
use kefu_tests::{PASSWORD, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn tenants_never_see_or_touch_each_other() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let acme_admin = app.admin_token(&acme).await;
    let globex_admin = app.admin_token(&globex).await;

    let their_agent = app.account(globex.id, "spy@globex.test", Role::Agent).await;
    let their_group = app
        .post(
            "/api/v1/skill-groups",
            &globex_admin,
            json!({"name": "Secret"}),
        )
        .await
        .body["id"]
        .clone();
    let their_group = their_group.as_str().unwrap();

    for reply in [
        app.get(&format!("/api/v1/agents/{their_agent}"), &acme_admin)
            .await,
        app.patch(
            &format!("/api/v1/agents/{their_agent}"),
            &acme_admin,
            json!({"name": "pwned"}),
        )
        .await,
        app.post(
            &format!("/api/v1/agents/{their_agent}/deactivate"),
            &acme_admin,
            json!({}),
        )
        .await,
        app.get(&format!("/api/v1/skill-groups/{their_group}"), &acme_admin)
            .await,
        app.patch(
            &format!("/api/v1/skill-groups/{their_group}"),
            &acme_admin,
            json!({"name": "pwned"}),
        )
        .await,
        app.delete(&format!("/api/v1/skill-groups/{their_group}"), &acme_admin)
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    }
    // Their group cannot be borrowed either.
    let borrow = app
        .post("/api/v1/agents", &acme_admin, json!({"email": "x@acme.test", "name": "X", "password": PASSWORD, "skill_groups": [{"skill_group_id": their_group}]}))
        .await;
    assert_eq!(borrow.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Lists show only one's own.
    let agents = app.get("/api/v1/agents", &acme_admin).await;
    assert_eq!(agents.body["total"], 1);
    assert_eq!(
        app.get("/api/v1/skill-groups", &acme_admin).await.body["total"],
        0
    );
    let filtered = app
        .get(
            &format!("/api/v1/agents?skill_group_id={their_group}"),
            &acme_admin,
        )
        .await;
    assert_eq!(filtered.body["total"], 0);

    // Nothing of theirs changed.
    let theirs = app
        .get(&format!("/api/v1/agents/{their_agent}"), &globex_admin)
        .await;
    assert_eq!(theirs.body["name"], "spy");
    assert_eq!(theirs.body["active"], true);

    // The same e-mail may exist in both tenants; login picks by tenant.
    app.account(acme.id, "spy@globex.test", Role::Agent).await;
    let token = app.token("acme", "spy@globex.test").await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.body["email"], "spy@globex.test");
    assert_ne!(me.body["id"], json!(their_agent.to_string()));
}
