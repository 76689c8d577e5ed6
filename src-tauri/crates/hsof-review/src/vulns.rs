//! Image vulnerabilities: the Trivy Operator's `VulnerabilityReport`s
//! (`aquasecurity.github.io/v1alpha1`) of the namespace, per image its critical and high
//! findings, how many have a fixed version and how old the report is; without the operator,
//! the last run of the runbook's `vulnerability-scan` Job and a plain line that no scanner
//! reports are available.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{backup, Finding, FindingSeverity, Inputs, ReviewArea, Scanner, Unread};

/// The Trivy Operator version this reads.
pub const TRIVY_VERSION: &str = "v1alpha1";

/// One critical or high finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
pub struct Vuln {
    /// `CVE-2024-1234`.
    pub id: String,
    /// `CRITICAL` or `HIGH`.
    pub severity: String,
    /// The package.
    pub package: String,
    /// Installed version.
    pub installed: String,
    /// The version that fixes it, empty when none.
    pub fixed: String,
}

/// One image's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImageVulns {
    /// `registry/repository:tag`.
    pub image: String,
    /// The workload and container it was scanned for (`Deployment hsof / hsof`).
    pub workload: String,
    /// Critical findings.
    pub critical: u32,
    /// High findings.
    pub high: u32,
    /// Critical and high findings with a fixed version.
    pub fixable: u32,
    /// When the report was made (RFC 3339).
    pub updated: String,
    /// Its age in days.
    pub age_days: Option<f64>,
    /// The critical and high findings.
    pub vulns: Vec<Vuln>,
}

/// The vulnerability review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VulnReport {
    /// `trivy-operator` or `none`.
    pub source: String,
    /// One plain line on what was available.
    pub line: String,
    /// Per image.
    pub images: Vec<ImageVulns>,
    /// The last `vulnerability-scan` Job: when it finished and whether it passed.
    pub scan_job: Option<(String, bool)>,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// One report, or why it does not read.
pub fn image_of(r: &Value, now: DateTime<Utc>) -> Result<ImageVulns, String> {
    let rep = r.get("report").ok_or("no `report`")?;
    let art = &rep["artifact"];
    let repo = s(&art["repository"]);
    if repo.is_empty() {
        return Err("report.artifact.repository is missing".into());
    }
    let server = s(&rep["registry"]["server"]);
    let tag = s(&art["tag"]);
    let image = match (server.as_str(), tag.as_str()) {
        ("", "") => repo.clone(),
        ("", t) => format!("{repo}:{t}"),
        (srv, "") => format!("{srv}/{repo}"),
        (srv, t) => format!("{srv}/{repo}:{t}"),
    };
    let labels = &r["metadata"]["labels"];
    let workload = format!(
        "{} {} / {}",
        s(&labels["trivy-operator.resource.kind"]),
        s(&labels["trivy-operator.resource.name"]),
        s(&labels["trivy-operator.container.name"])
    );
    let mut vulns: Vec<Vuln> = rep["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| matches!(v["severity"].as_str(), Some("CRITICAL" | "HIGH")))
        .map(|v| Vuln {
            id: s(&v["vulnerabilityID"]),
            severity: s(&v["severity"]),
            package: s(&v["resource"]),
            installed: s(&v["installedVersion"]),
            fixed: s(&v["fixedVersion"]),
        })
        .collect();
    vulns.sort();
    vulns.dedup();
    let count = |sev: &str, summary: &str| {
        let listed = vulns.iter().filter(|v| v.severity == sev).count() as u32;
        rep["summary"][summary].as_u64().map_or(listed, |n| (n as u32).max(listed))
    };
    let updated = r["report"]["updateTimestamp"]
        .as_str()
        .or(r["metadata"]["creationTimestamp"].as_str())
        .unwrap_or_default()
        .to_string();
    let age_days = DateTime::parse_from_rfc3339(&updated)
        .ok()
        .map(|t| (now - t.with_timezone(&Utc)).num_minutes() as f64 / 1440.0);
    Ok(ImageVulns {
        critical: count("CRITICAL", "criticalCount"),
        high: count("HIGH", "highCount"),
        fixable: vulns.iter().filter(|v| !v.fixed.is_empty()).count() as u32,
        image,
        workload,
        updated,
        age_days,
        vulns,
    })
}

/// Builds the vulnerability report and its findings.
pub fn analyse(i: &Inputs, findings: &mut Vec<Finding>, unread: &mut Vec<Unread>) -> VulnReport {
    let scan_job = i.jobs.as_ref().ok().and_then(|j| backup::last_run(j, "vulnerability-scan"));
    let mut out =
        VulnReport { source: "none".into(), line: String::new(), images: Vec::new(), scan_job: scan_job.clone() };
    let mut miss =
        |what: &str, why: String| unread.push(Unread { area: ReviewArea::Vulnerabilities, what: what.into(), why });
    let jobs_read = i.jobs.is_ok();
    let job_line = match &scan_job {
        Some((at, ok)) => {
            format!("the last vulnerability-scan Job finished {at} and {}", if *ok { "succeeded" } else { "failed" })
        }
        None if jobs_read => "no vulnerability-scan Job on record".into(),
        None => "the vulnerability-scan Job's runs could not be read".into(),
    };
    match &i.scanner {
        Scanner::NotInstalled => {
            out.line = format!("No scanner reports are available: the Trivy Operator (VulnerabilityReports) is not installed; {job_line}.");
            miss("image vulnerability reports", out.line.clone());
        }
        Scanner::Reports { version, .. } if version != TRIVY_VERSION => {
            out.line =
                format!("VulnerabilityReports are served at {version}; this app reads {TRIVY_VERSION}. {job_line}.");
            miss("VulnerabilityReports", out.line.clone());
        }
        Scanner::Reports { reports: Err(why), .. } => {
            out.line = format!("VulnerabilityReports could not be listed: {why}; {job_line}.");
            miss("VulnerabilityReports", why.clone());
        }
        Scanner::Reports { reports: Ok(list), .. } => {
            out.source = "trivy-operator".into();
            for r in list {
                match image_of(r, i.now) {
                    Ok(img) => out.images.push(img),
                    Err(why) => miss(&format!("VulnerabilityReport {}", s(&r["metadata"]["name"])), why),
                }
            }
            out.images.sort_by(|a, b| (b.critical, b.high, &a.image).cmp(&(a.critical, a.high, &b.image)));
            out.line = format!("{} image report(s) from the Trivy Operator; {job_line}.", out.images.len());
            if list.is_empty() {
                out.line =
                    format!("The Trivy Operator is installed but has no reports in {}; {job_line}.", i.namespace);
                miss("image vulnerability reports", out.line.clone());
            }
        }
    }
    if let Some((at, false)) = &scan_job {
        findings.push(Finding {
            key: "vuln:scan-job-failed".into(),
            area: ReviewArea::Vulnerabilities,
            severity: FindingSeverity::Warning,
            title: "the last vulnerability-scan Job failed".into(),
            evidence: format!("finished {at}"),
        });
    }
    for img in &out.images {
        let fixable_crit = img.vulns.iter().filter(|v| v.severity == "CRITICAL" && !v.fixed.is_empty()).count();
        if img.critical > 0 {
            findings.push(Finding {
                key: format!("vuln:critical:{}", img.image),
                area: ReviewArea::Vulnerabilities,
                severity: FindingSeverity::Critical,
                title: format!("{}: {} critical ({fixable_crit} with a fix)", img.image, img.critical),
                evidence: img
                    .vulns
                    .iter()
                    .filter(|v| v.severity == "CRITICAL")
                    .map(|v| {
                        if v.fixed.is_empty() {
                            format!("{} in {} {}", v.id, v.package, v.installed)
                        } else {
                            format!("{} in {} {} → {}", v.id, v.package, v.installed, v.fixed)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        } else if img.high > 0 {
            findings.push(Finding {
                key: format!("vuln:high:{}", img.image),
                area: ReviewArea::Vulnerabilities,
                severity: FindingSeverity::Warning,
                title: format!("{}: {} high ({} with a fix)", img.image, img.high, img.fixable),
                evidence: img
                    .vulns
                    .iter()
                    .take(10)
                    .map(|v| format!("{} in {}", v.id, v.package))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        if img.age_days.is_some_and(|d| d > 7.0) {
            findings.push(Finding {
                key: format!("vuln:stale:{}", img.image),
                area: ReviewArea::Vulnerabilities,
                severity: FindingSeverity::Info,
                title: format!("the report on {} is {:.0} days old", img.image, img.age_days.unwrap_or_default()),
                evidence: format!("updated {}", img.updated),
            });
        }
    }
    out
}
