//! Friday maintenance and the monthly technology updates, composed: versions and removed
//! APIs ([`AppContext::updates`]), the images running and the fixable vulnerabilities the
//! last security review found, and the leftovers with their cleanup
//! ([`AppContext::cleanup`]): each deletion a change like any other (read-only mode, RBAC,
//! server-side dry run first, audited), a failure half-way naming what was deleted and
//! what was not.

use chrono::{DateTime, Utc};
use hsof_upkeep::apis::RemovedApi;
use hsof_upkeep::leftovers::LeftoverReport;
use hsof_upkeep::versions::VersionReport;
use serde::{Deserialize, Serialize};

use crate::cluster::ChangeRequest;

mod images;
use crate::{AppContext, Error};
pub use images::ImageUpdate;

/// One image and what the last security review knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImagePatch {
    /// The image.
    pub image: String,
    /// Critical and high findings with a fixed version.
    pub fixable: u32,
    /// `CVE-… in openssl 3.0.1 → 3.0.2`, the critical ones first.
    pub fixes: Vec<String>,
}

/// What `hsofctl updates` and the Maintenance screen show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UpdatesView {
    /// The cluster.
    pub cluster: String,
    /// Kubernetes versions.
    pub versions: VersionReport,
    /// Objects at API versions the next minor release (or an earlier one) removes.
    pub removed_apis: Vec<RemovedApi>,
    /// Where the removed-API table comes from.
    pub removed_apis_source: String,
    /// Kinds whose objects could not be read for the removed-API check.
    pub removed_apis_unread: Vec<String>,
    /// Images running now, with how many pods run each.
    pub images: Vec<(String, u32)>,
    /// Images with fixable critical or high findings (from the last security review).
    pub patches: Vec<ImagePatch>,
    /// Where `patches` come from: the review and its age, or why there are none.
    pub patches_source: String,
    /// Each running image against its registry.
    pub registry: Vec<ImageUpdate>,
    /// What the registry check could not read (pull secrets, pods).
    pub registry_problems: Vec<String>,
    /// When read (RFC 3339).
    pub generated_at: String,
}

/// One deletion of a cleanup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CleanupStep {
    /// `job/old`.
    pub target: String,
    /// `would be deleted`, `deleted`, `already gone`, or the error.
    pub outcome: String,
    /// Whether it went as asked.
    pub ok: bool,
}

/// What a cleanup did (or would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CleanupView {
    /// The leftovers (and what is kept, and what was not read).
    pub report: LeftoverReport,
    /// Dry run (nothing deleted) or for real.
    pub dry_run: bool,
    /// Each deletion, in order.
    pub steps: Vec<CleanupStep>,
    /// When (RFC 3339).
    pub generated_at: String,
}

use crate::monitoring::rfc3339;

impl AppContext {
    /// Versions, removed APIs, images and fixable vulnerabilities of this view's cluster.
    pub async fn updates(&self, now: DateTime<Utc>) -> Result<UpdatesView, Error> {
        let cfg = self.config().config;
        let cluster = self.cluster().await?;
        let (api, nodes, (written, unread), running) = futures_util::join!(
            cluster.server_version(),
            cluster.kubelet_versions(),
            cluster.written_objects(),
            cluster.running_images(),
        );
        let server_minor = api.as_ref().ok().and_then(|v| hsof_upkeep::versions::minor_of(v)).map(|m| m.1);
        let versions = hsof_upkeep::versions::review(
            api.map_err(|e| e.to_string()),
            nodes.map_err(|e| e.to_string()),
            &cfg.upkeep.end_of_support_table(),
            now.date_naive(),
        );
        let mut removed_apis_unread = unread;
        let removed_apis = match server_minor {
            Some(m) => hsof_upkeep::apis::removed(&written, m),
            None => {
                removed_apis_unread
                    .push("the API server's version is not known, so neither is the next release".into());
                Vec::new()
            }
        };
        // One read of the pods serves both the image list and the registry check.
        let mut images: Vec<(String, u32)> =
            running.as_deref().unwrap_or_default().iter().map(|r| (r.image.clone(), r.containers)).collect();
        images.sort();
        let (patches, patches_source) = match self.security_reviews(1)?.into_iter().next() {
            None => (Vec::new(), "no security review of this cluster yet (hsofctl review security)".to_string()),
            Some(r) => {
                let v = &r.report.vulnerabilities;
                let list = v
                    .images
                    .iter()
                    .filter(|i| i.fixable > 0)
                    .map(|i| ImagePatch {
                        image: i.image.clone(),
                        fixable: i.fixable,
                        fixes: i
                            .vulns
                            .iter()
                            .filter(|x| !x.fixed.is_empty())
                            .map(|x| {
                                format!(
                                    "{} ({}) in {} {} → {}",
                                    x.id,
                                    x.severity.to_lowercase(),
                                    x.package,
                                    x.installed,
                                    x.fixed
                                )
                            })
                            .collect(),
                    })
                    .collect();
                (list, format!("security review #{} of {} ({}): {}", r.id, r.cluster, r.report.at, v.line))
            }
        };
        let (registry, registry_problems) = match &running {
            Ok(r) => self.image_updates(&cluster, r).await,
            Err(e) => (Vec::new(), vec![format!("the images could not be read: {e}")]),
        };
        Ok(UpdatesView {
            registry,
            registry_problems,
            cluster: self.current_cluster().name.clone(),
            versions,
            removed_apis,
            removed_apis_source: hsof_upkeep::apis::SOURCE.into(),
            removed_apis_unread,
            images,
            patches,
            patches_source,
            generated_at: rfc3339(now),
        })
    }

    /// The leftovers of this view's namespace.
    pub async fn leftovers(&self, now: DateTime<Utc>) -> Result<LeftoverReport, Error> {
        let cfg = self.config().config;
        let cluster = self.cluster().await?;
        let inputs = cluster
            .leftover_inputs(
                &cfg.cluster.configmap,
                cfg.upkeep.finished_job_days,
                cfg.upkeep.storage_price_per_gib_month,
                now,
            )
            .await;
        Ok(hsof_upkeep::leftovers::review(&inputs))
    }

    /// Deletes the leftovers (only those named in `only`, when given): each a server-side
    /// dry run with `dry_run`, else a change (read-only mode and RBAC checked first,
    /// audited). A deletion that fails stops nothing: every outcome is in the steps.
    pub async fn cleanup(
        &self,
        only: &[String],
        dry_run: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CleanupView, Error> {
        let report = self.leftovers(now).await?;
        let chosen: Vec<(String, String)> = report
            .leftovers
            .iter()
            .map(|l| (l.kind.clone(), l.name.clone()))
            .filter(|(k, n)| only.is_empty() || only.contains(&format!("{k}/{n}")))
            .collect();
        for o in only {
            if !chosen.iter().any(|(k, n)| format!("{k}/{n}") == *o) {
                return Err(Error::InvalidInput(format!("{o} is not a leftover now (see hsofctl cleanup --dry-run)")));
            }
        }
        let mut steps = Vec::new();
        for (kind, name) in chosen {
            let request = ChangeRequest::Delete { object_kind: kind.clone(), name: name.clone() };
            let target = format!("{kind}/{name}");
            match self.change(&request, dry_run, actor, now).await {
                Ok(o) => steps.push(CleanupStep {
                    target,
                    outcome: if o.before == "(absent)" {
                        "already gone".into()
                    } else if dry_run {
                        "would be deleted".into()
                    } else {
                        "deleted".into()
                    },
                    ok: true,
                }),
                Err(e) => steps.push(CleanupStep { target, outcome: format!("not deleted: {e}"), ok: false }),
            }
        }
        Ok(CleanupView { report, dry_run, steps, generated_at: rfc3339(now) })
    }
}

impl UpdatesView {
    /// A calendar step's verdict and evidence: `versions` (versions, skew, end of support
    /// and removed APIs) or `patches` (fixable vulnerabilities).
    pub fn step(&self, part: &str) -> (&'static str, String) {
        if part == "images" {
            let mut lines = Vec::new();
            let mut verdict = "pass";
            for u in &self.registry {
                match &u.error {
                    Some(e) => {
                        verdict = if verdict == "pass" { "unknown" } else { verdict };
                        lines.push(format!("{}: not read: {e}", u.image));
                    }
                    None => {
                        let mut l = format!(
                            "{}: newest release {}",
                            u.image,
                            u.newest.clone().unwrap_or_else(|| "none (no version tags)".into())
                        );
                        if let Some(c) = &u.newest_created {
                            l.push_str(&format!(" built {c}"));
                        }
                        if let Some(c) = &u.running_created {
                            l.push_str(&format!("; running tag built {c}"));
                        }
                        if u.newer {
                            verdict = "warn";
                            l.push_str(" — a newer release is out");
                        }
                        if u.moved {
                            verdict = "warn";
                            l.push_str(&format!(
                                " — the tag moved: runs {} but points at {}",
                                u.running_digest.clone().unwrap_or_default(),
                                u.tag_digest.clone().unwrap_or_default()
                            ));
                        }
                        lines.push(l);
                    }
                }
            }
            lines.extend(self.registry_problems.iter().map(|p| format!("[not read] {p}")));
            if self.registry.is_empty() {
                lines.push("no image running".into());
            }
            return (verdict, lines.join("\n"));
        }
        if part == "patches" {
            let mut lines = vec![self.patches_source.clone()];
            for p in &self.patches {
                let newer = self.registry.iter().find(|u| {
                    p.image.ends_with(u.image.as_str())
                        || u.image.ends_with(p.image.rsplit_once('/').map_or(p.image.as_str(), |x| x.1))
                });
                let hint = match newer.and_then(|u| u.newer.then(|| u.newest.clone()).flatten()) {
                    Some(n) => format!(" — release {n} is out (rescan it to confirm it carries the fixes)"),
                    None => String::new(),
                };
                lines.push(format!("{}: {} fixable critical/high — {}{hint}", p.image, p.fixable, p.fixes.join("; ")));
            }
            let verdict = if self.patches_source.starts_with("no security review") {
                "unknown"
            } else if self.patches.is_empty() {
                "pass"
            } else {
                "warn"
            };
            return (verdict, lines.join("\n"));
        }
        let mut lines: Vec<String> = self
            .versions
            .components
            .iter()
            .map(|c| format!("{} {}: {} — {}", c.name, c.version, c.verdict, c.note))
            .collect();
        lines.extend(self.versions.unread.iter().map(|u| format!("[not read] {u}")));
        for r in &self.removed_apis {
            lines.push(format!(
                "{} written at {} by {}: removed in {}{} — use {}",
                r.object,
                r.api_version,
                r.by,
                r.removed_in,
                if r.already_removed { " (already gone from this release)" } else { "" },
                r.replacement
            ));
        }
        lines.extend(self.removed_apis_unread.iter().map(|u| format!("[not read] removed APIs: {u}")));
        if self.removed_apis.is_empty() && self.removed_apis_unread.is_empty() {
            lines.push(format!(
                "no object written at an API version the next release removes ({})",
                self.removed_apis_source
            ));
        }
        let worst = self.versions.components.iter().map(|c| c.verdict.as_str()).fold("pass", |w, v| match (w, v) {
            ("fail", _) | (_, "fail") => "fail",
            ("warn", _) | (_, "warn") => "warn",
            ("unknown", _) | (_, "unknown") => "unknown",
            _ => "pass",
        });
        let verdict = if !self.removed_apis.is_empty() && worst == "pass" { "warn" } else { worst };
        let verdict = if verdict == "pass" && (!self.versions.unread.is_empty() || !self.removed_apis_unread.is_empty())
        {
            "unknown"
        } else {
            verdict
        };
        (verdict, lines.join("\n"))
    }
}

/// The leftovers as a calendar step's verdict and evidence (nothing is deleted by a step).
pub fn leftovers_step(r: &LeftoverReport) -> (&'static str, String) {
    let mut lines: Vec<String> = r.leftovers.iter().map(|l| format!("{}/{}: {}", l.kind, l.name, l.why)).collect();
    lines.extend(r.kept.iter().map(|k| format!("kept {}/{}: {}", k.kind, k.name, k.why)));
    lines.extend(r.unread.iter().map(|u| format!("[not read] {u}")));
    if r.leftovers.is_empty() {
        lines.insert(0, "nothing left over".into());
    } else {
        lines.insert(
            0,
            format!(
                "{} leftover(s): review and delete with hsofctl cleanup (or the Maintenance screen)",
                r.leftovers.len()
            ),
        );
    }
    let verdict = if !r.unread.is_empty() {
        "unknown"
    } else if r.leftovers.is_empty() {
        "pass"
    } else {
        "warn"
    };
    (verdict, lines.join("\n"))
}
