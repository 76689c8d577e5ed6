use chrono::Utc;
use hsof_core::config::{self, Config, ConfigProblem, LoadedConfig};
use hsof_core::{os_user, AppContext, IpcError};
use serde::Serialize;
use tauri::State;

/// The configuration in effect and its file's problem, if any.
#[tauri::command]
#[specta::specta]
pub fn get_config(ctx: State<'_, AppContext>) -> LoadedConfig {
    ctx.config()
}

/// The built-in defaults (the runbook's values).
#[tauri::command]
#[specta::specta]
pub fn default_config() -> Config {
    Config::default()
}

/// A key and the comment the config file carries for it.
#[derive(Debug, Serialize, specta::Type)]
pub struct KeyDoc {
    /// Dotted key; `severities.*.x` stands for each level.
    pub key: String,
    /// What it means.
    pub doc: String,
}

/// Every key's documentation, for Settings' labels.
#[tauri::command]
#[specta::specta]
pub fn config_key_docs() -> Vec<KeyDoc> {
    config::KEY_DOCS.iter().map(|(k, d)| KeyDoc { key: (*k).into(), doc: (*d).into() }).collect()
}

/// Problems in a configuration being edited; empty when valid.
#[tauri::command]
#[specta::specta]
pub fn validate_config(config: Config) -> Vec<ConfigProblem> {
    config::validate(&config)
}

/// Validates, saves (keeping `.bak`), audits and applies a configuration.
#[tauri::command]
#[specta::specta]
pub fn save_config(ctx: State<'_, AppContext>, config: Config) -> Result<LoadedConfig, IpcError> {
    Ok(ctx.save_config(config, &os_user(), Utc::now())?)
}
