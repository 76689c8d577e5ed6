//! The images the namespace runs against a real registry on loopback (Debian's
//! docker-registry with token auth, images pushed by the test): the newest release by
//! semantic version among semver and other tags, a moved tag, a private repository read
//! with the pods' pull secret, and the faults — a registry that cannot be reached, a token
//! service that refuses, a repository that does not exist.

use base64::Engine;
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::registry::Registry;
use serde_json::{json, Value};

fn days_ago(d: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(d)
}

fn hsofctl(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    crate::hsofctl_json(dir, args)
}

fn pod(name: &str, image: &str, image_id: &str, pull_secret: Option<&str>) -> Value {
    let mut p = json!({"kind": "Pod", "metadata": {"name": name, "namespace": "hsof"},
        "spec": {"containers": [{"name": "c", "image": image}]},
        "status": {"phase": "Running", "startTime": days_ago(3).to_rfc3339(), "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": image, "imageID": image_id}]}});
    if let Some(s) = pull_secret {
        p["spec"]["imagePullSecrets"] = json!([{"name": s}]);
    }
    p
}

#[test]
fn images_against_a_real_registry_with_tokens_and_pull_secrets() {
    let reg = Registry::start(&[("ci", "s3cret")], &["private/engine"]);
    let h = reg.host.clone();
    reg.push("hsof/hsof", "1.4.0", days_ago(90), "a");
    let running = reg.push("hsof/hsof", "1.5.0", days_ago(30), "a");
    reg.push("hsof/hsof", "1.10.0", days_ago(5), "a");
    reg.push("hsof/hsof", "2.0.0-rc1", days_ago(1), "a");
    reg.push("hsof/hsof", "latest", days_ago(5), "a");
    reg.push("hsof/hsof", "sha-1a2b3c", days_ago(5), "a");
    // 1.5.0 is pushed again: the tag moved away from what runs.
    let moved_to = reg.push("hsof/hsof", "1.5.0", days_ago(2), "b");
    assert_ne!(running, moved_to);
    reg.push("private/engine", "0.9.0", days_ago(40), "a");
    let engine = reg.push("private/engine", "1.0.0", days_ago(10), "a");

    let mut store = Store::default();
    seed_hsof(&mut store, 0, 0);
    store.put(pod("hsof-a", &format!("{h}/hsof/hsof:1.5.0"), &format!("{h}/hsof/hsof@{running}"), None));
    store.put(pod(
        "engine-a",
        &format!("{h}/private/engine:1.0.0"),
        &format!("{h}/private/engine@{engine}"),
        Some("regcred"),
    ));
    store.put(pod("ghost", "127.0.0.1:9/nothing/here:1.0", "", None));
    let cfg = json!({"auths": {h.clone(): {"auth": base64::engine::general_purpose::STANDARD.encode("ci:s3cret")}}})
        .to_string();
    store.put(json!({"kind": "Secret", "metadata": {"name": "regcred", "namespace": "hsof"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64::engine::general_purpose::STANDARD.encode(cfg)}}));
    let kube = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[cluster]\nkubeconfig = \"{}\"\nnamespace = \"hsof\"\n\n[endpoints]\nrequest_timeout_secs = 3\n",
            kubeconfig.display()
        ),
    )
    .expect("config");

    let (_, v) = hsofctl(dir.path(), &["updates"]);
    let img = |repo: &str| {
        v["registry"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["image"].as_str().is_some_and(|s| s.contains(repo)))
            .cloned()
            .unwrap_or_else(|| panic!("{repo}: {}", v["registry"]))
    };
    let hsof = img("hsof/hsof");
    assert_eq!(hsof["error"], Value::Null, "{hsof}");
    assert_eq!(hsof["newest"], "1.10.0", "by semantic version, not text; pre-releases and `latest` left out: {hsof}");
    assert_eq!(hsof["newer"], true);
    assert_eq!(hsof["moved"], true, "{hsof}");
    assert_eq!(hsof["tag_digest"].as_str(), Some(moved_to.as_str()));
    assert_eq!(hsof["tags"], 6);
    assert_eq!(hsof["not_versions"], 2);
    assert!(
        hsof["newest_created"].as_str().is_some_and(|c| c.starts_with(&days_ago(5).format("%Y-%m-%d").to_string())),
        "{hsof}"
    );
    let engine_row = img("private/engine");
    assert_eq!(engine_row["error"], Value::Null, "read with the pull secret: {engine_row}");
    assert_eq!(
        (engine_row["newest"].as_str(), engine_row["moved"].as_bool(), engine_row["newer"].as_bool()),
        (Some("1.0.0"), Some(false), Some(false))
    );
    let ghost = img("nothing/here");
    assert!(ghost["error"].as_str().is_some_and(|e| e.contains("could not be reached")), "{ghost}");

    // Without the pull secret the private repository is refused, and said so.
    kube.with(|s| {
        let key = s.objects.keys().find(|(p, _, n)| p == "secrets" && n == "regcred").cloned();
        if let Some(k) = key {
            s.objects.remove(&k);
        }
    });
    let (_, v) = hsofctl(dir.path(), &["updates"]);
    let row = v["registry"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["image"].as_str().is_some_and(|s| s.contains("private/engine")))
        .cloned()
        .expect("row");
    assert!(row["error"].as_str().is_some_and(|e| e.contains("refused") || e.contains("needs credentials")), "{row}");
    assert!(v["registry_problems"].to_string().contains("regcred"), "{}", v["registry_problems"]);

    // A token service that refuses every request: named, nothing invented.
    reg.refuse_tokens();
    let (_, v) = hsofctl(dir.path(), &["updates"]);
    let row = v["registry"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["image"].as_str().is_some_and(|s| s.contains("hsof/hsof")))
        .cloned()
        .expect("row");
    assert!(row["error"].as_str().is_some_and(|e| e.contains("token service")), "{row}");
    assert_eq!(row["newest"], Value::Null);
}
