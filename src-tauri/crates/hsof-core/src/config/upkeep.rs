//! `[upkeep]`: Friday maintenance and the monthly technology updates.

use serde::{Deserialize, Serialize};

/// `[upkeep]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct UpkeepConfig {
    /// A finished Job is a leftover after this many days.
    pub finished_job_days: u32,
    /// Storage price per GiB-month (the money an unused claim holds); 0: not shown.
    pub storage_price_per_gib_month: f64,
    /// Each Kubernetes minor release's end of support, `1.NN=YYYY-MM-DD`.
    pub end_of_support: Vec<String>,
}

impl Default for UpkeepConfig {
    fn default() -> Self {
        Self {
            finished_job_days: 7,
            storage_price_per_gib_month: 0.0,
            end_of_support: hsof_upkeep::versions::DEFAULT_END_OF_SUPPORT
                .iter()
                .map(|(r, d)| format!("{r}={d}"))
                .collect(),
        }
    }
}

impl UpkeepConfig {
    /// The end-of-support table as `(release, date)`; entries that do not read are left out
    /// (validation names them).
    pub fn end_of_support_table(&self) -> Vec<(String, String)> {
        self.end_of_support
            .iter()
            .filter_map(|e| e.split_once('=').map(|(a, b)| (a.trim().to_string(), b.trim().to_string())))
            .collect()
    }
}
