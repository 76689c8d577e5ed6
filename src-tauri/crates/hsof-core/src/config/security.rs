//! `[security]`: the weekly security review and the monthly security assessment.

use serde::{Deserialize, Serialize};

/// `[security]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// How long backups must be kept, days: the backup tool's retention setting is checked
    /// against it.
    pub backup_retention_days: u32,
    /// How many of the evaluator's answers are cross-checked with the API server
    /// (SubjectAccessReviews) when this identity may ask; 0: none.
    pub cross_check_sample: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self { backup_retention_days: 30, cross_check_sample: 12 }
    }
}
