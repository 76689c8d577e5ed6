//! The application API of HSOF Control Center, shared by the desktop shell and `hsofctl`.
//!
//! [`AppContext`] owns configuration, store and secrets; domain crates plug in here as
//! their issues land. Nothing in this crate depends on Tauri.

mod audit_anchor;
pub mod calendar;
pub mod cluster;
pub mod config;
mod context;
pub mod cost;
pub mod dr;
mod error;
pub mod experiments;
pub mod facts;
pub mod fleet;
pub mod followthrough;
pub mod gpu;
pub mod incidents;
pub mod logging;
pub mod monitoring;
pub mod operations;
mod paths;
pub mod reports;
pub mod secrets;
pub mod security;
pub mod team;
pub mod time;
pub mod upkeep;

pub use context::{os_user, AppContext, AppFacts, ConfigFacts, Doctor, Options, StoreStatus};
pub use error::{Error, ErrorCode, IpcError};
pub use hsof_store::{private, AuditEntry, AuditVerification, StoreFacts};
pub use paths::Paths;
pub use secrets::{BackendChoice, SecretBackend, SecretStore, SecretValue};

/// Product name shown in windows and reports.
pub const PRODUCT_NAME: &str = "HSOF Control Center";
/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "HSOF_CONTROL_CONFIG";
/// Environment variable naming the data directory.
pub const ENV_DATA_DIR: &str = "HSOF_CONTROL_DATA_DIR";
/// Environment variable forcing the secrets backend (`file`).
pub const ENV_SECRETS_BACKEND: &str = "HSOF_CONTROL_SECRETS_BACKEND";

/// The secrets backend chosen by [`ENV_SECRETS_BACKEND`].
pub fn backend_from_env() -> BackendChoice {
    match std::env::var(ENV_SECRETS_BACKEND).as_deref() {
        Ok("file") => BackendChoice::File,
        _ => BackendChoice::Auto,
    }
}
