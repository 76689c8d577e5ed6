//! The security review of one namespace as pure functions over the objects the cluster
//! layer read: who can do what ([`rbac`], [`access`]), which service accounts run what
//! ([`accounts`]), what the network policies let through ([`netpol`]), where backups go and
//! who can reach them ([`backup`]), what the image scanner found ([`vulns`]), and what
//! changed since the last review ([`diff`]). Nothing here talks to a cluster: an area the
//! caller could not read arrives as `Err(why)` and the report names it in
//! [`SecurityReport::unread`] — a check that did not see something never says "no
//! findings" about it.

pub mod access;
pub mod accounts;
pub mod backup;
pub mod diff;
pub mod netpol;
pub mod picture;
pub mod rbac;
pub mod selector;
pub mod vulns;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::storage::v1::StorageClass;
use serde::{Deserialize, Serialize};

/// What could be read of one area: the objects, or why not.
pub type Read<T> = Result<T, String>;

/// How much a finding matters; the same three colours as the rest of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// Fix now.
    Critical,
    /// Fix soon.
    Warning,
    /// Worth knowing.
    Info,
}

impl FindingSeverity {
    /// `critical`, `warning`, `info`.
    pub fn word(self) -> &'static str {
        match self {
            FindingSeverity::Critical => "critical",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Info => "info",
        }
    }
}

/// The review's areas, as the runbook's steps name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ReviewArea {
    /// RBAC permissions.
    Rbac,
    /// Service-account usage.
    ServiceAccounts,
    /// Network policies.
    NetworkPolicies,
    /// Backup encryption.
    BackupEncryption,
    /// Backup access controls.
    BackupAccess,
    /// Backup retention.
    BackupRetention,
    /// Image vulnerabilities.
    Vulnerabilities,
    /// Audit completeness.
    Audit,
}

impl ReviewArea {
    /// Every area, in the runbook's order.
    pub const ALL: [ReviewArea; 8] = [
        ReviewArea::Rbac,
        ReviewArea::ServiceAccounts,
        ReviewArea::NetworkPolicies,
        ReviewArea::BackupEncryption,
        ReviewArea::BackupAccess,
        ReviewArea::BackupRetention,
        ReviewArea::Vulnerabilities,
        ReviewArea::Audit,
    ];

    /// `rbac`, `service-accounts`, … (the calendar step ids use the same words).
    pub fn id(self) -> &'static str {
        match self {
            ReviewArea::Rbac => "rbac",
            ReviewArea::ServiceAccounts => "service-accounts",
            ReviewArea::NetworkPolicies => "network-policies",
            ReviewArea::BackupEncryption => "backup-encryption",
            ReviewArea::BackupAccess => "backup-access",
            ReviewArea::BackupRetention => "backup-retention",
            ReviewArea::Vulnerabilities => "vulnerabilities",
            ReviewArea::Audit => "audit-logs",
        }
    }

    /// The area of an id from [`ReviewArea::id`].
    pub fn from_id(id: &str) -> Option<ReviewArea> {
        ReviewArea::ALL.into_iter().find(|a| a.id() == id)
    }
}

/// One finding, with the evidence that makes it one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Finding {
    /// Stable across reviews for the same problem (the diff matches on it).
    pub key: String,
    /// Its area.
    pub area: ReviewArea,
    /// How much it matters.
    pub severity: FindingSeverity,
    /// One line.
    pub title: String,
    /// The objects and rules behind it.
    pub evidence: String,
}

/// Something the review could not read, so could not judge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Unread {
    /// The area it leaves blind.
    pub area: ReviewArea,
    /// What was not read (`ClusterRoleBindings`).
    pub what: String,
    /// Why (the API server's answer).
    pub why: String,
}

/// The Trivy Operator's reports, as found.
#[derive(Debug, Clone, Default)]
pub enum Scanner {
    /// Its CRD is not installed.
    #[default]
    NotInstalled,
    /// Installed, served at `version`, with the reports of the namespace (raw JSON).
    Reports {
        /// The served version (`v1alpha1` is the one this reads).
        version: String,
        /// The reports, or why they could not be listed.
        reports: Read<Vec<serde_json::Value>>,
    },
}

/// Everything one review reads, each area as read or why not.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The HSOF namespace.
    pub namespace: String,
    /// RBAC objects.
    pub roles: Read<Vec<k8s_openapi::api::rbac::v1::Role>>,
    /// ClusterRoles.
    pub cluster_roles: Read<Vec<k8s_openapi::api::rbac::v1::ClusterRole>>,
    /// RoleBindings of the namespace.
    pub role_bindings: Read<Vec<k8s_openapi::api::rbac::v1::RoleBinding>>,
    /// ClusterRoleBindings.
    pub cluster_role_bindings: Read<Vec<k8s_openapi::api::rbac::v1::ClusterRoleBinding>>,
    /// ServiceAccounts of the namespace.
    pub service_accounts: Read<Vec<ServiceAccount>>,
    /// Pods of the namespace.
    pub pods: Read<Vec<Pod>>,
    /// Deployments of the namespace.
    pub deployments: Read<Vec<Deployment>>,
    /// CronJobs of the namespace.
    pub cronjobs: Read<Vec<CronJob>>,
    /// Jobs of the namespace.
    pub jobs: Read<Vec<Job>>,
    /// NetworkPolicies of the namespace.
    pub network_policies: Read<Vec<NetworkPolicy>>,
    /// Namespaces (for namespaceSelectors); unreadable leaves those peers unresolved.
    pub namespaces: Read<Vec<Namespace>>,
    /// Claims of the namespace.
    pub claims: Read<Vec<PersistentVolumeClaim>>,
    /// StorageClasses.
    pub storage_classes: Read<Vec<StorageClass>>,
    /// HSOF's ConfigMap (the backup tool's keys), if it exists.
    pub configmap: Read<Option<ConfigMap>>,
    /// The vulnerability scanner.
    pub scanner: Scanner,
    /// The main Deployment's name (its claims are "the data claims").
    pub deployment: String,
    /// The backup CronJob's name.
    pub backup_cronjob: String,
    /// The retention target in days (the config's `[security] backup_retention_days`).
    pub retention_target_days: u32,
    /// When the review runs.
    pub now: DateTime<Utc>,
}

/// The review of one namespace at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SecurityReport {
    /// The namespace.
    pub namespace: String,
    /// RFC 3339.
    pub at: String,
    /// Who can do what.
    pub access: access::AccessReport,
    /// Service-account usage.
    pub accounts: Vec<accounts::AccountUsage>,
    /// Network-policy coverage.
    pub network: netpol::NetworkReport,
    /// Backup security.
    pub backup: backup::BackupReport,
    /// Image vulnerabilities.
    pub vulnerabilities: vulns::VulnReport,
    /// Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be read.
    pub unread: Vec<Unread>,
}

impl SecurityReport {
    /// The verdict of one area: `fail` with a critical finding, `warn` with a warning, `unknown`
    /// when something of it was not read, else `pass`.
    pub fn verdict(&self, area: ReviewArea) -> &'static str {
        let worst = self.findings.iter().filter(|f| f.area == area).map(|f| f.severity).min();
        match worst {
            Some(FindingSeverity::Critical) => "fail",
            _ if self.unread.iter().any(|u| u.area == area) => "unknown",
            Some(FindingSeverity::Warning) => "warn",
            _ => "pass",
        }
    }

    /// The findings and blind spots of one area as plain lines (a calendar step's evidence).
    pub fn evidence(&self, area: ReviewArea) -> String {
        let mut out = Vec::new();
        for f in self.findings.iter().filter(|f| f.area == area) {
            out.push(format!("[{}] {}: {}", f.severity.word(), f.title, f.evidence));
        }
        for u in self.unread.iter().filter(|u| u.area == area) {
            out.push(format!("[not read] {}: {}", u.what, u.why));
        }
        if out.is_empty() {
            out.push("no findings (everything this check looks at was read)".into());
        }
        out.join("\n")
    }
}

/// Runs every check of the review over what was read.
pub fn review(i: &Inputs) -> SecurityReport {
    let mut unread = Vec::new();
    let mut findings = Vec::new();
    let (access, evaluator) = access::analyse(i, &mut findings, &mut unread);
    let accounts = accounts::analyse(i, &access, &mut findings, &mut unread);
    let network = netpol::analyse(i, &mut findings, &mut unread);
    let backup = backup::analyse(i, &access, &evaluator, &mut findings, &mut unread);
    let vulnerabilities = vulns::analyse(i, &mut findings, &mut unread);
    findings.sort_by(|a, b| (a.severity, a.area, &a.key).cmp(&(b.severity, b.area, &b.key)));
    findings.dedup_by(|a, b| a.key == b.key);
    SecurityReport {
        namespace: i.namespace.clone(),
        at: i.now.to_rfc3339(),
        access,
        accounts,
        network,
        backup,
        vulnerabilities,
        findings,
        unread,
    }
}
