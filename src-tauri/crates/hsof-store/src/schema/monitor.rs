//! Monitoring: health polls, metric time series, last-known values, alert links,
//! notification state.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE health_samples (
    ts       INTEGER NOT NULL,          -- unix seconds
    up       INTEGER NOT NULL,          -- /health answered
    overall  TEXT NOT NULL,             -- HEALTHY | WARNING | CRITICAL | UNKNOWN
    report   TEXT NOT NULL              -- the judged HealthReport, JSON
);
CREATE INDEX health_samples_ts ON health_samples(ts);

CREATE TABLE series (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE          -- e.g. metric.error_rate_pct
);
-- Clustered by (series, time): a 30-day range of one series is one contiguous scan.
CREATE TABLE samples (
    series_id  INTEGER NOT NULL REFERENCES series(id),
    ts         INTEGER NOT NULL,
    value      REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE last_known (
    key         TEXT PRIMARY KEY,       -- e.g. key_metrics, alerts, slo
    value       TEXT NOT NULL,          -- JSON
    fetched_at  TEXT NOT NULL           -- RFC 3339
);

CREATE TABLE alert_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint  TEXT NOT NULL,
    alertname    TEXT NOT NULL,
    alert        TEXT NOT NULL,         -- the alert as AlertManager sent it, JSON
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    incident_id  INTEGER                -- filled by the incidents feature
);
CREATE INDEX alert_links_fingerprint ON alert_links(fingerprint);

CREATE TABLE threshold_state (
    rule_id        TEXT PRIMARY KEY,
    active         INTEGER NOT NULL,
    since          INTEGER,             -- unix seconds the breach began
    notified_at    INTEGER,
    snoozed_until  INTEGER
);
"#,
    )]
}

/// Health polls per cluster: the cluster's scope (empty for a configuration's single
/// implicit cluster, so older rows stay its own).
pub(super) fn cluster_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
ALTER TABLE health_samples ADD COLUMN cluster TEXT NOT NULL DEFAULT '';
CREATE INDEX health_samples_cluster_ts ON health_samples(cluster, ts);
"#,
    )]
}

/// Records name the cluster they belong to (empty: a configuration's single cluster, or a
/// teammate's shared record).
pub(super) fn record_cluster_steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
ALTER TABLE incidents ADD COLUMN cluster TEXT;
ALTER TABLE experiments ADD COLUMN cluster TEXT;
ALTER TABLE step_results ADD COLUMN cluster TEXT;
"#,
    )]
}
