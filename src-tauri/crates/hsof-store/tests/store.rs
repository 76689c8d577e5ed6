//! The store against real SQLite files in temporary directories.

use chrono::{TimeZone, Utc};
use hsof_store::{NewAuditEntry, Store, StoreError, STORE_FILE};

fn t(sec: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + sec, 0).single().expect("valid time")
}

fn entry<'a>(action: &'a str, after: &'a str) -> NewAuditEntry<'a> {
    NewAuditEntry {
        actor: "alice",
        action,
        target: "deployment/hsof-main",
        before: None,
        after: Some(after),
        result: "ok",
    }
}

#[test]
fn new_store_is_migrated_in_wal_mode_and_keeps_data_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/data").join(STORE_FILE);
    {
        let store = Store::open(&path).expect("open");
        let facts = store.facts().expect("facts");
        assert_eq!(facts.journal_mode, "wal");
        assert_eq!(facts.schema_version, facts.latest_version);
        assert!(facts.size_bytes > 0.0);
        store.record_event(t(0), "app.start", "started", None).expect("event");
    }
    let store = Store::open(&path).expect("reopen");
    let events = store.recent_events(Some("app.start"), 10).expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message, "started");
    assert!(store.recent_events(Some("other"), 10).expect("events").is_empty());
}

#[test]
fn corrupt_file_is_refused_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(STORE_FILE);
    let junk = b"this is not a database, it is somebody's notes\n".repeat(200);
    std::fs::write(&path, &junk).expect("write");
    let err = Store::open(&path).expect_err("must refuse");
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), junk);
}

#[test]
fn store_from_a_newer_build_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(STORE_FILE);
    {
        let conn = rusqlite::Connection::open(&path).expect("open raw");
        conn.execute_batch("CREATE TABLE future(x); PRAGMA user_version = 999;").expect("prep");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("must refuse");
    match err {
        StoreError::TooNew { found, .. } => assert_eq!(found, 999),
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn data_dir_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "file").expect("write");
    let err = Store::open(&blocker.join("sub").join(STORE_FILE)).expect_err("must fail");
    assert!(matches!(err, StoreError::DataDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn audit_chain_verifies_and_rows_cannot_be_changed_through_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(STORE_FILE);
    let store = Store::open(&path).expect("open");
    assert!(store.verify_audit().expect("verify").intact);
    for i in 0..5 {
        let after = format!("{{\"replicas\":{i}}}");
        let row = store.append_audit(&entry("scale", &after), t(i)).expect("append");
        assert_eq!(row.id, i + 1);
    }
    let listed = store.list_audit(3).expect("list");
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![5, 4, 3]);
    assert_eq!(listed[1].prev_hash, listed[2].hash);
    let v = store.verify_audit().expect("verify");
    assert_eq!((v.rows, v.intact, v.broken_at), (5, true, None));
    drop(store);

    let conn = rusqlite::Connection::open(&path).expect("raw");
    let refused = conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 2", []);
    assert!(refused.is_err(), "append-only trigger must refuse updates");
    assert!(conn.execute("DELETE FROM audit_log WHERE id = 2", []).is_err());
}

#[test]
fn tampering_behind_the_apps_back_is_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(STORE_FILE);
    let store = Store::open(&path).expect("open");
    for i in 0..4 {
        store.append_audit(&entry("restart", "{}"), t(i)).expect("append");
    }
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("raw");
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET result = 'ok, honest' WHERE id = 3;")
        .expect("tamper");
    drop(conn);
    let v = Store::open(&path).expect("open").verify_audit().expect("verify");
    assert!(!v.intact);
    assert_eq!(v.broken_at, Some(3));
    assert!(v.reason.as_deref().unwrap_or_default().contains("edited"), "{v:?}");

    let conn = rusqlite::Connection::open(&path).expect("raw");
    conn.execute_batch("UPDATE audit_log SET result = 'ok' WHERE id = 3; DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 2;")
        .expect("tamper");
    drop(conn);
    let v = Store::open(&path).expect("open").verify_audit().expect("verify");
    assert_eq!((v.intact, v.broken_at), (false, Some(3)));
    assert!(v.reason.as_deref().unwrap_or_default().contains("missing"), "{v:?}");
}
