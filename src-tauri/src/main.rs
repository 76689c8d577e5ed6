//! Desktop entry point: arguments, display check, then the Tauri app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// HSOF Control Center: operate HSOF on Kubernetes from the desktop.
#[derive(Debug, Parser)]
#[command(name = "hsof-control-center", version)]
struct Args {
    /// Configuration file [default: ~/.config/hsof-control-center/config.toml]
    #[arg(long, env = hsof_core::ENV_CONFIG, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Data directory [default: ~/.local/share/hsof-control-center]
    #[arg(long, env = hsof_core::ENV_DATA_DIR, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// Runs the demo server for the profile in DIR (started by Overview's *Try the demo*).
    #[arg(long, value_name = "DIR", hide = true)]
    demo_serve: Option<PathBuf>,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // What the app writes for itself (store, logs, reports, WebKit's caches) is its user's
    // alone; files at paths the user chooses get the user's umask back (private::user_file_mode).
    hsof_core::private::restrict_umask();
    let args = Args::parse();
    if let Some(dir) = args.demo_serve {
        // The window's demo: the same server `hsofctl demo serve` runs, in this binary so
        // that an installed app needs nothing beside it.
        let profile = hsof_demo::Profile { dir };
        return match hsof_demo::serve(&profile, hsof_demo::Scenario::Healthy, 1) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        eprintln!(
            "HSOF Control Center needs a graphical display, and neither DISPLAY nor WAYLAND_DISPLAY is set.\n\
             On a server or over SSH use `hsofctl` (same features, `--json` for scripts), \
             or run the app under a virtual display: `xvfb-run hsof-control-center`."
        );
        return ExitCode::from(2);
    }
    let opts =
        hsof_core::Options { config: args.config, data_dir: args.data_dir, secrets: hsof_core::backend_from_env() };
    match hsof_control_center_lib::run(opts, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("HSOF Control Center could not start: {e}");
            ExitCode::FAILURE
        }
    }
}
