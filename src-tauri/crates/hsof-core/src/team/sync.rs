//! Sharing incidents through the team store. The local store stays what every screen
//! reads; for a shared incident it is a cache of the cluster's record with this desktop's
//! unsent writes applied on top (the offline view). Writes go to the outbox in the same
//! transaction as the local write (hsof-store), are sent in the order they were made when
//! the cluster answers (hsof-team applies each to the record as it is then, re-reading on
//! 409), and what comes back (by the sync's list or the watch) is mirrored into the local
//! rows (`mirror.rs`). A teammate's new declaration comes back as a [`TeamChange`] with a
//! notice. Procedure runs, maintenance windows and security reviews go the same way; the
//! records of a kind added after the store's first release that this store does not serve
//! wait, named, while the other kinds go on.

use chrono::{DateTime, Duration, Utc};
use hsof_store::TeamOpRecord;
use hsof_team::incident::Actor;
use hsof_team::sync::Kind;
use hsof_team::TeamError;
use serde::Serialize;
use serde_json::Value;

use crate::incidents::ReminderNotice;
use crate::{AppContext, Error};

/// The team store's per-process state: who this app is there, one sync at a time.
#[derive(Debug, Default)]
pub struct TeamState {
    /// (context, Kubernetes user) of the last SelfSubjectReview.
    identity: std::sync::Mutex<Option<(String, String)>>,
    /// The API server's clock minus this desktop's, and when that was measured (local).
    skew: std::sync::Mutex<Option<(DateTime<Utc>, Duration)>>,
    sync: tokio::sync::Mutex<()>,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct TeamSync {
    /// Sharing is on (the store was found installed and writable once).
    pub enabled: bool,
    /// The Kubernetes user this app writes as.
    pub identity: Option<String>,
    /// Writes sent.
    pub sent: u32,
    /// Writes still waiting (not shared yet).
    pub pending: u32,
    /// Shared records read.
    pub read: u32,
    /// Records that changed here.
    pub changed: u32,
    /// Why writes are waiting, one line each.
    pub errors: Vec<String>,
    /// Shared records this app cannot read (edited into another shape): name and why.
    pub invalid: Vec<(String, String)>,
    /// The API server's clock minus this desktop's, in seconds, when it is off by 2 s or
    /// more (shared timers run by the server's clock).
    #[specta(type = Option<f64>)]
    pub clock_skew_secs: Option<i64>,
    /// Teammates' new declarations.
    pub notices: Vec<ReminderNotice>,
    /// Reminders and escalations this app claimed (it alone shows them).
    pub reminders: Vec<ReminderNotice>,
}

/// The team store as this desktop sees it, without asking the cluster (for the screens).
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
pub struct TeamOverview {
    /// Sharing is on.
    pub enabled: bool,
    /// Writes made here and not in the cluster yet.
    pub pending: u32,
    /// Why the oldest waiting write waits, when an attempt failed.
    pub error: Option<String>,
    /// When this desktop last read a shared record (the offline view's age).
    pub read_at: Option<String>,
    /// Local-only incidents offered for upload (zero once answered).
    pub upload_offer: u32,
    /// Shared records this app cannot read: name and why.
    pub invalid: Vec<(String, String)>,
}

/// A shared record that changed here, from the watch.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamChange {
    /// `incident`, `procedurerun`, `maintenancewindow`, `securityreview`.
    pub kind: &'static str,
    /// Its local id (a run's row id, a review's id).
    pub id: i64,
    /// A teammate declared it (a notification is due).
    pub notice: Option<ReminderNotice>,
}

/// How often the API server's clock is read again.
const SKEW_EVERY_MINUTES: i64 = 10;
/// Clock differences below this are the Date header's rounding, not skew.
const SKEW_MIN_SECS: i64 = 2;
/// A reminder claimed this late (its app was offline) is recorded, not shown.
const REMINDER_STALE_MINUTES: i64 = 15;

pub(super) fn op_value(o: &TeamOpRecord) -> Value {
    serde_json::from_str(&o.op).unwrap_or(Value::Null)
}

/// Why the writes of a kind this store does not serve wait.
fn not_served(kind: Kind) -> String {
    format!("the team store has no {}: run {}", kind.resource().plural, hsof_team::INSTALL_HINT)
}

impl AppContext {
    /// The Kubernetes user this app writes as (SelfSubjectReview), else the OS user.
    pub(crate) async fn team_actor(&self, cluster: &hsof_cluster::Cluster) -> Actor {
        let cached = self.team_state().identity.lock().map(|g| g.clone()).unwrap_or_default();
        if let Some((ctx, user)) = cached.filter(|(c, _)| *c == cluster.context) {
            let _ = ctx;
            return Actor { user };
        }
        let user = match hsof_team::whoami(cluster).await {
            Ok(Some(u)) => u,
            _ => crate::os_user(),
        };
        if let Ok(mut g) = self.team_state().identity.lock() {
            *g = Some((cluster.context.clone(), user.clone()));
        }
        Actor { user }
    }

    /// The Kubernetes user this app last wrote as, without asking the cluster (the OS user
    /// before it first did): who "me" is for the offline views.
    pub(crate) fn team_identity_cached(&self) -> String {
        let cached = self.team_state().identity.lock().map(|g| g.clone()).unwrap_or_default();
        cached.map_or_else(crate::os_user, |(_, user)| user)
    }

    /// The API server's clock minus this desktop's, when measured and 2 s or more.
    fn team_skew(&self) -> Option<Duration> {
        let (_, skew) = self.team_state().skew.lock().ok().and_then(|g| *g)?;
        (skew.num_seconds().abs() >= SKEW_MIN_SECS).then_some(skew)
    }

    /// `now` by the API server's clock (as last measured): the time shared timers run by.
    pub fn team_clock(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.team_skew().map_or(now, |s| now + s)
    }

    /// Reads the team store's status and turns sharing on when it is installed and
    /// writable for this identity (and the app is not read-only). Sharing stays on while
    /// the cluster is unreachable: writes wait in the outbox.
    pub async fn team_connect(&self) -> Result<hsof_team::TeamStatus, Error> {
        let status = self.team_status().await?;
        if status.installed && status.writable && !self.config().config.cluster.read_only {
            self.store()?.set_team_meta("enabled", "true")?;
        }
        Ok(status)
    }

    /// [`Self::team_connect`] when sharing is off and the store was not looked for in the
    /// last hour (a desktop without the team store does not ask the cluster every time).
    /// Whatever it finds is the answer; failures leave the desktop local-only. True when
    /// this call turned sharing on (screens showing "local store" then read it again).
    pub async fn team_connect_if_due(&self, now: DateTime<Utc>) -> bool {
        if let Some(home) = self.team_elsewhere() {
            return Box::pin(home.team_connect_if_due(now)).await;
        }
        let Ok(store) = self.store() else { return false };
        if store.team_enabled().unwrap_or(true) {
            return false;
        }
        let last = store.team_meta("checked_at").ok().flatten();
        let due = last
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .is_none_or(|t| now - t.with_timezone(&Utc) >= Duration::hours(1) || t.with_timezone(&Utc) > now);
        if !due {
            return false;
        }
        let _ = store.set_team_meta("checked_at", &crate::time::ts(now));
        if let Err(e) = self.team_connect().await {
            tracing::debug!(error = %e, "the team store could not be looked for");
        }
        store.team_enabled().unwrap_or(false)
    }

    /// Sends this desktop's waiting writes in the order they were made, then reads every
    /// shared record into the local cache. Without the cluster, nothing is lost: the
    /// writes wait and the error says why.
    pub async fn team_sync(&self, now: DateTime<Utc>) -> Result<TeamSync, Error> {
        if let Some(home) = self.team_elsewhere() {
            return Box::pin(home.team_sync(now)).await;
        }
        let _one = self.team_state().sync.lock().await;
        let store = self.store()?;
        let mut out = TeamSync { enabled: store.team_enabled()?, ..Default::default() };
        if !out.enabled {
            return Ok(out);
        }
        let pending_count = |s: &hsof_store::Store| s.team_outbox().map(|o| o.len() as u32).unwrap_or(0);
        out.pending = pending_count(store);
        let cluster = self.cluster().await?;
        let actor = self.team_actor(&cluster).await;
        out.identity = Some(actor.user.clone());
        let client = cluster.client().clone();
        let ns = cluster.namespace.clone();
        let read_only = self.config().config.cluster.read_only;
        let measured = self.team_state().skew.lock().ok().and_then(|g| *g);
        if measured.is_none_or(|(at, _)| (now - at).num_minutes().abs() >= SKEW_EVERY_MINUTES) {
            match hsof_team::sync::server_time(&client).await {
                Ok(server) => {
                    if let Ok(mut g) = self.team_state().skew.lock() {
                        *g = Some((now, server - now));
                    }
                }
                Err(e) => tracing::debug!(error = %e, "the API server's clock could not be read"),
            }
        }
        out.clock_skew_secs = self.team_skew().map(|d| d.num_seconds());
        // One record's writes at a time, records in the order of their oldest write.
        let outbox = store.team_outbox()?;
        let mut records: Vec<(&str, &str)> = Vec::new();
        for o in &outbox {
            if !records.contains(&(o.kind.as_str(), o.name.as_str())) {
                records.push((&o.kind, &o.name));
            }
        }
        let mut forbidden: Vec<Kind> = Vec::new();
        // Kinds added after the store's first release, as this store serves them (asked once).
        let mut served: Vec<(Kind, bool)> = Vec::new();
        for (kind_name, name) in records {
            let Some(kind) = Kind::from_outbox(kind_name) else { continue };
            if forbidden.contains(&kind) {
                continue;
            }
            let mine: Vec<&TeamOpRecord> = outbox.iter().filter(|o| o.kind == kind_name && o.name == name).collect();
            if read_only {
                out.errors.push(format!("{name}: the app is read-only (cluster.read_only); its writes wait"));
                continue;
            }
            // A store installed before the kind was added: its records wait, named, and the
            // other kinds go on (asked before the permission, which would be refused too).
            if kind.added() {
                let here = match served.iter().find(|(k, _)| *k == kind) {
                    Some((_, s)) => *s,
                    None => {
                        let s = hsof_team::sync::served(&client, &ns, kind).await?;
                        served.push((kind, s));
                        s
                    }
                };
                if !here {
                    let why = not_served(kind);
                    store.team_outbox_failed(kind_name, name, &why)?;
                    out.errors.push(format!("{name}: {why}"));
                    continue;
                }
            }
            // Permission first (SelfSubjectAccessReview, through the context's cache): a
            // kind this identity may not write stays local, named, without a refused request.
            let plural = kind.resource().plural;
            // Refused by the review or by the request itself: the same words either way.
            let forbidden_why = |m: &str| {
                format!(
                    "this identity ({}) may not write {plural} in {ns}: {m}; kept on this desktop until the hsof-team-member role (or edit on the namespace) is granted",
                    actor.user
                )
            };
            let mut denied = None;
            for (verb, sub) in [("create", ""), ("update", "status")] {
                if let Ok((false, reason)) = self.can_i(&cluster, verb, hsof_team::GROUP, &plural, sub).await {
                    let what = if sub.is_empty() { plural.clone() } else { format!("{plural}/{sub}") };
                    denied = Some(format!(
                        "may not {verb} {what}{}",
                        if reason.is_empty() { String::new() } else { format!(" ({reason})") }
                    ));
                    break;
                }
            }
            if let Some(m) = denied {
                let why = forbidden_why(&m);
                store.team_outbox_failed(kind_name, name, &why)?;
                out.errors.push(format!("{name}: {why}"));
                forbidden.push(kind);
                continue;
            }
            let ops: Vec<Value> = mine.iter().map(|o| op_value(o)).collect();
            match hsof_team::sync::push(&client, &ns, kind, name, &ops, &actor).await {
                Ok(p) => {
                    if p.applied > 0 {
                        store.team_outbox_sent(kind_name, name, mine[p.applied - 1].seq)?;
                        out.sent += p.applied as u32;
                    }
                    if let Some(why) = p.refused {
                        store.team_outbox_failed(kind_name, name, &why)?;
                        out.errors.push(format!("{name}: {why}"));
                    }
                    for c in p.claimed {
                        let created = c.op["at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                        if created
                            .is_some_and(|t| now - t.with_timezone(&Utc) < Duration::minutes(REMINDER_STALE_MINUTES))
                        {
                            out.reminders.push(ReminderNotice {
                                incident_id: store.incident_by_team_name(name)?.unwrap_or_default(),
                                title: c.op["title"].as_str().unwrap_or_default().to_string(),
                                body: c.op["body"].as_str().unwrap_or_default().to_string(),
                            });
                        }
                    }
                    self.team_mirror(&cluster, kind, &p.object, &actor, now, &mut out).await?;
                }
                Err(TeamError::Refused(why)) => {
                    store.team_outbox_failed(kind_name, name, &why)?;
                    out.errors.push(format!("{name}: {why}"));
                }
                // The API server refused this record's write as invalid (a schema limit): it
                // waits, named, and the other records still go.
                Err(TeamError::Cluster(hsof_cluster::ClusterError::Invalid(m))) => {
                    let why = format!("the team store refused the write as invalid: {m}");
                    store.team_outbox_failed(kind_name, name, &why)?;
                    out.errors.push(format!("{name}: {why}"));
                }
                Err(TeamError::Cluster(hsof_cluster::ClusterError::Forbidden(m))) => {
                    // Local-only for this kind until the role is granted; the others go on.
                    // The review said yes and the request no: its cached answer is stale.
                    self.forget_permissions();
                    let why = forbidden_why(&m);
                    store.team_outbox_failed(kind_name, name, &why)?;
                    out.errors.push(format!("{name}: {why}"));
                    forbidden.push(kind);
                }
                Err(e) => {
                    // The cluster did not take it: this and every later write wait, in order.
                    let why = e.to_string();
                    store.team_outbox_failed(kind_name, name, &why)?;
                    out.errors.push(format!("{name}: {why}"));
                    out.pending = pending_count(store);
                    return Err(Error::from(e));
                }
            }
        }
        for kind in Kind::ALL {
            if served.contains(&(kind, false)) {
                continue;
            }
            let objects = match hsof_team::sync::list(&client, &ns, kind).await {
                Ok(o) => o,
                // Not served (an older store) or not readable by this identity: the other
                // kinds are read all the same.
                Err(TeamError::Cluster(
                    e @ (hsof_cluster::ClusterError::NotFound(_) | hsof_cluster::ClusterError::Forbidden(_)),
                )) if kind.added() => {
                    tracing::debug!(error = %e, "a kind of the team store is not read");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for obj in objects {
                self.team_mirror(&cluster, kind, &obj, &actor, now, &mut out).await?;
            }
        }
        out.pending = pending_count(store);
        out.invalid = self.team_invalid()?;
        Ok(out)
    }

    /// Follows the shared records as they change (kube-runtime's watcher), mirroring
    /// each change as it arrives and handing it to `on_change`. Runs until the watch
    /// stream ends (it retries by itself with backoff while the cluster is away).
    pub async fn team_watch(&self, mut on_change: impl FnMut(TeamChange)) -> Result<(), Error> {
        use futures_util::StreamExt;
        if let Some(home) = self.team_elsewhere() {
            return Box::pin(home.team_watch(on_change)).await;
        }
        if !self.store()?.team_enabled()? {
            return Ok(());
        }
        let cluster = self.cluster().await?;
        let actor = self.team_actor(&cluster).await;
        let mut kinds = Vec::new();
        for kind in Kind::ALL {
            // A kind an older store does not serve is not watched (the sync reads it once
            // it is installed); a failure to ask leaves it to the watcher's retries.
            if kind.added()
                && matches!(hsof_team::sync::served(cluster.client(), &cluster.namespace, kind).await, Ok(false))
            {
                tracing::info!(kind = kind.outbox(), "the team store does not serve this kind; not watched");
                continue;
            }
            kinds.push(kind);
        }
        let streams = kinds.into_iter().map(|kind| {
            hsof_team::sync::watch(cluster.client(), &cluster.namespace, kind).map(move |obj| (kind, obj)).boxed()
        });
        let mut stream = futures_util::stream::select_all(streams);
        while let Some((kind, obj)) = stream.next().await {
            let mirrored = match kind {
                Kind::Incident => {
                    let older = hsof_team::sync::paged_entries(cluster.client(), &cluster.namespace, &obj).await;
                    self.team_mirror_one(&obj, &older, &actor, Utc::now())
                }
                Kind::SecurityReview => self.team_mirror_review(&obj, Utc::now()),
                Kind::OnCallSchedule | Kind::FollowUp | Kind::PostMortem => {
                    self.team_mirror_record(kind, &obj, Utc::now())
                }
                Kind::ProcedureRun | Kind::MaintenanceWindow => {
                    self.team_mirror_calendar(kind, &obj, &actor, Utc::now())
                }
            };
            match mirrored {
                Ok(Some(c)) => on_change(c),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "a shared record could not be written here"),
            }
        }
        Ok(())
    }

    /// The team store as this desktop sees it (local reads only).
    pub fn team_overview(&self) -> Result<TeamOverview, Error> {
        let store = self.store()?;
        let outbox = store.team_outbox()?;
        Ok(TeamOverview {
            enabled: store.team_enabled()?,
            pending: outbox.len() as u32,
            error: outbox.iter().find_map(|o| o.last_error.clone()),
            read_at: store.team_cache_read_at()?,
            upload_offer: self.team_upload_offer()?.len() as u32,
            invalid: self.team_invalid()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writes_of_a_kind_the_store_lacks_wait_with_the_command_that_adds_it() {
        assert_eq!(not_served(Kind::SecurityReview), "the team store has no securityreviews: run hsofctl team install");
    }
}
