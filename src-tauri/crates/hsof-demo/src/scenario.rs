//! What the simulated HSOF does: each scenario sets the exporter's script and the fake
//! cluster's state so that, within a minute, the app sees the health states, alerts, SLO
//! burn and cluster events a real deployment in that trouble would produce.

use hsof_fake_kube::{sim, Store};

use crate::exporter::Script;

/// The namespace, deployment and CronJob the simulated HSOF runs as.
pub const NAMESPACE: &str = "hsof";
pub const DEPLOYMENT: &str = "hsof-main";
pub const CRONJOB: &str = "hsof-backup";
/// The image the deployment runs when healthy, and the one a stuck rollout tries.
pub const STABLE_IMAGE: &str = "hsof/hsof:1.5.0";
pub const BROKEN_IMAGE: &str = "hsof/hsof:1.6.0-rc1";
/// The node `node-lost` takes away.
pub const LOST_NODE: &str = "gpu-node-2";

/// A scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Healthy,
    GpuHot,
    ErrorBurst,
    RolloutStuck,
    BackupFailed,
    NodeLost,
    RegionDown,
}

/// Every scenario, in the order help lists them.
pub const ALL: [Scenario; 7] = [
    Scenario::Healthy,
    Scenario::GpuHot,
    Scenario::ErrorBurst,
    Scenario::RolloutStuck,
    Scenario::BackupFailed,
    Scenario::NodeLost,
    Scenario::RegionDown,
];

impl Scenario {
    /// The name commands take.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::GpuHot => "gpu-hot",
            Scenario::ErrorBurst => "error-burst",
            Scenario::RolloutStuck => "rollout-stuck",
            Scenario::BackupFailed => "backup-failed",
            Scenario::NodeLost => "node-lost",
            Scenario::RegionDown => "region-down",
        }
    }

    /// What the app shows within a minute.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Healthy => "everything within the runbook's targets; the cluster settled on 1.5.0",
            Scenario::GpuHot => {
                "GPU at 91 °C and 99 % busy, throttling: HSOFGPUTemperatureCritical fires, GPU health critical, latency creeps up"
            }
            Scenario::ErrorBurst => {
                "7 % of requests fail and pods crash-loop: HSOFErrorRateCritical fires, the availability budget burns at a page rate"
            }
            Scenario::RolloutStuck => {
                "a rollout to 1.6.0-rc1 whose new pod cannot pull its image: Progressing=False, ImagePullBackOff events, undo offered"
            }
            Scenario::BackupFailed => {
                "tonight's backup Job failed (credentials expired): HSOFBackupFailure fires, the CronJob's last run failed, the last good backup stays the previous one"
            }
            Scenario::NodeLost => {
                "gpu-node-2 stops answering: its pods turn unready, half the capacity is gone, P95 latency breaks its target"
            }
            Scenario::RegionDown => {
                "the primary region goes dark: its API server answers 503 and HSOF stops answering; Fleet keeps its last known values, stale, and (with --regions 2) the DR region is where to fail over"
            }
        }
    }

    /// The exporter's script for this scenario, from the one running now (counters and
    /// the last backup carry over: they only move forward).
    pub fn script(self, now: &Script) -> Script {
        let base = Script::default();
        let mut s = Script {
            backup_failures: now.backup_failures,
            last_backup: now.last_backup,
            generation: now.generation,
            ..base
        };
        match self {
            Scenario::Healthy => {}
            Scenario::GpuHot => {
                s.gpu_temp = 91.0;
                s.gpu_util = 99.0;
                s.gpu_mem_pct = 93.0;
                s.fast_share = 0.97;
                s.overall = "DEGRADED".into();
            }
            Scenario::ErrorBurst => {
                s.err_per_sec = 4.0;
                s.fast_share = 0.97;
                s.quality = 0.74;
                s.overall = "DEGRADED".into();
            }
            Scenario::RolloutStuck => {
                s.generation = now.generation + 1.0;
            }
            Scenario::BackupFailed => {
                // The last good backup stays the previous one: its timestamp does not move.
                s.backup_failures = now.backup_failures + 1.0;
            }
            Scenario::NodeLost => {
                s.ok_per_sec = 25.0;
                s.datasets_per_sec = base.datasets_per_sec / 2.0;
                s.fast_share = 0.9;
                s.gpu_util = 96.0;
                s.overall = "DEGRADED".into();
            }
            Scenario::RegionDown => s.serving = false,
        }
        s
    }

    /// Brings the cluster to this scenario's state from whatever it was: the previous
    /// scenario's damage repaired first, as an operator would have.
    pub fn apply_cluster(self, store: &mut Store, previous: Option<Scenario>) {
        if previous == Some(Scenario::NodeLost) && self != Scenario::NodeLost {
            sim::set_node_ready(store, LOST_NODE, true);
        }
        if previous == Some(Scenario::RolloutStuck) && self != Scenario::RolloutStuck {
            sim::complete_rollout(store, NAMESPACE, DEPLOYMENT, STABLE_IMAGE);
        }
        if previous == Some(Scenario::BackupFailed) && self != Scenario::BackupFailed {
            sim::backup_run(store, NAMESPACE, CRONJOB, false);
        }
        if previous == Some(Scenario::RegionDown) && self != Scenario::RegionDown {
            store.faults.status = None;
        }
        match self {
            Scenario::Healthy => {}
            Scenario::GpuHot => {
                for node in ["gpu-node-1", "gpu-node-2"] {
                    sim::event(
                        store,
                        "default",
                        true,
                        "GPUThermalThrottle",
                        ("Node", node),
                        "GPU 0 is above 90 °C: clocks throttled (HW slowdown)",
                        "nvidia-dcgm-exporter",
                    );
                }
            }
            Scenario::ErrorBurst => sim::restart_pods(store, NAMESPACE, DEPLOYMENT),
            Scenario::RolloutStuck => {
                if sim::deployment_image(store, NAMESPACE, DEPLOYMENT).as_deref() != Some(BROKEN_IMAGE) {
                    sim::stuck_rollout(store, NAMESPACE, DEPLOYMENT, BROKEN_IMAGE);
                }
            }
            Scenario::BackupFailed => sim::backup_run(store, NAMESPACE, CRONJOB, true),
            Scenario::NodeLost => sim::set_node_ready(store, LOST_NODE, false),
            // The API server is there and answers nothing useful, as behind a dead region's load balancer.
            Scenario::RegionDown => store.faults.status = Some(503),
        }
    }

    /// What keeps happening while the scenario lasts (called every few seconds with a
    /// running count): log lines, pods that come and go, a crash loop under errors.
    pub fn tick(self, store: &mut Store, n: u64) {
        let pods: Vec<String> = sim::pods(store, NAMESPACE)
            .iter()
            .filter(|p| p["status"]["phase"].as_str() == Some("Running"))
            .filter(|p| p["metadata"]["name"].as_str().is_some_and(|n| n.starts_with(DEPLOYMENT)))
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for (i, pod) in pods.iter().enumerate() {
            let line = match self {
                Scenario::ErrorBurst if (n + i as u64).is_multiple_of(2) => {
                    format!("{at} ERROR stage3 model evaluation failed: CUDA error: out of memory (request {n}-{i})")
                }
                Scenario::GpuHot => {
                    format!("{at} WARN gpu0 temperature 91C, clocks throttled; stage2 batch {n} slowed")
                }
                Scenario::NodeLost => format!("{at} WARN peer gpu-node-2 unreachable; rebalancing stage1 shards"),
                _ => format!("{at} INFO stage1 processed batch {n} ({} features kept)", 480 + (n * 7 + i as u64) % 40),
            };
            store.append_log(NAMESPACE, pod, &line);
        }
        if n.is_multiple_of(6) {
            sim::churn_worker(store, NAMESPACE, n / 6, (n / 6).is_multiple_of(2));
        }
        if self == Scenario::ErrorBurst && n % 6 == 3 {
            sim::restart_pods(store, NAMESPACE, DEPLOYMENT);
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL.into_iter().find(|x| x.name() == s.trim()).ok_or_else(|| {
            format!("no scenario {s:?}; there are: {}", ALL.iter().map(|x| x.name()).collect::<Vec<_>>().join(", "))
        })
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for s in ALL {
            assert_eq!(s.name().parse::<Scenario>(), Ok(s));
            assert_eq!(serde_json::to_value(s).expect("json"), serde_json::json!(s.name()));
        }
        let e = "gpu-cold".parse::<Scenario>().expect_err("refused");
        assert!(e.contains("healthy") && e.contains("node-lost"), "{e}");
    }

    #[test]
    fn counters_only_move_forward_across_scenarios() {
        let failed = Scenario::BackupFailed.script(&Script::default());
        assert_eq!(failed.backup_failures, 1.0);
        let healthy = Scenario::Healthy.script(&failed);
        assert_eq!((healthy.backup_failures, healthy.last_backup), (1.0, failed.last_backup));
        let hot = Scenario::GpuHot.script(&healthy);
        assert!(hot.gpu_temp > 85.0 && hot.overall == "DEGRADED");
        assert!(Scenario::ErrorBurst.script(&healthy).err_per_sec / 50.0 > 0.01);
    }
}
