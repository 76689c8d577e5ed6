//! The demo server: everything the simulated HSOF is, in one process, until asked to stop.

use std::time::{Duration, Instant};

use hsof_fake_kube::{seed_hsof, seed_security, FakeKube, Store};

use crate::exporter::{Exporter, Script};
use crate::scenario::DEPLOYMENT;
use crate::scenario::{Scenario, NAMESPACE};
use crate::{servers, Profile, RegionState, State, RUNBOOK_RULES};

/// How often the simulated HSOF logs, churns pods and repeats a scenario's symptoms.
const TICK: Duration = Duration::from_secs(5);

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("rename to {}: {e}", path.display()))
}

/// The profile's config: the user's own edits to it are kept; endpoints, cluster and
/// Slack are pointed at the demo (Slack at a secret name nobody has, so a drill or a
/// demo incident never reaches a real channel). With two regions the file lists both as
/// `[[clusters]]` (`prod-eu` primary, `dr-us` dr); `[cluster]` / `[endpoints]` keep the
/// primary's, so the file still works with the list removed.
fn write_config(p: &Profile, state: &State) -> Result<(), String> {
    let loaded = hsof_core::config::load_or_create(&p.config_file());
    let mut cfg = loaded.config;
    cfg.endpoints.hsof_health_url = state.hsof_url.clone();
    cfg.endpoints.prometheus_url = state.prometheus_url.clone();
    cfg.endpoints.alertmanager_url = state.alertmanager_url.clone();
    cfg.endpoints.poll_interval_secs = 5;
    cfg.cluster.kubeconfig = state.kubeconfig.clone();
    cfg.cluster.context = "hsof-demo".into();
    cfg.cluster.namespace = NAMESPACE.into();
    cfg.cluster.proxy_url = String::new();
    cfg.slack.channel = "#hsof-demo".into();
    cfg.slack.webhook_secret = "demo-slack-webhook".into();
    // A budget and the GPUs' price, so the cost screen has a verdict and idle money to show.
    if cfg.cost.monthly_budget.is_none() {
        cfg.cost.monthly_budget = Some(9000.0);
    }
    if cfg.cost.gpu_hour.is_empty() {
        cfg.cost.gpu_hour = vec!["NVIDIA-A100-SXM4-80GB=2.93".into()];
    }
    cfg.clusters = if state.regions.len() > 1 {
        state
            .regions
            .iter()
            .map(|r| hsof_core::config::ClusterEntry {
                name: r.name.clone(),
                role: if r.role == "dr" {
                    hsof_core::config::ClusterRole::Dr
                } else {
                    hsof_core::config::ClusterRole::Primary
                },
                kubeconfig: r.kubeconfig.clone(),
                context: r.context.clone(),
                namespace: NAMESPACE.into(),
                hsof_health_url: r.hsof_url.clone(),
                prometheus_url: r.prometheus_url.clone(),
                alertmanager_url: r.alertmanager_url.clone(),
                grafana_url: String::new(),
            })
            .collect()
    } else {
        vec![]
    };
    if state.regions.len() > 1 {
        // A short hold keeps the demo's DR drill to a minute.
        cfg.dr.failover_hold_secs = cfg.dr.failover_hold_secs.min(15);
    }
    hsof_core::config::save(&p.config_file(), &cfg).map_err(|e| format!("write {}: {e}", p.config_file().display()))
}

/// The demo profile's team, once: you and two teammates in a weekly rotation (hand-over
/// Monday 09:00 in the team time zone), so On-call, the declare form's commander and the
/// evening review's on-call step have something to show. A profile whose team was edited
/// keeps its own.
fn seed_team(state: &State) {
    let ctx = state.open_context();
    if !ctx.members().is_ok_and(|m| m.is_empty()) {
        return;
    }
    let now = chrono::Utc::now();
    let me = hsof_core::os_user();
    let team = [
        (me.as_str(), Some(me.as_str()), Some("this desktop")),
        ("ben", None, Some("+49 30 5550 101")),
        ("chen", None, Some("@chen on Slack")),
    ];
    for (name, user, contact) in team {
        if let Err(e) = ctx.oncall_member_add(name, user, contact, now) {
            eprintln!("demo: the team could not be seeded: {e}");
            return;
        }
    }
    let rotation = hsof_ops::oncall::Rotation {
        members: team.iter().map(|(n, _, _)| n.to_string()).collect(),
        rrule: "FREQ=WEEKLY;BYDAY=MO".into(),
        start: "2026-01-05T09:00".into(),
        timezone: ctx.config().config.team.timezone,
        skip_holidays: true,
    };
    if let Err(e) = ctx.oncall_rotation_set(&rotation, now) {
        eprintln!("demo: the rotation could not be seeded: {e}");
    }
}

/// One simulated region: its fake cluster, HSOF exporter, AlertManager and Prometheus.
struct Region {
    state: RegionState,
    kube: FakeKube,
    exporter: Exporter,
    /// Stopped (and waited for) before Prometheus, whose storage it writes into.
    _history: Option<History>,
    _am: servers::Server,
    _prom: servers::Server,
}

/// The background backfill of the demo's history: cancelled and joined when dropped, so
/// no promtool outlives the demo.
struct History {
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for History {
    fn drop(&mut self) {
        self.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The regions of a two-region demo: the primary and its cold DR standby.
const REGIONS: [(&str, &str, i64); 2] = [("prod-eu", "primary", 3), ("dr-us", "dr", 0)];

fn start_region(p: &Profile, index: usize, scenario: Scenario, rules: &std::path::Path) -> Result<Region, String> {
    let (name, role, replicas) = REGIONS[index.min(1)];
    let mut store = Store::default();
    seed_hsof(&mut store, replicas, 0);
    if index == 0 {
        // A namespace with a few problems for the Security screen to find.
        seed_security(&mut store, chrono::Utc::now());
    }
    let kube = FakeKube::start(store);
    // The first region keeps the single demo's file and context names.
    let (kubeconfig, context) = if index == 0 {
        (p.kubeconfig(), "hsof-demo".to_string())
    } else {
        (p.dir.join(format!("kubeconfig-{name}")), format!("hsof-demo-{name}"))
    };
    std::fs::write(&kubeconfig, kube.kubeconfig_named(&context, "demo-operator", NAMESPACE))
        .map_err(|e| format!("write kubeconfig: {e}"))?;
    let script =
        if index == 0 { scenario.script(&Script::default()) } else { Script { serving: false, ..Script::default() } };
    let exporter = Exporter::try_start(script)?;
    let am = servers::alertmanager(&p.log_dir())?;
    let prom =
        servers::prometheus(&format!("127.0.0.1:{}", exporter.port), &[rules.to_path_buf()], Some(&am), &p.log_dir())?;
    let mut history = None;
    if index == 0 {
        kube.with(|s| scenario.apply_cluster(s, None));
        // Sixteen weeks of history for cost and capacity, written in the background at low
        // priority and loaded by Prometheus within a minute of promtool finishing.
        let storage = prom.storage();
        let now = chrono::Utc::now().timestamp() - 60;
        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = std::thread::spawn(move || {
            match crate::history::backfill(&storage, &crate::history::demo(now, 16), &flag) {
                Ok(n) => println!("{} demo history: {n} blocks of 16 weeks backfilled", now_text()),
                Err(e) => println!("{} demo history not backfilled: {e}", now_text()),
            }
        });
        history = Some(History { cancel, thread: Some(thread) });
    }
    // The Services a real install has, so first-run discovery finds the demo's HSOF,
    // Prometheus and AlertManager through the service proxy.
    let port_of = |url: &str| url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse::<u16>().ok());
    let (Some(prom_port), Some(am_port)) = (port_of(&prom.url), port_of(&am.url)) else {
        return Err(format!("no port in {} or {}", prom.url, am.url));
    };
    kube.with(|s| expose(s, exporter.port, prom_port, am_port));
    let state = RegionState {
        name: name.into(),
        role: role.into(),
        kubeconfig: kubeconfig.display().to_string(),
        context,
        kube_url: kube.url.clone(),
        hsof_url: exporter.url(),
        prometheus_url: prom.url.clone(),
        alertmanager_url: am.url.clone(),
    };
    Ok(Region { state, kube, exporter, _history: history, _am: am, _prom: prom })
}

/// A standby region's HSOF answers once its deployment has replicas (a DR drill scales it up).
fn follow_standby(r: &Region) {
    let replicas = r.kube.with(|s| {
        s.objects
            .iter()
            .find(|((plural, ns, n), _)| plural == "deployments" && ns == NAMESPACE && n == DEPLOYMENT)
            .and_then(|(_, d)| d["status"]["readyReplicas"].as_i64())
            .unwrap_or(0)
    });
    r.exporter.set(|s| s.serving = replicas > 0);
}

/// Runs the demo in this process until `POST /stop` (or a signal): per region the fake
/// cluster, the exporter, AlertManager and Prometheus with the runbook rules; and the
/// control endpoint. `regions` is 1 or 2 (a primary and its DR standby).
pub fn serve(profile: &Profile, scenario: Scenario, regions: usize) -> Result<(), String> {
    let p = profile;
    if !(1..=2).contains(&regions) {
        return Err(format!("the demo runs 1 or 2 regions, not {regions}"));
    }
    // Everything this process and its Prometheus and AlertManager write (the profile's
    // state, kubeconfig, rules and logs; their storage in temporary folders) is private to
    // its user: umask 077, folders 0700.
    hsof_core::private::restrict_umask();
    for d in [p.dir.clone(), p.data_dir(), p.log_dir()] {
        hsof_core::private::private_dir(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let rules = p.dir.join("hsof-runbook-rules.yml");
    std::fs::write(&rules, RUNBOOK_RULES).map_err(|e| format!("write {}: {e}", rules.display()))?;
    let mut all = Vec::new();
    for i in 0..regions {
        all.push(start_region(p, i, scenario, &rules)?);
    }
    let control = tiny_http::Server::http("127.0.0.1:0").map_err(|e| format!("control endpoint: {e}"))?;
    let control_port = control.server_addr().to_ip().map(|a| a.port()).ok_or("control endpoint has no port")?;
    let first = all[0].state.clone();
    let mut state = State {
        pid: std::process::id(),
        dir: p.dir.display().to_string(),
        config: p.config_file().display().to_string(),
        data_dir: p.data_dir().display().to_string(),
        kubeconfig: first.kubeconfig.clone(),
        kube_url: first.kube_url.clone(),
        hsof_url: first.hsof_url.clone(),
        prometheus_url: first.prometheus_url.clone(),
        alertmanager_url: first.alertmanager_url.clone(),
        control_url: format!("http://127.0.0.1:{control_port}"),
        scenario,
        scenario_since: now_text(),
        started_at: now_text(),
        regions: if regions > 1 { all.iter().map(|r| r.state.clone()).collect() } else { vec![] },
    };
    write_config(p, &state)?;
    seed_team(&state);
    let json = |s: &State| serde_json::to_string_pretty(s).unwrap_or_default();
    write_atomic(&p.state_file(), &json(&state))?;
    println!("{} demo ready: scenario {scenario}, {regions} region(s)\n{}", now_text(), json(&state));

    let mut last_tick = Instant::now();
    let mut n: u64 = 0;
    loop {
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            n += 1;
            let current = state.scenario;
            all[0].kube.with(|s| current.tick(s, n));
            for standby in all.iter().skip(1) {
                follow_standby(standby);
                standby.kube.with(|s| Scenario::Healthy.tick(s, n));
            }
        }
        let Ok(Some(req)) = control.recv_timeout(Duration::from_millis(500)) else { continue };
        let url = req.url().trim_end_matches('/').to_string();
        let method = req.method().as_str().to_string();
        let (code, body, stop) = match (method.as_str(), url.as_str()) {
            ("GET", "/status") => (200, json(&state), false),
            ("POST", "/stop") => (200, "stopping".to_string(), true),
            ("POST", path) if path.starts_with("/scenario/") => match path["/scenario/".len()..].parse::<Scenario>() {
                Ok(next) => {
                    let previous = state.scenario;
                    // The scenario is the primary region's; a standby stays as it is.
                    all[0].exporter.set(|s| *s = next.script(s));
                    all[0].kube.with(|s| next.apply_cluster(s, Some(previous)));
                    state.scenario = next;
                    state.scenario_since = now_text();
                    let _ = write_atomic(&p.state_file(), &json(&state));
                    println!("{} scenario {previous} → {next}", now_text());
                    (200, json(&state), false)
                }
                Err(e) => (400, e, false),
            },
            _ => (404, format!("no {method} {url}: GET /status, POST /scenario/NAME, POST /stop"), false),
        };
        let header = tiny_http::Header::from_bytes("Content-Type", "application/json").map_err(|_| "header")?;
        let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(code).with_header(header));
        if stop {
            break;
        }
    }
    println!("{} demo stopping", now_text());
    let _ = std::fs::remove_file(p.state_file());
    drop(all);
    Ok(())
}

/// The HSOF reference's `hsof-api` (health port) and `hsof-metrics` Services in `hsof`, and
/// Prometheus and AlertManager as their charts name them in `monitoring`.
fn expose(s: &mut Store, exporter: u16, prometheus: u16, alertmanager: u16) {
    use hsof_fake_kube::sim::service;
    let hsof = |component| [("app.kubernetes.io/name", "hsof"), ("app.kubernetes.io/component", component)];
    service(s, NAMESPACE, "hsof-api", &hsof("api-service"), &[("api", 80, exporter), ("health", 8080, exporter)]);
    service(s, NAMESPACE, "hsof-metrics", &hsof("metrics-service"), &[("metrics", 9090, exporter)]);
    let named = |n| [("app.kubernetes.io/name", n)];
    service(s, "monitoring", "prometheus", &named("prometheus"), &[("web", 9090, prometheus)]);
    service(s, "monitoring", "alertmanager", &named("alertmanager"), &[("web", 9093, alertmanager)]);
}
