//! Services and the API server's service proxy: the fake's proxy checked against the real
//! kubectl (`get --raw` through `/services/NAME:PORT/proxy/`), discovery of HSOF, Prometheus
//! and AlertManager by their charts' names and labels, and the loopback forwarder the
//! monitoring clients use.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hsof_cluster::{Cluster, ProxyTarget, ServiceProxy, ServiceRef, SourceRole};
use hsof_fake_kube::sim::service;
use hsof_fake_kube::Rule;

use super::{fake, kubectl, opts, Fake};

/// A loopback HTTP server answering like HSOF health, Prometheus and AlertManager at once
/// (each only on its own paths), echoing anything else; counts requests.
struct Backend {
    port: u16,
    hits: Arc<AtomicUsize>,
    _thread: std::thread::JoinHandle<()>,
}

fn backend() -> Backend {
    backend_with(true)
}

/// `apis == false`: an echo server that is none of the three.
fn backend_with(apis: bool) -> Backend {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("backend");
    let port = server.server_addr().to_ip().expect("ip").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let thread = std::thread::spawn(move || {
        for req in server.incoming_requests() {
            h.fetch_add(1, Ordering::SeqCst);
            let auth = req.headers().iter().any(|x| x.field.equiv("Authorization"));
            let body = match req.url() {
                _ if !apis => format!(r#"{{"echo":"{}"}}"#, req.url()),
                "/health" => r#"{"overall_status":"HEALTHY","components":{}}"#.to_string(),
                "/api/v1/status/buildinfo" => r#"{"status":"success","data":{"version":"2.45.0"}}"#.to_string(),
                "/api/v2/status" => r#"{"versionInfo":{"version":"0.25.0"},"cluster":{"status":"ready"}}"#.to_string(),
                other => format!(r#"{{"echo":"{other}","method":"{}","authorization":{auth}}}"#, req.method()),
            };
            let _ = req.respond(
                tiny_http::Response::from_string(body)
                    .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").expect("header")),
            );
        }
    });
    Backend { port, hits, _thread: thread }
}

/// The HSOF reference's services and the monitoring charts', all backed by `port`, plus
/// decoys discovery must not take.
fn install(f: &Fake, port: u16) {
    f.server.with(|s| {
        let hsof = |c| [("app.kubernetes.io/name", "hsof"), ("app.kubernetes.io/component", c)];
        service(s, "hsof", "hsof-api", &hsof("api-service"), &[("api", 80, port), ("health", 8080, port)]);
        service(s, "hsof", "hsof-metrics", &hsof("metrics-service"), &[("metrics", 9090, port)]);
        service(
            s,
            "monitoring",
            "prometheus-server",
            &[("app", "prometheus"), ("component", "server")],
            &[("http", 80, port)],
        );
        service(
            s,
            "monitoring",
            "prometheus-alertmanager",
            &[("app", "prometheus"), ("component", "alertmanager")],
            &[("http", 80, port)],
        );
        service(s, "monitoring", "prometheus-node-exporter", &[("app", "prometheus")], &[("metrics", 9100, port)]);
    });
}

#[test]
fn kubectl_reaches_a_service_through_the_fakes_proxy() {
    let f = fake();
    let b = backend();
    install(&f, b.port);
    let svc = kubectl(&f, &["get", "svc", "-n", "monitoring", "prometheus-server", "-o", "json"]);
    let svc: serde_json::Value = serde_json::from_str(&svc).expect("json");
    assert_eq!(svc["spec"]["ports"][0]["name"], "http");
    // By port number, by port name, with a path and a query.
    let raw = |path: &str| kubectl(&f, &["get", "--raw", path]);
    let echo = raw("/api/v1/namespaces/monitoring/services/prometheus-server:80/proxy/some/path?x=1");
    let echo: serde_json::Value = serde_json::from_str(&echo).expect("json");
    assert_eq!(echo["echo"], "/some/path?x=1");
    assert_eq!(echo["authorization"], false, "the caller's credentials are not passed on");
    let build = raw("/api/v1/namespaces/monitoring/services/http:prometheus-server:http/proxy/api/v1/status/buildinfo");
    assert!(build.contains("2.45.0"), "{build}");
    // What the API server refuses, kubectl reports with its message.
    let refused = |path: &str| {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&f.kubeconfig)
            .args(["get", "--raw", path])
            .output()
            .expect("kubectl");
        assert!(!out.status.success(), "{path} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = refused("/api/v1/namespaces/monitoring/services/prometheus-server:9999/proxy/");
    assert!(e.contains("no service port 9999 found"), "{e}");
    let e = refused("/api/v1/namespaces/monitoring/services/prometheus-server:grpc/proxy/");
    assert!(e.contains("no endpoints available"), "{e}");
    let e = refused("/api/v1/namespaces/monitoring/services/nothing:80/proxy/");
    assert!(e.contains("not found"), "{e}");
    // RBAC: the proxy is its own subresource.
    f.server.with(|s| {
        s.policy.insert("viewer".into(), vec![Rule::new(&["get", "list"], &[""], &["services"])]);
    });
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(["--as", "viewer", "get", "--raw", "/api/v1/namespaces/monitoring/services/prometheus-server:80/proxy/"])
        .output()
        .expect("kubectl");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && (e.contains("services/proxy") || e.contains("Forbidden")), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_finds_the_sources_and_the_forwarder_reaches_them() {
    let f = fake();
    let b = backend();
    install(&f, b.port);
    let cluster = Cluster::connect(Some(&f.kubeconfig), None, "hsof", &opts(5)).await.expect("connect");
    let namespaces = vec!["hsof".to_string(), "monitoring".to_string(), "absent".to_string()];
    let d = cluster.discover(&namespaces).await.expect("discover");
    assert_eq!(d.services_seen, 5);
    assert!(d.notes.is_empty(), "a namespace that does not exist has no services: {:?}", d.notes);
    let best = |role| d.best(role).map(|c| c.service.uri()).unwrap_or_default();
    assert_eq!(best(SourceRole::Hsof), "k8s-service://hsof/hsof-api:health");
    assert_eq!(best(SourceRole::Prometheus), "k8s-service://monitoring/prometheus-server:http");
    assert_eq!(best(SourceRole::Alertmanager), "k8s-service://monitoring/prometheus-alertmanager:http");
    assert!(
        d.candidates.iter().all(|c| c.service.name != "prometheus-node-exporter" && c.service.name != "hsof-metrics"),
        "{:?}",
        d.candidates
    );
    for role in SourceRole::ALL {
        let p = cluster.probe(role, &d.best(role).expect("found").service).await;
        assert!(p.ok, "{role:?}: {p:?}");
        assert!(p.path.contains("/proxy/"), "{}", p.path);
    }
    // A service that is not what it claims fails its probe with a reason.
    let echo = backend_with(false);
    f.server.with(|s| service(s, "hsof", "echo", &[], &[("web", 80, echo.port)]));
    let wrong = ServiceRef::parse("k8s-service://hsof/echo:web").expect("ref");
    let p = cluster.probe(SourceRole::Prometheus, &wrong).await;
    assert!(!p.ok && p.detail.contains("not the Prometheus API"), "{p:?}");

    // The forwarder: plain HTTP clients reach the service with the kubeconfig's token.
    let proxy =
        ServiceProxy::start(ProxyTarget { kubeconfig: Some(f.kubeconfig.clone()), context: None, options: opts(5) })
            .expect("forwarder");
    let prom = d.best(SourceRole::Prometheus).expect("prometheus").service.clone();
    let base = proxy.url_for(&prom);
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/api/v1/status/buildinfo")).send().await.expect("through the forwarder");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("body").contains("2.45.0"));
    let before = f.server.with(|s| s.requests.len());
    // Without the random prefix: nothing; under it, only service proxy paths.
    let origin = base.split('/').take(3).collect::<Vec<_>>().join("/");
    let r =
        http.get(format!("{origin}/api/v1/namespaces/monitoring/services/prometheus-server:80/proxy/")).send().await;
    assert_eq!(r.expect("answer").status().as_u16(), 404);
    let prefix = &base[..base.find("/api/v1").expect("path")];
    let r = http.get(format!("{prefix}/api/v1/namespaces/hsof/pods")).send().await.expect("answer");
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(f.server.with(|s| s.requests.len()), before, "refused requests never reach the API server");
    // The API server's refusal comes back as it is.
    let r =
        http.get(proxy.url_for(&ServiceRef::parse("k8s-service://monitoring/nothing:80").expect("ref"))).send().await;
    assert_eq!(r.expect("answer").status().as_u16(), 404);
    assert_eq!(b.hits.load(Ordering::SeqCst), 4, "three probes and one request through the forwarder");

    // A namespace this identity may not list is a note, not a failure.
    f.server.with(|s| {
        s.policy.insert(
            hsof_fake_kube::DEFAULT_USER.into(),
            vec![Rule::new(&["get", "list"], &[""], &["services"]).in_namespaces(&["hsof"])],
        );
    });
    let d = cluster.discover(&namespaces).await.expect("discover with one namespace forbidden");
    assert!(d.notes.iter().any(|n| n.contains("monitoring") && n.contains("forbidden")), "{:?}", d.notes);
    assert!(d.best(SourceRole::Hsof).is_some());
    assert!(d.best(SourceRole::Prometheus).is_none());
}
