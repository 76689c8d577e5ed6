//! Service-account usage: which Deployments, CronJobs, Jobs and pods run as each account,
//! accounts no workload uses, workloads on `default`, and accounts that mount their API
//! token though no binding gives them anything to do with it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;
use serde::{Deserialize, Serialize};

use crate::access::AccessReport;
use crate::{Finding, FindingSeverity, Inputs, ReviewArea, Unread};

/// One service account and what runs as it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AccountUsage {
    /// The account's name (in the namespace).
    pub name: String,
    /// Whether the account object exists (a workload may name a missing one).
    pub exists: bool,
    /// `Deployment hsof`, `CronJob hsof-backup`, `Job x`, `Pod y` (bare pods only).
    pub workloads: Vec<String>,
    /// Running pods using it (owned ones included).
    pub pods: u32,
    /// Whether the token is mounted into at least one of its workloads.
    pub automount: bool,
    /// Whether some binding names it (it has something to do with the API).
    pub needs_api: bool,
}

fn account_of(spec: Option<&PodSpec>) -> (String, Option<bool>) {
    let name = spec
        .and_then(|s| s.service_account_name.clone().or_else(|| s.service_account.clone()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    (name, spec.and_then(|s| s.automount_service_account_token))
}

/// Builds the usage table and its findings.
pub fn analyse(
    i: &Inputs,
    access: &AccessReport,
    findings: &mut Vec<Finding>,
    unread: &mut Vec<Unread>,
) -> Vec<AccountUsage> {
    let mut miss = |what: &str, why: &String| {
        unread.push(Unread { area: ReviewArea::ServiceAccounts, what: what.into(), why: why.clone() });
    };
    let accounts = match &i.service_accounts {
        Ok(a) => a.clone(),
        Err(why) => {
            miss("ServiceAccounts", why);
            Vec::new()
        }
    };
    // name -> (workloads, pods, automount per workload)
    let mut used: BTreeMap<String, (Vec<String>, u32, bool)> = BTreeMap::new();
    let sa_automount = |name: &str| {
        accounts
            .iter()
            .find(|a| a.metadata.name.as_deref() == Some(name))
            .and_then(|a| a.automount_service_account_token)
            .unwrap_or(true)
    };
    let mut add = |label: Option<String>, spec: Option<&PodSpec>, pod: bool| {
        let (name, pod_mount) = account_of(spec);
        let mounts = pod_mount.unwrap_or_else(|| sa_automount(&name));
        let e = used.entry(name).or_default();
        if let Some(l) = label {
            e.0.push(l);
        }
        e.1 += u32::from(pod);
        e.2 |= mounts;
    };
    match &i.deployments {
        Ok(v) => v.iter().for_each(|d| {
            add(
                Some(format!("Deployment {}", d.metadata.name.clone().unwrap_or_default())),
                d.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
                false,
            );
        }),
        Err(why) => miss("Deployments", why),
    }
    match &i.cronjobs {
        Ok(v) => v.iter().for_each(|c| {
            let spec =
                c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.as_ref());
            add(Some(format!("CronJob {}", c.metadata.name.clone().unwrap_or_default())), spec, false);
        }),
        Err(why) => miss("CronJobs", why),
    }
    match &i.jobs {
        Ok(v) => v.iter().filter(|j| j.metadata.owner_references.as_ref().is_none_or(Vec::is_empty)).for_each(|j| {
            add(
                Some(format!("Job {}", j.metadata.name.clone().unwrap_or_default())),
                j.spec.as_ref().and_then(|s| s.template.spec.as_ref()),
                false,
            );
        }),
        Err(why) => miss("Jobs", why),
    }
    match &i.pods {
        Ok(v) => v.iter().for_each(|p| {
            let bare = p.metadata.owner_references.as_ref().is_none_or(Vec::is_empty);
            let label = bare.then(|| format!("Pod {}", p.metadata.name.clone().unwrap_or_default()));
            add(label, p.spec.as_ref(), true);
        }),
        Err(why) => miss("Pods", why),
    }
    let direct = |name: &str| {
        access.subjects.iter().any(|s| {
            s.subject.kind == "ServiceAccount"
                && s.subject.name == name
                && s.subject.namespace.as_deref() == Some(i.namespace.as_str())
                && (!s.bindings.is_empty() || !s.can.is_empty())
        })
    };
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<String> =
        accounts.iter().filter_map(|a| a.metadata.name.clone()).chain(used.keys().cloned()).collect();
    for name in names {
        let (workloads, pods, automount) = used.get(&name).cloned().unwrap_or_default();
        let exists = accounts.iter().any(|a| a.metadata.name.as_deref() == Some(name.as_str()));
        out.push(AccountUsage { needs_api: direct(&name), exists, workloads, pods, automount, name });
    }
    account_findings(i, &out, findings);
    out
}

fn account_findings(i: &Inputs, usage: &[AccountUsage], findings: &mut Vec<Finding>) {
    let ns = &i.namespace;
    let everything_read = i.deployments.is_ok() && i.cronjobs.is_ok() && i.jobs.is_ok() && i.pods.is_ok();
    for a in usage {
        let mut push = |key: &str, severity, title: String, evidence: String| {
            findings.push(Finding {
                key: format!("sa:{key}:{}", a.name),
                area: ReviewArea::ServiceAccounts,
                severity,
                title,
                evidence,
            });
        };
        if a.name == "default" && !a.workloads.is_empty() {
            push(
                "default",
                FindingSeverity::Warning,
                format!("{} workload(s) run as the namespace's default account", a.workloads.len()),
                a.workloads.join(", "),
            );
        }
        if a.exists && a.workloads.is_empty() && a.pods == 0 && a.name != "default" && everything_read {
            push(
                "unused",
                FindingSeverity::Info,
                format!("service account {ns}/{} is used by no workload", a.name),
                "no Deployment, CronJob, Job or pod names it".into(),
            );
        }
        let rbac_read =
            i.roles.is_ok() && i.cluster_roles.is_ok() && i.role_bindings.is_ok() && i.cluster_role_bindings.is_ok();
        if rbac_read && a.automount && !a.needs_api && (!a.workloads.is_empty() || a.pods > 0) {
            push(
                "token",
                FindingSeverity::Info,
                format!("{ns}/{} mounts its API token but no binding gives it anything to do", a.name),
                format!("set automountServiceAccountToken: false on the account or on {}", a.workloads.join(", ")),
            );
        }
    }
}
