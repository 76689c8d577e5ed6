//! Tamper evidence beyond the hash chain: the anchor outside the SQLite file catches rows
//! deleted from the end and a chain rewritten whole with recomputed hashes, which the chain
//! alone verifies as intact.

use chrono::{Duration, TimeZone, Utc};
use hsof_core::{AppContext, BackendChoice, Options};
use sha2::{Digest, Sha256};

fn audited_context(dir: &std::path::Path, saves: i64) -> AppContext {
    let ctx = AppContext::open(&Options {
        config: Some(dir.join("cfg/config.toml")),
        data_dir: Some(dir.join("data")),
        secrets: BackendChoice::File,
    });
    let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time");
    for i in 0..saves {
        let mut cfg = ctx.config().config;
        cfg.cluster.namespace = format!("hsof-{i}");
        ctx.save_config(cfg, "alice", t0 + Duration::minutes(i)).expect("save");
    }
    let v = ctx.audit_verify().expect("verify");
    assert!(v.intact && v.rows == u32::try_from(saves).expect("small"), "{v:?}");
    ctx
}

/// id, ts, action, target, before, after, result.
type AuditRow = (i64, String, String, String, Option<String>, Option<String>, String);

/// The file, opened as someone with sqlite3 would, triggers dropped.
fn tamper(ctx: &AppContext) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(ctx.paths().store_file()).expect("open the file");
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;").expect("drop triggers");
    conn
}

#[test]
fn deleting_the_newest_rows_is_reported_as_rows_missing_since_the_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = audited_context(dir.path(), 6);
    tamper(&ctx).execute("DELETE FROM audit_log WHERE id > 3", []).expect("delete the last 3");
    let chain = ctx.store().expect("store").verify_audit().expect("chain");
    assert!(chain.intact, "the chain alone cannot see a cut end: {chain:?}");
    let v = ctx.audit_verify().expect("verify");
    assert!(!v.intact, "{v:?}");
    assert_eq!(v.broken_at, Some(4));
    let reason = v.reason.unwrap_or_default();
    assert!(reason.contains("3 row(s) missing since the anchor"), "{reason}");
}

#[test]
fn a_chain_rewritten_whole_with_recomputed_hashes_is_caught() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = audited_context(dir.path(), 5);
    let conn = tamper(&ctx);
    // Every row rewritten (another actor), every hash recomputed as the app computes it.
    let rows: Vec<AuditRow> = conn
        .prepare("SELECT id, ts, action, target, before, after, result FROM audit_log ORDER BY id")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read");
    let mut prev = "0".repeat(64);
    for (id, ts, action, target, before, after, result) in rows {
        let actor = "mallory";
        let canonical = serde_json::json!([prev, id, ts, actor, action, target, before, after, result]).to_string();
        let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
        conn.execute(
            "UPDATE audit_log SET actor = ?2, prev_hash = ?3, hash = ?4 WHERE id = ?1",
            rusqlite::params![id, actor, prev, hash],
        )
        .expect("rewrite");
        prev = hash;
    }
    let chain = ctx.store().expect("store").verify_audit().expect("chain");
    assert!(chain.intact, "a consistent rewrite fools the chain: {chain:?}");
    let v = ctx.audit_verify().expect("verify");
    assert!(!v.intact && v.broken_at == Some(5), "{v:?}");
    assert!(v.reason.unwrap_or_default().contains("rewritten"));

    // Nor can the anchor be forged without its key.
    let tag = hex::encode(&Sha256::digest(ctx.paths().store_file().display().to_string().as_bytes())[..6]);
    let name = format!("audit-anchor-{tag}");
    assert!(ctx.secrets().get(&name).is_ok(), "the anchor lives in the secrets store");
    ctx.secrets().set(&name, &hsof_core::SecretValue::new(format!("5:{prev}:{}", "0".repeat(64)))).expect("forge");
    let v = ctx.audit_verify().expect("verify");
    assert!(!v.intact, "{v:?}");
    assert!(v.reason.unwrap_or_default().contains("does not authenticate"));
}

#[test]
fn an_untouched_trail_verifies_and_the_anchor_follows_new_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = audited_context(dir.path(), 2);
    let mut cfg = ctx.config().config;
    cfg.cluster.namespace = "hsof-later".into();
    ctx.save_config(cfg, "bob", Utc::now()).expect("save");
    let v = ctx.audit_verify().expect("verify");
    assert!(v.intact && v.rows == 3, "{v:?}");
    // A reopened context (the next start) reads the same anchor.
    drop(ctx);
    let ctx = AppContext::open(&Options {
        config: Some(dir.path().join("cfg/config.toml")),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    assert!(ctx.audit_verify().expect("verify").intact);
}
