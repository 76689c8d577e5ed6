//! Mirroring: a shared record read from the cluster (by the sync's list or the watch)
//! written into the local rows, with this desktop's unsent writes to it applied on top; a
//! record this app cannot read kept aside as invalid.

use chrono::{DateTime, Duration, Utc};
use hsof_store::{CachedRecord, Mirrored, TeamOpRecord};
use hsof_team::incident::{self as shared, Actor};
use hsof_team::sync::Kind;
use serde_json::Value;

use super::sync::{op_value, TeamChange, TeamSync};
use crate::incidents::ReminderNotice;
use crate::{AppContext, Error};

/// A teammate's declaration is announced when it is this recent and unresolved (not the
/// whole history on a desktop's first sync).
const ANNOUNCE_WITHIN_MINUTES: i64 = 60;

impl AppContext {
    /// Writes a shared record read from the cluster into the local cache (with this
    /// desktop's unsent writes to it applied on top). A record this app cannot read is
    /// kept aside as invalid, never mirrored and never written over.
    pub(super) async fn team_mirror(
        &self,
        cluster: &hsof_cluster::Cluster,
        kind: Kind,
        obj: &Value,
        actor: &Actor,
        now: DateTime<Utc>,
        out: &mut TeamSync,
    ) -> Result<(), Error> {
        out.read += 1;
        let change = match kind {
            Kind::Incident => {
                let older = hsof_team::sync::paged_entries(cluster.client(), &cluster.namespace, obj).await;
                self.team_mirror_one(obj, &older, actor, now)?
            }
            Kind::ProcedureRun | Kind::MaintenanceWindow => self.team_mirror_calendar(kind, obj, actor, now)?,
            Kind::SecurityReview => self.team_mirror_review(obj, now)?,
            Kind::OnCallSchedule | Kind::FollowUp | Kind::PostMortem => self.team_mirror_record(kind, obj, now)?,
        };
        if let Some(change) = change {
            out.changed += 1;
            out.notices.extend(change.notice);
        }
        Ok(())
    }

    /// Keeps the copy of a record whose local view is that copy with this desktop's writes
    /// on top (the on-call schedule, follow-ups, post-mortems); `Some` when it changed.
    pub(crate) fn team_mirror_record(
        &self,
        kind: Kind,
        obj: &Value,
        now: DateTime<Utc>,
    ) -> Result<Option<TeamChange>, Error> {
        let store = self.store()?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
        let before = store.team_cache_get(kind.outbox(), name)?;
        if before.as_ref().is_some_and(|b| b.resource_version == rv && !rv.is_empty()) {
            return Ok(None);
        }
        let checked = match kind {
            Kind::OnCallSchedule => hsof_team::oncall::to_local(obj).map(|_| ()),
            _ if !obj["spec"].is_object() => Err("spec: missing".to_string()),
            _ => Ok(()),
        };
        let cached = CachedRecord {
            resource_version: rv.to_string(),
            object: obj.to_string(),
            read_at: crate::time::ts(now),
            invalid: checked.err(),
        };
        store.team_cache_put(kind.outbox(), name, &cached)?;
        Ok(Some(TeamChange { kind: kind.outbox(), id: 0, notice: None }))
    }

    /// Mirrors one record; `Some` when something here changed.
    pub(crate) fn team_mirror_one(
        &self,
        obj: &Value,
        older: &[Value],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<TeamChange>, Error> {
        let store = self.store()?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let rv = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
        let checked = shared::to_local(obj).and_then(|_| {
            // Every entry must be of a kind this app knows, or its page could not show it.
            let tl = obj["status"]["timeline"].as_array().cloned().unwrap_or_default();
            for (n, e) in tl.iter().enumerate() {
                let k = e["kind"].as_str().unwrap_or_default();
                k.parse::<hsof_ops::incidents::TimelineKind>()
                    .map_err(|_| format!("status.timeline[{n}].kind: {k:?} is not a kind of entry this app knows"))?;
            }
            Ok(())
        });
        let cached = CachedRecord {
            resource_version: rv.to_string(),
            object: obj.to_string(),
            read_at: crate::time::ts(now),
            invalid: checked.clone().err(),
        };
        store.team_cache_put("incident", name, &cached)?;
        if let Err(why) = checked {
            tracing::warn!(incident = name, %why, "a shared incident cannot be read; it is shown as invalid");
            return Ok(None);
        }
        for _ in 0..3 {
            let pending: Vec<TeamOpRecord> =
                store.team_outbox()?.into_iter().filter(|o| o.kind == "incident" && o.name == name).collect();
            let through = pending.last().map_or(0, |o| o.seq);
            let mut folded = obj.clone();
            for o in &pending {
                // A write the record refuses stays queued (and named by the sync); the view
                // shows the rest.
                let _ = shared::apply(&mut folded, &op_value(o), actor);
            }
            // Entries moved to the record's timeline pages go in front.
            if !older.is_empty() {
                let mut all = older.to_vec();
                all.extend(folded["status"]["timeline"].as_array().cloned().unwrap_or_default());
                folded["status"]["timeline"] = Value::Array(all);
            }
            let (rec, entries) = shared::to_local(&folded).map_err(Error::InvalidInput)?;
            match store.team_mirror_incident(name, through, &rec, &entries)? {
                Mirrored::Stale => continue,
                Mirrored::Written { id, created, changed } => {
                    if !changed {
                        return Ok(None);
                    }
                    let recent = DateTime::parse_from_rfc3339(&rec.declared_at)
                        .is_ok_and(|t| now - t.with_timezone(&Utc) < Duration::minutes(ANNOUNCE_WITHIN_MINUTES));
                    let notice = (created && recent && rec.resolved_at.is_none()).then(|| ReminderNotice {
                        incident_id: id,
                        title: format!("{} declared by {}", rec.severity, rec.declared_by),
                        body: rec.title.clone(),
                    });
                    return Ok(Some(TeamChange { kind: "incident", id, notice }));
                }
            }
        }
        Ok(None)
    }

    /// Shared records of every kind this app cannot read: name and why.
    pub(super) fn team_invalid(&self) -> Result<Vec<(String, String)>, Error> {
        let store = self.store()?;
        let mut out = Vec::new();
        for kind in Kind::ALL {
            out.extend(store.team_cache_invalid(kind.outbox())?);
        }
        Ok(out)
    }

    /// Mirrors a procedure run or a maintenance window; `Some` when something here changed.
    pub(super) fn team_mirror_calendar(
        &self,
        kind: Kind,
        obj: &Value,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<TeamChange>, Error> {
        use hsof_team::calendar;
        let store = self.store()?;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let check = |o: &Value| match kind {
            Kind::ProcedureRun => calendar::run_to_local(o).map(|_| ()),
            _ => calendar::window_to_local(o).map(|_| ()),
        };
        let checked = check(obj);
        let cached = CachedRecord {
            resource_version: obj["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string(),
            object: obj.to_string(),
            read_at: crate::time::ts(now),
            invalid: checked.clone().err(),
        };
        store.team_cache_put(kind.outbox(), name, &cached)?;
        if let Err(why) = checked {
            tracing::warn!(record = name, %why, "a shared calendar record cannot be read; it is shown as invalid");
            return Ok(None);
        }
        for _ in 0..3 {
            let pending: Vec<TeamOpRecord> =
                store.team_outbox()?.into_iter().filter(|o| o.kind == kind.outbox() && o.name == name).collect();
            let through = pending.last().map_or(0, |o| o.seq);
            let mut folded = obj.clone();
            for o in &pending {
                let op = op_value(o);
                let _ = match kind {
                    Kind::ProcedureRun => calendar::apply_run(&mut folded, &op, actor),
                    _ => calendar::apply_window(&mut folded, &op, actor),
                };
            }
            let written = match kind {
                Kind::ProcedureRun => {
                    let (run, steps) = calendar::run_to_local(&folded).map_err(Error::InvalidInput)?;
                    store.team_mirror_run(name, through, &run, &steps)?
                }
                _ => {
                    let w = calendar::window_to_local(&folded).map_err(Error::InvalidInput)?;
                    store.team_mirror_window(name, through, &w)?
                }
            };
            match written {
                Mirrored::Stale => continue,
                Mirrored::Written { id, changed, .. } => {
                    return Ok(changed.then_some(TeamChange { kind: kind.outbox(), id, notice: None }));
                }
            }
        }
        Ok(None)
    }
}
