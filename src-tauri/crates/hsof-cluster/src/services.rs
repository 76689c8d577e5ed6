//! Finding HSOF, Prometheus and AlertManager in a cluster, and reaching them through the API
//! server's service proxy (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/`): no URL typed,
//! no port-forward, the kubeconfig's own credentials.
//!
//! Services are listed in a few namespaces (`hsof` and `monitoring` by default) and scored by
//! the names and labels the common charts give them (`app.kubernetes.io/name`, `app`,
//! `k8s-app`; `prometheus-server`, `prometheus-operated`, `alertmanager-operated`, the HSOF
//! reference's `hsof-api` with its `health` port). A service reference is written
//! `k8s-service://NAMESPACE/NAME:PORT` in the configuration.

use std::time::Instant;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use crate::{Cluster, ClusterError};

/// What a discovered service is to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SourceRole {
    /// HSOF's health endpoints (`/health`, `/health/gpu`, ...).
    Hsof,
    /// Prometheus (HTTP API v1).
    Prometheus,
    /// AlertManager (API v2).
    Alertmanager,
}

impl SourceRole {
    /// Every role, in the order screens show them.
    pub const ALL: [SourceRole; 3] = [SourceRole::Hsof, SourceRole::Prometheus, SourceRole::Alertmanager];

    /// `HSOF health`, `Prometheus`, `AlertManager`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hsof => "HSOF health",
            Self::Prometheus => "Prometheus",
            Self::Alertmanager => "AlertManager",
        }
    }

    /// The request that tells whether the source answers, relative to its base URL.
    pub fn probe_path(self) -> &'static str {
        match self {
            Self::Hsof => "/health",
            Self::Prometheus => "/api/v1/status/buildinfo",
            Self::Alertmanager => "/api/v2/status",
        }
    }
}

/// A service port, written `k8s-service://NAMESPACE/NAME:PORT` (PORT a number or a port
/// name; without it, the service's one unnamed port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub struct ServiceRef {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// Port number or name; empty for the one unnamed port.
    pub port: String,
}

/// The scheme of a service reference in the configuration.
pub const SERVICE_SCHEME: &str = "k8s-service://";

fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl ServiceRef {
    /// Parses `k8s-service://NAMESPACE/NAME[:PORT]`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix(SERVICE_SCHEME)
            .ok_or_else(|| format!("{s:?} is not a service reference ({SERVICE_SCHEME}NAMESPACE/NAME:PORT)"))?;
        let rest = rest.trim_end_matches('/');
        let (namespace, svc) = rest
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: write {SERVICE_SCHEME}NAMESPACE/NAME:PORT (no namespace)"))?;
        let (name, port) = svc.split_once(':').unwrap_or((svc, ""));
        if !dns_label(namespace) {
            return Err(format!("{s:?}: namespace {namespace:?} is not a DNS label"));
        }
        if !dns_label(name) {
            return Err(format!("{s:?}: service name {name:?} is not a DNS label"));
        }
        let port_ok = port.is_empty()
            || port.parse::<u16>().is_ok_and(|p| p > 0)
            || (dns_label(port) && port.bytes().any(|b| b.is_ascii_lowercase()));
        if !port_ok {
            return Err(format!("{s:?}: port {port:?} is neither a port number nor a port name"));
        }
        Ok(Self { namespace: namespace.into(), name: name.into(), port: port.into() })
    }

    /// `k8s-service://NAMESPACE/NAME:PORT`.
    pub fn uri(&self) -> String {
        if self.port.is_empty() {
            format!("{SERVICE_SCHEME}{}/{}", self.namespace, self.name)
        } else {
            format!("{SERVICE_SCHEME}{}/{}:{}", self.namespace, self.name, self.port)
        }
    }

    /// The API server path the service is reached through (no trailing slash).
    pub fn proxy_path(&self) -> String {
        let id = if self.port.is_empty() { self.name.clone() } else { format!("{}:{}", self.name, self.port) };
        format!("/api/v1/namespaces/{}/services/{id}/proxy", self.namespace)
    }
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.uri())
    }
}

/// A service that looks like one of the sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Candidate {
    /// What it would be.
    pub role: SourceRole,
    /// The service port.
    pub service: ServiceRef,
    /// How well it matched (higher first); informational.
    pub score: u32,
    /// Why it matched: the label or name that did.
    pub reason: String,
}

/// What discovery found in the namespaces it looked in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Discovery {
    /// Every candidate, best first within each role.
    pub candidates: Vec<Candidate>,
    /// Namespaces looked in.
    pub namespaces: Vec<String>,
    /// Services seen in all.
    pub services_seen: u32,
    /// What could not be looked at (a namespace the identity may not list, say).
    pub notes: Vec<String>,
}

impl Discovery {
    /// The best candidate for `role`.
    pub fn best(&self, role: SourceRole) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.role == role)
    }
}

/// The answer to one probe through the service proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Probe {
    /// True when the source answered as the role's API should.
    pub ok: bool,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// What answered (`Prometheus 2.45.0`) or what went wrong.
    pub detail: String,
    /// Round trip, milliseconds.
    pub millis: u32,
    /// The URL path probed (API server path).
    pub path: String,
}

fn label<'a>(svc: &'a Service, keys: &[&str]) -> Option<&'a str> {
    let labels = svc.metadata.labels.as_ref()?;
    keys.iter().find_map(|k| labels.get(*k)).map(String::as_str)
}

/// The port of `svc` to use: one whose name is in `names`, else one numbered `number`, else
/// the only one.
fn pick_port(svc: &Service, names: &[&str], number: i32) -> Option<String> {
    let ports = svc.spec.as_ref()?.ports.as_ref()?;
    let named = |p: &k8s_openapi::api::core::v1::ServicePort| p.name.clone().filter(|n| !n.is_empty());
    if let Some(p) = ports.iter().find(|p| p.name.as_deref().is_some_and(|n| names.contains(&n))) {
        return named(p);
    }
    if let Some(p) = ports.iter().find(|p| p.port == number) {
        return Some(p.port.to_string());
    }
    match ports.as_slice() {
        [only] => Some(named(only).unwrap_or_else(|| only.port.to_string())),
        _ => None,
    }
}

const NAME_KEYS: &[&str] = &["app.kubernetes.io/name", "app", "k8s-app", "name"];

/// A role's base score and why: 20 when the service's name label is `want`, 12 when only
/// its name fits (`name_fits`), else not this role.
fn matched(app: &str, want: &str, name_fits: bool, name: &str) -> Option<(u32, String)> {
    if app == want {
        Some((20, format!("label app.kubernetes.io/name={want}")))
    } else if name_fits {
        Some((12, format!("name {name}")))
    } else {
        None
    }
}

/// Scores `svc` for each role it could be.
pub fn classify(svc: &Service) -> Vec<Candidate> {
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let app = label(svc, NAME_KEYS).unwrap_or_default().to_ascii_lowercase();
    let component = label(svc, &["app.kubernetes.io/component", "component"]).unwrap_or_default();
    let headless = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    let mut out = Vec::new();
    let mut push = |role, score: u32, port: Option<String>, reason: String| {
        if let Some(port) = port {
            let score = if headless { score.saturating_sub(2) } else { score };
            out.push(Candidate {
                role,
                service: ServiceRef { namespace: ns.clone(), name: name.clone(), port },
                score,
                reason,
            });
        }
    };
    const NOT_THE_SERVER: &[&str] =
        &["alertmanager", "operator", "exporter", "pushgateway", "adapter", "node", "kube-state", "blackbox", "thanos"];
    let lname = name.to_ascii_lowercase();
    // Prometheus (the old community chart labels its AlertManager `app=prometheus` too)
    let lcomponent = component.to_ascii_lowercase();
    let not_server = NOT_THE_SERVER.iter().any(|w| lname.contains(w) || lcomponent.contains(w));
    let prom = matched(&app, "prometheus", lname.contains("prometheus"), &name).filter(|_| !not_server);
    if let Some((score, why)) = prom {
        let bonus = match lname.as_str() {
            "prometheus" => 5,
            "prometheus-server" | "prometheus-k8s" => 4,
            "prometheus-operated" => 2,
            _ => 0,
        };
        push(SourceRole::Prometheus, score + bonus, pick_port(svc, &["web", "http", "http-web"], 9090), why);
    }
    // AlertManager
    let am = matched(&app, "alertmanager", lname.contains("alertmanager") && !lname.contains("operator"), &name);
    if let Some((score, why)) = am {
        let bonus = match lname.as_str() {
            "alertmanager" => 5,
            "alertmanager-main" | "prometheus-alertmanager" => 4,
            "alertmanager-operated" => 2,
            _ => 0,
        };
        push(SourceRole::Alertmanager, score + bonus, pick_port(svc, &["web", "http", "http-web"], 9093), why);
    }
    // HSOF: the reference's services carry app.kubernetes.io/name=hsof; the health port is
    // named `health` (8080). Only a service with that port serves /health.
    let hsof = matched(&app, "hsof", lname.starts_with("hsof"), &name);
    if let Some((score, why)) = hsof {
        let bonus = match component {
            "api-service" => 4,
            "internal-service" => 2,
            _ => 0,
        };
        let port = pick_port(svc, &["health"], 8080).filter(|p| p == "health" || p == "8080");
        push(SourceRole::Hsof, score + bonus, port, why);
    }
    out
}

impl Cluster {
    /// Lists the services of `namespaces` and returns what looks like HSOF, Prometheus and
    /// AlertManager, best first per role. A namespace that cannot be listed (missing, or
    /// forbidden to this identity) is a note, not a failure; an unreachable API server is.
    pub async fn discover(&self, namespaces: &[String]) -> Result<Discovery, ClusterError> {
        let mut d = Discovery { namespaces: namespaces.to_vec(), ..Discovery::default() };
        for ns in namespaces {
            let api: Api<Service> = Api::namespaced(self.client.clone(), ns);
            match api.list(&ListParams::default()).await {
                Ok(list) => {
                    d.services_seen += u32::try_from(list.items.len()).unwrap_or(u32::MAX);
                    d.candidates.extend(list.items.iter().flat_map(classify));
                }
                Err(e) => match ClusterError::from_kube(e, &format!("list services in {ns}")) {
                    e @ (ClusterError::Unreachable(_) | ClusterError::Unauthorized(_)) => return Err(e),
                    other => d.notes.push(other.to_string()),
                },
            }
        }
        // Per role, best score first; ties by namespace and name, so the answer never
        // depends on the order the server listed them in.
        d.candidates.sort_by(|a, b| {
            (a.role, std::cmp::Reverse(a.score), &a.service.namespace, &a.service.name, &a.service.port).cmp(&(
                b.role,
                std::cmp::Reverse(b.score),
                &b.service.namespace,
                &b.service.name,
                &b.service.port,
            ))
        });
        Ok(d)
    }

    /// One GET through the service proxy: status and body (at most 1 MiB).
    pub async fn proxy_get(&self, svc: &ServiceRef, path: &str) -> Result<(u16, Vec<u8>), ClusterError> {
        use http_body_util::BodyExt;
        let uri = format!("{}{}", svc.proxy_path(), path);
        let req = http::Request::get(&uri)
            .body(kube::client::Body::empty())
            .map_err(|e| ClusterError::Invalid(format!("{uri}: {e}")))?;
        let resp = self.client.send(req).await.map_err(|e| ClusterError::from_kube(e, &format!("GET {uri}")))?;
        let status = resp.status().as_u16();
        let body = http_body_util::Limited::new(resp.into_body(), 1 << 20)
            .collect()
            .await
            .map_err(|e| ClusterError::Unreachable(format!("GET {uri}: {e}")))?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    /// Asks `svc` what `role` would ask it first, through the service proxy.
    pub async fn probe(&self, role: SourceRole, svc: &ServiceRef) -> Probe {
        let started = Instant::now();
        let path = format!("{}{}", svc.proxy_path(), role.probe_path());
        let answer = self.proxy_get(svc, role.probe_path()).await;
        let millis = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let (status, body) = match answer {
            Ok(a) => a,
            Err(e) => return Probe { ok: false, status: None, detail: e.to_string(), millis, path },
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let (ok, detail) = judge(role, status, json.as_ref(), &body);
        Probe { ok, status: Some(status), detail, millis, path }
    }
}

/// Whether an answer is the role's API answering, and what to say about it.
pub fn judge(role: SourceRole, status: u16, json: Option<&serde_json::Value>, body: &[u8]) -> (bool, String) {
    let text = || String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string();
    // The API server's own refusal (no endpoints, forbidden) is a Status object.
    if let Some(j) = json.filter(|j| j["kind"] == "Status" && j["apiVersion"] == "v1") {
        return (false, format!("{status}: {}", j["message"].as_str().unwrap_or("the API server refused")));
    }
    match (role, json) {
        (SourceRole::Prometheus, Some(j)) if status == 200 && j["status"] == "success" => {
            (true, format!("Prometheus {}", j["data"]["version"].as_str().unwrap_or("(version not given)")))
        }
        (SourceRole::Alertmanager, Some(j)) if status == 200 && j.get("versionInfo").is_some() => {
            (true, format!("AlertManager {}", j["versionInfo"]["version"].as_str().unwrap_or("(version not given)")))
        }
        // `{overall_status, components, timestamp}`; HSOF answers 503 while unhealthy, which
        // is an answer too.
        (SourceRole::Hsof, Some(j)) if (status == 200 || status == 503) && j.get("overall_status").is_some() => {
            (true, format!("HSOF health: {}", j["overall_status"].as_str().unwrap_or("?")))
        }
        _ => (false, format!("{status}: not the {} API: {}", role.label(), text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(ns: &str, name: &str, labels: &[(&str, &str)], ports: &[(&str, i32)]) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name,
                         "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>()},
            "spec": {"ports": ports.iter().map(|(n, p)| {
                let mut o = serde_json::json!({"port": p});
                if !n.is_empty() { o["name"] = serde_json::json!(n); }
                o
            }).collect::<Vec<_>>()}
        }))
        .expect("service")
    }

    #[test]
    fn references_parse_and_refuse_with_reasons() {
        let r = ServiceRef::parse("k8s-service://monitoring/prometheus:9090").expect("parses");
        assert_eq!(r.proxy_path(), "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy");
        assert_eq!(r.uri(), "k8s-service://monitoring/prometheus:9090");
        assert_eq!(ServiceRef::parse("k8s-service://hsof/hsof-api:health").expect("named").port, "health");
        assert_eq!(ServiceRef::parse("k8s-service://hsof/hsof-api").expect("no port").port, "");
        for bad in [
            "http://x",
            "k8s-service://prometheus:9090",
            "k8s-service://Mon/p:1",
            "k8s-service://m/p:0",
            "k8s-service://m/p:99999",
            "k8s-service://m/-p:1",
            "k8s-service://m/p:web_ui",
        ] {
            assert!(ServiceRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn well_known_charts_are_recognised() {
        let c = classify(&svc("monitoring", "prometheus-server", &[("app", "prometheus")], &[("http", 80)]));
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].role, c[0].service.port.as_str()), (SourceRole::Prometheus, "http"));
        let c = classify(&svc("monitoring", "prometheus-operated", &[], &[("web", 9090)]));
        assert_eq!(c[0].role, SourceRole::Prometheus);
        let c = classify(&svc("monitoring", "alertmanager-operated", &[], &[("web", 9093), ("tcp-mesh", 9094)]));
        assert_eq!((c[0].role, c[0].service.port.as_str()), (SourceRole::Alertmanager, "web"));
        assert!(classify(&svc("monitoring", "prometheus-node-exporter", &[], &[("metrics", 9100)])).is_empty());
        assert!(classify(&svc("monitoring", "prometheus-operator", &[], &[("http", 8080)])).is_empty());
        // The HSOF reference: only services with the health port are HSOF health.
        let api = classify(&svc(
            "hsof",
            "hsof-api",
            &[("app.kubernetes.io/name", "hsof"), ("app.kubernetes.io/component", "api-service")],
            &[("api", 80), ("health", 8080)],
        ));
        assert_eq!((api[0].role, api[0].service.port.as_str()), (SourceRole::Hsof, "health"));
        assert!(classify(&svc("hsof", "hsof-metrics", &[("app.kubernetes.io/name", "hsof")], &[("metrics", 9090)]))
            .is_empty());
        let single = classify(&svc("monitoring", "prometheus", &[], &[("", 9090)]));
        assert_eq!(single[0].service.port, "9090");
    }

    #[test]
    fn answers_are_judged_by_role() {
        let build = serde_json::json!({"status": "success", "data": {"version": "2.45.0"}});
        assert!(judge(SourceRole::Prometheus, 200, Some(&build), b"").0);
        assert!(!judge(SourceRole::Alertmanager, 200, Some(&build), b"").0);
        let refusal = serde_json::json!({"kind": "Status", "apiVersion": "v1", "message": "no endpoints available for service \"x\""});
        let (ok, why) = judge(SourceRole::Prometheus, 503, Some(&refusal), b"");
        assert!(!ok && why.contains("no endpoints"), "{why}");
        let unhealthy = serde_json::json!({"overall_status": "CRITICAL", "components": {}});
        assert!(judge(SourceRole::Hsof, 503, Some(&unhealthy), b"").0);
        assert!(!judge(SourceRole::Hsof, 200, None, b"<html>").0);
    }
}
