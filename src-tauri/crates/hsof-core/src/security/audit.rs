//! The monthly assessment's *Check audit log completeness*: the app's audit chain verified
//! (hash chain and the local anchor), its head kept in the review record — which the team
//! store shares, so the anchor is not only on this desktop — and checked against the
//! heads earlier reviews recorded, and every change the app made to HSOF's objects since
//! the last review (the API server's `managedFields` entry of the app's field manager)
//! matched to an audit row.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ReviewRecord;
use crate::AppContext;

/// The audit chain's head as a review recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AnchorMark {
    /// Which desktop's trail (a digest of its store file's path and host).
    pub trail: String,
    /// The head row's id.
    #[specta(type = f64)]
    pub id: i64,
    /// Its hash.
    pub hash: String,
}

/// The audit-completeness check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AuditCompleteness {
    /// Rows verified.
    pub rows: u32,
    /// Whether the chain (and the local anchor) hold.
    pub intact: bool,
    /// Why not.
    pub reason: Option<String>,
    /// The head now, kept with this review.
    pub anchor: Option<AnchorMark>,
    /// Where that anchor is kept besides this desktop.
    pub anchor_home: String,
    /// Earlier reviews' anchors of this trail checked.
    pub earlier_anchors: u32,
    /// Earlier anchors the trail no longer matches.
    pub anchor_mismatches: Vec<String>,
    /// The period the changes were looked at from (RFC 3339).
    pub period_from: String,
    /// Objects the app wrote in the period (by the API server's record).
    pub app_changes: u32,
    /// Of those, with a matching audit row.
    pub matched: u32,
    /// Writes with no audit row.
    pub unmatched: Vec<String>,
    /// Why the app's writes could not be seen, if so.
    pub changes_unseen: Option<String>,
}

impl AuditCompleteness {
    /// `fail` for a broken chain, a moved anchor or a change without its row; `unknown`
    /// when the app's writes could not be read; else `pass`.
    pub fn verdict(&self) -> &'static str {
        if !self.intact || !self.anchor_mismatches.is_empty() || !self.unmatched.is_empty() {
            "fail"
        } else if self.changes_unseen.is_some() {
            "unknown"
        } else {
            "pass"
        }
    }

    /// Plain lines for the calendar step.
    pub fn evidence(&self) -> String {
        let mut out = vec![if self.intact {
            format!("audit chain intact: {} row(s) verified", self.rows)
        } else {
            format!("audit chain BROKEN: {}", self.reason.clone().unwrap_or_default())
        }];
        if let Some(a) = &self.anchor {
            out.push(format!(
                "head row {} ({}…) kept with this review; {}",
                a.id,
                &a.hash[..a.hash.len().min(12)],
                self.anchor_home
            ));
        }
        out.push(format!("{} earlier anchor(s) checked", self.earlier_anchors));
        out.extend(self.anchor_mismatches.iter().map(|m| format!("MISMATCH: {m}")));
        match &self.changes_unseen {
            Some(why) => out.push(format!("[not read] the app's writes since {}: {why}", self.period_from)),
            None => out.push(format!(
                "{} of {} write(s) by the app since {} matched to an audit row",
                self.matched, self.app_changes, self.period_from
            )),
        }
        out.extend(self.unmatched.iter().map(|u| format!("NO AUDIT ROW: {u}")));
        out.join("\n")
    }
}

impl AppContext {
    /// This desktop's trail name.
    fn audit_trail(&self) -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let key = format!("{}\n{}", self.paths().store_file().display(), host.trim());
        hex::encode(&Sha256::digest(key.as_bytes())[..6])
    }

    pub(super) async fn audit_completeness(
        &self,
        cluster: &hsof_cluster::Cluster,
        previous: Option<&ReviewRecord>,
        now: DateTime<Utc>,
    ) -> AuditCompleteness {
        let trail = self.audit_trail();
        let period_start = previous
            .and_then(|p| DateTime::parse_from_rfc3339(&p.report.at).ok())
            .map_or(now - Duration::days(31), |t| t.with_timezone(&Utc));
        let mut out = AuditCompleteness {
            rows: 0,
            intact: false,
            reason: None,
            anchor: None,
            anchor_home: String::new(),
            earlier_anchors: 0,
            anchor_mismatches: Vec::new(),
            period_from: period_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            app_changes: 0,
            matched: 0,
            unmatched: Vec::new(),
            changes_unseen: None,
        };
        match self.audit_verify() {
            Ok(v) => {
                out.rows = v.rows;
                out.intact = v.intact;
                out.reason = v.reason;
            }
            Err(e) => out.reason = Some(format!("the audit trail could not be read: {e}")),
        }
        let Ok(store) = self.store() else { return out };
        if let Ok(Some((id, hash))) = store.audit_head() {
            out.anchor = Some(AnchorMark { trail: trail.clone(), id, hash });
        }
        out.anchor_home = match hsof_team::status(cluster).await {
            Ok(s) if s.installed && s.serves("SecurityReview") && store.team_enabled().unwrap_or(false) => {
                "shared through the team store with the review".into()
            }
            Ok(s) if s.installed && s.serves("SecurityReview") => {
                "only on this desktop: team sharing is off on this desktop".into()
            }
            Ok(s) if s.installed => format!(
                "only on this desktop: the team store has no securityreviews (`{}` adds them)",
                hsof_team::INSTALL_HINT
            ),
            _ => "only on this desktop: the team store is not installed".into(),
        };
        // Earlier anchors of this trail, from every review kept (mirrored ones included).
        for r in store.security_reviews("", 200).unwrap_or_default() {
            let Ok(rec) = super::from_row(r) else { continue };
            let Some(a) = rec.audit.and_then(|a| a.anchor).filter(|a| a.trail == trail) else { continue };
            out.earlier_anchors += 1;
            match store.audit_hash(a.id) {
                Ok(Some(h)) if h == a.hash => {}
                Ok(Some(_)) => out
                    .anchor_mismatches
                    .push(format!("row {} is not the row review {} recorded: the trail was rewritten", a.id, rec.uid)),
                Ok(None) => out
                    .anchor_mismatches
                    .push(format!("row {} that review {} recorded is gone: the trail was cut", a.id, rec.uid)),
                Err(e) => out.anchor_mismatches.push(format!("row {} could not be read: {e}", a.id)),
            }
        }
        let cfg = self.config().config;
        let objects = [("deployment", cfg.cluster.deployment.as_str()), ("configmap", cfg.cluster.configmap.as_str())];
        match cluster.app_writes(&objects, hsof_cluster::FIELD_MANAGER).await {
            Err(e) => out.changes_unseen = Some(e.to_string()),
            Ok(writes) => {
                let rows = store.list_audit(5000).unwrap_or_default();
                // managedFields times have whole seconds: a write in the second the last review
                // ran counts in this period too.
                let from = period_start - Duration::seconds(1);
                for (object, at) in writes.into_iter().filter(|(_, at)| *at >= from) {
                    out.app_changes += 1;
                    let matched = rows.iter().any(|r| {
                        let close = DateTime::parse_from_rfc3339(&r.ts)
                            .is_ok_and(|t| (t.with_timezone(&Utc) - at).num_seconds().abs() <= 300);
                        // The app's audit targets read `deployment/hsof-main in hsof`.
                        let same = r.target == object || r.target.starts_with(&format!("{object} "));
                        close && same && !r.result.starts_with("error")
                    });
                    if matched {
                        out.matched += 1;
                    } else {
                        out.unmatched.push(format!(
                            "{object} written by the app at {} (another desktop's change is in its own trail)",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ));
                    }
                }
            }
        }
        out
    }
}
