//! Security reviews: one row per review, the whole report kept as JSON; `uid` names the
//! review across desktops (the team store's record has the same name), so a review
//! mirrored from the team store is kept once.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE security_reviews (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uid           TEXT NOT NULL UNIQUE,
    at            TEXT NOT NULL,                -- RFC 3339 UTC
    cluster       TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    by_user       TEXT NOT NULL,
    signed_off_by TEXT,
    signed_off_at TEXT,
    record        TEXT NOT NULL                 -- hsof_core::security::ReviewRecord, JSON
);
CREATE INDEX security_reviews_cluster ON security_reviews(cluster, at);
"#,
    )]
}
