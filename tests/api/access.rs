//! The authorization matrix, generated from the route table: every operation of the
//! OpenAPI document (which `utoipa_axum` builds from the very routes the server
//! serves) is called by each kind of caller, and must answer as its documented
//! security says. An operation's security names the least role it needs (none: any
//! signed-in account; `supervisor`; `admin`); without security it is public. A route
//! added to the API is in this matrix at once; one whose path names a resource this
//! test does not know fails it until the resource is added below.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kefu::auth::jwt::Claims;
use kefu::directory::Role;
use kefu_tests::agent_desk::{Desk, create_agents, id_of};
use kefu_tests::{PASSWORD, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    NoToken,
    Expired,
    OtherTenantAdmin,
    Agent,
    Supervisor,
    Admin,
}

impl Caller {
    const ALL: [Caller; 6] = [
        Caller::NoToken,
        Caller::Expired,
        Caller::OtherTenantAdmin,
        Caller::Agent,
        Caller::Supervisor,
        Caller::Admin,
    ];

    fn role(self) -> Option<Role> {
        match self {
            Caller::Agent => Some(Role::Agent),
            Caller::Supervisor => Some(Role::Supervisor),
            Caller::Admin => Some(Role::Admin),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Caller::NoToken => "none",
            Caller::Expired => "expired",
            Caller::OtherTenantAdmin => "other",
            Caller::Agent => "agent",
            Caller::Supervisor => "superv",
            Caller::Admin => "admin",
        }
    }
}

/// What an operation's security asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Public,
    SignedIn(Role),
}

fn needs(operation: &Value) -> Needs {
    let Some(requirements) = operation["security"].as_array() else {
        return Needs::Public;
    };
    let scopes = requirements
        .iter()
        .find_map(|r| r["bearer"].as_array())
        .unwrap_or_else(|| panic!("an unknown security scheme: {operation}"));
    match scopes.first().and_then(Value::as_str) {
        None => Needs::SignedIn(Role::Agent),
        Some(role) => {
            Needs::SignedIn(Role::parse(role).unwrap_or_else(|| panic!("an unknown role {role:?}")))
        }
    }
}

/// The ids a path's parameters are replaced with: resources of the tenant under test.
struct Resources {
    agent: String,
    group: String,
    flow: String,
    channel: String,
    plugin: String,
    session: String,
    webhook: String,
    quick_reply: String,
}

impl Resources {
    fn fill(&self, path: &str) -> String {
        let mut out = String::new();
        let mut resource = "";
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let value = match segment {
                "{id}" => match resource {
                    "agents" => &self.agent,
                    "skill-groups" => &self.group,
                    "flows" => &self.flow,
                    "channels" => &self.channel,
                    "plugins" => &self.plugin,
                    "sessions" | "records" => &self.session,
                    "webhooks" => &self.webhook,
                    "quick-replies" => &self.quick_reply,
                    other => panic!("{path}: add a resource of {other:?} to the matrix"),
                },
                "{number}" => "1",
                "{event_id}" => "0190f2a0-0000-7000-8000-000000000001",
                s if s.starts_with('{') => panic!("{path}: add the parameter {s} to the matrix"),
                s => {
                    resource = s;
                    s
                }
            };
            out.push('/');
            out.push_str(value);
        }
        out
    }
}

/// An access token of `admin` that expired an hour ago, properly signed.
fn expired_token(app: &TestApp, admin: uuid::Uuid, tenant: uuid::Uuid) -> String {
    let now = chrono::Utc::now().timestamp() as u64;
    let claims = Claims {
        sub: admin,
        tenant,
        role: Role::Admin,
        sid: uuid::Uuid::now_v7(),
        aud: app.config.auth.audience.clone(),
        iss: kefu::auth::jwt::ISSUER.to_owned(),
        iat: now - 7200,
        exp: now - 3600,
        jti: uuid::Uuid::now_v7(),
    };
    let secret = app.config.auth.jwt_secret.clone().unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Reads before writes, deletions after, signing out last: each call leaves the
/// resources and tokens the following ones need.
fn order(method: &Method, path: &str) -> u8 {
    if path.ends_with("/logout") {
        4
    } else if *method == Method::GET {
        0
    } else if *method == Method::DELETE {
        3
    } else if path.contains("deactivate") {
        2
    } else {
        1
    }
}

#[tokio::test]
async fn every_route_answers_each_caller_as_its_documented_security_says() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", json!({"accept_mode": "auto"})).await;
    let staff = create_agents(&app, &desk, "staff", 2, 3, &[desk.group.as_str()]).await;
    let lead = app
        .post(
            "/api/v1/agents",
            &desk.admin,
            json!({"email": "lead@acme.test", "name": "Lead", "password": PASSWORD,
                   "role": "supervisor", "skill_groups": [{"skill_group_id": desk.group}]}),
        )
        .await;
    assert_eq!(lead.status, StatusCode::CREATED, "{:?}", lead.body);
    desk.say(&app, "matrix_user", "你好").await;
    let session = desk
        .wait_user_session(&app, "matrix_user", "a session", |_| true)
        .await;
    let flows = app.get("/api/v1/flows", &desk.admin).await;
    // A module of the tenant's own (built-ins are everyone's).
    let installed = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(&desk.admin)
        .header("content-type", "application/wasm")
        .body(std::fs::read(kefu_tests::fixtures::ECHO).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), StatusCode::CREATED);
    let plugin: Value = installed.json().await.unwrap();
    let hook = app
        .post(
            "/api/v1/webhooks",
            &desk.admin,
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.body);
    // The admin's own: anyone else is told it is not found.
    let reply = app
        .post(
            "/api/v1/quick-replies",
            &desk.admin,
            json!({"scope": "personal", "shortcut": "hi", "text": "您好"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let resources = Resources {
        agent: staff[1].id.clone(),
        group: desk.group.clone(),
        flow: id_of(&flows.body["items"][0]),
        channel: desk.channel.clone(),
        plugin: id_of(&plugin),
        session: id_of(&session),
        webhook: id_of(&hook.body),
        quick_reply: id_of(&reply.body),
    };
    let other = app.tenant("other").await;
    let mut tokens: BTreeMap<Caller, String> = BTreeMap::new();
    tokens.insert(
        Caller::Expired,
        expired_token(&app, desk.tenant.admin_id, desk.tenant.id.0),
    );
    tokens.insert(Caller::OtherTenantAdmin, app.admin_token(&other).await);
    tokens.insert(Caller::Agent, staff[0].token.clone());
    tokens.insert(
        Caller::Supervisor,
        app.token("acme", "lead@acme.test").await,
    );
    tokens.insert(Caller::Admin, desk.admin.clone());

    let doc = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let mut operations: Vec<(Method, String, Needs)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            operations.push((method, path.clone(), needs(operation)));
        }
    }
    operations.sort_by_key(|(m, p, _)| (order(m, p), p.clone(), m.to_string()));
    assert!(operations.len() > 40, "the document lists the API");

    let mut failures = Vec::new();
    let mut table = String::new();
    let mut calls = 0;
    for (method, path, needs) in &operations {
        let url = resources.fill(path);
        let has_id = path.contains('{');
        let mut row = format!("{:<7}{:<52}", method.as_str(), path);
        for caller in Caller::ALL {
            let token = tokens.get(&caller).map(String::as_str);
            let body = (*method != Method::GET && *method != Method::DELETE).then(|| json!({}));
            // A stream of server-sent events does not end and an export is a file:
            // their status is the answer.
            let reply = if path.ends_with("/stream") || path.ends_with("/export") {
                let mut request = app.client.get(app.url(&url));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                if response.status().is_success() {
                    kefu_tests::Reply {
                        status: response.status(),
                        headers: response.headers().clone(),
                        body: Value::Null,
                    }
                } else {
                    TestApp::reply(response).await
                }
            } else {
                app.call(method.clone(), &url, token, body.clone()).await
            };
            calls += 1;
            let status = reply.status;
            let _ = write!(
                row,
                " {:>6}",
                format!("{}:{}", caller.label(), status.as_u16())
            );
            let denied = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            let ok = match (needs, caller) {
                (_, _) if status.is_server_error() => false,
                (Needs::Public, _) => !denied,
                (Needs::SignedIn(_), Caller::NoToken | Caller::Expired) => {
                    status == StatusCode::UNAUTHORIZED
                }
                (Needs::SignedIn(_), Caller::OtherTenantAdmin) if has_id => {
                    // Another tenant's resource is not found; a body may be refused
                    // first. Never served, never a hint that it exists.
                    if body.is_some() {
                        matches!(status.as_u16(), 404 | 400 | 409 | 415 | 422)
                    } else {
                        status == StatusCode::NOT_FOUND
                    }
                }
                (Needs::SignedIn(_), Caller::OtherTenantAdmin) => !denied,
                (Needs::SignedIn(least), caller) => {
                    let role = caller.role().unwrap_or(Role::Agent);
                    if role.includes(*least) {
                        !denied
                    } else {
                        status == StatusCode::FORBIDDEN && reply.code() == "forbidden"
                    }
                }
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {caller:?} (needs {needs:?}): {status} {}",
                    reply.body
                ));
            }
        }
        table.push_str(&row);
        table.push('\n');
    }
    // The workbench socket is not in the document: it takes its token in the query.
    for (caller, query) in [
        (Caller::NoToken, String::new()),
        (
            Caller::Expired,
            format!("?token={}", tokens[&Caller::Expired]),
        ),
    ] {
        let url = format!("ws://{}/api/v1/agent/ws{query}", app.addr);
        match tokio_tungstenite::connect_async(&url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401 => {}
            other => failures.push(format!(
                "the workbench socket as {caller:?}: {:?}",
                other.map(|_| ())
            )),
        }
        calls += 1;
    }
    println!(
        "authorization matrix: {} operations × {} callers, {calls} calls, {} unexpected\n{table}",
        operations.len(),
        Caller::ALL.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} calls answered other than documented:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
