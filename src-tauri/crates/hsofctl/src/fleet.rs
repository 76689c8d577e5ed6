//! `hsofctl clusters`, `hsofctl fleet` and `hsofctl fleet diff A B`: every cluster the
//! configuration names, one row each, and the difference between two.

use chrono::Utc;
use clap::Subcommand;
use hsof_core::{AppContext, Error};
use hsof_fleet::{FleetRow, RowLevel};

use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum FleetCmd {
    /// Compare two clusters: the HSOF Deployment (image, replicas, resources, env, node
    /// selector, tolerations), its ConfigMap key by key, Services, HPA, PDB,
    /// NetworkPolicies and the backup CronJob; exits 1 when they differ
    Diff {
        /// The first cluster (`-` lines)
        a: String,
        /// The second cluster (`+` lines)
        b: String,
    },
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0))
}

fn age(secs: Option<i64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) if s < 2 * 86_400 => format!("{} h", s / 3600),
        Some(s) => format!("{} d", s / 86_400),
    }
}

fn level(l: RowLevel) -> &'static str {
    match l {
        RowLevel::Ok => "OK",
        RowLevel::Unknown => "UNKNOWN",
        RowLevel::Warning => "WARNING",
        RowLevel::Critical => "CRITICAL",
    }
}

fn print_row(r: &FleetRow, current: &str) {
    let mark = if r.name == current { "*" } else { " " };
    let budgets: Vec<String> = r.budgets.iter().map(|b| format!("{} {}", b.slo, pct(b.left))).collect();
    let drift = match &r.drift {
        None => "—".to_string(),
        Some(d) if d.is_same() => "none".into(),
        Some(d) => {
            let mut parts: Vec<String> = d.differences.iter().map(|x| format!("{}.{}", x.area, x.key)).collect();
            parts.extend(d.unknown.iter().map(|u| format!("not compared: {u}")));
            parts.join(", ")
        }
    };
    println!(
        "{mark}{:<14} {:<8} {:<9} {}{}",
        r.name,
        r.role,
        level(r.level),
        if r.reachable { "reachable" } else { "UNREACHABLE" },
        if r.stale { format!(" · last known values from {} (stale)", r.fetched_at) } else { String::new() }
    );
    println!(
        "   health {} · alerts {} · HSOF {} · replicas {}/{} · GPUs {}/{} allocated · last backup {} ago",
        r.health.as_deref().unwrap_or("—"),
        r.alerts.map_or_else(|| "not read".into(), |a| format!("{} critical, {} warning", a.critical, a.warning)),
        r.version.as_deref().unwrap_or("—"),
        r.replicas_ready.map_or("—".into(), |v| v.to_string()),
        r.replicas_desired.map_or("—".into(), |v| v.to_string()),
        r.gpu_allocated.map_or("—".into(), |v| v.to_string()),
        r.gpu_capacity.map_or("—".into(), |v| v.to_string()),
        age(r.backup_age_secs),
    );
    if !budgets.is_empty() {
        println!("   budget left: {}", budgets.join(", "));
    }
    println!("   drift from the primary: {drift}");
    for p in &r.problems {
        println!("   ! {p}");
    }
}

/// `hsofctl fleet`: exits 0 when every cluster is OK, 1 when one needs a look (warning or
/// unknown), 2 when one is critical or unreachable.
pub async fn fleet(ctx: &AppContext, out: &Out) -> Result<u8, Error> {
    let view = ctx.fleet(Utc::now()).await?;
    if out.json {
        out.json_value(&view);
    } else {
        for r in &view.rows {
            print_row(r, &view.current);
        }
        println!(
            "\n{} cluster(s), worst {} · read in {:.0} ms · * = current (--cluster NAME)",
            view.rows.len(),
            level(view.worst),
            view.took_ms
        );
    }
    Ok(match view.worst {
        RowLevel::Ok => 0,
        RowLevel::Unknown | RowLevel::Warning => 1,
        RowLevel::Critical => 2,
    })
}

/// `hsofctl fleet diff A B`: exits 0 when nothing differs and everything was compared.
pub async fn diff(ctx: &AppContext, cmd: &FleetCmd, out: &Out) -> Result<u8, Error> {
    let FleetCmd::Diff { a, b } = cmd;
    let d = ctx.fleet_diff(a, b, Utc::now()).await?;
    if out.json {
        out.json_value(&d);
    } else {
        print!("{}", d.text);
    }
    Ok(u8::from(!d.comparison.is_same()))
}

/// `hsofctl clusters`: the clusters the configuration names.
pub fn clusters(ctx: &AppContext, out: &Out) {
    let list = ctx.clusters();
    if out.json {
        out.json_value(&serde_json::json!({ "clusters": list, "current": ctx.current_cluster().name }));
        return;
    }
    for c in &list {
        let mark = if c.name == ctx.current_cluster().name { "*" } else { " " };
        let context = if c.context.is_empty() { "(current context)" } else { &c.context };
        println!(
            "{mark}{:<14} {:<8} {context}{}",
            c.name,
            c.role.as_str(),
            if c.implicit { "  ([cluster] section)" } else { "" }
        );
    }
}
