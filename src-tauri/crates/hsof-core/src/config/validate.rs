//! Semantic checks the type system cannot express: URLs, ranges, orderings, names.

use serde::Serialize;

use super::{Config, Escalation};

/// One thing wrong with one key.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ConfigProblem {
    /// Dotted key, e.g. `thresholds.cpu_utilization_max_pct`.
    pub key: String,
    /// What the key must hold.
    pub expected: String,
    /// What it holds.
    pub found: String,
}

/// Every problem in `config`; empty when it is valid.
pub fn validate(config: &Config) -> Vec<ConfigProblem> {
    let mut p = Problems(Vec::new());
    let c = &config.cluster;
    p.dns_label("cluster.namespace", &c.namespace);
    p.dns_name("cluster.deployment", &c.deployment);
    p.dns_name("cluster.backup_cronjob", &c.backup_cronjob);
    if !c.proxy_url.is_empty() {
        let ok = url::Url::parse(&c.proxy_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "socks5") && u.host().is_some());
        p.check("cluster.proxy_url", ok, "an http://, https:// or socks5:// URL with a host", &c.proxy_url);
    }
    p.dns_name("cluster.configmap", &c.configmap);
    if c.discovery_namespaces.is_empty() {
        p.check("cluster.discovery_namespaces", false, "at least one namespace", "[]");
    }
    for ns in &c.discovery_namespaces {
        p.dns_label("cluster.discovery_namespaces", ns);
    }

    let x = &config.experiments.cluster;
    p.check(
        "experiments.cluster.image",
        !x.image.trim().is_empty() && !x.image.contains(char::is_whitespace),
        "an image reference such as hsof/hsof-engine:0.1.0",
        &x.image,
    );
    if !x.namespace.is_empty() {
        p.dns_label("experiments.cluster.namespace", &x.namespace);
    }
    p.dns_name("experiments.cluster.data_claim", &x.data_claim);
    p.check(
        "experiments.cluster.mount_path",
        x.mount_path.starts_with('/') && x.mount_path.trim_end_matches('/').len() > 1,
        "an absolute path other than /",
        &x.mount_path,
    );
    p.range_u("experiments.cluster.gpus", x.gpus, 0, 16);
    p.check(
        "experiments.cluster.cpu_request",
        hsof_cluster::is_quantity(&x.cpu_request),
        "a Kubernetes quantity such as 4 or 500m",
        &x.cpu_request,
    );
    p.check(
        "experiments.cluster.memory_request",
        hsof_cluster::is_quantity(&x.memory_request),
        "a Kubernetes quantity such as 16Gi",
        &x.memory_request,
    );
    for s in &x.node_selector {
        p.check("experiments.cluster.node_selector", hsof_cluster::parse_selector(s).is_ok(), "key=value", s);
    }
    for t in &x.tolerations {
        p.check(
            "experiments.cluster.tolerations",
            hsof_cluster::parse_toleration(t).is_ok(),
            "key[=value]:Effect (NoSchedule, PreferNoSchedule, NoExecute)",
            t,
        );
    }
    p.range_u("experiments.cluster.active_deadline_seconds", x.active_deadline_seconds, 1, 604_800);
    p.range_u("experiments.cluster.ttl_seconds_after_finished", x.ttl_seconds_after_finished, 60, 2_592_000);

    let e = &config.endpoints;
    p.source("endpoints.hsof_health_url", &e.hsof_health_url);
    p.source("endpoints.prometheus_url", &e.prometheus_url);
    p.source("endpoints.alertmanager_url", &e.alertmanager_url);
    p.url("endpoints.grafana_url", &e.grafana_url, true);
    p.check(
        "endpoints.silence_matchers",
        !e.silence_matchers.is_empty(),
        "at least one matcher (an empty silence would match every alert)",
        "[]",
    );
    for m in &e.silence_matchers {
        p.check(
            "endpoints.silence_matchers",
            hsof_monitor::alertmanager::Matcher::parse(m).is_ok(),
            "matchers such as monitor=\"hsof-monitor\" (=, !=, =~, !~)",
            m,
        );
    }
    p.range_u("endpoints.request_timeout_secs", e.request_timeout_secs, 1, 300);
    p.range_u("endpoints.poll_interval_secs", e.poll_interval_secs, 5, 3600);

    p.check(
        "slack.channel",
        config.slack.channel.starts_with('#') && config.slack.channel.len() > 1,
        "a channel name starting with #",
        &config.slack.channel,
    );
    p.check(
        "slack.webhook_secret",
        !config.slack.webhook_secret.trim().is_empty() && !config.slack.webhook_secret.contains("://"),
        "the name of a secret (the URL itself belongs in the secret store)",
        if config.slack.webhook_secret.contains("://") { "a URL" } else { &config.slack.webhook_secret },
    );

    let t = &config.team;
    p.check(
        "team.timezone",
        t.timezone.parse::<chrono_tz::Tz>().is_ok(),
        "an IANA time zone such as \"Europe/Berlin\"",
        &t.timezone,
    );
    let start = parse_hhmm(&t.business_hours_start);
    let end = parse_hhmm(&t.business_hours_end);
    p.check("team.business_hours_start", start.is_some(), "a time HH:MM", &t.business_hours_start);
    p.check("team.business_hours_end", end.is_some(), "a time HH:MM", &t.business_hours_end);
    if let (Some(s), Some(e)) = (start, end) {
        p.check(
            "team.business_hours_end",
            e > s,
            &format!("a time after business_hours_start ({})", t.business_hours_start),
            &t.business_hours_end,
        );
    }

    if let Err(e) = t.holiday_dates() {
        let key = if e.starts_with("team.holidays_ics") { "team.holidays_ics" } else { "team.holidays" };
        p.check(key, false, "dates YYYY-MM-DD / a readable .ics holiday calendar", &e);
    }

    let th = &config.thresholds;
    for (key, v) in [
        ("thresholds.cpu_utilization_max_pct", th.cpu_utilization_max_pct),
        ("thresholds.memory_utilization_max_pct", th.memory_utilization_max_pct),
        ("thresholds.gpu_utilization_min_pct", th.gpu_utilization_min_pct),
        ("thresholds.storage_max_pct", th.storage_max_pct),
        ("thresholds.error_rate_max_pct", th.error_rate_max_pct),
        ("thresholds.critical.error_rate_pct", th.critical.error_rate_pct),
        ("thresholds.warning.gpu_utilization_low_pct", th.warning.gpu_utilization_low_pct),
        ("thresholds.warning.memory_pct", th.warning.memory_pct),
        ("thresholds.warning.disk_pct", th.warning.disk_pct),
    ] {
        p.pct(key, v);
    }
    for (key, v) in [
        ("thresholds.latency_p95_max_secs", th.latency_p95_max_secs),
        ("thresholds.backup_max_age_hours", th.backup_max_age_hours),
        ("thresholds.throughput_min_per_hour", th.throughput_min_per_hour),
        ("thresholds.critical.gpu_temperature_c", th.critical.gpu_temperature_c),
        ("thresholds.warning.latency_p95_secs", th.warning.latency_p95_secs),
    ] {
        p.positive(key, v);
    }
    p.check(
        "thresholds.selection_quality_min",
        (0.0..=1.0).contains(&th.selection_quality_min),
        "a score between 0 and 1",
        &th.selection_quality_min.to_string(),
    );
    p.ordered(
        "thresholds.critical.error_rate_pct",
        th.error_rate_max_pct,
        th.critical.error_rate_pct,
        "thresholds.error_rate_max_pct",
    );
    p.ordered(
        "thresholds.latency_p95_max_secs",
        th.warning.latency_p95_secs,
        th.latency_p95_max_secs,
        "thresholds.warning.latency_p95_secs",
    );

    let h = &config.health;
    for (key, v) in [
        ("health.gpu_memory_warn_pct", h.gpu_memory_warn_pct),
        ("health.gpu_memory_crit_pct", h.gpu_memory_crit_pct),
        ("health.model_error_rate_warn_pct", h.model_error_rate_warn_pct),
        ("health.model_error_rate_crit_pct", h.model_error_rate_crit_pct),
    ] {
        p.pct(key, v);
    }
    p.ordered("health.gpu_memory_crit_pct", h.gpu_memory_warn_pct, h.gpu_memory_crit_pct, "health.gpu_memory_warn_pct");
    p.ordered(
        "health.gpu_temperature_crit_c",
        h.gpu_temperature_warn_c,
        h.gpu_temperature_crit_c,
        "health.gpu_temperature_warn_c",
    );
    p.ordered(
        "health.model_error_rate_crit_pct",
        h.model_error_rate_warn_pct,
        h.model_error_rate_crit_pct,
        "health.model_error_rate_warn_pct",
    );
    p.ordered(
        "health.inference_latency_crit_ms",
        h.inference_latency_warn_ms,
        h.inference_latency_crit_ms,
        "health.inference_latency_warn_ms",
    );

    for (name, s) in config.severities.levels() {
        let key = |leaf: &str| format!("severities.{name}.{leaf}");
        p.check(&key("description"), !s.description.trim().is_empty(), "a description", "an empty string");
        p.check(
            &key("response_minutes"),
            s.response_minutes > 0,
            "a response time of at least 1 minute",
            &s.response_minutes.to_string(),
        );
        p.check(
            &key("escalation"),
            Escalation::parse(&s.escalation).is_some(),
            "\"immediate\", a duration such as \"30m\" or \"4h\", or \"next-business-day\"",
            &s.escalation,
        );
    }
    let slo = &config.slo;
    p.range_u("slo.window_days", slo.window_days, 1, 90);
    for (key, v) in [
        ("slo.availability_objective", slo.availability_objective),
        ("slo.latency_objective", slo.latency_objective),
        ("slo.throughput_objective", slo.throughput_objective),
        ("slo.quality_objective", slo.quality_objective),
    ] {
        p.check(key, v > 0.0 && v < 1.0, "a share strictly between 0 and 1, e.g. 0.999", &v.to_string());
    }
    p.positive("slo.latency_threshold_secs", slo.latency_threshold_secs);
    let m = &config.metrics;
    for (key, q) in [
        ("metrics.gpu_utilization_pct", &m.gpu_utilization_pct),
        ("metrics.gpu_temperature_c", &m.gpu_temperature_c),
        ("metrics.error_rate_pct", &m.error_rate_pct),
        ("metrics.latency_p95_secs", &m.latency_p95_secs),
        ("metrics.throughput_per_hour", &m.throughput_per_hour),
        ("metrics.selection_quality", &m.selection_quality),
        ("metrics.cpu_pct", &m.cpu_pct),
        ("metrics.memory_pct", &m.memory_pct),
        ("metrics.storage_pct", &m.storage_pct),
        ("metrics.backup_age_secs", &m.backup_age_secs),
        ("metrics.backup_failures_1d", &m.backup_failures_1d),
    ] {
        p.check(key, !q.trim().is_empty(), "a PromQL expression", "an empty string");
    }
    if !config.jobs.manifests_configmap.is_empty() {
        p.dns_name("jobs.manifests_configmap", &config.jobs.manifests_configmap);
    }
    let dr = &config.dr;
    p.positive("dr.rto_target_minutes", dr.rto_target_minutes);
    p.positive("dr.rpo_target_hours", dr.rpo_target_hours);
    p.range_u("dr.restore_timeout_secs", dr.restore_timeout_secs, 1, 86_400);
    p.range_u("dr.failover_timeout_secs", dr.failover_timeout_secs, 10, 7200);
    p.range_u("dr.failover_hold_secs", dr.failover_hold_secs, 0, 3600);
    p.range_u("dr.dr_replicas", dr.dr_replicas, 0, 50);
    p.range_u("security.backup_retention_days", config.security.backup_retention_days, 1, 3650);
    p.range_u("security.cross_check_sample", config.security.cross_check_sample, 0, 200);
    p.range_u("upkeep.finished_job_days", config.upkeep.finished_job_days, 1, 365);
    p.check(
        "upkeep.storage_price_per_gib_month",
        config.upkeep.storage_price_per_gib_month >= 0.0 && config.upkeep.storage_price_per_gib_month.is_finite(),
        "a price of 0 or more",
        &config.upkeep.storage_price_per_gib_month.to_string(),
    );
    for e in &config.upkeep.end_of_support {
        let ok = e.split_once('=').is_some_and(|(r, d)| {
            hsof_upkeep::versions::minor_of(r).is_some()
                && chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").is_ok()
        });
        p.check("upkeep.end_of_support", ok, "entries like \"1.31=2025-10-28\"", e);
    }
    let sh = &config.stakeholders;
    p.check(
        "stakeholders.target",
        ["statuspage", "webhook", "none"].contains(&sh.target.as_str()),
        "statuspage, webhook or none",
        &sh.target,
    );
    if sh.target == "statuspage" {
        p.check("stakeholders.page_id", !sh.page_id.trim().is_empty(), "the status page's id", &sh.page_id);
        p.check(
            "stakeholders.statuspage_url",
            sh.statuspage_url.starts_with("https://") || sh.statuspage_url.starts_with("http://127.0.0.1"),
            "an https URL",
            &sh.statuspage_url,
        );
    }
    for (key, v) in
        [("stakeholders.api_key_secret", &sh.api_key_secret), ("stakeholders.webhook_secret", &sh.webhook_secret)]
    {
        p.check(key, !v.trim().is_empty() && !v.contains("://"), "a secret's name (not the secret)", v);
    }
    for e in &sh.components {
        let ok = e.split_once('=').is_some_and(|(c, id)| !c.trim().is_empty() && !id.trim().is_empty());
        p.check("stakeholders.components", ok, "entries like \"pipeline=8kbf7d35c070\"", e);
    }
    p.check("stakeholders.every", sh.every.len() <= 4, "at most four durations (P0 to P3)", &sh.every.join(", "));
    for e in sh.every.iter().filter(|e| !e.trim().is_empty()) {
        let ok = hsof_ops::incidents::parse_duration(e.trim()).is_ok();
        p.check("stakeholders.every", ok, "durations like 30m or 1h", e);
    }
    let cost = &config.cost;
    p.check("cost.currency", !cost.currency.trim().is_empty(), "a currency such as USD", &cost.currency);
    if let Some(b) = cost.monthly_budget {
        p.check("cost.monthly_budget", b.is_finite() && b >= 0.0, "an amount of 0 or more", &b.to_string());
    }
    p.check(
        "cost.budget_warn_share",
        (0.1..=1.0).contains(&cost.budget_warn_share),
        "a share from 0.1 to 1",
        &cost.budget_warn_share.to_string(),
    );
    for (key, v) in [("cost.vcpu_hour", cost.vcpu_hour), ("cost.gib_hour", cost.gib_hour)] {
        p.check(key, v.is_finite() && v >= 0.0, "a price of 0 or more", &v.to_string());
    }
    for e in &cost.gpu_hour {
        let ok = e.rsplit_once('=').is_some_and(|(m, v)| {
            !m.trim().is_empty() && v.trim().parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0)
        });
        p.check("cost.gpu_hour", ok, "entries like \"NVIDIA-A100-SXM4-80GB=2.93\"", e);
    }
    p.check("cost.headroom", (0.0..=2.0).contains(&cost.headroom), "a share from 0 to 2", &cost.headroom.to_string());
    if !dr.restore_namespace.is_empty() {
        p.dns_label("dr.restore_namespace", &dr.restore_namespace);
    }
    super::clusters::validate_clusters(config, &mut |problem| p.0.push(problem));
    p.0
}

/// Parses `HH:MM` into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

/// An http:// or https:// URL with a host.
pub(super) fn is_url(v: &str) -> bool {
    url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// An http(s) URL or a service reference (`k8s-service://NS/NAME:PORT`).
pub(super) fn is_source(v: &str) -> bool {
    if v.starts_with(hsof_cluster::SERVICE_SCHEME) {
        hsof_cluster::ServiceRef::parse(v).is_ok()
    } else {
        is_url(v)
    }
}

/// A DNS label: lowercase letters, digits and '-', at most 63, not starting or ending with '-'.
pub(super) fn is_dns_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn check(&mut self, key: &str, ok: bool, expected: &str, found: &str) {
        if !ok {
            self.0.push(ConfigProblem { key: key.into(), expected: expected.into(), found: found.into() });
        }
    }
    fn pct(&mut self, key: &str, v: f64) {
        self.check(key, (0.0..=100.0).contains(&v), "a percentage between 0 and 100", &v.to_string());
    }
    fn positive(&mut self, key: &str, v: f64) {
        self.check(key, v.is_finite() && v > 0.0, "a number above 0", &v.to_string());
    }
    fn range_u(&mut self, key: &str, v: u32, lo: u32, hi: u32) {
        self.check(key, (lo..=hi).contains(&v), &format!("a whole number from {lo} to {hi}"), &v.to_string());
    }
    fn ordered(&mut self, key: &str, lower: f64, upper: f64, lower_key: &str) {
        self.check(key, upper > lower, &format!("a value above {lower_key} ({lower})"), &upper.to_string());
    }
    fn url(&mut self, key: &str, v: &str, may_be_empty: bool) {
        if may_be_empty && v.is_empty() {
            return;
        }
        self.check(key, is_url(v), "an http:// or https:// URL", v);
    }
    /// An http(s) URL or a service reference (`k8s-service://NS/NAME:PORT`).
    fn source(&mut self, key: &str, v: &str) {
        if v.starts_with(hsof_cluster::SERVICE_SCHEME) {
            if let Err(e) = hsof_cluster::ServiceRef::parse(v) {
                self.check(key, false, &format!("an http:// or https:// URL, or a service reference ({e})"), v);
            }
            return;
        }
        self.url(key, v, false);
    }
    fn dns_label(&mut self, key: &str, v: &str) {
        self.check(
            key,
            is_dns_label(v),
            "a Kubernetes name: lowercase letters, digits and '-', at most 63 characters",
            v,
        );
    }
    fn dns_name(&mut self, key: &str, v: &str) {
        let ok = !v.is_empty()
            && v.len() <= 253
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        self.check(key, ok, "a Kubernetes object name: lowercase letters, digits, '-' and '.'", v);
    }
}
