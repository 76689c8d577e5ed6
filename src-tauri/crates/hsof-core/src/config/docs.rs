//! One comment per key: written into the config file and checked against
//! `docs/configuration.md`, so the file, the docs and the schema cannot drift apart.

/// `(key, comment)` for every section and leaf key, in file order.
pub const KEY_DOCS: &[(&str, &str)] = &[
    ("cluster", "Kubernetes access and the names of HSOF's objects (runbook: kubectl ... -n hsof)."),
    ("cluster.kubeconfig", "Kubeconfig file. Empty: $KUBECONFIG, else ~/.kube/config."),
    ("cluster.context", "Context to use. Empty: the kubeconfig's current-context."),
    ("cluster.namespace", "Namespace HSOF runs in."),
    ("cluster.deployment", "The main Deployment (rollout restart / undo / status, scale)."),
    ("cluster.backup_cronjob", "The backup CronJob checked every morning."),
    ("endpoints", "Where HSOF and its monitoring answer."),
    ("endpoints.hsof_health_url", "Base URL of HSOF's /health, /health/gpu, /health/pipeline, /health/model."),
    ("endpoints.prometheus_url", "Prometheus base URL (HTTP API v1)."),
    ("endpoints.alertmanager_url", "AlertManager base URL (API v2)."),
    ("endpoints.grafana_url", "Grafana base URL, used for links only. Empty: no links."),
    ("endpoints.request_timeout_secs", "Timeout of one HTTP request, seconds (1-300)."),
    ("endpoints.poll_interval_secs", "How often health and metrics are polled, seconds (5-3600)."),
    ("slack", "Incident channel."),
    ("slack.channel", "Channel incidents are posted to."),
    ("slack.webhook_secret", "Name of the secret holding the incoming-webhook URL (set it with `hsofctl secret set slack-webhook`); the URL itself never goes in this file."),
    ("team", "The team's schedule: procedures and incident escalation use it."),
    ("team.timezone", "IANA time zone, e.g. \"Europe/Berlin\"."),
    ("team.business_hours_start", "Start of business hours, HH:MM in the team time zone."),
    ("team.business_hours_end", "End of business hours, HH:MM in the team time zone."),
    ("thresholds", "Key-metric targets (runbook: Performance Monitoring > Key Metrics)."),
    ("thresholds.cpu_utilization_max_pct", "CPU utilisation: average below this, percent."),
    ("thresholds.memory_utilization_max_pct", "Memory utilisation: average below this, percent."),
    ("thresholds.gpu_utilization_min_pct", "GPU utilisation during business hours: above this, percent."),
    ("thresholds.storage_max_pct", "Storage usage: below this share of capacity, percent."),
    ("thresholds.latency_p95_max_secs", "Request latency: P95 below this, seconds."),
    ("thresholds.error_rate_max_pct", "Error rate: below this, percent."),
    ("thresholds.throughput_min_per_hour", "Throughput: at least this many datasets per hour."),
    ("thresholds.selection_quality_min", "Feature-selection quality score: above this (0-1)."),
    ("thresholds.critical", "Critical alerts: page immediately."),
    ("thresholds.critical.gpu_temperature_c", "GPU temperature above this, degrees C."),
    ("thresholds.critical.error_rate_pct", "Error rate above this, percent."),
    ("thresholds.critical.system_down_secs", "System down for longer than this, seconds."),
    ("thresholds.critical.backup_failure", "Page on a failed backup."),
    ("thresholds.warning", "Warning alerts: email / Slack."),
    ("thresholds.warning.gpu_utilization_low_pct", "GPU utilisation below this ..."),
    ("thresholds.warning.gpu_utilization_low_minutes", "... for longer than this many minutes."),
    ("thresholds.warning.memory_pct", "Memory usage above this ..."),
    ("thresholds.warning.memory_minutes", "... for longer than this many minutes."),
    ("thresholds.warning.disk_pct", "Disk usage above this, percent."),
    ("thresholds.warning.latency_p95_secs", "Latency P95 above this, seconds."),
    ("health", "Thresholds HSOF's health endpoints apply to their components."),
    ("health.gpu_memory_warn_pct", "GPU memory: WARNING above this, percent."),
    ("health.gpu_memory_crit_pct", "GPU memory: CRITICAL above this, percent."),
    ("health.gpu_temperature_warn_c", "GPU temperature: WARNING above this, degrees C."),
    ("health.gpu_temperature_crit_c", "GPU temperature: CRITICAL above this, degrees C."),
    ("health.model_error_rate_warn_pct", "Model error rate: WARNING above this, percent."),
    ("health.model_error_rate_crit_pct", "Model error rate: CRITICAL above this, percent."),
    ("health.inference_latency_warn_ms", "Inference latency: WARNING above this, milliseconds."),
    ("health.inference_latency_crit_ms", "Inference latency: CRITICAL above this, milliseconds."),
    ("severities", "Incident severities (runbook: Incident Response > Severity Levels)."),
    ("severities.P0", "P0."),
    ("severities.P1", "P1."),
    ("severities.P2", "P2."),
    ("severities.P3", "P3."),
    ("severities.*.description", "What the level means."),
    ("severities.*.response_minutes", "Acknowledge within this many minutes."),
    ("severities.*.escalation", "\"immediate\", a duration such as \"30m\" or \"4h\", or \"next-business-day\"."),
    ("severities.*.status_update_minutes", "Post a status update this often, minutes; 0 for no requirement."),
    ("severities.*.postmortem", "Whether a post-mortem is required."),
    ("ui", "Look and feel."),
    ("ui.theme", "\"dark\" or \"light\"."),
];

/// The comment for `key`, with `severities.P0.x` falling back to `severities.*.x`.
pub fn doc_for(key: &str) -> Option<&'static str> {
    let generic = key.strip_prefix("severities.").and_then(|rest| {
        rest.split_once('.')
            .map(|(_, leaf)| format!("severities.*.{leaf}"))
    });
    KEY_DOCS
        .iter()
        .find(|(k, _)| *k == key || Some(*k) == generic.as_deref())
        .map(|(_, d)| *d)
}
