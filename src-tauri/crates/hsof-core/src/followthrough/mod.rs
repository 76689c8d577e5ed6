//! An incident carried through to the end: the on-call rotation (`oncall.rs`), follow-up
//! actions (`followups.rs`), the post-mortem assembled from what happened
//! (`postmortem.rs`), stakeholder updates (`stakeholders.rs`) and the daily and monthly
//! steps that read them (`steps.rs`).
//!
//! The schedule, follow-ups and post-mortems are team-store records (hsof-team) whose
//! local view is the cluster's last copy with this desktop's unsent writes applied on top
//! by the same pure functions the cluster's copy went through: the outbox is their only
//! local home, written in one transaction per change, so nothing typed is lost offline or
//! by a crash, and a desktop without the team store keeps them all the same. The rules
//! (rotation arithmetic, due dates, role hand-over, impact) are hsof-ops'.

mod followups;
mod oncall;
mod postmortem;
mod stakeholders;
mod steps;

use chrono::{DateTime, Utc};
use hsof_team::incident::Actor;
use hsof_team::sync::Kind;
use serde_json::Value;

pub use followups::{FollowUpFilter, FollowUpView, NewFollowUp};
pub use oncall::{MemberView, OnCallView, OverrideInput};
pub use postmortem::PostMortemView;
pub use stakeholders::{StakeholderPost, StakeholderPreview};

use crate::{AppContext, Error};

/// One record of a kind kept as the cluster's copy plus this desktop's writes.
#[derive(Debug, Clone)]
pub(crate) struct LocalRecord {
    /// Its name in the team store.
    pub name: String,
    /// The record with this desktop's unsent writes applied.
    pub object: Value,
    /// Writes made here and not in the cluster yet (0 while sharing is off: the record is
    /// this desktop's, with nothing waiting to be shared).
    pub pending: usize,
    /// Writes that could not be applied to it (named, kept in the outbox).
    pub refused: Vec<String>,
}

/// A new id for a write, unique across desktops.
pub(crate) fn write_id() -> String {
    crate::incidents::unique_id()
}

/// `n` random bytes as hex (the OS's generator): record names two desktops never share.
pub(crate) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: the write id's time, process and count, hashed.
        use sha2::Digest as _;
        b = sha2::Sha256::digest(write_id().as_bytes())[..n.min(32)].to_vec();
    }
    hex::encode(b)
}

impl AppContext {
    /// The actor whose name the offline view applies this desktop's writes with.
    fn local_actor(&self) -> Actor {
        let home = self.team_elsewhere();
        Actor { user: home.as_ref().unwrap_or(self).team_identity_cached() }
    }

    /// Every record of `kind` as this desktop sees it.
    pub(crate) fn local_records(&self, kind: Kind) -> Result<Vec<LocalRecord>, Error> {
        let store = self.store()?;
        let actor = self.local_actor();
        let sharing = store.team_enabled()?;
        let outbox = store.team_outbox()?;
        let mut out: Vec<LocalRecord> = Vec::new();
        for (name, cached) in store.team_cache_all(kind.outbox())? {
            if cached.invalid.is_some() {
                continue;
            }
            let Ok(object) = serde_json::from_str::<Value>(&cached.object) else { continue };
            out.push(LocalRecord { name, object, pending: 0, refused: vec![] });
        }
        let mut names: Vec<String> = Vec::new();
        for o in outbox.iter().filter(|o| o.kind == kind.outbox()) {
            if !names.contains(&o.name) {
                names.push(o.name.clone());
            }
        }
        for name in names {
            let ops: Vec<Value> = outbox
                .iter()
                .filter(|o| o.kind == kind.outbox() && o.name == name)
                .map(|o| serde_json::from_str(&o.op).unwrap_or(Value::Null))
                .collect();
            let i = match out.iter().position(|r| r.name == name) {
                Some(i) => i,
                None => {
                    let Some(object) = kind.local_object(&name, &ops, &actor) else { continue };
                    out.push(LocalRecord { name: name.clone(), object, pending: 0, refused: vec![] });
                    out.len() - 1
                }
            };
            let r = &mut out[i];
            r.refused = kind.fold(&mut r.object, &ops, &actor);
            r.pending = if sharing { ops.len() } else { 0 };
        }
        Ok(out)
    }

    /// One record of `kind`.
    pub(crate) fn local_record(&self, kind: Kind, name: &str) -> Result<Option<LocalRecord>, Error> {
        Ok(self.local_records(kind)?.into_iter().find(|r| r.name == name))
    }

    /// Queues a write to record `kind`/`name` after checking it applies to the record as
    /// this desktop sees it (a write the record refuses is an error here, not a surprise
    /// in the outbox). Sent with the next sync when sharing is on (a read-only app keeps
    /// it queued, as it does incidents).
    pub(crate) fn queue_record_write(
        &self,
        kind: Kind,
        name: &str,
        op: &Value,
        current: Option<&LocalRecord>,
    ) -> Result<(), Error> {
        let actor = self.local_actor();
        let mut obj = match current {
            Some(r) => r.object.clone(),
            None => kind
                .local_object(name, std::slice::from_ref(op), &actor)
                .ok_or_else(|| Error::InvalidInput(format!("{} {name} does not exist", kind.resource().kind)))?,
        };
        let refused = kind.fold(&mut obj, std::slice::from_ref(op), &actor);
        if let Some(why) = refused.into_iter().next() {
            return Err(Error::InvalidInput(why));
        }
        self.store()?.team_queue_record(kind.outbox(), name, op)?;
        Ok(())
    }

    /// Whether a member is this desktop's user (by their user, else their name).
    pub(crate) fn is_me(&self, member: &str, user: Option<&str>) -> bool {
        let me = [self.local_actor().user, crate::os_user()];
        me.iter().any(|m| Some(m.as_str()) == user || m == member)
    }
}

/// `now` as the writes' time.
pub(crate) fn at(now: DateTime<Utc>) -> String {
    crate::time::ts(now)
}
