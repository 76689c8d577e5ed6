//! Several clusters at once, as pure logic over what the cluster layer reads: each
//! cluster's HSOF objects as flat, comparable facts ([`Objects`]), the difference between
//! any two ([`diff`]), a cluster's drift from the primary ([`drift`]: image, replicas,
//! resources, `hsof-config` keys), and the fleet's rows judged on one scale ([`FleetRow`],
//! [`worst`]). Nothing here does I/O; an area that could not be read is carried as such,
//! so a comparison never reports "the same" for what it did not see.

pub mod drill;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One area of a cluster's HSOF objects (`deployment`, `configmap`, `services`, `hpa`,
/// `pdb`, `networkpolicies`, `teamstore`, `backup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Area {
    /// Read: each fact as `key → value` (e.g. `image[hsof]` → `hsof/hsof:1.5.0`).
    Read {
        /// The facts.
        values: BTreeMap<String, String>,
    },
    /// The object the area is about does not exist (a DR cluster without HSOF).
    Missing,
    /// It could not be read, and why (forbidden, unreachable, not served).
    Unreadable {
        /// Why.
        why: String,
    },
}

impl Area {
    /// A read area from `(key, value)` pairs.
    pub fn read<K: Into<String>, V: Into<String>>(values: impl IntoIterator<Item = (K, V)>) -> Self {
        Self::Read { values: values.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    fn describe(&self) -> String {
        match self {
            Self::Read { .. } => "read".into(),
            Self::Missing => "not there".into(),
            Self::Unreadable { why } => format!("not readable: {why}"),
        }
    }
}

/// One cluster's HSOF objects, by area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Objects {
    /// Area name → what was read.
    pub areas: BTreeMap<String, Area>,
}

impl Objects {
    /// Sets `area`.
    pub fn with(mut self, area: &str, value: Area) -> Self {
        self.areas.insert(area.to_string(), value);
        self
    }

    /// One fact, when its area was read.
    pub fn get(&self, area: &str, key: &str) -> Option<&str> {
        match self.areas.get(area) {
            Some(Area::Read { values }) => values.get(key).map(String::as_str),
            _ => None,
        }
    }
}

/// One fact that differs: its value on each side (`None`: not there on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Difference {
    /// Area (`deployment`, `configmap`, …).
    pub area: String,
    /// Fact within it; `*` for the whole area (present on one side only).
    pub key: String,
    /// On the first cluster.
    pub a: Option<String>,
    /// On the second.
    pub b: Option<String>,
}

/// What comparing two clusters found: what differs, and what could not be compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Comparison {
    /// Facts that differ, by area then key.
    pub differences: Vec<Difference>,
    /// Areas that could not be compared, each with why (`deployment: not readable on dr-us: forbidden`).
    pub unknown: Vec<String>,
}

impl Comparison {
    /// True only when everything was compared and nothing differs.
    pub fn is_same(&self) -> bool {
        self.differences.is_empty() && self.unknown.is_empty()
    }

    /// A readable diff: one line per difference, `-` the first cluster, `+` the second.
    pub fn render(&self, a: &str, b: &str) -> String {
        let mut out = String::new();
        if self.is_same() {
            out.push_str(&format!("{a} and {b}: no difference in what both clusters showed\n"));
            return out;
        }
        let mut area = "";
        for d in &self.differences {
            if d.area != area {
                area = &d.area;
                out.push_str(&format!("{area}\n"));
            }
            let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            out.push_str(&format!("  {}\n    - {a}: {}\n    + {b}: {}\n", d.key, side(&d.a), side(&d.b)));
        }
        for u in &self.unknown {
            out.push_str(&format!("not compared: {u}\n"));
        }
        out
    }
}

/// Every difference between `a` and `b` (named `a_name`, `b_name` in what could not be
/// compared), area by area.
pub fn diff(a: &Objects, a_name: &str, b: &Objects, b_name: &str) -> Comparison {
    compare(a, a_name, b, b_name, None, &|_, _| true)
}

/// Facts that make up drift from the primary: the images, the replica count and the
/// containers' resources of the Deployment, and every `hsof-config` key.
pub fn is_drift_fact(area: &str, key: &str) -> bool {
    match area {
        "deployment" => key.starts_with("image[") || key == "replicas" || key.starts_with("resources["),
        "configmap" => true,
        _ => false,
    }
}

/// How `other` drifts from `primary` ([`is_drift_fact`]).
pub fn drift(primary: &Objects, primary_name: &str, other: &Objects, other_name: &str) -> Comparison {
    compare(primary, primary_name, other, other_name, Some(&DRIFT_AREAS), &is_drift_fact)
}

/// The areas drift looks at.
pub const DRIFT_AREAS: [&str; 2] = ["deployment", "configmap"];

fn compare(
    a: &Objects,
    a_name: &str,
    b: &Objects,
    b_name: &str,
    only: Option<&[&str]>,
    keep: &dyn Fn(&str, &str) -> bool,
) -> Comparison {
    let mut out = Comparison::default();
    let areas: BTreeSet<&String> = a.areas.keys().chain(b.areas.keys()).collect();
    for area in areas {
        if only.is_some_and(|o| !o.contains(&area.as_str())) {
            continue;
        }
        let (x, y) = (a.areas.get(area), b.areas.get(area));
        match (x, y) {
            (Some(Area::Read { values: va }), Some(Area::Read { values: vb })) => {
                let keys: BTreeSet<&String> = va.keys().chain(vb.keys()).collect();
                for key in keys.into_iter().filter(|k| keep(area, k)) {
                    let (l, r) = (va.get(key), vb.get(key));
                    if l != r {
                        out.differences.push(Difference {
                            area: area.clone(),
                            key: key.clone(),
                            a: l.cloned(),
                            b: r.cloned(),
                        });
                    }
                }
            }
            (Some(Area::Missing), Some(Area::Missing)) => {}
            (Some(Area::Unreadable { why }), _) => out.unknown.push(format!("{area}: not readable on {a_name}: {why}")),
            (_, Some(Area::Unreadable { why })) => out.unknown.push(format!("{area}: not readable on {b_name}: {why}")),
            (None, _) => out.unknown.push(format!("{area}: not read on {a_name}")),
            (_, None) => out.unknown.push(format!("{area}: not read on {b_name}")),
            (Some(l), Some(r)) => out.differences.push(Difference {
                area: area.clone(),
                key: "*".into(),
                a: Some(l.describe()),
                b: Some(r.describe()),
            }),
        }
    }
    out
}

/// One scale for every cluster's state, as the header pill and the tray show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum RowLevel {
    /// Healthy, no alert, in budget, no drift.
    Ok,
    /// Not known (health not configured or not answering, nothing stale to show).
    Unknown,
    /// Needs a look: a warning, drift from the primary, values that are stale.
    Warning,
    /// Unreachable, critical health, a critical alert or a budget spent.
    Critical,
}

/// Firing alerts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AlertCounts {
    /// `severity=critical`.
    pub critical: u32,
    /// `severity=warning`.
    pub warning: u32,
    /// Anything else.
    pub other: u32,
}

/// One SLO's error budget left, as a share (negative: overspent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Budget {
    /// The SLO (`availability`, `latency`, `throughput`, `quality`).
    pub slo: String,
    /// Budget left over the window, 1 = untouched; none when not computable.
    pub left: Option<f64>,
}

/// One cluster on the fleet screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetRow {
    /// Its name in the configuration.
    pub name: String,
    /// `primary`, `dr` or `staging`.
    pub role: String,
    /// The kubeconfig context.
    pub context: String,
    /// Whether its API server answered this time.
    pub reachable: bool,
    /// Why not, or what else failed (one line each).
    pub problems: Vec<String>,
    /// HSOF's overall health (`HEALTHY`, `WARNING`, `CRITICAL`), when its health answered.
    pub health: Option<String>,
    /// The four SLOs' budget left.
    pub budgets: Vec<Budget>,
    /// Firing alerts; none when AlertManager could not be read (never a zero for what was not seen).
    pub alerts: Option<AlertCounts>,
    /// The HSOF image tag the Deployment runs.
    pub version: Option<String>,
    /// Replicas ready / desired.
    #[specta(type = Option<f64>)]
    pub replicas_ready: Option<i64>,
    /// Desired replicas.
    #[specta(type = Option<f64>)]
    pub replicas_desired: Option<i64>,
    /// GPUs the nodes can allocate, and GPUs requested by pods on them.
    #[specta(type = Option<f64>)]
    pub gpu_capacity: Option<i64>,
    /// GPUs requested.
    #[specta(type = Option<f64>)]
    pub gpu_allocated: Option<i64>,
    /// The backup CronJob's last successful run (RFC 3339).
    pub last_backup: Option<String>,
    /// Its age in seconds when read.
    #[specta(type = Option<f64>)]
    pub backup_age_secs: Option<i64>,
    /// Drift from the primary (none for the primary itself or when there is none to compare with).
    pub drift: Option<Comparison>,
    /// When these values were read (RFC 3339).
    pub fetched_at: String,
    /// True when the cluster could not be read now and these are its last known values.
    pub stale: bool,
    /// A DR cluster kept at zero replicas (a cold standby): its HSOF not answering and its
    /// replica count differing from the primary's are what it is for, not findings.
    pub standby: bool,
    /// The verdict.
    pub level: RowLevel,
}

impl FleetRow {
    /// The verdict from the row's facts: unreachable (its last known values shown stale or
    /// not), critical health, a critical alert or an overspent budget is critical; a
    /// warning, drift, a backup older than `backup_max_age_secs` or a source that could
    /// not be read (a problem) a warning; no health at all unknown, except for a DR
    /// standby scaled to zero, whose HSOF is not meant to answer.
    pub fn judge(&self, backup_max_age_secs: i64) -> RowLevel {
        let critical = !self.reachable
            || self.health.as_deref() == Some("CRITICAL")
            || self.alerts.is_some_and(|a| a.critical > 0)
            || self.budgets.iter().any(|b| b.left.is_some_and(|l| l < 0.0));
        if critical {
            return RowLevel::Critical;
        }
        let warning = self.stale
            || self.health.as_deref() == Some("WARNING")
            || self.alerts.is_some_and(|a| a.warning > 0)
            || !self.problems.is_empty()
            || self.drift.as_ref().is_some_and(|d| !d.differences.is_empty())
            || self.backup_age_secs.is_some_and(|a| a > backup_max_age_secs)
            || self.replicas_ready.zip(self.replicas_desired).is_some_and(|(r, d)| r < d);
        if warning {
            return RowLevel::Warning;
        }
        if self.health.is_none() && !self.standby {
            return RowLevel::Unknown;
        }
        RowLevel::Ok
    }
}

/// The worst state of all clusters (the header pill and the tray); unknown for none.
pub fn worst(rows: &[FleetRow]) -> RowLevel {
    rows.iter().map(|r| r.level).max().unwrap_or(RowLevel::Unknown)
}

/// Two clusters of the same name in a list of names (the configuration's validation
/// refuses them; a fleet read from elsewhere is checked again).
pub fn duplicate_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    let mut dup = BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            dup.insert(n);
        }
    }
    dup.into_iter().collect()
}

#[cfg(test)]
mod tests;
