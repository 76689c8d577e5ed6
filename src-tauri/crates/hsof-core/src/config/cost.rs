//! `[cost]`: cost and capacity — prices, the budget, right-sizing headroom.

use serde::{Deserialize, Serialize};

/// `[cost]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct CostConfig {
    /// Currency of every price and of the budget (shown beside each figure).
    pub currency: String,
    /// The month's budget; absent: no budget (the projection is shown without a verdict).
    pub monthly_budget: Option<f64>,
    /// Warn when the month-end projection passes this share of the budget (critical past 1).
    pub budget_warn_share: f64,
    /// Price per GPU-hour by GPU model, `MODEL=PRICE` (the model as the node's label names it).
    pub gpu_hour: Vec<String>,
    /// Price per vCPU-hour.
    pub vcpu_hour: f64,
    /// Price per GiB-hour of memory.
    pub gib_hour: f64,
    /// The node label naming a node's GPU model.
    pub gpu_model_label: String,
    /// The Prometheus label that names a series' node (set by the scrape configuration).
    pub node_label: String,
    /// Headroom right-sizing adds to the 95th percentile of use (0.15: 15 %).
    pub headroom: f64,
}

impl Default for CostConfig {
    fn default() -> Self {
        Self {
            currency: "USD".into(),
            monthly_budget: None,
            budget_warn_share: 0.9,
            gpu_hour: Vec::new(),
            vcpu_hour: 0.0,
            gib_hour: 0.0,
            gpu_model_label: "nvidia.com/gpu.product".into(),
            node_label: "node".into(),
            headroom: 0.15,
        }
    }
}

impl CostConfig {
    /// The GPU price table as `(model, price)`; entries that do not read are left out
    /// (validation names them).
    pub fn gpu_prices(&self) -> Vec<(String, f64)> {
        self.gpu_hour
            .iter()
            .filter_map(|e| {
                let (m, p) = e.rsplit_once('=')?;
                Some((m.trim().to_string(), p.trim().parse::<f64>().ok().filter(|p| p.is_finite() && *p >= 0.0)?))
            })
            .collect()
    }

    /// Whether a local price table is configured at all.
    pub fn has_price_table(&self) -> bool {
        !self.gpu_prices().is_empty() || self.vcpu_hour > 0.0 || self.gib_hour > 0.0
    }
}
