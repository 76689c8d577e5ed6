//! Text and JSON printing.

use hsof_core::{AuditEntry, Doctor, SecretBackend};
use serde::Serialize;

/// Where and how results print.
pub struct Out {
    /// `--json`
    pub json: bool,
}

impl Out {
    pub fn json_value<T: Serialize>(&self, v: &T) {
        match serde_json::to_string_pretty(v) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("hsofctl: could not encode JSON: {e}"),
        }
    }

    pub fn line_or_json<T: Serialize>(&self, line: &str, v: &T) {
        if self.json {
            self.json_value(v);
        } else {
            println!("{line}");
        }
    }
}

fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1u64 << 30) as f64)
}

pub fn print_doctor(d: &Doctor) {
    println!("{} {}  status: {}  (read {})", d.app.name, d.app.version, d.status, d.generated_at);
    for a in &d.attention {
        println!("  ! {a}");
    }
    println!("\nConfig    {}  {}", d.config.path, if d.config.ok { "ok" } else { "PROBLEM" });
    if d.config.created {
        println!("          created with defaults on this run");
    }
    println!(
        "Data dir  {}  {}",
        d.app.data_dir,
        if d.files.private {
            "private (folders 0700, files 0600)".to_string()
        } else {
            format!("NOT PRIVATE: {} path(s) readable by or owned by others, see above", d.files.exposures.len())
        }
    );
    println!("Logs      {}", d.app.log_dir);
    match (&d.store.facts, &d.store.error) {
        (Some(f), _) => println!(
            "Store     {}  schema v{}/{}  {:.1} KiB  journal={}",
            f.path,
            f.schema_version,
            f.latest_version,
            f.size_bytes / 1024.0,
            f.journal_mode
        ),
        (None, Some(e)) => println!("Store     UNAVAILABLE: {e}"),
        _ => {}
    }
    let secrets = match &d.secrets {
        SecretBackend::OsKeyring => "OS keyring".to_string(),
        SecretBackend::File { path } => format!("file {path} (0600; no OS keyring answered)"),
    };
    println!("Secrets   {secrets}");
    println!("\nKubernetes");
    if let Some(h) = &d.kube.hint {
        println!("  none found: {h}");
    }
    if let Some(e) = &d.kube.error {
        println!("  error: {e}");
    }
    for c in &d.kube.contexts {
        let cur = if d.kube.current_context.as_deref() == Some(&c.name) { "*" } else { " " };
        println!("  {cur} {:<24} cluster={} ns={}", c.name, c.cluster, c.namespace.as_deref().unwrap_or("-"));
    }
    println!("\nGPU");
    if let Some(m) = &d.gpu.message {
        println!("  {m}");
    }
    if d.gpu.driver_present {
        println!(
            "  driver {}  CUDA {}",
            d.gpu.driver_version.as_deref().unwrap_or("?"),
            d.gpu.cuda_version.as_deref().unwrap_or("?")
        );
    }
    for g in &d.gpu.devices {
        println!("  [{}] {}  {}  {}", g.index, g.name, gib(g.memory_total_bytes), g.uuid);
    }
    let h = &d.host;
    println!("\nMachine   {} — {} (kernel {})", h.hostname, h.os, h.kernel);
    println!(
        "CPU       {}  {} logical{}",
        h.cpu_model,
        h.logical_cpus,
        h.physical_cores.map(|p| format!(" / {p} physical")).unwrap_or_default()
    );
    println!("Memory    {} total, {} available", gib(h.memory_total_bytes), gib(h.memory_available_bytes));
}

pub fn print_audit(rows: &[AuditEntry]) {
    if rows.is_empty() {
        println!("audit log is empty: changes made through the app or hsofctl are recorded here");
        return;
    }
    println!("{:>5}  {:<24}  {:<12}  {:<20}  {:<28}  result", "id", "time (UTC)", "actor", "action", "target");
    for r in rows {
        println!("{:>5}  {:<24}  {:<12}  {:<20}  {:<28}  {}", r.id, r.ts, r.actor, r.action, r.target, r.result);
    }
}
