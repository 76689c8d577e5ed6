//! The team store against the fake API server and the real kubectl: CRDs served
//! generically (discovery, CRUD, status subresource, printer columns, watch, 409 on a
//! stale resourceVersion), `hsofctl team install` (dry run, idempotent, audited) and
//! `team status`, and the refusals (no permission, a foreign version).

use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::runtime::watcher;
use serde_json::json;

use crate::{cli, connect, fake, kubectl, kubectl_output, Fake};

fn incidents(client: kube::Client) -> Api<DynamicObject> {
    let ar = ApiResource {
        group: "ops.hsof.io".into(),
        version: "v1".into(),
        api_version: "ops.hsof.io/v1".into(),
        kind: "Incident".into(),
        plural: "incidents".into(),
    };
    Api::namespaced_with(client, "hsof", &ar)
}

fn kubectl_fails(f: &Fake, args: &[&str]) -> String {
    let out = kubectl_output(f, args);
    assert!(!out.status.success(), "kubectl {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

const INCIDENT: &str = "apiVersion: ops.hsof.io/v1
kind: Incident
metadata: {name: inc-gpu-hot}
spec: {severity: P1, title: GPU temperature over 85 C, declaredBy: alice, declaredAt: '2026-12-05T01:00:00Z'}
";

#[tokio::test(flavor = "multi_thread")]
async fn the_team_store_installs_idempotently_and_kubectl_reads_and_writes_it() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let c = connect(&f).await;

    let before = hsof_team::status(&c).await.expect("status");
    assert!(!before.installed && before.summary.contains("hsofctl team install"), "{}", before.summary);
    let out = cli(&f, dir.path(), &["team", "status"]);
    assert_eq!(out.status.code(), Some(1), "not usable before the install");

    let out = cli(&f, dir.path(), &["team", "install", "--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let objects = hsof_team::KINDS.len() + 2; // the definitions and the two roles
    assert_eq!(text.matches("created (dry run)").count(), objects, "{text}");
    assert!(kubectl(&f, &["get", "crd", "-o", "name"]).trim().is_empty(), "a dry run writes nothing");

    let out = cli(&f, dir.path(), &["team", "install", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let applied: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        applied.as_array().is_some_and(|a| a.len() == objects && a.iter().all(|x| x["outcome"] == "created")),
        "{applied}"
    );
    let out = cli(&f, dir.path(), &["team", "install", "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(again.as_array().is_some_and(|a| a.iter().all(|x| x["outcome"] == "unchanged")), "idempotent: {again}");
    let audit = String::from_utf8_lossy(&cli(&f, dir.path(), &["audit", "list"]).stdout).into_owned();
    assert_eq!(audit.matches("team.install").count(), 2, "{audit}");

    let after = hsof_team::status(&c).await.expect("status");
    assert!(after.installed && after.readable && after.writable, "{after:?}");
    // The identity is the API server's SelfSubjectReview answer, which kubectl auth whoami
    // reads too (kubectl sends no token over plain http, so it impersonates the same user).
    assert_eq!(after.identity.as_deref(), Some(hsof_fake_kube::DEFAULT_USER), "{after:?}");
    let whoami = kubectl(
        &f,
        &["--as", hsof_fake_kube::DEFAULT_USER, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
    );
    assert_eq!(whoami.trim(), hsof_fake_kube::DEFAULT_USER);
    assert!(cli(&f, dir.path(), &["team", "status"]).status.success());

    // Discovery and kubectl, as a teammate would use them.
    let resources = kubectl(&f, &["api-resources", "--api-group=ops.hsof.io", "-o", "name"]);
    for r in [
        "incidents.ops.hsof.io",
        "procedureruns.ops.hsof.io",
        "maintenancewindows.ops.hsof.io",
        "securityreviews.ops.hsof.io",
    ] {
        assert!(resources.contains(r), "{resources}");
    }
    let file = write(dir.path(), "incident.yaml", INCIDENT);
    kubectl(&f, &["apply", "-f", &file]);
    let table = kubectl(&f, &["get", "incidents"]);
    assert!(table.contains("SEVERITY") && table.contains("DECLARED-BY"), "printer columns: {table}");
    assert!(
        table.contains("inc-gpu-hot") && table.contains("P1") && table.contains("GPU temperature over 85 C"),
        "{table}"
    );
    assert!(kubectl(&f, &["get", "hinc"]).contains("inc-gpu-hot"), "short name");
    let wide = kubectl(&f, &["get", "incidents", "-o", "wide"]);
    assert!(wide.contains("ACKED-BY"), "priority-1 columns with -o wide: {wide}");

    // Status only through /status.
    kubectl(&f, &["patch", "incident", "inc-gpu-hot", "--type=merge", "-p", r#"{"status":{"state":"Resolved"}}"#]);
    assert!(!kubectl(&f, &["get", "incidents"]).contains("Resolved"), "status is not written through the object");
    kubectl(
        &f,
        &[
            "patch",
            "incident",
            "inc-gpu-hot",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"state":"Acknowledged","acknowledged":{"by":"bob","at":"2026-12-05T01:02:00Z"}}}"#,
        ],
    );
    assert!(kubectl(&f, &["get", "incidents"]).contains("Acknowledged"));

    // A write against a stale resourceVersion is refused with 409, as the API server does.
    let api = incidents(c.client().clone());
    let mut obj = api.get("inc-gpu-hot").await.expect("get");
    let stale = obj.clone();
    obj.data["spec"]["title"] = json!("GPU temperature over 90 C");
    api.replace("inc-gpu-hot", &PostParams::default(), &obj).await.expect("replace");
    match api.replace("inc-gpu-hot", &PostParams::default(), &stale).await {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 409, "{e:?}"),
        other => panic!("a stale write must conflict: {other:?}"),
    }

    // Watched like any resource.
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(|n: &String| n == "inc-second") {
        if seen.is_empty() {
            let file = write(dir.path(), "second.yaml", &INCIDENT.replace("inc-gpu-hot", "inc-second"));
            kubectl(&f, &["apply", "-f", &file]);
        }
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)))) => {
                seen.push(o.metadata.name.unwrap_or_default())
            }
            Ok(Some(_)) => {}
            other => panic!("watch ended or timed out: {other:?} after {seen:?}"),
        }
    }

    // A schema violation of the CRD itself is refused; deleting the CRD deletes its objects.
    let bad = write(dir.path(), "bad.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets}\nspec: {group: example.io, scope: Namespaced, names: {plural: widgets, kind: Widget}, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]}\n");
    assert!(kubectl_fails(&f, &["apply", "-f", &bad]).contains("spec.names.plural"));
    kubectl(&f, &["delete", "crd", "incidents.ops.hsof.io"]);
    assert!(!matches!(api.get_opt("inc-gpu-hot").await, Ok(Some(_))), "the resource is no longer served");
    let status = hsof_team::status(&c).await.expect("status");
    assert!(!status.installed);
    assert!(cli(&f, dir.path(), &["team", "install"]).status.success());
    assert!(matches!(api.get_opt("inc-gpu-hot").await, Ok(None)), "its objects went with the definition");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_install_names_the_missing_permission_and_never_replaces_another_version() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    f.server.with(|s| s.denied.push(("create".into(), "customresourcedefinitions".into(), String::new())));
    let out = cli(&f, dir.path(), &["team", "install"]);
    assert_eq!(out.status.code(), Some(hsof_core::ErrorCode::Forbidden.exit_status()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("may not create customresourcedefinitions.apiextensions.k8s.io"), "{err}");
    assert!(kubectl(&f, &["get", "crd", "-o", "name"]).trim().is_empty());
    f.server.with(|s| s.denied.clear());

    // Read-only mode stays read-only.
    std::fs::write(dir.path().join("config.toml"), "[cluster]\nread_only = true\n").expect("config");
    let out = cli(&f, dir.path(), &["team", "install"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(dir.path().join("config.toml")).expect("rm config");

    // Someone installed another version: refused, with the version found.
    let v2 = hsof_team::manifests_yaml().split("---").next().expect("first doc").replace("name: v1", "name: v2");
    let file = write(dir.path(), "v2.yaml", &v2);
    kubectl(&f, &["apply", "-f", &file]);
    let out = cli(&f, dir.path(), &["team", "install"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("version v2") && err.contains("speaks v1"), "{err}");
    let status = hsof_team::status(&connect(&f).await).await.expect("status");
    assert!(!status.installed && status.summary.contains("version v2"), "{}", status.summary);
}
