//! `hsofctl demo`: the simulated HSOF in a profile of its own (`hsof_demo`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use hsof_core::Error;
use hsof_demo::{Profile, Scenario, State, Status, SCENARIOS};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum DemoCmd {
    /// Start the demo in the background (fake cluster, simulated HSOF, Prometheus with the
    /// runbook rules, AlertManager) and print its profile; `--json` gives `config` and
    /// `data_dir` for `hsofctl --config … --data-dir …` and the app
    Start {
        /// The scenario to start in
        #[arg(long, default_value = "healthy", value_parser = parse_scenario)]
        scenario: Scenario,
        /// 2: a primary region (prod-eu) and its cold DR standby (dr-us), each with its own
        /// fake cluster, HSOF, Prometheus and AlertManager, listed as [[clusters]]
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
        regions: u8,
        /// The demo profile directory [default: $HSOF_DEMO_DIR or ~/.local/share/hsof-control-center-demo]
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Whether the demo runs, its URLs and scenario (exit 1 when it does not run)
    Status {
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Stop the demo and everything it started
    Stop {
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Switch what the simulated HSOF does: healthy, gpu-hot, error-burst, rollout-stuck,
    /// backup-failed, node-lost (without NAME: the list)
    Scenario {
        /// The scenario
        #[arg(value_parser = parse_scenario)]
        name: Option<Scenario>,
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Run the demo in the foreground (what `start` runs in the background)
    #[command(hide = true)]
    Serve {
        #[arg(long, default_value = "healthy", value_parser = parse_scenario)]
        scenario: Scenario,
        #[arg(long, default_value_t = 1)]
        regions: u8,
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    s.parse()
}

fn print_state(s: &State, headline: &str) {
    println!("{headline}");
    println!("  scenario      {} (since {})", s.scenario, s.scenario_since);
    println!("  config        {}", s.config);
    println!("  data dir      {}", s.data_dir);
    println!("  kubeconfig    {} (context hsof-demo)", s.kubeconfig);
    println!("  HSOF          {}", s.hsof_url);
    println!("  Prometheus    {}", s.prometheus_url);
    println!("  AlertManager  {}", s.alertmanager_url);
    println!("  Kubernetes    {}", s.kube_url);
    for r in &s.regions {
        println!(
            "  region {:<8} {:<8} kubeconfig {} (context {}), HSOF {}, Prometheus {}",
            r.name, r.role, r.kubeconfig, r.context, r.hsof_url, r.prometheus_url
        );
    }
    if s.regions.len() > 1 {
        println!("  the regions are [[clusters]] in the config: hsofctl fleet, hsofctl dr drill --yes");
    }
    println!("  pid {} since {}; logs in {}/logs", s.pid, s.started_at, s.dir);
    println!("\nPoint any command at it: hsofctl --config {} --data-dir {} health", s.config, s.data_dir);
}

/// Runs one demo command; the exit code is 1 when `status` finds no demo running.
pub fn run(cmd: &DemoCmd, out: &Out) -> Result<u8, Error> {
    match cmd {
        DemoCmd::Start { scenario, dir, regions } => {
            let profile = Profile::resolve(dir.clone()).map_err(Error::Unavailable)?;
            let exe =
                std::env::current_exe().map_err(|e| Error::Unavailable(format!("cannot find hsofctl itself: {e}")))?;
            let mut daemon = std::process::Command::new(exe);
            daemon
                .args(["demo", "serve", "--scenario", scenario.name(), "--regions", &regions.to_string(), "--dir"])
                .arg(&profile.dir);
            let (state, started) =
                hsof_demo::start(&profile, daemon, Duration::from_secs(90)).map_err(Error::Unavailable)?;
            let state = if !started && state.scenario != *scenario {
                hsof_demo::set_scenario(&profile, *scenario).map_err(Error::Unavailable)?
            } else {
                state
            };
            if out.json {
                out.json_value(&serde_json::json!({ "started": started, "demo": state, "config": state.config, "data_dir": state.data_dir }));
            } else {
                print_state(&state, if started { "demo started" } else { "demo already running" });
            }
            Ok(0)
        }
        DemoCmd::Status { dir } => {
            let profile = Profile::resolve(dir.clone()).map_err(Error::Unavailable)?;
            let st = hsof_demo::status(&profile);
            if out.json {
                let v = match &st {
                    Status::Running(s) => {
                        serde_json::json!({"running": true, "demo": s, "config": s.config, "data_dir": s.data_dir})
                    }
                    Status::Stopped => serde_json::json!({"running": false, "dir": profile.dir}),
                    Status::Stale(s) => serde_json::json!({"running": false, "stale": true, "demo": s}),
                };
                out.json_value(&v);
            } else {
                match &st {
                    Status::Running(s) => print_state(s, "demo running"),
                    Status::Stopped => println!("no demo running (profile {})", profile.dir.display()),
                    Status::Stale(s) => println!(
                        "no demo running: pid {} left a state file but does not answer; `hsofctl demo start` clears it",
                        s.pid
                    ),
                }
            }
            Ok(u8::from(!matches!(st, Status::Running(_))))
        }
        DemoCmd::Stop { dir } => {
            let profile = Profile::resolve(dir.clone()).map_err(Error::Unavailable)?;
            let stopped = hsof_demo::stop(&profile, Duration::from_secs(15)).map_err(Error::Unavailable)?;
            let msg = if stopped { "demo stopped" } else { "no demo was running" };
            out.line_or_json(msg, &serde_json::json!({ "stopped": stopped }));
            Ok(0)
        }
        DemoCmd::Scenario { name: None, .. } => {
            if out.json {
                let v: Vec<_> = SCENARIOS
                    .iter()
                    .map(|s| serde_json::json!({"name": s.name(), "description": s.description()}))
                    .collect();
                out.json_value(&v);
            } else {
                for s in SCENARIOS {
                    println!("{:<14} {}", s.name(), s.description());
                }
            }
            Ok(0)
        }
        DemoCmd::Scenario { name: Some(s), dir } => {
            let profile = Profile::resolve(dir.clone()).map_err(Error::Unavailable)?;
            let state = hsof_demo::set_scenario(&profile, *s).map_err(Error::Unavailable)?;
            if out.json {
                out.json_value(&state);
            } else {
                println!("scenario {}: {}", state.scenario, state.scenario.description());
            }
            Ok(0)
        }
        DemoCmd::Serve { scenario, dir, regions } => {
            let profile = Profile::resolve(dir.clone()).map_err(Error::Unavailable)?;
            hsof_demo::serve(&profile, *scenario, usize::from(*regions)).map_err(Error::Unavailable)?;
            Ok(0)
        }
    }
}
