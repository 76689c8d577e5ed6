//! A stateful fake Kubernetes API server for tests, benchmarks and demos.
//!
//! It speaks the real JSON wire format (discovery, lists with resourceVersion, objects,
//! merge / strategic-merge / JSON patches, server-side dry run, `/scale`, pod logs,
//! SelfSubjectAccessReview) and runs a minimal deployment controller so rollout history
//! and undo are real. The conformance tests drive it with the real `kubectl`.
//!
//! RBAC: Roles, ClusterRoles (aggregated as kube-controller-manager aggregates them),
//! RoleBindings and ClusterRoleBindings are served and, once a binding is stored, decide
//! what identities other than the default user may do, in requests (`403`),
//! SelfSubjectAccessReviews (`kubectl auth can-i --as ... --as-group ...`) and
//! SubjectAccessReviews, by Kubernetes' own rules (see [`rbac`]). ServiceAccounts,
//! StorageClasses and any CRD (the Trivy Operator's: [`trivy`]) are served too.
//!
//! Watches resume from a resourceVersion (or answer `410 Gone`), log follows honour
//! `sinceTime`, and exec answers scripted commands such as `df -h` over the websocket channel
//! protocols (v4, v5) and over SPDY/3.1 (v4 down to v1), as older `kubectl` speaks it.
//! Services are served with the API server's service proxy
//! (`/api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH`): the fake has no pod
//! network, so a service's endpoint is `127.0.0.1:targetPort` (see `svcproxy`).
//! Faults: status codes, delays, dropped streams, bad tokens.
//! In kubelet mode ([`kubelet`]) Jobs and pods of mapped images run as local processes.

pub mod aggregation;
mod controller;
pub mod crd;
mod discovery;
mod exec;
pub mod kubelet;
mod managed;
mod patch;
mod policy;
mod printers;
pub mod rbac;
#[cfg(test)]
mod rbac_tests;
mod resources;
mod reviews;
mod routes;
mod security_seed;
mod seed;
mod selector;
pub mod sim;
mod spdy;
mod store;
mod streams;
#[cfg(test)]
mod strict_tests;
mod svcproxy;
pub mod trivy;
mod validation;

use std::sync::{Arc, Mutex};

pub use kubelet::{Kubelet, KubeletFaults};
pub use policy::{resource_matches, Attributes, Rule, DEFAULT_TOKEN, DEFAULT_USER};
pub use rbac::{Decision, Request, UserInfo};
pub use security_seed::seed_security;
pub use seed::seed_hsof;
pub use selector::{FieldSelector, LabelSelector, Selectors};
pub use store::{Change, ExecAnswer, Faults, LogLine, Signal, Store, CHANGE_HISTORY};
pub use trivy::{trivy_crd, vulnerability_report};

/// A running fake API server on a free loopback port.
#[derive(Debug)]
pub struct FakeKube {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The state, for seeding, fault injection and assertions.
    pub store: Arc<Mutex<Store>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeKube {
    /// Starts serving `store` on its own thread and runtime.
    pub fn start(store: Store) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake-kube");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr").to_string();
        let store = Arc::new(Mutex::new(store));
        let shared = routes::Shared { store: store.clone(), addr: addr.clone() };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(async move {
                tokio::spawn(crate::kubelet::run(shared.store.clone()));
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let fallback = shared.clone();
                let app = axum::Router::new()
                    .route("/api/v1/namespaces/{ns}/pods/{name}/exec", axum::routing::any(exec::handle))
                    .fallback(move |method, uri, headers, body| {
                        routes::handle(fallback.clone(), method, uri, headers, body)
                    })
                    .with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Self { url: format!("http://{addr}"), store, shutdown: Some(tx), thread: Some(thread) }
    }

    /// A kubeconfig with one context, `fake`, pointing at this server, namespace `hsof`.
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig_named("fake", "tester", "hsof")
    }

    /// A kubeconfig with one context (and cluster) named `context`, user `user` with the
    /// default token, pointing at this server, namespace `namespace`.
    pub fn kubeconfig_named(&self, context: &str, user: &str, namespace: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {context}\nclusters:\n- name: {context}\n  cluster:\n    server: {}\nusers:\n- name: {user}\n  user:\n    token: {DEFAULT_TOKEN}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {user}\n    namespace: {namespace}\n",
            self.url
        )
    }

    /// Runs `f` on the state.
    pub fn with<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.store.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
