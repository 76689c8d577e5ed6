//! The weekly security review and the monthly assessment, composed: hsof-cluster reads,
//! hsof-review judges, this module cross-checks a sample with the API server, adds the
//! audit completeness, keeps the review in the store (and the team store), diffs it with
//! the previous review of the same cluster, and records its sign-off.

use std::time::Instant;

use chrono::{DateTime, Utc};
use hsof_review::diff::ReviewDiff;
use hsof_review::{access::CrossCheck, access::Disagreement, SecurityReport};
use serde::{Deserialize, Serialize};

use crate::{AppContext, Error};

mod audit;
mod share;
pub use audit::{AnchorMark, AuditCompleteness};

/// A review as kept: the report, the audit section (monthly), the diff with the one
/// before, who ran and who signed it off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ReviewRecord {
    /// Local id.
    #[serde(default)]
    #[specta(type = f64)]
    pub id: i64,
    /// Its name across desktops (the team store's record has it).
    pub uid: String,
    /// The cluster reviewed.
    pub cluster: String,
    /// Who ran it.
    pub by: String,
    /// Who signed it off.
    #[serde(default)]
    pub signed_off_by: Option<String>,
    /// When (RFC 3339).
    #[serde(default)]
    pub signed_off_at: Option<String>,
    /// The findings.
    pub report: SecurityReport,
    /// The monthly assessment's audit-completeness check, when it ran.
    pub audit: Option<AuditCompleteness>,
    /// What changed since `previous`.
    pub diff: Option<ReviewDiff>,
    /// The review it is compared with.
    pub previous: Option<String>,
    /// How long reading and judging took, milliseconds.
    pub took_ms: f64,
}

impl ReviewRecord {
    /// The verdict of a calendar step this review answers: an area of the report, the
    /// monthly `audit-logs`, or `findings` (the review's findings and what changed).
    pub fn step_verdict(&self, part: &str) -> (&'static str, String) {
        if part == "audit-logs" {
            return match &self.audit {
                Some(a) => (a.verdict(), a.evidence()),
                None => ("unknown", "this review did not check the audit log (run it with --audit)".into()),
            };
        }
        if part == "findings" {
            let worst = self.report.findings.iter().map(|f| f.severity).min();
            let verdict = match worst {
                Some(hsof_review::FindingSeverity::Critical) => "fail",
                Some(hsof_review::FindingSeverity::Warning) => "warn",
                _ if !self.report.unread.is_empty() => "unknown",
                _ => "pass",
            };
            let mut lines =
                vec![format!("{} finding(s), {} not read", self.report.findings.len(), self.report.unread.len())];
            match &self.diff {
                Some(d) if d.is_empty() => lines.push(format!("nothing changed since the review of {}", d.since)),
                Some(d) => {
                    lines.push(format!("since the review of {}:", d.since));
                    lines.extend(d.lines());
                }
                None => lines.push("the first review of this cluster: nothing to compare with".into()),
            }
            return (verdict, lines.join("\n"));
        }
        match hsof_review::ReviewArea::from_id(part) {
            Some(area) => (self.report.verdict(area), self.report.evidence(area)),
            None => ("unknown", format!("no review area `{part}`")),
        }
    }
}

use crate::monitoring::rfc3339;

fn from_row(row: hsof_store::ReviewRow) -> Result<ReviewRecord, Error> {
    let mut r: ReviewRecord = serde_json::from_str(&row.record)
        .map_err(|e| Error::InvalidInput(format!("security review #{} does not read: {e}", row.id)))?;
    r.id = row.id;
    r.uid = row.uid;
    if let Some((by, at)) = row.signed_off {
        r.signed_off_by = Some(by);
        r.signed_off_at = Some(at);
    }
    Ok(r)
}

impl AppContext {
    /// Reviews of this view's cluster, newest first.
    pub fn security_reviews(&self, limit: u32) -> Result<Vec<ReviewRecord>, Error> {
        let cluster = self.current_cluster().name.clone();
        self.store()?.security_reviews(&cluster, limit)?.into_iter().map(from_row).collect()
    }

    /// One review.
    pub fn security_review_get(&self, id: i64) -> Result<ReviewRecord, Error> {
        let row =
            self.store()?.security_review(id)?.ok_or_else(|| Error::NotFound(format!("no security review #{id}")))?;
        from_row(row)
    }

    /// Runs a review of this view's cluster: reads, judges, cross-checks a sample with the
    /// API server, adds the audit completeness when `audit`, diffs with review `since` (the
    /// last review of the cluster when `None`), and keeps it.
    pub async fn security_review(
        &self,
        actor: &str,
        since: Option<i64>,
        audit: bool,
        now: DateTime<Utc>,
    ) -> Result<ReviewRecord, Error> {
        let started = Instant::now();
        let cfg = self.config().config;
        let cluster = self.cluster().await?;
        let names = hsof_cluster::ReviewNames {
            deployment: &cfg.cluster.deployment,
            configmap: &cfg.cluster.configmap,
            backup_cronjob: &cfg.cluster.backup_cronjob,
            retention_target_days: cfg.security.backup_retention_days,
        };
        let inputs = cluster.security_inputs(&names, now).await;
        let mut report = hsof_review::review(&inputs);
        let check = self.cross_check(&cluster, &report, cfg.security.cross_check_sample).await;
        if !check.disagreements.is_empty() {
            report.findings.push(hsof_review::Finding {
                key: "rbac:cross-check".into(),
                area: hsof_review::ReviewArea::Rbac,
                severity: hsof_review::FindingSeverity::Warning,
                title: format!(
                    "the API server answers {} of {} question(s) otherwise than this review",
                    check.disagreements.len(),
                    check.asked
                ),
                evidence: check
                    .disagreements
                    .iter()
                    .map(|d| {
                        format!("{} {}: review {}, API server {}", d.subject, d.request, d.evaluator, d.api_server)
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        report.access.cross_check = Some(check);
        let previous = match since {
            Some(id) => {
                let p = self.security_review_get(id)?;
                if p.cluster != self.current_cluster().name {
                    return Err(Error::InvalidInput(format!(
                        "security review #{id} is of cluster {}, not {}: compare reviews of one cluster",
                        p.cluster,
                        self.current_cluster().name
                    )));
                }
                Some(p)
            }
            None => self.security_reviews(1)?.into_iter().next(),
        };
        let audit = if audit { Some(self.audit_completeness(&cluster, previous.as_ref(), now).await) } else { None };
        let cluster_name = self.current_cluster().name.clone();
        // Unique across desktops and within one process (two reviews in the same second).
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let uid =
            format!("{cluster_name}-{}-{:04x}{seq:x}", now.format("%Y%m%dt%H%M%S%3f"), std::process::id() & 0xffff);
        let mut rec = ReviewRecord {
            id: 0,
            uid,
            cluster: cluster_name.clone(),
            by: actor.to_string(),
            signed_off_by: None,
            signed_off_at: None,
            diff: previous.as_ref().map(|p| hsof_review::diff::diff(&p.report, &report)),
            previous: previous.map(|p| p.uid),
            report,
            audit,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        let json = serde_json::to_string(&rec).map_err(|e| Error::InvalidInput(format!("security review: {e}")))?;
        rec.id = self.store()?.insert_security_review(
            &rec.uid,
            &rfc3339(now),
            &cluster_name,
            &rec.report.namespace,
            actor,
            &json,
        )?;
        self.share_review(&rec);
        Ok(rec)
    }

    /// Signs a review off (the first sign-off stands; a second says who signed before).
    pub fn security_review_sign_off(&self, id: i64, actor: &str, now: DateTime<Utc>) -> Result<ReviewRecord, Error> {
        let rec = self.security_review_get(id)?;
        if let Some(by) = &rec.signed_off_by {
            return Err(Error::InvalidInput(format!(
                "security review #{id} was signed off by {by} at {}",
                rec.signed_off_at.clone().unwrap_or_default()
            )));
        }
        self.store()?.sign_off_security_review(id, actor, &rfc3339(now))?;
        let rec = self.security_review_get(id)?;
        self.share_review_sign_off(&rec);
        Ok(rec)
    }

    /// Asks the API server a sample of the evaluator's questions (SubjectAccessReviews) and
    /// names every disagreement; skipped, with why, when this identity may not ask.
    async fn cross_check(&self, cluster: &hsof_cluster::Cluster, report: &SecurityReport, n: u32) -> CrossCheck {
        let skipped = |why: String| CrossCheck { asked: 0, disagreements: Vec::new(), skipped: Some(why) };
        if n == 0 {
            return skipped("security.cross_check_sample is 0".into());
        }
        match cluster.can_i("create", "authorization.k8s.io", "subjectaccessreviews", "").await {
            Ok((true, _)) => {}
            Ok((false, _)) => return skipped("this identity may not create subjectaccessreviews".into()),
            Err(e) => {
                return skipped(format!("could not ask whether this identity may create subjectaccessreviews: {e}"))
            }
        }
        let mut out = CrossCheck { asked: 0, disagreements: Vec::new(), skipped: None };
        for (subject, request, evaluator) in report.access.sample(n as usize) {
            match cluster.subject_may(&subject.identity(), &request).await {
                Ok(api) => {
                    out.asked += 1;
                    if api != evaluator {
                        out.disagreements.push(Disagreement {
                            subject: subject.label(),
                            request: request.text(),
                            evaluator,
                            api_server: api,
                        });
                    }
                }
                Err(e) => {
                    return CrossCheck { skipped: Some(format!("stopped after {} answer(s): {e}", out.asked)), ..out }
                }
            }
        }
        out
    }
}
