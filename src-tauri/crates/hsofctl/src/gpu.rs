//! `hsofctl gpu [--watch] [--json]`: the local NVIDIA GPUs as the GPU screen shows them.
//!
//! Without a GPU it prints `no NVIDIA GPU on this machine: <why>` and exits 0: having no
//! GPU is a state of the machine, not a failure of the command.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::Utc;
use clap::Args;
use hsof_core::gpu::{DeviceReading, GpuLevel, GpuState, GpuView, SAMPLE_INTERVAL_SECS};
use hsof_core::{AppContext, Error};

use crate::output::Out;

#[derive(Debug, Args)]
pub struct GpuArgs {
    /// Read again every 2 s until interrupted (Ctrl-C); with --json, one JSON line per reading
    #[arg(long)]
    watch: bool,
    /// With --watch: stop after this many readings
    #[arg(long, value_name = "N", requires = "watch")]
    count: Option<u64>,
}

pub fn run(ctx: &AppContext, args: &GpuArgs, out: &Out) -> Result<(), Error> {
    let tty = std::io::stdout().is_terminal();
    let mut n = 0u64;
    loop {
        let view = ctx.gpu_status(Utc::now());
        n += 1;
        match (out.json, args.watch) {
            // One compact line per reading, so `--watch --json` streams as JSON Lines.
            (true, true) => match serde_json::to_string(&view) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("hsofctl: could not encode JSON: {e}"),
            },
            (true, false) => out.json_value(&view),
            (false, _) => {
                if args.watch && tty {
                    // Clear the screen and home the cursor: a refreshing view like nvidia-smi -l.
                    print!("\x1b[2J\x1b[H");
                }
                print_view(&view);
            }
        }
        if !args.watch || args.count.is_some_and(|c| n >= c) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(SAMPLE_INTERVAL_SECS));
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>, unit: &str) -> String {
    v.map(|v| format!("{v}{unit}")).unwrap_or_else(|| "—".into())
}

fn gib(b: Option<u64>) -> String {
    b.map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)).unwrap_or_else(|| "—".into())
}

pub fn print_view(v: &GpuView) {
    let (driver, cuda, devices) = match &v.reading.state {
        GpuState::NoGpu { reason, .. } => {
            println!("{reason}");
            println!("(the GPU figures need an NVIDIA GPU and its driver, which provides libnvidia-ml.so)");
            return;
        }
        GpuState::Present { driver_version, cuda_version, devices } => (driver_version, cuda_version, devices),
    };
    println!(
        "NVIDIA driver {driver}  CUDA {}  ({} GPU{}, read {})",
        cuda.as_deref().unwrap_or("?"),
        devices.len(),
        if devices.len() == 1 { "" } else { "s" },
        v.reading.at
    );
    for d in devices {
        print_device(d);
        if let Some(alerts) = v.devices.iter().find(|a| a.uuid == d.uuid) {
            for a in alerts.alerts.iter().filter(|a| a.active) {
                let lvl = if a.level == GpuLevel::Critical { "CRIT" } else { "WARN" };
                println!("    {lvl} {}", a.title);
            }
        }
    }
}

fn print_device(d: &DeviceReading) {
    println!("\nGPU {}  {}  {}", d.index, d.name, d.uuid);
    let mem_pct = d.memory_pct().map(|p| format!(" ({p:.0} %)")).unwrap_or_default();
    println!(
        "    util {}  memory {} / {}{}  temp {}  power {} / {}",
        opt(d.utilization_pct, " %"),
        gib(d.memory_used_bytes),
        gib(d.memory_total_bytes),
        mem_pct,
        opt(d.temperature_c, " °C"),
        opt(d.power_draw_w.map(|w| format!("{w:.0}")), " W"),
        opt(d.power_limit_w.map(|w| format!("{w:.0}")), " W"),
    );
    println!(
        "    clocks SM {} (max {})  memory {} (max {})  {}  fan {}",
        opt(d.sm_clock_mhz, " MHz"),
        opt(d.max_sm_clock_mhz, " MHz"),
        opt(d.memory_clock_mhz, " MHz"),
        opt(d.max_memory_clock_mhz, " MHz"),
        d.pstate.as_deref().unwrap_or("P?"),
        opt(d.fan_pct, " %"),
    );
    if !d.throttle_reasons.is_empty() {
        println!("    throttled: {}", d.throttle_reasons.join(", "));
    }
    if let Some(e) = d.ecc {
        println!("    ECC errors since driver load: {} corrected, {} uncorrected", e.corrected, e.uncorrected);
    }
    for p in &d.problems {
        println!("    (could not read {p})");
    }
    if d.processes.is_empty() {
        println!("    no compute processes");
    } else {
        println!("    {:>8}  {:<24} {:>10}", "PID", "PROCESS", "MEMORY");
        for p in &d.processes {
            println!("    {:>8}  {:<24} {:>10}", p.pid, p.name, gib(p.used_memory_bytes));
        }
    }
}
