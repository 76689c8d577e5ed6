//! `hsofctl updates` and `hsofctl cleanup`: Friday maintenance and the monthly technology
//! updates.

use chrono::Utc;
use hsof_core::{os_user, AppContext, Error};

use crate::output::Out;

/// `hsofctl updates`: exit 0 all supported and nothing at a removed API, 1 something to
/// plan (end of support near, skew at the limit, removed APIs, fixable vulnerabilities,
/// something not read), 2 unsupported or outside the skew policy.
pub async fn updates(ctx: &AppContext, out: &Out) -> Result<u8, Error> {
    let v = ctx.updates(Utc::now()).await?;
    let (versions, _) = v.step("versions");
    let (patches, _) = v.step("patches");
    let (images, _) = v.step("images");
    if out.json {
        out.json_value(&v);
    } else {
        println!("Kubernetes versions of cluster {} (end of support from [upkeep] end_of_support)", v.cluster);
        for c in &v.versions.components {
            println!("  {:<8} {:<24} {:<18} {}", c.verdict.to_uppercase(), c.name, c.version, c.note);
        }
        for u in &v.versions.unread {
            println!("  NOT READ {u}");
        }
        println!("\nobjects at API versions the next release removes ({})", v.removed_apis_source);
        if v.removed_apis.is_empty() && v.removed_apis_unread.is_empty() {
            println!("  none");
        }
        for r in &v.removed_apis {
            println!(
                "  {} written at {} by {}: removed in {}{}; use {}",
                r.object,
                r.api_version,
                r.by,
                r.removed_in,
                if r.already_removed { " (already gone)" } else { "" },
                r.replacement
            );
        }
        for u in &v.removed_apis_unread {
            println!("  NOT READ {u}");
        }
        println!("\nimages running");
        for (image, pods) in &v.images {
            println!("  {image}  ({pods} pod(s))");
        }
        println!("\nagainst their registries (credentials from the pods' pull secrets, not kept)");
        for u in &v.registry {
            match &u.error {
                Some(e) => println!("  {}: NOT READ {e}", u.image),
                None => println!(
                    "  {}: newest {}{}{}{}",
                    u.image,
                    u.newest.clone().unwrap_or_else(|| "none (no version tags)".into()),
                    u.newest_created.as_ref().map(|c| format!(" (built {c})")).unwrap_or_default(),
                    if u.newer { " — NEWER than the running tag" } else { "" },
                    if u.moved { " — the tag MOVED since the pods pulled it" } else { "" },
                ),
            }
        }
        for p in &v.registry_problems {
            println!("  NOT READ {p}");
        }
        println!("\nsecurity patches: {}", v.patches_source);
        for p in &v.patches {
            println!("  {}: {} fixable critical/high", p.image, p.fixable);
            for f in &p.fixes {
                println!("    {f}");
            }
        }
    }
    Ok(match (versions, patches, images) {
        ("fail", _, _) => 2,
        ("pass", "pass", "pass") => 0,
        _ => 1,
    })
}

/// `hsofctl cleanup [--dry-run|--yes] [OBJECT…]`: without `--yes` the server-side dry run
/// of each deletion; with it, each deletion audited; exit 1 when one failed.
pub async fn cleanup(ctx: &AppContext, only: &[String], yes: bool, out: &Out) -> Result<u8, Error> {
    let view = ctx.cleanup(only, !yes, &os_user(), Utc::now()).await?;
    if out.json {
        out.json_value(&view);
    } else {
        let r = &view.report;
        if r.leftovers.is_empty() {
            println!("nothing left over");
        }
        for l in &r.leftovers {
            let size = l.bytes.map(|b| format!(", {:.1} GiB", b as f64 / 1024f64.powi(3))).unwrap_or_default();
            let cost = l.monthly_cost.map(|c| format!(", {c:.2} a month")).unwrap_or_default();
            println!("  {}/{}: {}{size}{cost}", l.kind, l.name, l.why);
        }
        for k in &r.kept {
            println!("  kept {}/{}: {}", k.kind, k.name, k.why);
        }
        for u in &r.unread {
            println!("  NOT READ {u}");
        }
        if !view.steps.is_empty() {
            println!(
                "\n{}",
                if view.dry_run { "dry run (server side), nothing deleted:" } else { "deleted (audited):" }
            );
        }
        for s in &view.steps {
            println!("  {} {}", s.target, s.outcome);
        }
        if view.dry_run && !view.steps.is_empty() {
            println!("\nhsofctl cleanup --yes deletes these (or name some: hsofctl cleanup --yes job/NAME …)");
        }
    }
    Ok(u8::from(view.steps.iter().any(|s| !s.ok)))
}
