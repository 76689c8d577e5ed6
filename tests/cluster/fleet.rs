//! Several clusters: two fake API servers as `prod-eu` (primary) and `dr-us` (dr), each
//! with its own HSOF health endpoint, read through the real `hsofctl` and judged by the
//! real `kubectl` against each: the fleet rows, a change on one appearing as drift, the
//! diff listing exactly what differs, one cluster unreachable leaving the other live, and
//! `--cluster NAME` choosing the cluster a command works on.

use std::path::Path;

use serde_json::Value;

use crate::regions::Region;

fn region(dir: &Path, name: &str) -> Region {
    Region::start(dir, name, 3)
}

fn kubectl(r: &Region, args: &[&str]) -> String {
    r.kubectl(args)
}

struct Profile {
    dir: tempfile::TempDir,
}

impl Profile {
    fn hsofctl(&self, args: &[&str]) -> (i32, String, String) {
        crate::hsofctl_in(self.dir.path(), args)
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        crate::hsofctl_json(self.dir.path(), args)
    }
}

fn profile(prod: &Region, dr: &Region) -> Profile {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[endpoints]\nrequest_timeout_secs = 10\n\n{}{}",
        prod.entry("prod-eu", "primary"),
        dr.entry("dr-us", "dr")
    );
    std::fs::write(dir.path().join("config.toml"), text).expect("config");
    Profile { dir }
}

fn row<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == name))
        .unwrap_or_else(|| panic!("no row {name}: {view}"))
}

fn drift_keys(row: &Value) -> Vec<String> {
    row["drift"]["differences"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| format!("{}.{}", x["area"].as_str().unwrap_or(""), x["key"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_clusters_side_by_side_with_drift_diff_and_one_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (prod, mut dr) = (region(dir.path(), "prod-eu"), region(dir.path(), "dr-us"));
    let p = profile(&prod, &dr);

    let (code, clusters) = p.json(&["clusters"]);
    assert_eq!(code, 0, "{clusters}");
    assert_eq!(clusters["current"], "prod-eu", "the primary is current by default");

    // Both rows right, as kubectl sees each cluster.
    let (_, view) = p.json(&["fleet"]);
    assert_eq!(view["primary"], "prod-eu");
    for (name, r) in [("prod-eu", &prod), ("dr-us", &dr)] {
        let row = row(&view, name);
        assert_eq!(row["reachable"], true, "{row}");
        assert_eq!(row["health"], "HEALTHY", "{row}");
        let replicas = kubectl(r, &["get", "deployment", "hsof-main", "-o", "jsonpath={.spec.replicas}"]);
        assert_eq!(row["replicas_desired"].to_string(), replicas.trim(), "{name}");
        let image =
            kubectl(r, &["get", "deployment", "hsof-main", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
        assert_eq!(Some(image.rsplit(':').next().unwrap_or_default()), row["version"].as_str(), "{name}");
        let gpus: i64 = kubectl(r, &["get", "nodes", "-o", "jsonpath={.items[*].status.allocatable.nvidia\\.com/gpu}"])
            .split_whitespace()
            .map(|g| g.parse::<i64>().expect("gpu count"))
            .sum();
        assert_eq!(row["gpu_capacity"], gpus, "{name}");
        let backup = kubectl(r, &["get", "cronjob", "hsof-backup", "-o", "jsonpath={.status.lastSuccessfulTime}"]);
        assert_eq!(row["last_backup"].as_str(), Some(backup.trim()), "{name}");
        assert!(
            row["problems"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x.as_str().is_some_and(|s| s.starts_with("AlertManager")))),
            "what could not be read is named: {row}"
        );
    }
    assert!(row(&view, "prod-eu")["drift"].is_null(), "the primary has no drift");
    assert_eq!(drift_keys(row(&view, "dr-us")), Vec::<String>::new(), "the same seed: no drift");
    let (code, same) = p.json(&["fleet", "diff", "prod-eu", "dr-us"]);
    assert_eq!(code, 0, "{same}");

    // A change on dr-us appears as drift, and the diff lists exactly what differs.
    kubectl(&dr, &["scale", "deployment", "hsof-main", "--replicas=1"]);
    kubectl(
        &dr,
        &["patch", "configmap", "hsof-config", "--type=merge", "-p", r#"{"data":{"log_level":"debug","dr_only":"1"}}"#],
    );
    kubectl(&dr, &["delete", "pdb", "hsof-pdb"]);
    let (_, view) = p.json(&["fleet"]);
    let dr_row = row(&view, "dr-us");
    assert_eq!(drift_keys(dr_row), ["configmap.dr_only", "configmap.log_level", "deployment.replicas"], "{dr_row}");
    assert_eq!(dr_row["level"], "warning", "{dr_row}");
    let (code, diff) = p.json(&["fleet", "diff", "prod-eu", "dr-us"]);
    assert_eq!(code, 1, "they differ");
    let mut keys: Vec<String> = diff["comparison"]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|x| format!("{}.{}", x["area"].as_str().unwrap_or(""), x["key"].as_str().unwrap_or("")))
        .collect();
    keys.sort();
    let ready_differs = kubectl(&dr, &["get", "deployment", "hsof-main", "-o", "jsonpath={.status.readyReplicas}"])
        .trim()
        != kubectl(&prod, &["get", "deployment", "hsof-main", "-o", "jsonpath={.status.readyReplicas}"]).trim();
    let mut expected = vec![
        "configmap.dr_only",
        "configmap.log_level",
        "deployment.replicas",
        "pdb.pdb[hsof-pdb].maxUnavailable",
        "pdb.pdb[hsof-pdb].minAvailable",
    ];
    if ready_differs {
        expected.push("deployment.ready");
    }
    expected.sort();
    assert_eq!(keys, expected, "{diff}");
    assert!(diff["comparison"]["unknown"].as_array().is_some_and(Vec::is_empty), "{diff}");
    let (_, text, _) = p.hsofctl(&["fleet", "diff", "prod-eu", "dr-us"]);
    assert!(text.contains("log_level\n    - prod-eu: info\n    + dr-us: debug"), "{text}");

    // --cluster NAME: the command works on that cluster's context and endpoints.
    let (code, health) = p.json(&["--cluster", "dr-us", "health"]);
    assert_eq!(code, 0, "{health}");
    assert_eq!(health["freshness"]["source"], format!("HSOF {}", dr.exporter.url()), "{health}");
    let (code, pods) = p.json(&["--cluster", "dr-us", "cluster", "deployments"]);
    assert_eq!(code, 0, "{pods}");
    assert!(pods.to_string().contains("\"replicas\":1"), "dr-us scaled to 1: {pods}");
    let (code, _, err) = p.hsofctl(&["--cluster", "nowhere", "health"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("prod-eu (primary), dr-us (dr)"), "the names there are: {err}");

    // Records name the cluster they belong to: an incident declared there, a change made there.
    let (code, declared) =
        p.json(&["--cluster", "dr-us", "incident", "declare", "--severity", "P2", "--title", "dr-us lags"]);
    assert_eq!(code, 0, "{declared}");
    let (_, list) = p.json(&["incident", "list"]);
    let mine = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["incident"]["title"] == "dr-us lags"))
        .cloned()
        .expect("listed");
    assert_eq!(mine["cluster"], "dr-us", "{mine}");
    let (code, _, err) = p.hsofctl(&["--cluster", "dr-us", "change", "scale", "2", "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (_, audit) = p.json(&["audit", "list"]);
    let scale = audit
        .as_array()
        .and_then(|a| {
            a.iter().find(|r| {
                r["action"].as_str().is_some_and(|a| a.ends_with("scale") || a.starts_with("emergency.scale"))
            })
        })
        .cloned()
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert!(scale["actor"].as_str().is_some_and(|a| a.contains("(cluster dr-us, context dr-us)")), "{scale}");
    assert!(
        scale["action"].as_str().is_some_and(|a| a.starts_with("emergency.")),
        "dr-us's open incident makes it an emergency change: {scale}"
    );
    assert_eq!(kubectl(&dr, &["get", "deployment", "hsof-main", "-o", "jsonpath={.spec.replicas}"]).trim(), "2");
    // On prod-eu, dr-us's incident is not an emergency.
    let (code, _, err) = p.hsofctl(&["change", "scale", "3", "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (_, audit) = p.json(&["audit", "list"]);
    assert_eq!(audit[0]["action"], "scale", "{}", audit[0]);
    assert!(
        audit[0]["actor"].as_str().is_some_and(|a| a.contains("(cluster prod-eu, context prod-eu)")),
        "{}",
        audit[0]
    );

    // dr-us goes away: its last known row stays, stale, named; prod-eu stays live.
    dr.stop();
    let (code, view) = p.json(&["fleet"]);
    assert_eq!(code, 2, "an unreachable cluster is critical, with its last known values shown: {view}");
    let gone = row(&view, "dr-us");
    assert_eq!((gone["reachable"].clone(), gone["stale"].clone()), (Value::Bool(false), Value::Bool(true)), "{gone}");
    assert_eq!(gone["replicas_desired"], 1, "its last known values (the last fleet read): {gone}");
    assert!(gone["problems"][0].as_str().is_some_and(|p| p.starts_with("Kubernetes:")), "{gone}");
    let live = row(&view, "prod-eu");
    assert_eq!((live["reachable"].clone(), live["stale"].clone()), (Value::Bool(true), Value::Bool(false)));
    let (_, text, _) = p.hsofctl(&["fleet"]);
    assert!(text.contains("UNREACHABLE · last known values from"), "{text}");
    drop(prod);
}

#[test]
fn a_bad_cluster_list_is_refused_and_a_missing_context_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prod = region(dir.path(), "prod-eu");
    let p = profile(&prod, &prod);
    // Two clusters with the same name: refused, each problem named.
    let text = std::fs::read_to_string(p.dir.path().join("config.toml")).expect("read");
    std::fs::write(p.dir.path().join("config.toml"), text.replace("name = \"dr-us\"", "name = \"prod-eu\""))
        .expect("write");
    let (code, _, err) = p.hsofctl(&["config", "validate"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("clusters[1].name") && err.contains("a name no other cluster has"), "{err}");

    // A context the kubeconfig does not have, and a cluster without HSOF: each row says so.
    let text = text.replacen("context = \"dr-us\"", "context = \"no-such-context\"", 1);
    std::fs::write(p.dir.path().join("config.toml"), text).expect("write");
    let (code, view) = p.json(&["fleet"]);
    assert_eq!(code, 2, "{view}");
    let dr = row(&view, "dr-us");
    assert_eq!(dr["reachable"], false);
    assert!(dr["problems"][0].as_str().is_some_and(|p| p.contains("no-such-context")), "{dr}");
    assert!(
        row(&view, "dr-us")["drift"]["unknown"][0].as_str().is_some_and(|u| u.contains("dr-us could not be read")),
        "{view}"
    );
    kubectl(&prod, &["delete", "deployment", "hsof-main"]);
    let (_, view) = p.json(&["fleet"]);
    let prod_row = row(&view, "prod-eu");
    assert!(
        prod_row["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x.as_str().is_some_and(|s| s.contains("HSOF is not installed here")))),
        "{prod_row}"
    );
}
