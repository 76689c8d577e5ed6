//! What the hsofctl suites share: the real binary run against a profile of temporary files.

use std::path::Path;
use std::process::{Command, Output};

/// `hsofctl ARGS` with the config, data directory and file secrets of the profile in `dir`.
pub fn hsofctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hsofctl"))
        .args(args)
        .env("HSOF_CONTROL_CONFIG", dir.join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .output()
        .expect("run hsofctl")
}
