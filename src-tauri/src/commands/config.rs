use crate::active::Ctx;
use chrono::Utc;
use hsof_core::config::{self, Config, ConfigProblem, LoadedConfig};
use hsof_core::{os_user, IpcError};
use serde::Serialize;

/// The configuration file as written (every cluster) and its problem, if any: what
/// Settings edits and `save_config` takes.
#[tauri::command]
#[specta::specta]
pub fn get_config(ctx: Ctx) -> LoadedConfig {
    ctx.file_config()
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
pub fn save_config(
    ctx: Ctx,
    active: tauri::State<'_, crate::active::Active>,
    config: Config,
) -> Result<LoadedConfig, IpcError> {
    let saved = ctx.save_config(config, &os_user(), Utc::now())?;
    // The window's cluster renamed or removed: it shows the file's default one from now on.
    let next = ctx.current_or_default();
    if next.current_cluster().name != ctx.current_cluster().name {
        active.replace(next);
    }
    Ok(saved)
}

/// Whether a secret is stored under `name` (its value never crosses to the UI).
#[tauri::command]
#[specta::specta]
pub fn secret_present(ctx: Ctx, name: String) -> bool {
    ctx.secrets().get(&name).is_ok_and(|v| !v.expose().trim().is_empty())
}

/// Stores a secret (the Slack webhook URL) in the OS keyring or the 0600 secrets file.
#[tauri::command]
#[specta::specta]
pub fn secret_set(ctx: Ctx, name: String, value: String) -> Result<(), IpcError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(hsof_core::Error::InvalidInput("the value is empty".into()).into());
    }
    ctx.secrets().set(&name, &hsof_core::SecretValue::new(value)).map_err(hsof_core::Error::from)?;
    ctx.record_event(Utc::now(), "secret.set", &format!("secret `{name}` stored"));
    Ok(())
}
