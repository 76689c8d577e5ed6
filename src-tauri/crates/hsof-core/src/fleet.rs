//! The fleet: every cluster of the configuration read at once through its own view
//! ([`AppContext::on_cluster`]), one row each, drift from the primary, and the full
//! difference between any two ([`hsof_fleet`] does the comparing). A cluster that cannot
//! be read keeps its last known row, marked stale, with why.

use std::time::Instant;

use chrono::{DateTime, Utc};
use hsof_fleet::{AlertCounts, Budget, Comparison, FleetRow, Objects, RowLevel};
use serde::{Deserialize, Serialize};

use crate::{AppContext, Error};

/// What the fleet screen and `hsofctl fleet` show.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FleetView {
    /// One row per cluster, in file order.
    pub rows: Vec<FleetRow>,
    /// The cluster the window (or command) is on.
    pub current: String,
    /// The cluster drift is measured against.
    pub primary: Option<String>,
    /// The worst row.
    pub worst: RowLevel,
    /// When read (RFC 3339).
    pub generated_at: String,
    /// How long reading every cluster took, milliseconds.
    pub took_ms: f64,
}

/// Two clusters compared.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FleetDiff {
    /// The first cluster.
    pub a: String,
    /// The second.
    pub b: String,
    /// What differs and what could not be compared.
    pub comparison: Comparison,
    /// The comparison as text (`-` the first, `+` the second).
    pub text: String,
    /// When read (RFC 3339).
    pub generated_at: String,
}

/// The last good row of a cluster, as kept in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownRow {
    row: FleetRow,
    objects: Objects,
}

const ROW_KEY: &str = "fleet_row";

use crate::monitoring::rfc3339;

impl AppContext {
    /// The HSOF objects of this view's cluster, or why they could not be read.
    pub async fn hsof_objects(&self) -> Result<Objects, Error> {
        let cfg = self.config().config;
        let cluster = self.cluster().await?;
        let names = hsof_cluster::HsofNames {
            deployment: &cfg.cluster.deployment,
            configmap: &cfg.cluster.configmap,
            backup_cronjob: &cfg.cluster.backup_cronjob,
        };
        let (objects, team) = futures_util::join!(cluster.hsof_objects(&names), hsof_team::status(&cluster));
        // The team store: installed, and each kind's version (what the app reads and writes).
        let area = match team {
            Ok(t) => {
                let mut values = std::collections::BTreeMap::new();
                values.insert("installed".to_string(), t.installed.to_string());
                for k in &t.kinds {
                    values.insert(
                        format!("{}.version", k.kind),
                        k.version.clone().unwrap_or_else(|| "not installed".into()),
                    );
                }
                hsof_fleet::Area::Read { values }
            }
            Err(e) => hsof_fleet::Area::Unreadable { why: e.to_string() },
        };
        Ok(objects.with("teamstore", area))
    }

    /// This view's cluster as one fleet row (drift left for [`fleet`](Self::fleet)), with
    /// its objects; the last known row, marked stale, when its API server cannot be read.
    async fn fleet_row(&self, now: DateTime<Utc>) -> (FleetRow, Option<Objects>) {
        let me = self.current_cluster().clone();
        let cfg = self.config().config;
        let (objects, health, alerts, slo, gpus) = futures_util::join!(
            self.hsof_objects(),
            self.health_check(Utc::now),
            self.alerts(now),
            self.slo_report(now),
            self.gpu_use(),
        );
        let mut problems = Vec::new();
        // Reachable: the API server answered at least one read (an object it says is not
        // there is an answer; a client made without contacting the server is not).
        let objects = objects.and_then(|o| {
            let answered = o.areas.values().any(|a| !matches!(a, hsof_fleet::Area::Unreadable { .. }));
            match o.areas.values().find_map(|a| match a {
                hsof_fleet::Area::Unreadable { why } if !answered => Some(why.clone()),
                _ => None,
            }) {
                Some(why) => Err(Error::Unavailable(why)),
                None => Ok(o),
            }
        });
        let objects = match objects {
            Ok(o) => Some(o),
            Err(e) => {
                problems.push(format!("Kubernetes: {e}"));
                None
            }
        };
        let reachable = objects.is_some();
        // A DR cluster kept at zero replicas is a cold standby: its HSOF is not meant to answer.
        let standby = me.role == crate::config::ClusterRole::Dr
            && objects.as_ref().and_then(|o| o.get("deployment", "replicas")) == Some("0");
        let health_level = match &health {
            Ok(h) if h.report.reachable => Some(format!("{:?}", h.report.overall).to_uppercase()),
            Ok(_) if standby => None,
            Ok(h) => {
                problems.push(format!("HSOF health: {} does not answer", h.report.base_url));
                None
            }
            Err(e) => {
                problems.push(format!("HSOF health: {e}"));
                None
            }
        };
        let alerts = match alerts {
            Ok(a) if !a.freshness.stale => Some(AlertCounts {
                critical: a.active_count("critical") as u32,
                warning: a.active_count("warning") as u32,
                other: a
                    .groups
                    .iter()
                    .filter(|g| g.severity != "critical" && g.severity != "warning")
                    .flat_map(|g| &g.alerts)
                    .filter(|x| x.status.state == "active")
                    .count() as u32,
            }),
            Ok(a) => {
                problems.push(format!("AlertManager: {}", a.freshness.error.unwrap_or_default()));
                None
            }
            Err(e) => {
                problems.push(format!("AlertManager: {e}"));
                None
            }
        };
        let budgets = match slo {
            Ok(r) if !r.freshness.stale => {
                r.slos.iter().map(|s| Budget { slo: s.id.clone(), left: s.budget_remaining }).collect()
            }
            Ok(r) => {
                problems.push(format!("Prometheus: {}", r.freshness.error.unwrap_or_default()));
                vec![]
            }
            Err(e) => {
                problems.push(format!("Prometheus: {e}"));
                vec![]
            }
        };
        let (gpu_capacity, gpu_allocated) = match gpus {
            Ok((c, a)) => (Some(c), Some(a)),
            Err(_) => (None, None),
        };
        let fact = |area: &str, key: &str| objects.as_ref().and_then(|o| o.get(area, key)).map(str::to_string);
        let number = |area: &str, key: &str| fact(area, key).and_then(|v| v.parse::<i64>().ok());
        let image = objects.as_ref().and_then(|o| match o.areas.get("deployment") {
            Some(hsof_fleet::Area::Read { values }) => {
                values.iter().find(|(k, _)| k.starts_with("image[")).map(|(_, v)| v.clone())
            }
            _ => None,
        });
        if let Some(hsof_fleet::Area::Missing) = objects.as_ref().and_then(|o| o.areas.get("deployment")) {
            problems.push(format!(
                "no Deployment {} in namespace {}: HSOF is not installed here",
                cfg.cluster.deployment, cfg.cluster.namespace
            ));
        }
        let last_backup = fact("backup", "lastSuccessful");
        let backup_age_secs = last_backup
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| (now - t.with_timezone(&Utc)).num_seconds());
        let mut row = FleetRow {
            name: me.name.clone(),
            role: me.role.as_str().into(),
            context: cfg.cluster.context.clone(),
            reachable,
            problems,
            health: health_level,
            budgets,
            alerts,
            version: image.map(|i| i.rsplit_once(':').map_or(i.clone(), |(_, tag)| tag.to_string())),
            replicas_ready: number("deployment", "ready"),
            replicas_desired: number("deployment", "replicas"),
            gpu_capacity,
            gpu_allocated,
            last_backup,
            backup_age_secs,
            drift: None,
            fetched_at: rfc3339(now),
            stale: false,
            standby,
            level: RowLevel::Unknown,
        };
        let backup_max = (cfg.thresholds.backup_max_age_hours * 3600.0) as i64;
        let Ok(store) = self.store() else {
            row.level = row.judge(backup_max);
            return (row, objects);
        };
        let key = self.scoped(ROW_KEY);
        match &objects {
            Some(o) => {
                row.level = row.judge(backup_max);
                let known = KnownRow { row: row.clone(), objects: o.clone() };
                if let Err(e) =
                    store.put_last_known(&key, &serde_json::to_string(&known).unwrap_or_default(), &rfc3339(now))
                {
                    tracing::warn!(error = %e, cluster = %me.name, "fleet row not kept");
                }
                (row, objects)
            }
            None => {
                let known = store
                    .last_known(&key)
                    .ok()
                    .flatten()
                    .and_then(|(json, _)| serde_json::from_str::<KnownRow>(&json).ok());
                match known {
                    // Its last known values, stale, with why it could not be read now.
                    Some(k) => {
                        let mut old = k.row;
                        old.reachable = false;
                        old.stale = true;
                        old.problems = row.problems;
                        old.level = old.judge(backup_max);
                        (old, Some(k.objects))
                    }
                    None => {
                        row.level = row.judge(backup_max);
                        (row, None)
                    }
                }
            }
        }
    }

    /// GPUs the nodes can allocate, and GPUs the namespace's pods request.
    async fn gpu_use(&self) -> Result<(i64, i64), Error> {
        let cluster = self.cluster().await?;
        let (nodes, pods) = futures_util::join!(cluster.nodes(), cluster.pods());
        let capacity = nodes?.iter().map(|n| i64::from(n.gpu_allocatable)).sum();
        let allocated =
            pods?.iter().filter(|p| p.phase == "Running" || p.phase == "Pending").map(|p| i64::from(p.gpus)).sum();
        Ok((capacity, allocated))
    }

    /// Every cluster of the configuration, read at once: one row each, drift from the
    /// primary on the others, the worst state of all.
    pub async fn fleet(&self, now: DateTime<Utc>) -> Result<FleetView, Error> {
        let started = Instant::now();
        let views = self.fleet_views();
        let mut read: Vec<(FleetRow, Option<Objects>)> =
            futures_util::future::join_all(views.iter().map(|v| v.fleet_row(now))).await;
        let file = self.file_config().config;
        let primary = (file.clusters.len() > 1).then(|| file.default_cluster().name);
        let backup_max = (self.config().config.thresholds.backup_max_age_hours * 3600.0) as i64;
        if let Some(p) = &primary {
            let base = read.iter().find(|(r, _)| &r.name == p).map(|(_, o)| o.clone());
            for (row, objects) in read.iter_mut().filter(|(r, _)| &r.name != p) {
                row.drift = Some(match (&base, objects.as_ref()) {
                    (Some(Some(b)), Some(o)) => {
                        let mut d = hsof_fleet::drift(b, p, o, &row.name);
                        // A standby's replica count is its job, not drift.
                        if row.standby {
                            d.differences.retain(|x| !(x.area == "deployment" && x.key == "replicas"));
                        }
                        d
                    }
                    (Some(None), _) => Comparison {
                        differences: vec![],
                        unknown: vec![format!("{p} (the primary) could not be read")],
                    },
                    _ => Comparison { differences: vec![], unknown: vec![format!("{} could not be read", row.name)] },
                });
                row.level = row.judge(backup_max);
            }
        }
        let rows: Vec<FleetRow> = read.into_iter().map(|(r, _)| r).collect();
        Ok(FleetView {
            worst: hsof_fleet::worst(&rows),
            rows,
            current: self.current_cluster().name.clone(),
            primary,
            generated_at: rfc3339(now),
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Clusters `a` and `b` compared: the Deployment, its ConfigMap key by key, Services,
    /// HPA, PDB, NetworkPolicies and the backup CronJob.
    pub async fn fleet_diff(&self, a: &str, b: &str, now: DateTime<Utc>) -> Result<FleetDiff, Error> {
        if a == b {
            return Err(Error::InvalidInput(format!("compare two different clusters, not {a} with itself")));
        }
        let (va, vb) = (self.on_cluster(a)?, self.on_cluster(b)?);
        let (oa, ob) = futures_util::join!(va.hsof_objects(), vb.hsof_objects());
        let unread = |e: Error| Objects::default().with("cluster", hsof_fleet::Area::Unreadable { why: e.to_string() });
        let (oa, ob) = (oa.unwrap_or_else(unread), ob.unwrap_or_else(unread));
        let comparison = hsof_fleet::diff(&oa, a, &ob, b);
        Ok(FleetDiff {
            text: comparison.render(a, b),
            a: a.into(),
            b: b.into(),
            comparison,
            generated_at: rfc3339(now),
        })
    }
}
