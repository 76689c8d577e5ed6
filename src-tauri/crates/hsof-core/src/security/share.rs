//! Reviews through the team store (kind SecurityReview, named after the review's uid).
//! A review kept here is queued in the team outbox while sharing is on (the calendar's
//! gate): the record when it is kept, the sign-off when it is signed; every write carries
//! the record, so a review kept before sharing was on is shared by its sign-off. The sync
//! sends them (a store installed before the kind existed keeps them waiting, named). A
//! review read from the team store (the sync's list or the watch) is kept here as if it
//! had run here, with its sign-off, so a teammate's review is in [`AppContext::security_reviews`]
//! and the next review of its cluster is compared with it.

use chrono::{DateTime, Utc};
use hsof_store::CachedRecord;
use hsof_team::review as shared;
use serde_json::{json, Value};

use super::{rfc3339, ReviewRecord};
use crate::team::TeamChange;
use crate::{AppContext, Error};

/// The outbox's and the cache's name of the kind.
const KIND: &str = "securityreview";

impl AppContext {
    /// Queues the review just kept for the team store, when sharing is on.
    pub(super) fn share_review(&self, rec: &ReviewRecord) {
        self.queue_review(rec, json!({"op": "record"}));
    }

    /// Queues the sign-off just recorded for the team store, when sharing is on.
    pub(super) fn share_review_sign_off(&self, rec: &ReviewRecord) {
        let (Some(by), Some(at)) = (&rec.signed_off_by, &rec.signed_off_at) else { return };
        self.queue_review(rec, json!({"op": "sign_off", "signed_off": {"by": by, "at": at}}));
    }

    /// Queues `op` with the record. Sharing is a copy: a review that cannot be shared is
    /// kept here all the same, and why is logged.
    fn queue_review(&self, rec: &ReviewRecord, mut op: Value) {
        let record = match serde_json::to_value(rec).map_err(|e| e.to_string()).and_then(|r| {
            shared::check_record(&r)?;
            Ok(r)
        }) {
            Ok(r) => r,
            Err(why) => {
                tracing::warn!(review = rec.uid, %why, "a security review is not shared with the team; it stays here");
                return;
            }
        };
        op["record"] = record;
        let name = shared::name_for(&rec.uid);
        let queued = self.store().and_then(|s| s.team_queue_security_review(&name, &op).map_err(Error::from));
        if let Err(e) = queued {
            tracing::warn!(review = rec.uid, error = %e, "a security review could not be queued for the team store");
        }
    }

    /// Keeps a SecurityReview read from the team store: the review (once: one kept here
    /// already is left as it is) and its sign-off (the first one here stands). One this app
    /// cannot read is kept aside as invalid, with why, and skipped. `Some` when something
    /// here changed.
    pub(crate) fn team_mirror_review(&self, obj: &Value, now: DateTime<Utc>) -> Result<Option<TeamChange>, Error> {
        let store = self.store()?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
        // The list of every sync reads every review again: one unchanged since it was kept
        // here is not read again.
        let seen = store.team_cache_get(KIND, name)?;
        if let Some(seen) = seen.filter(|c| !rv.is_empty() && c.resource_version == rv && c.invalid.is_none()) {
            store.team_cache_put(KIND, name, &CachedRecord { read_at: crate::time::ts(now), ..seen })?;
            return Ok(None);
        }
        let checked = shared::to_local(obj).and_then(|r| {
            let rec = serde_json::from_value::<ReviewRecord>(r.record)
                .map_err(|e| format!("spec: not a security review this app reads ({e})"))?;
            Ok((r.uid, rec, r.signed_off))
        });
        // The record itself is kept with the reviews: the cache holds what names it.
        let cached = CachedRecord {
            resource_version: rv.to_string(),
            object: json!({"metadata": obj["metadata"], "status": obj["status"],
                "spec": {"uid": obj["spec"]["uid"], "cluster": obj["spec"]["cluster"], "by": obj["spec"]["by"]}})
            .to_string(),
            read_at: crate::time::ts(now),
            invalid: checked.as_ref().err().cloned(),
        };
        store.team_cache_put(KIND, name, &cached)?;
        let (uid, rec, signed) = match checked {
            Ok(c) => c,
            Err(why) => {
                tracing::warn!(review = name, %why, "a shared security review cannot be read; it is shown as invalid");
                return Ok(None);
            }
        };
        let (id, mut changed) = match store.security_review_by_uid(&uid)? {
            Some(row) => (row.id, false),
            None => {
                let at = DateTime::parse_from_rfc3339(&rec.report.at)
                    .or_else(|_| {
                        DateTime::parse_from_rfc3339(obj["metadata"]["creationTimestamp"].as_str().unwrap_or_default())
                    })
                    .map_or(now, |t| t.with_timezone(&Utc));
                let json =
                    serde_json::to_string(&rec).map_err(|e| Error::InvalidInput(format!("security review: {e}")))?;
                let id = store.insert_security_review(
                    &uid,
                    &rfc3339(at),
                    &rec.cluster,
                    &rec.report.namespace,
                    &rec.by,
                    &json,
                )?;
                (id, true)
            }
        };
        if let Some((by, at)) = signed {
            changed |= store.sign_off_security_review_uid(&uid, &by, &at)?;
        }
        Ok(changed.then_some(TeamChange { kind: KIND, id, notice: None }))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use hsof_team::incident::Actor;

    use super::*;
    use crate::{BackendChoice, Options};

    /// A desktop over its own files in the temporary directory, removed when dropped.
    struct Desktop {
        ctx: AppContext,
        dir: std::path::PathBuf,
    }

    impl Drop for Desktop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn desktop(who: &str) -> Desktop {
        let dir = std::env::temp_dir().join(format!(
            "hsof-share-{who}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let ctx = AppContext::open(&Options {
            config: Some(dir.join("config.toml")),
            data_dir: Some(dir.join("data")),
            secrets: BackendChoice::File,
        });
        Desktop { ctx, dir }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 9, h, 0, 0).single().expect("a time")
    }

    /// A review of `cluster` kept on `d` as `security_review` keeps one.
    fn kept(d: &Desktop, cluster: &str, uid: &str) -> ReviewRecord {
        let inputs = hsof_review::Inputs {
            namespace: "hsof".into(),
            roles: Ok(vec![]),
            cluster_roles: Ok(vec![]),
            role_bindings: Ok(vec![]),
            cluster_role_bindings: Ok(vec![]),
            service_accounts: Ok(vec![]),
            pods: Ok(vec![]),
            deployments: Ok(vec![]),
            cronjobs: Ok(vec![]),
            jobs: Ok(vec![]),
            network_policies: Ok(vec![]),
            namespaces: Ok(vec![]),
            claims: Ok(vec![]),
            storage_classes: Ok(vec![]),
            configmap: Ok(None),
            scanner: hsof_review::Scanner::NotInstalled,
            deployment: "hsof".into(),
            backup_cronjob: "hsof-backup".into(),
            retention_target_days: 30,
            now: at(10),
        };
        let mut rec = ReviewRecord {
            id: 0,
            uid: uid.into(),
            cluster: cluster.into(),
            by: "ali".into(),
            signed_off_by: None,
            signed_off_at: None,
            report: hsof_review::review(&inputs),
            audit: None,
            diff: None,
            previous: None,
            took_ms: 5.0,
        };
        let json = serde_json::to_string(&rec).expect("json");
        let store = d.ctx.store().expect("store");
        rec.id = store.insert_security_review(uid, &rfc3339(at(10)), cluster, "hsof", "ali", &json).expect("kept");
        d.ctx.share_review(&rec);
        rec
    }

    /// The shared object the outbox's writes make, as `hsof_team::sync::push` makes it.
    fn pushed(d: &Desktop, user: &str) -> Value {
        let outbox = d.ctx.store().expect("store").team_outbox().expect("outbox");
        let ops: Vec<Value> = outbox.iter().map(|o| serde_json::from_str(&o.op).expect("op")).collect();
        let actor = Actor { user: user.into() };
        let mut obj = shared::new_object(&outbox[0].name, "hsof", &ops[0], &actor);
        for op in &ops {
            shared::apply(&mut obj, op, &actor).expect("applies");
        }
        obj["metadata"]["resourceVersion"] = json!("1");
        obj
    }

    #[test]
    fn a_review_is_queued_while_sharing_is_on_and_a_teammates_desktop_keeps_it() {
        let a = desktop("a");
        let cluster = a.ctx.current_cluster().name.clone();
        let store = a.ctx.store().expect("store");
        kept(&a, &cluster, "prod-20261209t090000-0001");
        assert!(store.team_outbox().expect("outbox").is_empty(), "sharing off: nothing queued");

        store.set_team_meta("enabled", "true").expect("on");
        let rec = kept(&a, &cluster, "prod-20261209t100000-0002");
        let signed = a.ctx.security_review_sign_off(rec.id, "ali", at(11)).expect("signed");
        let outbox = store.team_outbox().expect("outbox");
        let ops: Vec<(&str, &str, Value)> = outbox
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_str(), serde_json::from_str::<Value>(&o.op).expect("op")))
            .collect();
        assert_eq!(ops.len(), 2, "{ops:?}");
        assert!(ops
            .iter()
            .all(|(k, n, op)| *k == "securityreview" && *n == rec.uid && op["record"]["uid"] == rec.uid.as_str()));
        assert_eq!((ops[0].2["op"].as_str(), ops[1].2["op"].as_str()), (Some("record"), Some("sign_off")));
        assert_eq!(ops[1].2["signed_off"], json!({"by": "ali", "at": signed.signed_off_at}));

        // A teammate's desktop reads it from the team store: kept as if it had run there,
        // with its sign-off, and the newest review the next one is compared with.
        let b = desktop("b");
        let obj = pushed(&a, "alice");
        let change = b.ctx.team_mirror_review(&obj, at(12)).expect("mirrored").expect("a change");
        assert_eq!(change.kind, "securityreview");
        let there = b.ctx.security_reviews(10).expect("reviews");
        assert_eq!(there.len(), 1);
        assert_eq!((there[0].uid.as_str(), there[0].id), (rec.uid.as_str(), change.id));
        assert_eq!(there[0].signed_off_by.as_deref(), Some("alice (ali)"));
        assert_eq!(there[0].report, rec.report);
        assert_eq!(b.ctx.team_mirror_review(&obj, at(12)).expect("again"), None, "read again, nothing changes");

        // On the desktop that ran it, the copy from the cluster is the same review.
        assert_eq!(a.ctx.team_mirror_review(&obj, at(12)).expect("mirrored"), None);
        assert_eq!(a.ctx.security_reviews(10).expect("reviews").len(), 2);
    }

    #[test]
    fn a_review_signed_off_in_the_cluster_later_and_a_malformed_one_are_handled() {
        let a = desktop("c");
        let cluster = a.ctx.current_cluster().name.clone();
        a.ctx.store().expect("store").set_team_meta("enabled", "true").expect("on");
        let rec = kept(&a, &cluster, "prod-20261209t100000-0003");
        let mut obj = pushed(&a, "alice");
        let b = desktop("d");
        b.ctx.team_mirror_review(&obj, at(12)).expect("mirrored");
        assert_eq!(b.ctx.security_review_get(1).expect("kept").signed_off_by, None);
        let sign = json!({"op": "sign_off", "signed_off": {"by": "bo", "at": "2026-12-09T13:00:00Z"}});
        shared::apply(&mut obj, &sign, &Actor { user: "bob".into() }).expect("signs");
        obj["metadata"]["resourceVersion"] = json!("2");
        assert!(b.ctx.team_mirror_review(&obj, at(13)).expect("mirrored").is_some(), "the sign-off arrives");
        let there = b.ctx.security_review_get(1).expect("kept");
        assert_eq!((there.uid, there.signed_off_by.as_deref()), (rec.uid, Some("bob (bo)")));

        let mut bad = obj.clone();
        bad["metadata"]["name"] = json!("edited-by-hand");
        bad["spec"]["report"] = json!("not a report");
        assert_eq!(b.ctx.team_mirror_review(&bad, at(13)).expect("skipped"), None);
        let invalid = b.ctx.store().expect("store").team_cache_invalid(KIND).expect("invalid");
        assert!(invalid.len() == 1 && invalid[0].0 == "edited-by-hand" && invalid[0].1.contains("spec"), "{invalid:?}");
        assert_eq!(b.ctx.security_reviews(10).expect("reviews").len(), 1, "nothing kept of it");
    }
}
