//! Idle GPUs: GPU-hours allocated to HSOF pods that the GPUs did not use, and their cost.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::hours::{by_hour_end, local_date, HOUR};

/// One node's GPU allocation and utilisation, hourly.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct NodeGpuInput {
    /// Node name.
    pub node: String,
    /// GPU model, when known.
    pub model: Option<String>,
    /// Price of one GPU for one hour, when configured.
    pub price_per_gpu_hour: Option<f64>,
    /// GPUs allocated to HSOF pods: `(unix s, mean over the hour ending then)`; `NaN` = no data.
    pub allocated: Vec<(f64, f64)>,
    /// Mean GPU utilisation (0..100 %) over the hour ending at the timestamp; `NaN` = no data.
    pub utilization_pct: Vec<(f64, f64)>,
}

/// One node's allocated and idle GPU-hours on one local day.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct IdleGpuDay {
    /// Node name.
    pub node: String,
    /// Local date, `2026-12-07`.
    pub day: String,
    /// GPU-hours allocated to HSOF pods that day (every hour with an allocation value).
    pub allocated_gpu_hours: f64,
    /// Allocated GPU-hours not used: allocated × (1 − utilisation/100), summed over the
    /// hours with both values.
    pub idle_gpu_hours: f64,
    /// Idle GPU-hours × the node's price per GPU-hour, when the price is known.
    pub idle_money: Option<f64>,
}

/// Idle GPU time and money across nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct IdleGpuReport {
    /// One row per node and local day with allocation data, by node then day.
    pub rows: Vec<IdleGpuDay>,
    /// Sum of the rows' allocated GPU-hours.
    pub total_allocated_gpu_hours: f64,
    /// Sum of the rows' idle GPU-hours.
    pub total_idle_gpu_hours: f64,
    /// Sum of the idle money of the priced nodes; none when no node with an allocation is
    /// priced (then `unpriced_nodes` names them all).
    pub total_idle_money: Option<f64>,
    /// Nodes with an allocation but no price per GPU-hour: their idle time has no money.
    pub unpriced_nodes: Vec<String>,
    /// Nodes with hours of allocation but no utilisation reading: those hours are not
    /// counted as idle.
    pub no_utilization_nodes: Vec<String>,
    /// How the figures were computed, in words.
    pub method: String,
}

/// Idle GPU-hours and their cost per node and local day.
///
/// For every hour with both an allocation and a utilisation value, idle GPU-hours =
/// GPUs allocated × (1 − utilisation/100), utilisation clamped to 0..100. Hours with an
/// allocation but no utilisation reading count as allocated, never as idle. An hour
/// belongs to the local day its start falls in. Money = idle GPU-hours × the node's
/// price per GPU-hour, only where the price is known.
pub fn idle_gpu(nodes: &[NodeGpuInput], tz: Tz) -> IdleGpuReport {
    let mut rows = Vec::new();
    let (mut unpriced, mut no_util) = (Vec::new(), Vec::new());
    let mut total_money: Option<f64> = None;
    for n in nodes {
        let alloc = by_hour_end(&n.allocated);
        let util = by_hour_end(&n.utilization_pct);
        let price = n.price_per_gpu_hour.filter(|p| p.is_finite() && *p >= 0.0);
        // day → (allocated, idle)
        let mut days: BTreeMap<chrono::NaiveDate, (f64, f64)> = BTreeMap::new();
        let mut missing_util = false;
        for (&end, &a) in &alloc {
            let a = a.max(0.0);
            let day = days.entry(local_date(tz, end - HOUR)).or_default();
            day.0 += a;
            match util.get(&end) {
                Some(u) => day.1 += a * (1.0 - u.clamp(0.0, 100.0) / 100.0),
                None => missing_util |= a > 0.0,
            }
        }
        if days.is_empty() {
            continue;
        }
        if missing_util {
            no_util.push(n.node.clone());
        }
        match price {
            None => unpriced.push(n.node.clone()),
            Some(_) => total_money = Some(total_money.unwrap_or(0.0)),
        }
        for (day, (allocated, idle)) in days {
            let idle_money = price.map(|p| idle * p);
            if let (Some(m), Some(t)) = (idle_money, total_money.as_mut()) {
                *t += m;
            }
            rows.push(IdleGpuDay {
                node: n.node.clone(),
                day: day.format("%Y-%m-%d").to_string(),
                allocated_gpu_hours: allocated,
                idle_gpu_hours: idle,
                idle_money,
            });
        }
    }
    rows.sort_by(|a, b| a.node.cmp(&b.node).then_with(|| a.day.cmp(&b.day)));
    unpriced.sort();
    unpriced.dedup();
    no_util.sort();
    no_util.dedup();
    IdleGpuReport {
        total_allocated_gpu_hours: rows.iter().map(|r| r.allocated_gpu_hours).sum(),
        total_idle_gpu_hours: rows.iter().map(|r| r.idle_gpu_hours).sum(),
        rows,
        total_idle_money: total_money,
        unpriced_nodes: unpriced,
        no_utilization_nodes: no_util,
        method: "for every hour with both readings: idle GPU-hours = GPUs allocated to HSOF pods × \
                 (1 − mean GPU utilisation % / 100); money = idle GPU-hours × the node's price per \
                 GPU-hour. Hours with an allocation but no utilisation reading are not counted as idle; \
                 nodes without a price are listed and left out of the money total."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{hourly, utc};

    fn node(name: &str, price: Option<f64>, gpus: f64, util: f64, hours: i64) -> NodeGpuInput {
        // The first hour ends at 2026-12-07 00:00 UTC: it is local (Berlin) 00:00–01:00 on the 7th.
        let start = utc(2026, 12, 7, 0).timestamp();
        NodeGpuInput {
            node: name.to_string(),
            model: Some("H100".to_string()),
            price_per_gpu_hour: price,
            allocated: hourly(start, hours, |_| gpus),
            utilization_pct: hourly(start, hours, |_| util),
        }
    }

    #[test]
    fn two_gpus_a_quarter_used_for_a_day() {
        let r = idle_gpu(&[node("gpu-1", Some(3.0), 2.0, 25.0, 24)], chrono_tz::Europe::Berlin);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].day, "2026-12-07");
        assert!((r.total_allocated_gpu_hours - 48.0).abs() < 1e-9);
        assert!((r.total_idle_gpu_hours - 36.0).abs() < 1e-9);
        assert!((r.total_idle_money.expect("priced") - 108.0).abs() < 1e-9);
        assert!(r.unpriced_nodes.is_empty() && r.no_utilization_nodes.is_empty());
    }

    #[test]
    fn an_unpriced_node_has_hours_but_no_money() {
        let only = idle_gpu(&[node("gpu-2", None, 1.0, 50.0, 24)], chrono_tz::Europe::Berlin);
        assert_eq!(only.total_idle_money, None);
        assert_eq!(only.unpriced_nodes, vec!["gpu-2".to_string()]);
        assert!((only.total_idle_gpu_hours - 12.0).abs() < 1e-9);
        let mixed = idle_gpu(
            &[node("gpu-2", None, 1.0, 50.0, 24), node("gpu-1", Some(2.0), 1.0, 0.0, 24)],
            chrono_tz::Europe::Berlin,
        );
        assert!((mixed.total_idle_money.expect("one priced") - 48.0).abs() < 1e-9);
        assert_eq!(mixed.rows[0].node, "gpu-1");
        assert_eq!(mixed.rows[1].idle_money, None);
    }

    #[test]
    fn hours_without_utilisation_are_not_idle_and_utilisation_is_clamped() {
        let mut n = node("gpu-3", Some(1.0), 4.0, 150.0, 24);
        for p in n.utilization_pct.iter_mut().take(6) {
            p.1 = f64::NAN;
        }
        let r = idle_gpu(&[n], chrono_tz::Europe::Berlin);
        assert_eq!(r.no_utilization_nodes, vec!["gpu-3".to_string()]);
        assert!((r.total_allocated_gpu_hours - 96.0).abs() < 1e-9);
        assert_eq!(r.total_idle_gpu_hours, 0.0);
    }

    #[test]
    fn days_split_at_local_midnight() {
        // 30 hours from local midnight: 24 hours on the 7th, 6 on the 8th.
        let r = idle_gpu(&[node("gpu-1", Some(1.0), 1.0, 0.0, 30)], chrono_tz::Europe::Berlin);
        let days: Vec<(&str, f64)> = r.rows.iter().map(|r| (r.day.as_str(), r.allocated_gpu_hours)).collect();
        assert_eq!(days, vec![("2026-12-07", 24.0), ("2026-12-08", 6.0)]);
    }
}
