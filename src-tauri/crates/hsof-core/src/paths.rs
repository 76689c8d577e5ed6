//! Where the app keeps its files: XDG directories unless overridden.

use std::path::{Path, PathBuf};

/// Resolved locations of every file the app owns.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The TOML configuration file.
    pub config_file: PathBuf,
    /// The data directory (store, logs).
    pub data_dir: PathBuf,
}

impl Paths {
    /// `config` / `data_dir` override the XDG defaults
    /// (`~/.config/hsof-control-center/config.toml`, `~/.local/share/hsof-control-center`).
    pub fn resolve(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> Self {
        let dirs = directories::ProjectDirs::from("com", "hsof", "hsof-control-center");
        let fallback = || std::env::temp_dir().join("hsof-control-center");
        let config_file = config.unwrap_or_else(|| {
            dirs.as_ref().map(|d| d.config_dir().to_path_buf()).unwrap_or_else(fallback).join("config.toml")
        });
        let data_dir =
            data_dir.unwrap_or_else(|| dirs.as_ref().map(|d| d.data_dir().to_path_buf()).unwrap_or_else(fallback));
        Self { config_file, data_dir }
    }

    /// The SQLite store.
    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join(hsof_store::STORE_FILE)
    }

    /// Rolling log files.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// The 0600 secrets file used when no OS keyring is available.
    pub fn secrets_file(&self) -> PathBuf {
        self.config_file.parent().unwrap_or(Path::new(".")).join("secrets.toml")
    }
}
