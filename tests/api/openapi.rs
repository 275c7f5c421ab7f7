use kefu_tests::spawn_app;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    let expected = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/agents", "get"),
        ("/api/v1/agents", "post"),
        ("/api/v1/agents/{id}", "get"),
        ("/api/v1/agents/{id}", "patch"),
        ("/api/v1/agents/{id}/deactivate", "post"),
        ("/api/v1/agents/{id}/reactivate", "post"),
        ("/api/v1/skill-groups", "get"),
        ("/api/v1/skill-groups", "post"),
        ("/api/v1/skill-groups/{id}", "get"),
        ("/api/v1/skill-groups/{id}", "patch"),
        ("/api/v1/skill-groups/{id}", "delete"),
        ("/api/v1/flows", "get"),
        ("/api/v1/flows", "post"),
        ("/api/v1/flows/validate", "post"),
        ("/api/v1/flows/{id}", "get"),
        ("/api/v1/flows/{id}", "patch"),
        ("/api/v1/flows/{id}", "delete"),
        ("/api/v1/flows/{id}/publish", "post"),
        ("/api/v1/flows/{id}/revisions", "get"),
        ("/api/v1/flows/{id}/revisions/{number}", "get"),
        ("/api/v1/flows/{id}/rollback", "post"),
        ("/api/v1/flows/{id}/try", "post"),
        ("/api/v1/plugins", "get"),
        ("/api/v1/plugins", "post"),
        ("/api/v1/plugins/{id}", "get"),
        ("/api/v1/plugins/{id}", "patch"),
        ("/api/v1/plugins/{id}", "delete"),
        ("/api/v1/plugins/{id}/validate-config", "post"),
        ("/api/v1/plugins/{id}/dry-run", "post"),
        ("/api/v1/channels", "get"),
        ("/api/v1/channels", "post"),
        ("/api/v1/channels/{id}", "get"),
        ("/api/v1/channels/{id}", "patch"),
        ("/api/v1/channels/{id}", "delete"),
        ("/api/v1/channels/{id}/rotate-secrets", "post"),
        ("/api/v1/sessions", "get"),
        ("/api/v1/sessions/{id}", "get"),
        ("/api/v1/sessions/{id}/messages", "get"),
        ("/api/v1/routing/settings", "get"),
        ("/api/v1/routing/settings", "put"),
        ("/api/v1/skill-groups/{id}/queue", "get"),
        ("/api/v1/agents/{id}/status", "get"),
        ("/api/v1/monitor/agents", "get"),
        ("/api/v1/agent/status", "get"),
        ("/api/v1/agent/status", "put"),
        ("/api/v1/agent/sessions", "get"),
        ("/api/v1/agent/sessions/{id}/accept", "post"),
        ("/api/v1/agent/sessions/{id}/decline", "post"),
        ("/api/v1/agent/sessions/{id}/messages", "get"),
        ("/api/v1/agent/sessions/{id}/messages", "post"),
        ("/api/v1/agent/sessions/{id}/history", "get"),
        ("/api/v1/agent/sessions/{id}/transfer", "post"),
        ("/api/v1/agent/sessions/{id}/end", "post"),
        ("/api/v1/agent/sessions/{id}/survey", "post"),
        ("/api/v1/agent/queues", "get"),
        ("/api/v1/agent/inbox", "get"),
        ("/api/v1/agent/sessions/{id}", "get"),
        ("/api/v1/agent/sessions/{id}/read", "put"),
        ("/api/v1/agent/sessions/{id}/notes", "get"),
        ("/api/v1/agent/sessions/{id}/notes", "post"),
        ("/api/v1/agent/colleagues", "get"),
        ("/api/v1/agent/rest-reasons", "get"),
        ("/api/v1/quick-replies", "get"),
        ("/api/v1/quick-replies", "post"),
        ("/api/v1/quick-replies/{id}", "patch"),
        ("/api/v1/quick-replies/{id}", "delete"),
        ("/api/v1/records", "get"),
        ("/api/v1/records/{id}", "get"),
        ("/api/v1/records/export", "get"),
        ("/api/v1/stats/sessions", "get"),
        ("/api/v1/stats/agents", "get"),
        ("/api/v1/stats/live", "get"),
        ("/api/v1/stats/live/stream", "get"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks/{id}", "get"),
        ("/api/v1/webhooks/{id}", "patch"),
        ("/api/v1/webhooks/{id}", "delete"),
        ("/api/v1/webhooks/{id}/rotate-secret", "post"),
        ("/api/v1/webhooks/{id}/test", "post"),
        ("/api/v1/webhooks/{id}/deliveries", "get"),
        (
            "/api/v1/webhooks/{id}/deliveries/{event_id}/redeliver",
            "post",
        ),
    ];
    for (path, method) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        let public = matches!(
            path,
            "/healthz" | "/readyz" | "/api/v1/auth/login" | "/api/v1/auth/refresh"
        );
        assert_eq!(
            op["security"].is_array(),
            !public,
            "security of {method} {path}"
        );
    }
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        operations,
        expected.len(),
        "undocumented or unexpected operations"
    );
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc.body["components"]["schemas"]["Agent"].is_object());
}
