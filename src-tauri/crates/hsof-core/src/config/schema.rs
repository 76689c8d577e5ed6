//! The configuration file's shape and the runbook's defaults.
//!
//! Every default below is a name or number from the team's runbook
//! (`operational-procedures.md`) or the HSOF deployment it describes.

use serde::{Deserialize, Serialize};

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Kubernetes access and the names of HSOF's objects.
    pub cluster: ClusterConfig,
    /// Where HSOF, Prometheus, AlertManager and Grafana answer.
    pub endpoints: EndpointsConfig,
    /// Incident channel.
    pub slack: SlackConfig,
    /// Team time zone and business hours.
    pub team: TeamConfig,
    /// The runbook's key-metric targets and alerting thresholds.
    pub thresholds: Thresholds,
    /// Thresholds the HSOF health endpoints apply to their components.
    pub health: HealthThresholds,
    /// Incident severities P0–P3.
    pub severities: Severities,
    /// Service level objectives.
    pub slo: SloConfig,
    /// PromQL behind each key metric.
    pub metrics: MetricQueries,
    /// Images and commands of the runbook's Jobs.
    pub jobs: JobsConfig,
    /// Feature-selection experiments.
    pub experiments: ExperimentsConfig,
    /// Look and feel.
    pub ui: UiConfig,
    /// The monthly DR drill: targets and timings.
    pub dr: DrConfig,
    /// The weekly security review and the monthly assessment.
    pub security: super::SecurityConfig,
    /// Friday maintenance and the monthly technology updates.
    pub upkeep: super::UpkeepConfig,
    /// Cost and capacity: prices, the budget, right-sizing headroom.
    pub cost: super::CostConfig,
    /// Stakeholder updates: the status page or webhook, and their timer.
    pub stakeholders: super::StakeholdersConfig,
    /// The clusters HSOF runs in (`[[clusters]]`); empty: the one `[cluster]` and
    /// `[endpoints]` describe.
    pub clusters: Vec<super::ClusterEntry>,
}

/// `[dr]`: the monthly DR drill (second Monday).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct DrConfig {
    /// Recovery time objective, minutes: failover start to HSOF healthy in the DR cluster.
    pub rto_target_minutes: f64,
    /// Recovery point objective, hours: the age of the backup a restore brings back.
    pub rpo_target_hours: f64,
    /// How long the restore Job may take, seconds.
    pub restore_timeout_secs: u32,
    /// How long the DR cluster may take to be ready and healthy, seconds.
    pub failover_timeout_secs: u32,
    /// How long the DR cluster is kept serving (smoke checks repeated) before failing back, seconds.
    pub failover_hold_secs: u32,
    /// Replicas HSOF runs with in the DR cluster during the drill; 0: as many as the primary.
    pub dr_replicas: u32,
    /// A scratch namespace on the primary the restore test runs in (it must exist; the Job
    /// is deleted after); empty: HSOF's namespace.
    pub restore_namespace: String,
}

impl Default for DrConfig {
    fn default() -> Self {
        Self {
            rto_target_minutes: 30.0,
            rpo_target_hours: 26.0,
            restore_timeout_secs: 1800,
            failover_timeout_secs: 900,
            failover_hold_secs: 60,
            dr_replicas: 0,
            restore_namespace: String::new(),
        }
    }
}

/// `[cluster]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Kubeconfig file; empty means `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: String,
    /// Context to use; empty means the kubeconfig's current context.
    pub context: String,
    /// Namespace HSOF runs in.
    pub namespace: String,
    /// The main Deployment.
    pub deployment: String,
    /// The backup CronJob.
    pub backup_cronjob: String,
    /// The HSOF ConfigMap edited by configuration changes.
    pub configmap: String,
    /// Disable every change (restart, scale, undo, patches, jobs).
    pub read_only: bool,
    /// Proxy for the API server (`http://`, `https://`, `socks5://`); empty means the
    /// kubeconfig's `proxy-url`, else the `HTTPS_PROXY` / `NO_PROXY` environment.
    pub proxy_url: String,
    /// Namespaces first-run discovery looks for HSOF, Prometheus and AlertManager in.
    pub discovery_namespaces: Vec<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            kubeconfig: String::new(),
            context: String::new(),
            namespace: "hsof".into(),
            deployment: "hsof-main".into(),
            backup_cronjob: "hsof-backup".into(),
            configmap: "hsof-config".into(),
            read_only: false,
            proxy_url: String::new(),
            discovery_namespaces: vec!["hsof".into(), "monitoring".into()],
        }
    }
}

/// `[endpoints]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointsConfig {
    /// Base URL of the HSOF health endpoints (`/health`, `/health/gpu`, ...), or a service
    /// reached through the API server's service proxy (`k8s-service://NS/NAME:PORT`).
    pub hsof_health_url: String,
    /// Prometheus base URL (HTTP API v1), or `k8s-service://NS/NAME:PORT`.
    pub prometheus_url: String,
    /// AlertManager base URL (API v2), or `k8s-service://NS/NAME:PORT`.
    pub alertmanager_url: String,
    /// Grafana base URL, for links; empty for none.
    pub grafana_url: String,
    /// The uid the team's Grafana gave the HSOF production dashboard; empty: links search
    /// for it by title.
    pub grafana_production_uid: String,
    /// The uid of the HSOF SLO dashboard; empty: links search for it by title.
    pub grafana_slo_uid: String,
    /// The AlertManager matchers a maintenance window's silence uses (`name="value"`,
    /// `!=`, `=~`, `!~`): HSOF's own alerts, not every team's on a shared AlertManager.
    pub silence_matchers: Vec<String>,
    /// Timeout of one request, seconds.
    pub request_timeout_secs: u32,
    /// How often health and metrics are polled, seconds.
    pub poll_interval_secs: u32,
}

impl Default for EndpointsConfig {
    fn default() -> Self {
        Self {
            hsof_health_url: "https://hsof.company.com".into(),
            prometheus_url: "http://prometheus.monitoring.svc:9090".into(),
            alertmanager_url: "https://alertmanager.company.com".into(),
            grafana_url: String::new(),
            grafana_production_uid: String::new(),
            grafana_slo_uid: String::new(),
            // Prometheus adds its external labels to every alert it sends; the HSOF
            // deployment's Prometheus labels itself `monitor: hsof-monitor`.
            silence_matchers: vec![r#"monitor="hsof-monitor""#.into()],
            request_timeout_secs: 10,
            poll_interval_secs: 30,
        }
    }
}

/// `[slack]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    /// Channel incidents are posted to.
    pub channel: String,
    /// Name of the secret holding the incoming-webhook URL (never the URL itself).
    pub webhook_secret: String,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self { channel: "#hsof-incidents".into(), webhook_secret: "slack-webhook".into() }
    }
}

/// `[team]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    /// IANA time zone of the team's schedule, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Start of business hours, `HH:MM` local.
    pub business_hours_start: String,
    /// End of business hours, `HH:MM` local.
    pub business_hours_end: String,
    /// Holidays, `YYYY-MM-DD` in the team time zone: not business days.
    pub holidays: Vec<String>,
    /// A holiday calendar (`.ics` file path) whose all-day events are not business days;
    /// empty: none.
    pub holidays_ics: String,
}

impl Default for TeamConfig {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            business_hours_start: "09:00".into(),
            business_hours_end: "18:00".into(),
            holidays: Vec::new(),
            holidays_ics: String::new(),
        }
    }
}

impl TeamConfig {
    /// Every holiday: the listed dates and the calendar file's days. An unreadable date or
    /// file is an error naming the key.
    pub fn holiday_dates(&self) -> Result<std::collections::BTreeSet<chrono::NaiveDate>, String> {
        let mut days = std::collections::BTreeSet::new();
        for d in &self.holidays {
            let day = chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| format!("team.holidays: `{d}` is not a date YYYY-MM-DD"))?;
            days.insert(day);
        }
        let path = self.holidays_ics.trim();
        if !path.is_empty() {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("team.holidays_ics: cannot read {path}: {e}"))?;
            let more = hsof_ops::incidents::parse_holidays_ics(&text)
                .map_err(|e| format!("team.holidays_ics: {path}: {e}"))?;
            days.extend(more);
        }
        Ok(days)
    }
}

/// `[thresholds]`: targets from the runbook's "Key Metrics".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// CPU utilisation target: average below this, percent.
    pub cpu_utilization_max_pct: f64,
    /// Memory utilisation target: average below this, percent.
    pub memory_utilization_max_pct: f64,
    /// GPU utilisation target during business hours: above this, percent.
    pub gpu_utilization_min_pct: f64,
    /// Storage target: below this share of capacity, percent.
    pub storage_max_pct: f64,
    /// Request latency target: P95 below this, seconds.
    pub latency_p95_max_secs: f64,
    /// Error-rate target: below this, percent.
    pub error_rate_max_pct: f64,
    /// Throughput target: at least this many datasets per hour.
    pub throughput_min_per_hour: f64,
    /// Feature-selection quality target: above this score (0–1).
    pub selection_quality_min: f64,
    /// The daily backup is overdue after this many hours.
    pub backup_max_age_hours: f64,
    /// Critical alerts (page immediately).
    pub critical: CriticalThresholds,
    /// Warning alerts (email / Slack).
    pub warning: WarningThresholds,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            cpu_utilization_max_pct: 80.0,
            memory_utilization_max_pct: 85.0,
            gpu_utilization_min_pct: 60.0,
            storage_max_pct: 80.0,
            latency_p95_max_secs: 30.0,
            error_rate_max_pct: 0.1,
            throughput_min_per_hour: 100.0,
            selection_quality_min: 0.8,
            backup_max_age_hours: 26.0,
            critical: CriticalThresholds::default(),
            warning: WarningThresholds::default(),
        }
    }
}

/// `[thresholds.critical]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct CriticalThresholds {
    /// GPU temperature above this pages, °C.
    pub gpu_temperature_c: f64,
    /// Error rate above this pages, percent.
    pub error_rate_pct: f64,
    /// System down longer than this pages, seconds.
    pub system_down_secs: u32,
    /// A failed backup pages.
    pub backup_failure: bool,
}

impl Default for CriticalThresholds {
    fn default() -> Self {
        Self { gpu_temperature_c: 85.0, error_rate_pct: 1.0, system_down_secs: 30, backup_failure: true }
    }
}

/// `[thresholds.warning]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct WarningThresholds {
    /// GPU utilisation below this ...
    pub gpu_utilization_low_pct: f64,
    /// ... for longer than this warns, minutes.
    pub gpu_utilization_low_minutes: u32,
    /// Memory usage above this ...
    pub memory_pct: f64,
    /// ... for longer than this warns, minutes.
    pub memory_minutes: u32,
    /// Disk usage above this warns, percent.
    pub disk_pct: f64,
    /// Latency P95 above this warns, seconds.
    pub latency_p95_secs: f64,
}

impl Default for WarningThresholds {
    fn default() -> Self {
        Self {
            gpu_utilization_low_pct: 20.0,
            gpu_utilization_low_minutes: 10,
            memory_pct: 85.0,
            memory_minutes: 5,
            disk_pct: 85.0,
            latency_p95_secs: 25.0,
        }
    }
}

/// `[health]`: thresholds of the HSOF health endpoints' components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct HealthThresholds {
    /// GPU memory warning, percent.
    pub gpu_memory_warn_pct: f64,
    /// GPU memory critical, percent.
    pub gpu_memory_crit_pct: f64,
    /// GPU temperature warning, °C.
    pub gpu_temperature_warn_c: f64,
    /// GPU temperature critical, °C.
    pub gpu_temperature_crit_c: f64,
    /// Model error-rate warning, percent.
    pub model_error_rate_warn_pct: f64,
    /// Model error-rate critical, percent.
    pub model_error_rate_crit_pct: f64,
    /// Inference latency warning, milliseconds.
    pub inference_latency_warn_ms: f64,
    /// Inference latency critical, milliseconds.
    pub inference_latency_crit_ms: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            gpu_memory_warn_pct: 80.0,
            gpu_memory_crit_pct: 95.0,
            gpu_temperature_warn_c: 80.0,
            gpu_temperature_crit_c: 90.0,
            model_error_rate_warn_pct: 5.0,
            model_error_rate_crit_pct: 10.0,
            inference_latency_warn_ms: 100.0,
            inference_latency_crit_ms: 500.0,
        }
    }
}

/// `[severities]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
#[allow(non_snake_case)]
pub struct Severities {
    /// System down, data loss.
    pub P0: SeverityTargets,
    /// Significant degradation.
    pub P1: SeverityTargets,
    /// Minor issues, workarounds available.
    pub P2: SeverityTargets,
    /// Cosmetic issues, feature requests.
    pub P3: SeverityTargets,
}

impl Severities {
    /// The four levels with their names, most severe first.
    pub fn levels(&self) -> [(&'static str, &SeverityTargets); 4] {
        [("P0", &self.P0), ("P1", &self.P1), ("P2", &self.P2), ("P3", &self.P3)]
    }
}

impl Default for Severities {
    fn default() -> Self {
        let s = |d: &str, response: u32, escalation: &str, update: u32, pm: bool| SeverityTargets {
            description: d.into(),
            response_minutes: response,
            escalation: escalation.into(),
            status_update_minutes: update,
            postmortem: pm,
        };
        Self {
            P0: s("System down, data loss", 5, "immediate", 15, true),
            P1: s("Significant degradation", 15, "30m", 15, true),
            P2: s("Minor issues, workarounds available", 60, "4h", 0, false),
            P3: s("Cosmetic issues, feature requests", 240, "next-business-day", 0, false),
        }
    }
}

/// One severity level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct SeverityTargets {
    /// What the level means.
    pub description: String,
    /// Acknowledge within this many minutes.
    pub response_minutes: u32,
    /// When to escalate: `immediate`, a duration such as `30m` or `4h`, or `next-business-day`.
    pub escalation: String,
    /// Status update interval in minutes; 0 for none required.
    pub status_update_minutes: u32,
    /// Whether a post-mortem is required.
    pub postmortem: bool,
}

/// `[slo]`: objectives over a rolling window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct SloConfig {
    /// Rolling window, days.
    pub window_days: u32,
    /// Availability: share of requests that must not fail (5xx).
    pub availability_objective: f64,
    /// Latency: share of requests that must finish under `latency_threshold_secs`.
    pub latency_objective: f64,
    /// Latency threshold, seconds; must be a bucket boundary (`le`) of the histogram.
    pub latency_threshold_secs: f64,
    /// Throughput: share of 5-minute slices whose hourly rate meets `thresholds.throughput_min_per_hour`.
    pub throughput_objective: f64,
    /// Quality: share of 1-minute slices whose score meets `thresholds.selection_quality_min`.
    pub quality_objective: f64,
}

impl Default for SloConfig {
    fn default() -> Self {
        Self {
            window_days: 30,
            availability_objective: 0.999,
            latency_objective: 0.95,
            latency_threshold_secs: 30.0,
            throughput_objective: 0.99,
            quality_objective: 0.99,
        }
    }
}

/// `[metrics]`: the PromQL behind each of the runbook's key metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct MetricQueries {
    /// GPU utilisation, percent.
    pub gpu_utilization_pct: String,
    /// GPU temperature (hottest), °C.
    pub gpu_temperature_c: String,
    /// Error rate, percent of requests.
    pub error_rate_pct: String,
    /// Request latency P95, seconds.
    pub latency_p95_secs: String,
    /// Datasets processed per hour.
    pub throughput_per_hour: String,
    /// Selection quality score.
    pub selection_quality: String,
    /// CPU utilisation, percent of limits.
    pub cpu_pct: String,
    /// Memory utilisation, percent of limits.
    pub memory_pct: String,
    /// Storage usage, percent of capacity.
    pub storage_pct: String,
    /// Seconds since the last successful backup.
    pub backup_age_secs: String,
    /// Failed backups in the last day.
    pub backup_failures_1d: String,
}

impl Default for MetricQueries {
    fn default() -> Self {
        let q = |s: &str| s.to_string();
        Self {
            gpu_utilization_pct: q("avg(hsof_gpu_utilization_percent)"),
            gpu_temperature_c: q("max(hsof_gpu_temperature_celsius)"),
            error_rate_pct: q("100 * sum(rate(hsof_requests_total{status=~\"5..\"}[5m])) / sum(rate(hsof_requests_total[5m]))"),
            latency_p95_secs: q("histogram_quantile(0.95, sum by (le) (rate(hsof_request_duration_seconds_bucket[5m])))"),
            throughput_per_hour: q("3600 * sum(rate(hsof_datasets_processed_total[1h]))"),
            selection_quality: q("avg(hsof_selection_quality_score)"),
            cpu_pct: q("100 * sum(rate(container_cpu_usage_seconds_total{namespace=\"hsof\",container!=\"\"}[5m])) / sum(kube_pod_container_resource_limits{namespace=\"hsof\",resource=\"cpu\"})"),
            memory_pct: q("100 * sum(container_memory_working_set_bytes{namespace=\"hsof\",container!=\"\"}) / sum(kube_pod_container_resource_limits{namespace=\"hsof\",resource=\"memory\"})"),
            storage_pct: q("100 * max(kubelet_volume_stats_used_bytes{namespace=\"hsof\"} / kubelet_volume_stats_capacity_bytes{namespace=\"hsof\"})"),
            backup_age_secs: q("time() - max(hsof_last_successful_backup_timestamp)"),
            backup_failures_1d: q("sum(increase(hsof_backup_failed_total[1d]))"),
        }
    }
}

/// `[jobs]`: what the runbook's Jobs run. The runbook's manifests under `deployment/`
/// are not public, so each Job is built from an image and a shell command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Weekly security review: `vulnerability-scan`.
    pub vulnerability_scan_image: String,
    /// Its command.
    pub vulnerability_scan_command: String,
    /// Monthly DR test: `backup-restore-test`.
    pub backup_restore_test_image: String,
    /// Its command.
    pub backup_restore_test_command: String,
    /// Weekly: `hsof-integration-tests`.
    pub integration_tests_image: String,
    /// Its command.
    pub integration_tests_command: String,
    /// Monthly: `hsof-load-tests`.
    pub load_tests_image: String,
    /// Its command.
    pub load_tests_command: String,
    /// A folder of the team's own Job manifests, `<job>.yaml` each (the runbook's
    /// `deployment/testing/`); a Job with one there is created from it.
    pub manifests_dir: String,
    /// A ConfigMap in HSOF's namespace whose keys `<job>.yaml` hold the team's Job manifests.
    pub manifests_configmap: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        let s = |v: &str| v.to_string();
        Self {
            vulnerability_scan_image: s("aquasec/trivy:0.56.2"),
            vulnerability_scan_command: s("trivy image --exit-code 1 --severity HIGH,CRITICAL hsof/hsof:latest"),
            backup_restore_test_image: s("hsof/backup:latest"),
            backup_restore_test_command: s("hsof-backup restore --latest --verify --target /tmp/restore-test"),
            integration_tests_image: s("hsof/hsof-tests:latest"),
            integration_tests_command: s("pytest -q tests/integration"),
            load_tests_image: s("grafana/k6:0.54.0"),
            load_tests_command: s("k6 run /scripts/hsof-load.js"),
            manifests_dir: String::new(),
            manifests_configmap: String::new(),
        }
    }
}

/// `[experiments]`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct ExperimentsConfig {
    /// Runs sent to the cluster as Kubernetes Jobs.
    pub cluster: ExperimentsClusterConfig,
}

/// `[experiments.cluster]`: how a selection run becomes a Job on the team's GPU nodes. The
/// defaults match the HSOF deployment (its data claim, its GPU node label and taint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct ExperimentsClusterConfig {
    /// The engine image (`make image`): `hsofctl` with the CPU and CUDA backends.
    pub image: String,
    /// Namespace of the Jobs; empty means `cluster.namespace`.
    pub namespace: String,
    /// The ReadWriteMany claim datasets and results live on.
    pub data_claim: String,
    /// Where the claim is mounted in the engine's pods.
    pub mount_path: String,
    /// GPUs per pod (`nvidia.com/gpu`); 0 runs on the CPU backend.
    pub gpus: u32,
    /// CPU request per pod (Kubernetes quantity).
    pub cpu_request: String,
    /// Memory request per pod, also its limit (Kubernetes quantity).
    pub memory_request: String,
    /// Node selector, `key=value` each.
    pub node_selector: Vec<String>,
    /// Tolerations, `key[=value]:Effect` each (no value: operator Exists).
    pub tolerations: Vec<String>,
    /// A Job running (or waiting) longer than this is stopped by Kubernetes, seconds.
    pub active_deadline_seconds: u32,
    /// A finished Job (and its pods, with their logs) is removed after this many seconds.
    pub ttl_seconds_after_finished: u32,
}

impl Default for ExperimentsClusterConfig {
    fn default() -> Self {
        Self {
            image: "hsof/hsof-engine:0.1.0".into(),
            namespace: String::new(),
            data_claim: "hsof-data-storage".into(),
            mount_path: "/data".into(),
            gpus: 1,
            cpu_request: "4".into(),
            memory_request: "16Gi".into(),
            node_selector: vec!["nvidia.com/gpu.present=true".into()],
            tolerations: vec!["nvidia.com/gpu:NoSchedule".into()],
            active_deadline_seconds: 6 * 3600,
            ttl_seconds_after_finished: 86_400,
        }
    }
}

/// `[ui]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `dark` or `light`.
    pub theme: Theme,
    /// Whether Overview offers the demo when no kubeconfig context exists and nothing
    /// configured answers; *Don't offer again* sets it to false.
    pub demo_offer: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self { theme: Theme::Dark, demo_offer: true }
    }
}

/// Colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Dark background.
    Dark,
    /// Light background.
    Light,
}

/// When an incident escalates, parsed from [`SeverityTargets::escalation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    /// At once.
    Immediate,
    /// After this many minutes.
    After(u32),
    /// At the start of the next business day.
    NextBusinessDay,
}

impl Escalation {
    /// Parses `immediate`, `next-business-day`, `<n>m` or `<n>h`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "immediate" => Some(Self::Immediate),
            "next-business-day" => Some(Self::NextBusinessDay),
            t => {
                let (num, mult) = if let Some(n) = t.strip_suffix('m') {
                    (n, 1)
                } else if let Some(n) = t.strip_suffix('h') {
                    (n, 60)
                } else {
                    return None;
                };
                num.parse::<u32>().ok().filter(|n| *n > 0).and_then(|n| n.checked_mul(mult)).map(Self::After)
            }
        }
    }
}
