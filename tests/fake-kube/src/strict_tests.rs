//! The fake's strictness over HTTP: selectors, paged lists, optimistic concurrency,
//! subresources, RBAC and watch bookmarks, as the API server has them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{seed_hsof, FakeKube, Rule, Store, CHANGE_HISTORY, DEFAULT_USER};

fn fake(extra_pods: usize) -> FakeKube {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, extra_pods);
    FakeKube::start(store)
}

/// One request with `Connection: close`: the status code and the body (JSON, or `Null`).
fn call(f: &FakeKube, method: &str, target: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let addr = f.url.trim_start_matches("http://");
    let mut io = TcpStream::connect(addr).expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let ctype = if method == "PATCH" { "application/merge-patch+json" } else { "application/json" };
    write!(
        io,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    io.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("head");
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status");
    (code, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn get(f: &FakeKube, target: &str) -> (u16, Value) {
    call(f, "GET", target, "fake-token", None)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const PODS: &str = "/api/v1/namespaces/hsof/pods";

#[test]
fn lists_filter_by_set_based_label_selectors_and_field_selectors() {
    let f = fake(2);
    let list = |q: &str| {
        let (code, body) = get(&f, &format!("{PODS}?{q}"));
        assert_eq!(code, 200, "{q}: {body}");
        names(&body)
    };
    let workers = ["hsof-worker-00000", "hsof-worker-00001"];
    assert_eq!(list(&format!("labelSelector={}", enc("app.kubernetes.io/name in (hsof-worker,x)"))), workers);
    assert_eq!(list(&format!("labelSelector={}", enc("app.kubernetes.io/name notin (hsof)"))), workers);
    assert_eq!(list(&format!("labelSelector={}", enc("app.kubernetes.io/name==hsof-worker"))), workers);
    assert_eq!(list(&format!("labelSelector={}", enc("app.kubernetes.io/name!=hsof-worker"))).len(), 3);
    assert_eq!(list(&format!("labelSelector={}", enc("pod-template-hash"))).len(), 3);
    assert_eq!(list(&format!("labelSelector={}", enc("!pod-template-hash"))), workers);
    assert_eq!(list(&format!("fieldSelector={}", enc("metadata.name=hsof-worker-00001"))), ["hsof-worker-00001"]);
    assert_eq!(list(&format!("fieldSelector={}", enc("metadata.name!=hsof-worker-00001"))).len(), 4);
    assert_eq!(list(&format!("fieldSelector={}", enc("metadata.namespace==hsof,status.phase=Running"))).len(), 5);
    assert!(list(&format!("fieldSelector={}", enc("status.phase=Pending"))).is_empty());
    let (code, body) = get(&f, &format!("{PODS}?labelSelector={}", enc("app in batch")));
    assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().starts_with("unable to parse requirement: "), "{body}");
    let (code, body) = get(&f, &format!("{PODS}?fieldSelector={}", enc("spec.foo=x")));
    assert_eq!((code, body["message"].as_str()), (400, Some("field label not supported: spec.foo")));
    let (code, _) = get(&f, &format!("{PODS}?watch=true&fieldSelector={}", enc("spec.foo=x")));
    assert_eq!(code, 400, "watches refuse it too");
}

#[test]
fn lists_page_with_limit_and_continue() {
    let f = fake(5);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut rvs = Vec::new();
    loop {
        let q = token.as_ref().map_or(String::new(), |t| format!("&continue={t}"));
        let (code, body) = get(&f, &format!("{PODS}?limit=3{q}"));
        assert_eq!(code, 200, "{body}");
        assert!(body["items"].as_array().expect("items").len() <= 3);
        seen.extend(names(&body));
        rvs.push(body["metadata"]["resourceVersion"].clone());
        pages += 1;
        match body["metadata"]["continue"].as_str() {
            Some(t) => {
                assert_eq!(body["metadata"]["remainingItemCount"].as_u64(), Some(8 - seen.len() as u64), "{body}");
                token = Some(t.to_string());
            }
            None => {
                assert!(body["metadata"].get("remainingItemCount").is_none());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 8);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "in key order, each once");
    assert!(rvs.windows(2).all(|w| w[0] == w[1]), "every page is of the first page's resourceVersion");
    // A selector: no remainingItemCount.
    let (_, body) = get(&f, &format!("{PODS}?limit=1&labelSelector={}", enc("app.kubernetes.io/name=hsof-worker")));
    assert!(body["metadata"]["continue"].is_string() && body["metadata"].get("remainingItemCount").is_none());
    // Once the changes since the token are compacted away: 410 Expired.
    let (_, body) = get(&f, &format!("{PODS}?limit=2"));
    let old = body["metadata"]["continue"].as_str().expect("continue").to_string();
    f.with(|s| {
        for i in 0..=CHANGE_HISTORY {
            s.put(json!({"kind": "ConfigMap", "metadata": {"name": format!("churn-{}", i % 3), "namespace": "hsof"}}));
        }
    });
    let (code, body) = get(&f, &format!("{PODS}?limit=2&continue={old}"));
    assert_eq!((code, body["reason"].as_str()), (410, Some("Expired")), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().starts_with("The provided continue parameter is too old"));
    let fresh = body["metadata"]["continue"].as_str().expect("an inconsistent continue token");
    let (code, body) = get(&f, &format!("{PODS}?limit=100&continue={fresh}"));
    assert_eq!((code, names(&body).len()), (200, 6), "the rest, after the first two");
    let (code, _) = get(&f, &format!("{PODS}?limit=2&continue=garbage"));
    assert_eq!(code, 400);
}

#[test]
fn replace_with_a_stale_resource_version_conflicts() {
    let f = fake(0);
    let path = "/apis/apps/v1/namespaces/hsof/deployments/hsof-main";
    let (_, mut d) = get(&f, path);
    let rv = d["metadata"]["resourceVersion"].as_str().expect("rv").to_string();
    d["spec"]["replicas"] = json!(4);
    let (code, updated) = call(&f, "PUT", path, "fake-token", Some(&d));
    assert_eq!(code, 200, "{updated}");
    assert_ne!(updated["metadata"]["resourceVersion"].as_str(), Some(rv.as_str()));
    // The same body again: its resourceVersion is stale now.
    d["spec"]["replicas"] = json!(5);
    let (code, body) = call(&f, "PUT", path, "fake-token", Some(&d));
    assert_eq!((code, body["reason"].as_str()), (409, Some("Conflict")));
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on deployments.apps \"hsof-main\": the object has been modified; please apply your changes to the latest version and try again"
    );
    // A patch naming a stale resourceVersion conflicts too; without one it applies.
    let (code, _) = call(&f, "PATCH", path, "fake-token", Some(&json!({"metadata": {"resourceVersion": rv}})));
    assert_eq!(code, 409);
    // No resourceVersion: an unconditional update.
    d["metadata"].as_object_mut().map(|m| m.remove("resourceVersion"));
    let (code, body) = call(&f, "PUT", path, "fake-token", Some(&d));
    assert_eq!((code, body["spec"]["replicas"].as_i64()), (200, Some(5)), "{body}");
    d["metadata"]["name"] = json!("other");
    assert_eq!(call(&f, "PUT", path, "fake-token", Some(&d)).0, 400, "the name must match the URL");
    let (code, body) = call(
        &f,
        "PUT",
        "/api/v1/namespaces/hsof/configmaps/hsof-config",
        "fake-token",
        Some(&json!({"metadata": {"name": "hsof-config", "resourceVersion": "1"}, "data": {"a": "b"}})),
    );
    assert_eq!(
        (
            code,
            body["message"]
                .as_str()
                .map(|m| m.starts_with("Operation cannot be fulfilled on configmaps \"hsof-config\""))
        ),
        (409, Some(true))
    );
}

#[test]
fn status_is_its_own_subresource() {
    let f = fake(0);
    let path = "/apis/apps/v1/namespaces/hsof/deployments/hsof-main";
    let (code, d) = get(&f, &format!("{path}/status"));
    assert_eq!((code, d["kind"].as_str()), (200, Some("Deployment")));
    let ready = d["status"]["readyReplicas"].clone();
    // The object's own endpoint ignores .status ...
    let (code, body) = call(
        &f,
        "PATCH",
        path,
        "fake-token",
        Some(&json!({"status": {"readyReplicas": 0}, "metadata": {"labels": {"x": "y"}}})),
    );
    assert_eq!(
        (code, &body["status"]["readyReplicas"], body["metadata"]["labels"]["x"].as_str()),
        (200, &ready, Some("y"))
    );
    // ... /status changes only .status.
    let (code, body) = call(
        &f,
        "PATCH",
        &format!("{path}/status"),
        "fake-token",
        Some(&json!({"status": {"observedGeneration": 99}, "spec": {"replicas": 9}})),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!((body["status"]["observedGeneration"].as_i64(), body["spec"]["replicas"].as_i64()), (Some(99), Some(3)));
    let (code, _) = get(&f, "/api/v1/namespaces/hsof/configmaps/hsof-config/status");
    assert_eq!(code, 404, "configmaps have no status subresource");
    let (code, _) = get(&f, &format!("{path}/log"));
    assert_eq!(code, 404, "deployments have no log");
    // Discovery offers what is served.
    let (_, core) = get(&f, "/api/v1");
    let subs: Vec<&str> = core["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .filter(|n| n.contains('/'))
        .collect();
    assert_eq!(
        subs,
        [
            "pods/exec",
            "pods/log",
            "pods/status",
            "persistentvolumeclaims/status",
            "services/proxy",
            "services/status",
            "nodes/status"
        ]
    );
}

#[test]
fn rbac_rules_decide_reviews_and_requests() {
    let f = fake(0);
    f.with(|s| {
        s.tokens.insert("token-viewer".into(), "viewer".into());
        s.policy.insert(
            "viewer".into(),
            vec![
                Rule::new(&["get", "list", "watch"], &[""], &["pods", "pods/log"]).in_namespaces(&["hsof"]),
                Rule::new(&["patch"], &["apps"], &["deployments/scale"]).in_namespaces(&["hsof"]).named(&["hsof-main"]),
            ],
        );
    });
    let review = |token: &str, attrs: Value| {
        let body = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"resourceAttributes": attrs}});
        let (code, r) = call(&f, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token, Some(&body));
        assert_eq!(code, 201);
        r["status"]["allowed"].as_bool().expect("allowed")
    };
    let v = "token-viewer";
    assert!(review(v, json!({"verb": "list", "resource": "pods", "namespace": "hsof"})));
    assert!(review(v, json!({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "hsof"})));
    assert!(!review(v, json!({"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "hsof"})));
    assert!(!review(v, json!({"verb": "list", "resource": "pods", "namespace": "kube-system"})));
    assert!(!review(v, json!({"verb": "delete", "resource": "pods", "namespace": "hsof"})));
    assert!(review(
        v,
        json!({"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "hsof", "name": "hsof-main"})
    ));
    assert!(!review(
        v,
        json!({"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "hsof", "name": "other"})
    ));
    assert!(!review(
        v,
        json!({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "hsof", "name": "hsof-main"})
    ));
    assert!(
        review("fake-token", json!({"verb": "delete", "resource": "pods", "namespace": "hsof"})),
        "the seeded user may do anything"
    );

    // The requests themselves.
    assert_eq!(call(&f, "GET", PODS, v, None).0, 200);
    let (_, pods) = get(&f, PODS);
    let pod = names(&pods)[0].clone();
    let (code, body) = call(&f, "DELETE", &format!("{PODS}/{pod}"), v, None);
    assert_eq!((code, body["reason"].as_str()), (403, Some("Forbidden")));
    assert_eq!(
        body["message"].as_str().unwrap_or_default(),
        format!("pods \"{pod}\" is forbidden: User \"viewer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"hsof\"")
    );
    assert_eq!(call(&f, "GET", "/api/v1/pods", v, None).0, 403, "a Role does not list every namespace");
    assert_eq!(call(&f, "GET", "/api/v1/nodes", v, None).0, 403);
    let scale = "/apis/apps/v1/namespaces/hsof/deployments/hsof-main/scale";
    assert_eq!(call(&f, "PATCH", scale, v, Some(&json!({"spec": {"replicas": 2}}))).0, 200);
    let (code, body) = call(
        &f,
        "PATCH",
        "/apis/apps/v1/namespaces/hsof/deployments/hsof-main",
        v,
        Some(&json!({"spec": {"replicas": 1}})),
    );
    assert_eq!(code, 403);
    assert!(body["message"].as_str().unwrap_or_default().starts_with(
        "deployments.apps \"hsof-main\" is forbidden: User \"viewer\" cannot patch resource \"deployments\""
    ));
    assert_eq!(call(&f, "DELETE", &format!("{PODS}/{pod}"), "fake-token", None).0, 200);
    let users = f.with(|s| s.request_users.clone());
    assert!(users.contains(&"viewer".to_string()) && users.contains(&DEFAULT_USER.to_string()), "{users:?}");
}

#[test]
fn watches_send_bookmarks_when_asked() {
    let f = fake(0);
    f.with(|s| s.bookmark_interval_ms = 200);
    let addr = f.url.trim_start_matches("http://").to_string();
    let watch = |q: &str| {
        let mut io = TcpStream::connect(&addr).expect("connect");
        io.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        write!(io, "GET {PODS}?watch=true{q} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
        io
    };
    let read_for = |io: &mut TcpStream, d: Duration| {
        let until = Instant::now() + d;
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while Instant::now() < until {
            if let Ok(n) = io.read(&mut buf) {
                out.extend_from_slice(&buf[..n]);
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut with = watch("&allowWatchBookmarks=true");
    let mut without = watch("");
    let text = read_for(&mut with, Duration::from_millis(700));
    let bookmarks: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "BOOKMARK")
        .collect();
    assert!(bookmarks.len() >= 2, "one after the initial events, then periodically: {text}");
    let rv = f.with(|s| s.rv.to_string());
    assert_eq!(bookmarks[0]["object"]["metadata"]["resourceVersion"].as_str(), Some(rv.as_str()));
    assert_eq!(bookmarks[0]["object"]["kind"], "Pod");
    assert!(text.find("ADDED") < text.find("BOOKMARK"), "after the initial events");
    assert!(!read_for(&mut without, Duration::from_millis(300)).contains("BOOKMARK"));
    let mut initial = watch("&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan");
    let text = read_for(&mut initial, Duration::from_millis(300));
    assert!(text.contains("\"k8s.io/initial-events-end\":\"true\""), "{text}");
}
