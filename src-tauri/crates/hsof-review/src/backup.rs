//! Backup security, from the backup CronJob and what it mounts or references: where the
//! backup goes (claims, the Secrets holding bucket credentials), whether the target is
//! marked encrypted (the claim's StorageClass parameters, the backup tool's own keys in the
//! CronJob's env and HSOF's ConfigMap), who can read those Secrets or mount those claims,
//! the retention the tool is set to against the config's target, and the age of the last
//! restore test (the runbook's `backup-restore-test` Job).

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::PodSpec;
use serde::{Deserialize, Serialize};

use crate::access::AccessReport;
use crate::rbac::{Evaluator, Request};
use crate::{Finding, FindingSeverity, Inputs, ReviewArea, Unread};

/// One place the backup writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Target {
    /// `claim` or `secret` (bucket credentials).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Whether it is marked encrypted: `Some(true)` marked, `Some(false)` marked not or
    /// nothing says so, `None` unknown (not read).
    pub encrypted: Option<bool>,
    /// What says so (`StorageClass fast-ssd: encrypted=true`).
    pub evidence: String,
    /// Subjects that can read it (get the Secret; create pods or exec to mount the claim).
    pub readers: Vec<String>,
}

/// The backup review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BackupReport {
    /// The CronJob, when it exists.
    pub cronjob: Option<String>,
    /// Its schedule.
    pub schedule: Option<String>,
    /// Where it writes.
    pub targets: Vec<Target>,
    /// The backup tool's encryption settings found (`BACKUP_ENCRYPTION=aes256 (CronJob env)`).
    pub tool_encryption: Vec<String>,
    /// Kept successful and failed Jobs (`successfulJobsHistoryLimit`, `failedJobsHistoryLimit`).
    pub history_limits: Option<(i32, i32)>,
    /// The tool's retention setting: key, value and where.
    pub retention_setting: Option<String>,
    /// That setting in days, when it reads as a duration or a count of daily backups.
    pub retention_days: Option<f64>,
    /// The config's target in days.
    pub retention_target_days: u32,
    /// When the last restore test finished (RFC 3339), and whether it passed.
    pub last_restore_test: Option<(String, bool)>,
    /// Its age in days.
    pub restore_test_age_days: Option<f64>,
}

fn pod_spec(c: &CronJob) -> Option<&PodSpec> {
    c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.as_ref())
}

const ENCRYPTION_WORDS: [&str; 6] = ["ENCRYPT", "KMS", "SSE", "RESTIC_PASSWORD", "GPG", "AGE_RECIPIENT"];

fn truthy(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    !v.is_empty() && !matches!(v.as_str(), "false" | "0" | "no" | "off" | "none" | "disabled")
}

/// Days in a retention value: `30`, `30d`, `720h`, `4w`.
pub fn days_of(v: &str) -> Option<f64> {
    let v = v.trim().to_ascii_lowercase();
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(v.len()));
    let n: f64 = num.parse().ok()?;
    match unit {
        "" | "d" | "days" => Some(n),
        "h" => Some(n / 24.0),
        "w" => Some(n * 7.0),
        _ => None,
    }
}

/// The last Job of the runbook's `name` (by the app's `hsof.runbook/job` label or its name):
/// when it finished and whether it succeeded.
pub fn last_run(jobs: &[Job], name: &str) -> Option<(String, bool)> {
    jobs.iter()
        .filter(|j| {
            j.metadata.labels.as_ref().and_then(|l| l.get("hsof.runbook/job")).map(String::as_str) == Some(name)
                || j.metadata.name.as_deref().is_some_and(|n| n == name || n.starts_with(&format!("{name}-")))
        })
        .filter_map(|j| {
            let st = j.status.as_ref()?;
            let ok = st.succeeded.unwrap_or(0) > 0;
            let failed = st.failed.unwrap_or(0) > 0 && !ok;
            let at = st
                .completion_time
                .as_ref()
                .map(|t| t.0)
                .or_else(|| failed.then(|| j.metadata.creation_timestamp.as_ref().map(|t| t.0)).flatten())?;
            Some((at, ok))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(at, ok)| (at.to_string(), ok))
}

/// Builds the backup report and its findings.
pub fn analyse(
    i: &Inputs,
    access: &AccessReport,
    ev: &Evaluator,
    findings: &mut Vec<Finding>,
    unread: &mut Vec<Unread>,
) -> BackupReport {
    let mut report = BackupReport {
        cronjob: None,
        schedule: None,
        targets: Vec::new(),
        tool_encryption: Vec::new(),
        history_limits: None,
        retention_setting: None,
        retention_days: None,
        retention_target_days: i.retention_target_days,
        last_restore_test: None,
        restore_test_age_days: None,
    };
    let mut push = |area, key: &str, severity, title: String, evidence: String| {
        findings.push(Finding { key: format!("backup:{key}"), area, severity, title, evidence });
    };
    restore_test(i, &mut report, &mut push, unread);
    let cron = match &i.cronjobs {
        Err(why) => {
            for area in [ReviewArea::BackupEncryption, ReviewArea::BackupAccess, ReviewArea::BackupRetention] {
                unread.push(Unread { area, what: "CronJobs".into(), why: why.clone() });
            }
            return report;
        }
        Ok(list) => list.iter().find(|c| c.metadata.name.as_deref() == Some(i.backup_cronjob.as_str())),
    };
    let Some(cron) = cron else {
        for area in [ReviewArea::BackupEncryption, ReviewArea::BackupAccess, ReviewArea::BackupRetention] {
            push(
                area,
                &format!("no-cronjob:{}", area.id()),
                FindingSeverity::Critical,
                format!("no backup CronJob {} in {}", i.backup_cronjob, i.namespace),
                "the config's [cluster] backup_cronjob names it; nothing backs HSOF up".into(),
            );
        }
        return report;
    };
    report.cronjob = cron.metadata.name.clone();
    report.schedule = cron.spec.as_ref().map(|s| s.schedule.clone());
    report.history_limits = cron
        .spec
        .as_ref()
        .map(|s| (s.successful_jobs_history_limit.unwrap_or(3), s.failed_jobs_history_limit.unwrap_or(1)));
    let spec = pod_spec(cron);

    // Settings: the CronJob's env (values, or the Secret a value comes from) and HSOF's ConfigMap.
    let mut settings: Vec<(String, String, String)> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
        for e in c.env.iter().flatten() {
            match (&e.value, e.value_from.as_ref().and_then(|f| f.secret_key_ref.as_ref())) {
                (Some(v), _) => settings.push((e.name.clone(), v.clone(), "CronJob env".into())),
                (None, Some(s)) => {
                    settings.push((e.name.clone(), format!("(from Secret {})", s.name), "CronJob env".into()));
                    secrets.push(s.name.clone());
                }
                _ => {}
            }
        }
        for f in c.env_from.iter().flatten() {
            if let Some(s) = &f.secret_ref {
                secrets.push(s.name.clone());
            }
        }
    }
    for v in spec.and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
        if let Some(s) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            secrets.push(s);
        }
    }
    match &i.configmap {
        Ok(Some(cm)) => {
            for (k, v) in cm.data.iter().flatten() {
                if k.to_ascii_uppercase().contains("BACKUP") {
                    settings.push((
                        k.clone(),
                        v.clone(),
                        format!("ConfigMap {}", cm.metadata.name.clone().unwrap_or_default()),
                    ));
                }
            }
        }
        Ok(None) => {}
        Err(why) => {
            for area in [ReviewArea::BackupEncryption, ReviewArea::BackupRetention] {
                unread.push(Unread {
                    area,
                    what: "HSOF's ConfigMap (the backup tool's keys)".into(),
                    why: why.clone(),
                });
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    for (k, v, at) in &settings {
        let up = k.to_ascii_uppercase();
        if ENCRYPTION_WORDS.iter().any(|w| up.contains(w)) && truthy(v) {
            report.tool_encryption.push(format!("{k}={v} ({at})"));
        }
        if (up.contains("RETENTION") || up.contains("KEEP")) && report.retention_setting.is_none() {
            report.retention_setting = Some(format!("{k}={v} ({at})"));
            report.retention_days = days_of(v);
        }
    }

    targets(i, spec, &secrets, access, ev, &mut report, unread);
    judge(i, &report, &mut push);
    report
}

fn restore_test(
    i: &Inputs,
    report: &mut BackupReport,
    push: &mut impl FnMut(ReviewArea, &str, FindingSeverity, String, String),
    unread: &mut Vec<Unread>,
) {
    match &i.jobs {
        Ok(jobs) => {
            report.last_restore_test = last_run(jobs, "backup-restore-test");
            if let Some((at, ok)) = &report.last_restore_test {
                let age = DateTime::parse_from_rfc3339(at)
                    .map(|t| (i.now - t.with_timezone(&Utc)).num_minutes() as f64 / 1440.0)
                    .ok();
                report.restore_test_age_days = age;
                if !ok {
                    push(
                        ReviewArea::BackupRetention,
                        "restore-failed",
                        FindingSeverity::Critical,
                        "the last restore test failed".into(),
                        format!("backup-restore-test finished {at} without success"),
                    );
                } else if age.is_some_and(|d| d > 35.0) {
                    push(
                        ReviewArea::BackupRetention,
                        "restore-old",
                        FindingSeverity::Warning,
                        format!("the last restore test is {:.0} days old", age.unwrap_or_default()),
                        "the runbook tests a restore every month".into(),
                    );
                }
            } else {
                push(
                    ReviewArea::BackupRetention,
                    "restore-none",
                    FindingSeverity::Warning,
                    "no restore test on record".into(),
                    format!("no backup-restore-test Job in {} (finished Jobs may have been cleaned up)", i.namespace),
                );
            }
        }
        Err(why) => unread.push(Unread {
            area: ReviewArea::BackupRetention,
            what: "Jobs (the last restore test)".into(),
            why: why.clone(),
        }),
    }
}

fn targets(
    i: &Inputs,
    spec: Option<&PodSpec>,
    secrets: &[String],
    access: &AccessReport,
    ev: &Evaluator,
    report: &mut BackupReport,
    unread: &mut Vec<Unread>,
) {
    for (what, read) in [
        ("Roles", i.roles.is_ok()),
        ("ClusterRoles", i.cluster_roles.is_ok()),
        ("RoleBindings", i.role_bindings.is_ok()),
        ("ClusterRoleBindings", i.cluster_role_bindings.is_ok()),
    ] {
        if !read {
            unread.push(Unread {
                area: ReviewArea::BackupAccess,
                what: format!("{what} (who can read the backup's Secrets and claims)"),
                why: "not readable by this identity (see RBAC)".into(),
            });
        }
    }
    for s in secrets {
        let r = Request {
            verb: "get".into(),
            group: String::new(),
            resource: "secrets".into(),
            subresource: String::new(),
            name: s.clone(),
            namespace: i.namespace.clone(),
        };
        let readers = ev
            .subjects()
            .into_iter()
            .filter(|sub| ev.allowed(&sub.identity(), &r).is_some())
            .map(|sub| sub.label())
            .collect();
        report.targets.push(Target {
            kind: "secret".into(),
            name: s.clone(),
            encrypted: None,
            evidence: "bucket or tool credentials: the bucket's own encryption is not visible from the cluster".into(),
            readers,
        });
    }
    let mounters: Vec<String> = access
        .holders("create-workloads")
        .into_iter()
        .chain(access.holders("exec"))
        .map(|s| s.subject.label())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let claims = spec
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone()));
    for claim in claims {
        let (encrypted, evidence) = claim_encryption(i, &claim, unread);
        report.targets.push(Target {
            kind: "claim".into(),
            name: claim,
            encrypted,
            evidence,
            readers: mounters.clone(),
        });
    }
}

fn claim_encryption(i: &Inputs, claim: &str, unread: &mut Vec<Unread>) -> (Option<bool>, String) {
    let pvc = match &i.claims {
        Ok(list) => list.iter().find(|c| c.metadata.name.as_deref() == Some(claim)).cloned(),
        Err(why) => {
            unread.push(Unread {
                area: ReviewArea::BackupEncryption,
                what: format!("claim {claim}"),
                why: why.clone(),
            });
            return (None, "the claim could not be read".into());
        }
    };
    let Some(pvc) = pvc else { return (Some(false), format!("claim {claim} does not exist")) };
    let classes = match &i.storage_classes {
        Ok(c) => c,
        Err(why) => {
            unread.push(Unread { area: ReviewArea::BackupEncryption, what: "StorageClasses".into(), why: why.clone() });
            return (None, "StorageClasses could not be read".into());
        }
    };
    let class = pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone()).or_else(|| {
        classes
            .iter()
            .find(|c| {
                c.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("storageclass.kubernetes.io/is-default-class"))
                    .map(String::as_str)
                    == Some("true")
            })
            .and_then(|c| c.metadata.name.clone())
    });
    let Some(class) = class else {
        return (Some(false), format!("claim {claim} has no StorageClass and there is no default"));
    };
    let Some(sc) = classes.iter().find(|c| c.metadata.name.as_deref() == Some(class.as_str())) else {
        return (Some(false), format!("StorageClass {class} of claim {claim} does not exist"));
    };
    let params = sc.parameters.clone().unwrap_or_default();
    let marks: Vec<String> = params
        .iter()
        .filter(|(k, v)| {
            let k = k.to_ascii_lowercase();
            (k == "encrypted" || k.contains("kms") || k.contains("encryption")) && truthy(v)
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if marks.is_empty() {
        (Some(false), format!("StorageClass {class} ({}) has no encryption parameter", sc.provisioner))
    } else {
        (Some(true), format!("StorageClass {class}: {}", marks.join(", ")))
    }
}

fn judge(i: &Inputs, r: &BackupReport, push: &mut impl FnMut(ReviewArea, &str, FindingSeverity, String, String)) {
    let tool = !r.tool_encryption.is_empty();
    for t in r.targets.iter().filter(|t| t.kind == "claim" && t.encrypted == Some(false)) {
        if tool {
            continue;
        }
        push(
            ReviewArea::BackupEncryption,
            &format!("unencrypted:{}", t.name),
            FindingSeverity::Warning,
            format!("backup claim {} is not marked encrypted", t.name),
            format!("{}; no encryption key in the backup tool's settings", t.evidence),
        );
    }
    if r.targets.iter().all(|t| t.kind == "secret") && !tool && !r.targets.is_empty() {
        push(
            ReviewArea::BackupEncryption,
            "bucket-unknown",
            FindingSeverity::Warning,
            "the backup goes to a bucket and nothing says it is encrypted".into(),
            "no encryption key in the CronJob's env or the ConfigMap's backup keys".into(),
        );
    }
    if r.targets.is_empty() {
        push(
            ReviewArea::BackupEncryption,
            "no-target",
            FindingSeverity::Warning,
            "the backup CronJob mounts no claim and references no Secret".into(),
            "where the backup goes is not visible from the cluster".into(),
        );
    }
    for t in r.targets.iter().filter(|t| t.kind == "secret") {
        let people: Vec<&str> = t
            .readers
            .iter()
            .map(String::as_str)
            .filter(|x| !x.contains(" system:") && !x.contains(" kube-system/"))
            .collect();
        if !people.is_empty() {
            push(
                ReviewArea::BackupAccess,
                &format!("secret-readers:{}", t.name),
                FindingSeverity::Warning,
                format!("{} subject(s) can read the backup credentials Secret {}", people.len(), t.name),
                people.join(", "),
            );
        }
    }
    match (r.retention_days, &r.retention_setting) {
        (Some(d), Some(s)) if d < f64::from(i.retention_target_days) => push(
            ReviewArea::BackupRetention,
            "retention-short",
            FindingSeverity::Warning,
            format!("backups are kept {d:.0} days, the target is {}", i.retention_target_days),
            s.clone(),
        ),
        (None, Some(s)) => push(
            ReviewArea::BackupRetention,
            "retention-unreadable",
            FindingSeverity::Info,
            "the backup tool's retention setting does not read as days".into(),
            s.clone(),
        ),
        // Not found where it could be looked for: unread (the ConfigMap) is said instead.
        (_, None) if i.configmap.is_ok() => push(
            ReviewArea::BackupRetention,
            "retention-unset",
            FindingSeverity::Warning,
            "no retention setting found for the backup tool".into(),
            format!(
                "looked for *RETENTION* / *KEEP* in the CronJob's env and the ConfigMap's BACKUP keys; target {} days",
                i.retention_target_days
            ),
        ),
        _ => {}
    }
}
