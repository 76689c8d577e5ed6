//! `[stakeholders]`: stakeholder updates during an incident — a status page in the
//! Atlassian Statuspage API's shape, or a stakeholder webhook — and their timer, separate
//! from the engineers' Slack cadence.

use serde::{Deserialize, Serialize};

/// `[stakeholders]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields, default)]
pub struct StakeholdersConfig {
    /// Where updates go: `statuspage`, `webhook`, or `none` (updates are not offered).
    pub target: String,
    /// The Statuspage API's base URL.
    pub statuspage_url: String,
    /// The status page's id.
    pub page_id: String,
    /// Name of the secret holding the Statuspage API key (never the key itself).
    pub api_key_secret: String,
    /// Name of the secret holding the stakeholder webhook's URL.
    pub webhook_secret: String,
    /// The page's components by the incident components they stand for,
    /// `COMPONENT=PAGE_COMPONENT_ID` (`pipeline=8kbf7d35c070`); `*=ID` for every incident.
    pub components: Vec<String>,
    /// How often stakeholders hear during an open P0, P1, P2 and P3 incident (`30m`, `1h`;
    /// empty: no timer for that severity).
    pub every: Vec<String>,
}

impl Default for StakeholdersConfig {
    fn default() -> Self {
        Self {
            target: "none".into(),
            statuspage_url: "https://api.statuspage.io/v1".into(),
            page_id: String::new(),
            api_key_secret: "statuspage-api-key".into(),
            webhook_secret: "stakeholder-webhook".into(),
            components: Vec::new(),
            every: vec!["30m".into(), "1h".into(), String::new(), String::new()],
        }
    }
}

impl StakeholdersConfig {
    /// The page component ids an incident touching `components` changes.
    pub fn page_components(&self, components: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.components {
            let Some((c, id)) = e.split_once('=') else { continue };
            let (c, id) = (c.trim(), id.trim());
            if !id.is_empty() && (c == "*" || components.iter().any(|x| x == c)) && !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
        out
    }

    /// The timer of severity `index` (0 for P0): `None` when it has none or it does not read.
    pub fn every_of(&self, index: usize) -> Option<chrono::Duration> {
        let s = self.every.get(index)?.trim();
        if s.is_empty() {
            return None;
        }
        hsof_ops::incidents::parse_duration(s).ok()
    }
}
