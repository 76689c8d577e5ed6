//! First-run connection: pick a kubeconfig context, discover HSOF, Prometheus and
//! AlertManager in it, test each through the API server's service proxy, and save the
//! choice (audited). Endpoints written `k8s-service://NS/NAME:PORT` are reached through a
//! loopback forwarder ([`hsof_cluster::ServiceProxy`]) with the kubeconfig's credentials.
//!
//! URLs typed by hand win: saving keeps an `http(s)://` endpoint that differs from the
//! shipped default and answers.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{
    Candidate, Cluster, ConnectOptions, Discovery, Probe, ProxyTarget, ServiceProxy, ServiceRef, SourceRole,
    SERVICE_SCHEME,
};
use serde::{Deserialize, Serialize};

use crate::config::{Config, EndpointsConfig, LoadedConfig};
use crate::{AppContext, Error};

/// How long one probe may take during onboarding: a source that needs longer is not one an
/// operator wants behind the health pill.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One source as onboarding and `hsofctl doctor` report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SourceReport {
    /// Which source.
    pub role: SourceRole,
    /// `HSOF health`, `Prometheus`, `AlertManager`.
    pub label: String,
    /// What the configuration says now.
    pub configured: String,
    /// Whether what is configured answers (and what it said).
    pub configured_probe: Probe,
    /// True when the configured value is an http(s) URL typed by hand (not the shipped
    /// default): saving keeps it if it answers.
    pub typed_by_hand: bool,
    /// The discovered service proposed for it, best first; empty when none was found.
    pub candidates: Vec<Candidate>,
    /// The probe of the first candidate that answered, else of the best one.
    pub proposed: Option<ServiceRef>,
    /// That probe.
    pub proposed_probe: Option<Probe>,
    /// What saving would write: the proposal, or the configured value when that wins.
    pub decision: String,
}

/// What discovery found in one context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ConnectReport {
    /// When it was made (RFC 3339).
    pub generated_at: String,
    /// The context looked in.
    pub context: String,
    /// Its API server.
    pub server: String,
    /// The namespaces listed and what was seen.
    pub discovery: Discovery,
    /// Per source.
    pub sources: Vec<SourceReport>,
    /// The API server path every discovered source is reached through.
    pub proxy_path: String,
}

/// What to save: a context and, per source, the service to use (`None` keeps the current value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ConnectChoice {
    /// The kubeconfig context.
    pub context: String,
    /// HSOF's health endpoints.
    pub hsof: Option<ServiceRef>,
    /// Prometheus.
    pub prometheus: Option<ServiceRef>,
    /// AlertManager.
    pub alertmanager: Option<ServiceRef>,
}

/// The forwarder for the configured cluster, shared by every monitor built from it.
#[derive(Default)]
pub struct ProxyState(Mutex<Option<Arc<ServiceProxy>>>);

impl std::fmt::Debug for ProxyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyState").finish_non_exhaustive()
    }
}

/// The cluster `cfg` names (with `context` instead of `cluster.context` when given): kubeconfig
/// file, context, timeout and proxy, as every connection of the app reads them.
pub(crate) fn target_of(cfg: &Config, context: Option<&str>) -> ProxyTarget {
    ProxyTarget {
        kubeconfig: Some(cfg.cluster.kubeconfig.as_str()).filter(|s| !s.is_empty()).map(PathBuf::from),
        context: context.map(str::to_string).or_else(|| Some(cfg.cluster.context.clone())).filter(|s| !s.is_empty()),
        options: ConnectOptions {
            timeout: Duration::from_secs(u64::from(cfg.endpoints.request_timeout_secs.max(1))),
            proxy_url: Some(cfg.cluster.proxy_url.clone()).filter(|s| !s.is_empty()),
        },
    }
}

impl ProxyState {
    /// The forwarder for `cfg`'s cluster (started, or reused when the cluster settings are
    /// the same).
    pub fn for_config(&self, cfg: &Config) -> Result<Arc<ServiceProxy>, String> {
        let target = target_of(cfg, None);
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = slot.as_ref().filter(|p| *p.target() == target) {
            return Ok(p.clone());
        }
        let p = Arc::new(ServiceProxy::start(target).map_err(|e| e.to_string())?);
        *slot = Some(p.clone());
        Ok(p)
    }
}

/// `url`, or the forwarder's loopback URL when it is a service reference.
pub(crate) fn resolve(url: &str, proxy: &dyn Fn() -> Result<Arc<ServiceProxy>, String>) -> Result<String, String> {
    if !url.starts_with(SERVICE_SCHEME) {
        return Ok(url.to_string());
    }
    let svc = ServiceRef::parse(url)?;
    let p = proxy().map_err(|e| format!("{url}: {e}"))?;
    Ok(p.url_for(&svc))
}

fn configured(e: &EndpointsConfig, role: SourceRole) -> &str {
    match role {
        SourceRole::Hsof => &e.hsof_health_url,
        SourceRole::Prometheus => &e.prometheus_url,
        SourceRole::Alertmanager => &e.alertmanager_url,
    }
}

fn configured_mut(e: &mut EndpointsConfig, role: SourceRole) -> &mut String {
    match role {
        SourceRole::Hsof => &mut e.hsof_health_url,
        SourceRole::Prometheus => &mut e.prometheus_url,
        SourceRole::Alertmanager => &mut e.alertmanager_url,
    }
}

/// True for an http(s) URL that is not the shipped default: someone typed it.
fn typed_by_hand(value: &str, role: SourceRole) -> bool {
    !value.starts_with(SERVICE_SCHEME) && value != configured(&EndpointsConfig::default(), role)
}

async fn probe_url(role: SourceRole, base: &str, shown: &str) -> Probe {
    let started = std::time::Instant::now();
    let answer = hsof_monitor::probe(base, role.probe_path(), PROBE_TIMEOUT).await;
    let millis = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    let path = format!("{}{}", shown.trim_end_matches('/'), role.probe_path());
    match answer {
        Ok((status, body)) => {
            let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let (ok, detail) = hsof_cluster::judge(role, status, json.as_ref(), body.as_bytes());
            Probe { ok, status: Some(status), detail, millis, path }
        }
        Err(e) => Probe { ok: false, status: None, detail: e.to_string(), millis, path },
    }
}

impl AppContext {
    /// The kubeconfig contexts the app can connect to (names), and the current one.
    pub fn connect_contexts(&self) -> (Vec<String>, Option<String>) {
        let cfg = self.config().config;
        let path = Some(cfg.cluster.kubeconfig.as_str()).filter(|s| !s.is_empty()).map(PathBuf::from);
        match hsof_cluster::read_kubeconfig(path.as_deref()) {
            Ok(kc) => (kc.contexts.iter().map(|c| c.name.clone()).collect(), kc.current_context.clone()),
            Err(_) => (Vec::new(), None),
        }
    }

    /// Probes what is configured for every source (through the forwarder for service
    /// references): the role, the configured value and its probe. Whether anything answers
    /// at all decides if onboarding is shown.
    pub async fn probe_configured(&self) -> Vec<(SourceRole, String, Probe)> {
        let cfg = self.config().config;
        let mut out = Vec::new();
        for role in SourceRole::ALL {
            let value = configured(&cfg.endpoints, role).to_string();
            let probe = match resolve(&value, &|| self.service_proxy_for(&cfg)) {
                Ok(base) => probe_url(role, &base, &value).await,
                Err(e) => Probe { ok: false, status: None, detail: e, millis: 0, path: value.clone() },
            };
            out.push((role, value, probe));
        }
        out
    }

    pub(crate) fn service_proxy_for(&self, cfg: &Config) -> Result<Arc<ServiceProxy>, String> {
        self.cluster_state().proxies.for_config(cfg)
    }

    /// Connects to `context` (the configured one when `None`), discovers the sources in
    /// `cluster.discovery_namespaces`, and probes what is configured and what was found.
    pub async fn discover_sources(&self, context: Option<&str>, now: DateTime<Utc>) -> Result<ConnectReport, Error> {
        let cfg = self.config().config;
        let target = target_of(&cfg, context);
        let cluster = Cluster::connect(
            target.kubeconfig.as_deref(),
            target.context.as_deref(),
            &cfg.cluster.namespace,
            &target.options,
        )
        .await?;
        let discovery = cluster.discover(&cfg.cluster.discovery_namespaces).await?;
        let configured_probes = self.probe_configured().await;
        let mut sources = Vec::new();
        for (role, value, configured_probe) in configured_probes {
            let candidates: Vec<Candidate> = discovery.candidates.iter().filter(|c| c.role == role).cloned().collect();
            // The best one that answers; probing stops at the first answer (at most three tried).
            let mut proposed = None;
            for c in candidates.iter().take(3) {
                let p = cluster.probe(role, &c.service).await;
                let ok = p.ok;
                if proposed.is_none() || ok {
                    proposed = Some((c.service.clone(), p));
                }
                if ok {
                    break;
                }
            }
            let by_hand = typed_by_hand(&value, role);
            let decision = match &proposed {
                _ if by_hand && configured_probe.ok => value.clone(),
                Some((svc, p)) if p.ok => svc.uri(),
                _ if configured_probe.ok => value.clone(),
                Some((svc, _)) => svc.uri(),
                None => value.clone(),
            };
            sources.push(SourceReport {
                role,
                label: role.label().into(),
                configured: value,
                configured_probe,
                typed_by_hand: by_hand,
                candidates,
                proposed: proposed.as_ref().map(|(s, _)| s.clone()),
                proposed_probe: proposed.map(|(_, p)| p),
                decision,
            });
        }
        Ok(ConnectReport {
            generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            context: cluster.context.clone(),
            server: cluster.server.clone(),
            discovery,
            sources,
            proxy_path: "/api/v1/namespaces/NAMESPACE/services/NAME:PORT/proxy/".into(),
        })
    }

    /// Saves `choice`: the context, and each chosen service as `k8s-service://…` (a source
    /// left `None` keeps its value). Audited like every configuration change.
    pub fn save_connection(
        &self,
        choice: &ConnectChoice,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LoadedConfig, Error> {
        let loaded = self.config();
        if let Some(p) = &loaded.problem {
            return Err(Error::InvalidInput(format!(
                "the configuration file has a problem and is not overwritten by onboarding; fix it first: {p}"
            )));
        }
        let (contexts, _) = self.connect_contexts();
        if !contexts.contains(&choice.context) {
            return Err(Error::InvalidInput(format!(
                "context `{}` is not in the kubeconfig (contexts: {})",
                choice.context,
                if contexts.is_empty() { "none".into() } else { contexts.join(", ") }
            )));
        }
        // Written to this view's cluster: its [[clusters]] entry, or [cluster] / [endpoints].
        let mut cfg = loaded.config;
        cfg.cluster.context = choice.context.clone();
        for (role, svc) in [
            (SourceRole::Hsof, &choice.hsof),
            (SourceRole::Prometheus, &choice.prometheus),
            (SourceRole::Alertmanager, &choice.alertmanager),
        ] {
            if let Some(s) = svc {
                // Round-trip through the parser: the UI sends fields, the file gets a valid reference.
                let uri = ServiceRef::parse(&s.uri()).map_err(Error::InvalidInput)?.uri();
                *configured_mut(&mut cfg.endpoints, role) = uri;
            }
        }
        let mut file = self.file_config().config;
        file.store_cluster_view(&self.current_cluster().name, &cfg);
        self.save_config(file, actor, now)
    }
}

/// The choice a report proposes: each source's decision when it is a discovered service.
impl From<&ConnectReport> for ConnectChoice {
    fn from(r: &ConnectReport) -> Self {
        let pick = |role: SourceRole| {
            r.sources
                .iter()
                .find(|s| s.role == role)
                .filter(|s| s.decision.starts_with(SERVICE_SCHEME) && s.decision != s.configured)
                .and_then(|s| ServiceRef::parse(&s.decision).ok())
        };
        Self {
            context: r.context.clone(),
            hsof: pick(SourceRole::Hsof),
            prometheus: pick(SourceRole::Prometheus),
            alertmanager: pick(SourceRole::Alertmanager),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_other_than_the_default_count_as_typed() {
        let d = EndpointsConfig::default();
        assert!(!typed_by_hand(&d.prometheus_url, SourceRole::Prometheus));
        assert!(!typed_by_hand("k8s-service://monitoring/prometheus:9090", SourceRole::Prometheus));
        assert!(typed_by_hand("http://10.0.0.5:9090", SourceRole::Prometheus));
    }

    #[test]
    fn plain_urls_pass_and_references_need_the_forwarder() {
        let none = || Err::<Arc<ServiceProxy>, String>("no cluster".into());
        assert_eq!(resolve("http://p:9090", &none).as_deref(), Ok("http://p:9090"));
        let e = resolve("k8s-service://monitoring/prometheus:9090", &none).expect_err("needs the forwarder");
        assert!(e.contains("no cluster"), "{e}");
        assert!(resolve("k8s-service://prometheus", &none).is_err());
    }
}
