//! RBAC from stored objects, ServiceAccounts, StorageClasses and the Trivy Operator's
//! reports, checked with the real `kubectl` (`auth can-i --as ... --as-group ...`,
//! impersonated requests, `get` tables) and raw access reviews.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::{seed_hsof, FakeKube, Store};

struct Fake {
    server: FakeKube,
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fake() -> Fake {
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut store = Store::default();
    seed_hsof(&mut store, 1, 0);
    let server = FakeKube::start(store);
    let dir = std::env::temp_dir().join(format!(
        "fake-kube-rbac-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_named("fake", "tester", "ci")).expect("kubeconfig");
    Fake { server, dir, kubeconfig }
}

fn run(f: &Fake, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl on PATH");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("kubectl")
}

fn kubectl(f: &Fake, args: &[&str]) -> String {
    let out = run(f, args, None);
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kubectl_err(f: &Fake, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(f, args, stdin);
    assert!(!out.status.success(), "kubectl {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn apply(f: &Fake, manifest: &str) {
    let out = run(f, &["apply", "-f", "-"], Some(manifest));
    assert!(out.status.success(), "apply: {}", String::from_utf8_lossy(&out.stderr));
}

/// `kubectl auth can-i` as `user` (with `--as-group`s): its printed answer.
fn can_i(f: &Fake, user: &str, groups: &[&str], args: &[&str]) -> String {
    let mut all = vec!["auth", "can-i", "--as", user];
    for g in groups {
        all.extend(["--as-group", g]);
    }
    all.extend_from_slice(args);
    String::from_utf8_lossy(&run(f, &all, None).stdout).trim().to_string()
}

/// One raw request with extra headers: status code and JSON body.
fn call(f: &Fake, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> (u16, Value) {
    let addr = f.server.url.trim_start_matches("http://");
    let mut io = TcpStream::connect(addr).expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        io,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    io.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("head");
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status");
    (code, serde_json::from_str(body).unwrap_or(Value::Null))
}

const DEPLOYER: &str = "system:serviceaccount:ci:deployer";
const BUILDER: &str = "system:serviceaccount:ci:builder";

const RBAC: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: ci}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
secrets: [{name: builder-token}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ci}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: configmap-editor}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: edit-config, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: configmap-editor}
subjects:
- {kind: ServiceAccount, name: deployer}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: scaler
  labels: {hsof.io/aggregate-to: deployer}
rules:
- apiGroups: [apps]
  resources: ["*/scale"]
  verbs: [get, patch, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: registry-secret
  labels: {hsof.io/aggregate-to: deployer}
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [registry-creds]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer-aggregate}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions:
    - {key: hsof.io/aggregate-to, operator: In, values: [deployer]}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-aggregate, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployer-aggregate}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-viewer}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors-view-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-viewer}
subjects:
- {kind: Group, name: auditors, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-lister}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list]
- nonResourceURLs: [/healthz, "/metrics*"]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-accounts-list-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-lister}
subjects:
- {kind: Group, name: "system:serviceaccounts:ci", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-owns-sandbox, namespace: sandbox}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
subjects:
- {kind: ServiceAccount, name: builder, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ghost, namespace: ghost}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: csi.hsof.io
allowVolumeExpansion: true
"#;

mod access;
mod kinds;
