//! What changed between two reviews of the same namespace: subjects and grants that
//! appeared or went, pods newly uncovered by network policies (or newly covered), critical
//! vulnerabilities that appeared or were fixed, and findings new or resolved.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Finding, ReviewArea, SecurityReport};

/// The diff of two reviews.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
pub struct ReviewDiff {
    /// When the earlier review ran (RFC 3339).
    pub since: String,
    /// Subjects bound now that were not.
    pub new_subjects: Vec<String>,
    /// Subjects no longer bound.
    pub removed_subjects: Vec<String>,
    /// `ServiceAccount hsof/x: exec into pods` held now, not before.
    pub new_grants: Vec<String>,
    /// Held before, not now.
    pub removed_grants: Vec<String>,
    /// `ingress: hsof-worker` (a workload none of whose pods a policy of that direction selects).
    pub newly_uncovered: Vec<String>,
    /// Uncovered before, covered now.
    pub newly_covered: Vec<String>,
    /// `image: CVE-…` critical now, not before.
    pub new_critical: Vec<String>,
    /// Critical before, gone now.
    pub fixed: Vec<String>,
    /// Findings that are new.
    pub new_findings: Vec<Finding>,
    /// Findings that are gone.
    pub resolved_findings: Vec<Finding>,
    /// Areas not compared because one of the two reviews could not read them (a change
    /// there would otherwise look like subjects removed or findings resolved).
    #[serde(default)]
    pub not_compared: Vec<String>,
}

impl ReviewDiff {
    /// Whether nothing changed (in what both reviews read).
    pub fn is_empty(&self) -> bool {
        self.new_subjects.is_empty()
            && self.removed_subjects.is_empty()
            && self.new_grants.is_empty()
            && self.removed_grants.is_empty()
            && self.newly_uncovered.is_empty()
            && self.newly_covered.is_empty()
            && self.new_critical.is_empty()
            && self.fixed.is_empty()
            && self.new_findings.is_empty()
            && self.resolved_findings.is_empty()
    }

    /// Plain lines, for the CLI and a step's evidence.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |sign: &str, what: &str, list: &[String]| {
            for x in list {
                out.push(format!("{sign} {what}: {x}"));
            }
        };
        add("+", "subject", &self.new_subjects);
        add("-", "subject", &self.removed_subjects);
        add("+", "grant", &self.new_grants);
        add("-", "grant", &self.removed_grants);
        add("+", "uncovered", &self.newly_uncovered);
        add("-", "uncovered", &self.newly_covered);
        add("+", "critical", &self.new_critical);
        add("-", "critical (fixed)", &self.fixed);
        for f in &self.new_findings {
            out.push(format!("+ finding [{}]: {}", f.severity.word(), f.title));
        }
        for f in &self.resolved_findings {
            out.push(format!("- finding [{}]: {}", f.severity.word(), f.title));
        }
        for a in &self.not_compared {
            out.push(format!("? not compared: {a} (not read in one of the two reviews)"));
        }
        out
    }
}

/// The subjects some binding names (accounts reached only through groups are in the
/// grants, not here).
fn subjects(r: &SecurityReport) -> BTreeSet<String> {
    r.access.subjects.iter().filter(|s| !s.bindings.is_empty()).map(|s| s.subject.label()).collect()
}

fn grants(r: &SecurityReport) -> BTreeSet<String> {
    let label = |id: &str| r.access.checks.iter().find(|c| c.id == id).map_or(id.to_string(), |c| c.label.clone());
    r.access
        .subjects
        .iter()
        .flat_map(|s| s.can.iter().map(move |g| (s.subject.label(), g.check.clone())))
        .map(|(s, c)| format!("{s}: {}", label(&c)))
        .collect()
}

fn uncovered(r: &SecurityReport) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in &r.network.pods {
        if p.ingress.is_empty() {
            out.insert(format!("ingress: {}", p.group));
        }
        if p.egress.is_empty() {
            out.insert(format!("egress: {}", p.group));
        }
    }
    out
}

fn critical(r: &SecurityReport) -> BTreeSet<String> {
    r.vulnerabilities
        .images
        .iter()
        .flat_map(|i| {
            i.vulns.iter().filter(|v| v.severity == "CRITICAL").map(move |v| format!("{}: {}", i.image, v.id))
        })
        .collect()
}

fn minus(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Vec<String> {
    a.difference(b).cloned().collect()
}

/// What changed from `before` to `after`, in the areas both read.
pub fn diff(before: &SecurityReport, after: &SecurityReport) -> ReviewDiff {
    let blind = |a: ReviewArea| before.unread.iter().chain(&after.unread).any(|u| u.area == a);
    let none = BTreeSet::new;
    let pick = |a: ReviewArea, f: &dyn Fn(&SecurityReport) -> BTreeSet<String>| {
        if blind(a) {
            (none(), none())
        } else {
            (f(before), f(after))
        }
    };
    let (s0, s1) = pick(ReviewArea::Rbac, &subjects);
    let (g0, g1) = pick(ReviewArea::Rbac, &grants);
    let (u0, u1) = pick(ReviewArea::NetworkPolicies, &uncovered);
    let (c0, c1) = pick(ReviewArea::Vulnerabilities, &critical);
    let keys = |r: &SecurityReport| {
        r.findings.iter().filter(|f| !blind(f.area)).map(|f| f.key.clone()).collect::<BTreeSet<_>>()
    };
    let (k0, k1) = (keys(before), keys(after));
    let not_compared = ReviewArea::ALL.into_iter().filter(|a| blind(*a)).map(|a| a.id().to_string()).collect();
    ReviewDiff {
        since: before.at.clone(),
        new_subjects: minus(&s1, &s0),
        removed_subjects: minus(&s0, &s1),
        new_grants: minus(&g1, &g0),
        removed_grants: minus(&g0, &g1),
        newly_uncovered: minus(&u1, &u0),
        newly_covered: minus(&u0, &u1),
        new_critical: minus(&c1, &c0),
        fixed: minus(&c0, &c1),
        new_findings: after.findings.iter().filter(|f| !blind(f.area) && !k0.contains(&f.key)).cloned().collect(),
        resolved_findings: before.findings.iter().filter(|f| !blind(f.area) && !k1.contains(&f.key)).cloned().collect(),
        not_compared,
    }
}
