//! The Slack outbox and the reminder clock. A message is written to SQLite before any
//! attempt to send it and stays there until Slack accepts it: a failed post is shown,
//! retried with backoff, and never lost (not even by a crash or a missing webhook).

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::{self as ops, ReminderKind, SlackClient, SlackMessage, TimelineKind};
use hsof_store::{IncidentChanges, OutboxRecord};
use serde::Serialize;
use serde_json::json;

use super::records::{self, ts};
use crate::{AppContext, Error};

/// How long one webhook request may take.
const SLACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Retry delay when no webhook is configured (it may be set at any time).
const UNCONFIGURED_RETRY_SECS: i64 = 300;
/// How long a claimed message is this flusher's: well past one request's timeout, so a
/// lease never runs out while its post is still in flight; a flusher that dies leaves the
/// message to be claimed again after it.
const LEASE_SECS: i64 = 3 * SLACK_TIMEOUT.as_secs() as i64;
/// The longest `Retry-After` obeyed as given (a broken proxy could ask for days).
const MAX_RETRY_AFTER_SECS: u64 = 3600;
/// Messages one flush sends at most.
const FLUSH_BATCH: u32 = 20;

/// One flusher per process: the app's poller and a click (or two commands in one
/// `hsofctl`) wait their turn; across processes the outbox lease decides.
static FLUSHER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Who holds a lease: this process, told apart from a restarted one with the same pid.
pub(crate) fn lease_holder() -> String {
    static HOLDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOLDER
        .get_or_init(|| {
            let started = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("pid {} @{started}", std::process::id())
        })
        .clone()
}

/// One Slack message of an incident, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct SlackPost {
    /// Outbox id.
    #[specta(type = f64)]
    pub id: i64,
    /// Queued at.
    pub created_at: String,
    /// The text fallback (what Slack shows in notifications).
    pub text: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When Slack accepted it.
    pub posted_at: Option<String>,
    /// Next attempt not before (while waiting).
    pub next_attempt_at: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Refused for good (a 4xx): retry by hand after fixing the cause.
    pub gave_up: bool,
}

impl SlackPost {
    /// A message of a shared incident, from its shared record (id 0: retried in the record).
    pub(crate) fn from_shared(m: &serde_json::Value) -> Self {
        let s = |k: &str| m[k].as_str().map(str::to_string);
        let posted_at = s("postedAt");
        Self {
            id: 0,
            created_at: s("createdAt").unwrap_or_default(),
            text: s("text").unwrap_or_default(),
            attempts: u32::try_from(m["attempts"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX),
            next_attempt_at: if posted_at.is_none() { s("claimedUntil") } else { None },
            posted_at,
            last_error: s("error"),
            gave_up: m["gaveUp"] == serde_json::Value::Bool(true),
        }
    }

    pub(crate) fn from_record(r: &OutboxRecord) -> Self {
        let text = serde_json::from_str::<serde_json::Value>(&r.payload)
            .ok()
            .and_then(|v| v["text"].as_str().map(str::to_string))
            .unwrap_or_default();
        Self {
            id: r.id,
            created_at: r.created_at.clone(),
            text,
            attempts: r.attempts,
            posted_at: r.posted_at.clone(),
            next_attempt_at: r.posted_at.is_none().then(|| r.next_attempt_at.clone()),
            last_error: r.last_error.clone(),
            gave_up: r.gave_up,
        }
    }
}

/// A reminder that has just come due, for a desktop notification.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ReminderNotice {
    /// The incident.
    #[specta(type = f64)]
    pub incident_id: i64,
    /// Notification title.
    pub title: String,
    /// Notification body.
    pub body: String,
}

impl AppContext {
    /// Writes a message to the outbox (the poller or the next flush sends it).
    pub(crate) fn queue_slack(
        &self,
        incident_id: Option<i64>,
        m: &SlackMessage,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        // A drill rehearses everything but the real channel.
        if let Some(id) = incident_id {
            if self.incident(id)?.drill.is_some() {
                return Ok(());
            }
        }
        let payload = serde_json::to_string(m).map_err(|e| Error::InvalidInput(format!("Slack message: {e}")))?;
        let store = self.store()?;
        // A shared incident's messages live in its shared record: whichever app claims one
        // first posts it, so the team's channel hears it once.
        if let Some(id) = incident_id.filter(|_| store.team_enabled().unwrap_or(false)) {
            let op = json!({"op": "slack", "id": unique_id(), "text": m.text, "blocks": m.blocks.to_string(), "at": ts(now)});
            if store.team_queue(id, &op)?.is_some() {
                return Ok(());
            }
        }
        store.enqueue_slack(incident_id, &payload, &ts(now))?;
        Ok(())
    }

    /// Puts a refused or waiting message back in the queue now.
    pub fn slack_retry(&self, outbox_id: i64, now: DateTime<Utc>) -> Result<bool, Error> {
        Ok(self.store()?.slack_retry_now(outbox_id, &ts(now))?)
    }

    pub(crate) fn webhook_url(&self) -> Result<String, String> {
        let name = self.config().config.slack.webhook_secret;
        match self.secrets().get(&name) {
            Ok(v) if !v.expose().trim().is_empty() => Ok(v.expose().trim().to_string()),
            Ok(_) | Err(_) => Err(format!(
                "no Slack webhook is configured: store its URL with `hsofctl secret set {name}` (or in Settings)"
            )),
        }
    }

    /// Sends the messages that are due; returns `(posted, failed)`. Each message is claimed
    /// first (a lease in the outbox row, taken in one statement), so two processes or two
    /// callers never post it twice; each outcome is recorded on the message, and on the
    /// incident's timeline (a failure only the first time, and when Slack refuses for
    /// good). A 429 ends the pass: the webhook is rate-limited, and its `Retry-After` is
    /// when the message is tried again.
    pub async fn flush_slack(&self, now: DateTime<Utc>) -> Result<(u32, u32), Error> {
        let _one_per_process = FLUSHER.lock().await;
        let (team_posted, team_failed) = match self.flush_team_slack(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "the shared Slack messages could not be sent now");
                (0, 0)
            }
        };
        let store = self.store()?;
        let holder = lease_holder();
        let started = std::time::Instant::now();
        let mut client: Option<Result<SlackClient, String>> = None;
        let (mut posted, mut failed) = (0, 0);
        for _ in 0..FLUSH_BATCH {
            // What is due, and whose lease has ended, is judged at `now`; a lease taken later
            // in the pass runs from the time that has really passed since.
            let t = now + Duration::from_std(started.elapsed()).unwrap_or_default();
            let Some(m) = store.claim_slack(&ts(now), &ts(t + Duration::seconds(LEASE_SECS)), &holder)? else {
                break;
            };
            let client = client.get_or_insert_with(|| {
                self.webhook_url().and_then(|url| SlackClient::new(&url, SLACK_TIMEOUT).map_err(|e| e.to_string()))
            });
            let result = match &*client {
                Ok(c) => match serde_json::from_str::<serde_json::Value>(&m.payload) {
                    Ok(v) => c
                        .post(&SlackMessage {
                            text: v["text"].as_str().unwrap_or_default().to_string(),
                            blocks: v["blocks"].clone(),
                        })
                        .await
                        .map_err(|e| (e.is_retryable(), e.retry_after(), e.is_rate_limit(), e.to_string())),
                    Err(e) => Err((false, None, false, format!("the stored message is not JSON: {e}"))),
                },
                Err(e) => Err((true, None, false, e.clone())),
            };
            let at = ts(now);
            match result {
                Ok(()) => {
                    posted += 1;
                    store.slack_posted(m.id, &at)?;
                    if let Some(id) = m.incident_id {
                        let text = format!("posted to {}", self.config().config.slack.channel);
                        let ev =
                            self.timeline_event(&at, TimelineKind::SlackPosted, &text, &json!({"outbox_id": m.id}));
                        store.append_timeline(id, &ev.as_new())?;
                    }
                }
                Err((retryable, asked_wait, rate_limited, error)) => {
                    failed += 1;
                    let configured = client.is_ok();
                    let retry_at = retryable
                        .then(|| next_attempt(configured, m.attempts, asked_wait, if configured { t } else { now }));
                    store.slack_failed(m.id, &error, retry_at.map(ts).as_deref())?;
                    if let Some(id) = m.incident_id.filter(|_| m.attempts == 0 || retry_at.is_none()) {
                        let text = match retry_at {
                            Some(r) => format!("Slack post failed ({error}); retrying at {}", r.to_rfc3339()),
                            None => format!("Slack refused the post ({error}); kept, retry it by hand"),
                        };
                        let ev = self.timeline_event(
                            &at,
                            TimelineKind::SlackFailed,
                            &text,
                            &json!({"outbox_id": m.id, "error": error}),
                        );
                        store.append_timeline(id, &ev.as_new())?;
                    }
                    if rate_limited {
                        break;
                    }
                }
            }
        }
        let (sh_posted, sh_failed) = match self.flush_stakeholders(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "the stakeholder updates could not be sent now");
                (0, 0)
            }
        };
        Ok((posted + team_posted + sh_posted, failed + team_failed + sh_failed))
    }

    /// Posts the shared incidents' Slack messages this app claims first (a
    /// resourceVersion-guarded update of the shared record), recording each outcome there;
    /// returns `(posted, failed)`. Without the cluster nothing is claimed: the messages
    /// wait in the shared record (or in this desktop's outbox until they reach it).
    async fn flush_team_slack(&self, now: DateTime<Utc>) -> Result<(u32, u32), Error> {
        let store = self.store()?;
        if !store.team_enabled()? {
            return Ok((0, 0));
        }
        let Ok(cluster) = self.cluster().await else { return Ok((0, 0)) };
        let actor = self.team_actor(&cluster).await;
        let holder = format!("{} ({})", actor.user, lease_holder());
        let (client, ns) = (cluster.client().clone(), cluster.namespace.clone());
        let mut slack: Option<Result<SlackClient, String>> = None;
        let (mut posted, mut failed) = (0, 0);
        let started = std::time::Instant::now();
        for (name, cached) in store.team_cache_all("incident")? {
            let Ok(obj) = serde_json::from_str::<serde_json::Value>(&cached.object) else { continue };
            if cached.invalid.is_some() || obj["spec"]["drill"].is_string() {
                continue;
            }
            let ids: Vec<String> = obj["status"]["slack"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["postedAt"].is_null() && m["gaveUp"] != json!(true))
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            for id in ids {
                let t = now + Duration::from_std(started.elapsed()).unwrap_or_default();
                let (at, until) = (ts(t), ts(t + Duration::seconds(LEASE_SECS)));
                let claim = |o: &mut serde_json::Value| hsof_team::incident::claim_slack(o, &id, &holder, &at, &until);
                let Some(claimed) = hsof_team::sync::update(&client, &ns, &name, claim).await? else { continue };
                let Some(m) = claimed["status"]["slack"]
                    .as_array()
                    .and_then(|a| a.iter().find(|m| m["id"] == id.as_str()))
                    .cloned()
                else {
                    continue;
                };
                let c = slack.get_or_insert_with(|| {
                    self.webhook_url().and_then(|url| SlackClient::new(&url, SLACK_TIMEOUT).map_err(|e| e.to_string()))
                });
                let message = SlackMessage {
                    text: m["text"].as_str().unwrap_or_default().to_string(),
                    blocks: m["blocks"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default(),
                };
                let result = match &*c {
                    Ok(c) => c.post(&message).await.map_err(|e| (e.is_retryable(), e.retry_after(), e.to_string())),
                    Err(e) => Err((true, None, e.clone())),
                };
                let done = ts(now + Duration::from_std(started.elapsed()).unwrap_or_default());
                let attempts = u32::try_from(m["attempts"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
                let (outcome, entry_kind, entry_text) = match &result {
                    Ok(()) => {
                        posted += 1;
                        (
                            Ok(done.clone()),
                            TimelineKind::SlackPosted,
                            format!("posted to {}", self.config().config.slack.channel),
                        )
                    }
                    Err((retryable, asked, error)) => {
                        failed += 1;
                        let retry = retryable.then(|| ts(next_attempt(c.is_ok(), attempts, *asked, t)));
                        let text = match &retry {
                            Some(r) => format!("Slack post failed ({error}); retrying at {r}"),
                            None => format!("Slack refused the post ({error}); kept, retry it by hand"),
                        };
                        (Err((error.clone(), retry)), TimelineKind::SlackFailed, text)
                    }
                };
                // A failure goes on the timeline the first time, and when it is for good.
                let entry = match &outcome {
                    Err((_, Some(_))) if attempts > 0 => serde_json::Value::Null,
                    _ => {
                        json!({"id": unique_id(), "at": done, "by": "hsof", "byLocal": holder, "kind": entry_kind.as_str(), "text": entry_text})
                    }
                };
                let record = |o: &mut serde_json::Value| {
                    let r = match &outcome {
                        Ok(at) => Ok(at.as_str()),
                        Err((e, retry)) => Err((e.as_str(), retry.as_deref())),
                    };
                    hsof_team::incident::slack_result(o, &id, &holder, r, entry.clone())
                };
                if let Some(after) = hsof_team::sync::update(&client, &ns, &name, record).await? {
                    let older = hsof_team::sync::paged_entries(&client, &ns, &after).await;
                    self.team_mirror_one(&after, &older, &actor, now)?;
                }
            }
        }
        Ok((posted, failed))
    }

    fn timeline_event(&self, at: &str, kind: TimelineKind, text: &str, data: &serde_json::Value) -> OwnedEvent {
        OwnedEvent { at: at.into(), kind: kind.as_str(), text: text.into(), data: data.to_string() }
    }

    /// The incident clock, run by the poller: reminders that have come due (each once),
    /// and escalations, which mark the incident and go on its timeline.
    pub fn incidents_tick(&self, now: DateTime<Utc>) -> Result<Vec<ReminderNotice>, Error> {
        let store = self.store()?;
        let hours = self.business_hours_policy()?;
        let mut out = Vec::new();
        let team = store.team_enabled()?;
        for rec in store.incidents()? {
            let i = records::incident(&rec)?;
            if i.is_resolved() {
                continue;
            }
            let shared = team && rec.team_name.is_some();
            // A shared incident's timers run by the API server's clock, as on every desktop.
            let now = if shared { self.team_clock(now) } else { now };
            let policy = self.incident_policy(i.severity)?;
            // The commander, when one is named: the escalation goes past them.
            let commander = store
                .timeline(i.id)
                .ok()
                .map(|tl| tl.iter().filter_map(|e| records::event(e).ok()).collect::<Vec<_>>())
                .and_then(|tl| {
                    ops::roles::current(&tl).into_iter().find(|h| h.role == ops::roles::Role::Commander).map(|h| h.who)
                });
            for mut r in ops::due_reminders(&i, &policy, &hours, now) {
                let kind =
                    serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                if !store.mark_reminder(i.id, &kind, &ts(r.due_at), &ts(now))? {
                    continue;
                }
                // The escalation names who it goes to, in the notification every desktop shows.
                if r.kind == ReminderKind::Escalate {
                    if let Some(who) = self.escalation_person(r.due_at, commander.as_deref()) {
                        r.body.push_str(&format!(" — escalates to {who} (on call)"));
                    }
                }
                // A shared incident's reminder is claimed in its shared record: only the app
                // that claims it first shows it (the sync hands it back).
                if shared {
                    let op = json!({"op": "reminder", "key": format!("{kind}@{}", ts(r.due_at)), "title": r.title,
                        "body": r.body, "at": ts(now)});
                    store.team_queue(i.id, &op)?;
                }
                if r.kind == ReminderKind::Escalate && i.escalated_at.is_none() {
                    let at = ts(now);
                    let changes = IncidentChanges { escalated_at: Some(&at), ..Default::default() };
                    let ev = self.timeline_event(&at, TimelineKind::Escalated, &r.body, &serde_json::Value::Null);
                    store.update_incident(i.id, &changes, &ev.as_new_by("hsof"))?;
                }
                if !shared {
                    out.push(ReminderNotice { incident_id: i.id, title: r.title, body: r.body });
                }
            }
            // The stakeholders' timer, apart from the engineers' update cadence. A failure
            // here is logged: the reminders above are marked and must still be shown.
            match self.stakeholder_next_due(i.id) {
                Ok(Some(due)) if due <= now => {
                    if store.mark_reminder(i.id, "stakeholder", &ts(due), &ts(now))? {
                        let (title, body) = (
                            format!("Stakeholder update due: {} {}", i.reference(), i.severity),
                            format!("{} — stakeholders last heard more than the {} cadence ago", i.title, i.severity),
                        );
                        if shared {
                            let op = json!({"op": "reminder", "key": format!("stakeholder@{}", ts(due)), "title": title,
                                "body": body, "at": ts(now)});
                            store.team_queue(i.id, &op)?;
                        } else {
                            out.push(ReminderNotice { incident_id: i.id, title, body });
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, incident = i.id, "the stakeholder timer could not be read"),
            }
        }
        match self.followups_tick(now) {
            Ok(n) => out.extend(n),
            Err(e) => tracing::warn!(error = %e, "the follow-ups could not be checked for overdue ones"),
        }
        Ok(out)
    }
}

/// When a failed message is tried again, from `t`: after 5 minutes while its receiver is
/// not configured (it may be set at any time), else after our backoff for the attempt, or
/// later when the receiver's `Retry-After` asks for more (at most an hour is obeyed).
pub(crate) fn next_attempt(
    configured: bool,
    attempts: u32,
    asked: Option<std::time::Duration>,
    t: DateTime<Utc>,
) -> DateTime<Utc> {
    if !configured {
        return t + Duration::seconds(UNCONFIGURED_RETRY_SECS);
    }
    let backoff = ops::retry_after(attempts + 1);
    let asked = asked.map(|w| w.min(std::time::Duration::from_secs(MAX_RETRY_AFTER_SECS)));
    let wait = asked.map_or(backoff, |a| a.max(backoff));
    t + Duration::from_std(wait).unwrap_or(Duration::minutes(15))
}

/// An id unique across desktops and processes (time, process, count).
pub(crate) fn unique_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{nanos:x}-{:x}-{:x}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed))
}

/// A timeline event owned for the time of a write.
struct OwnedEvent {
    at: String,
    kind: &'static str,
    text: String,
    data: String,
}

impl OwnedEvent {
    fn as_new(&self) -> hsof_store::NewTimelineEvent<'_> {
        self.as_new_by("hsof")
    }

    fn as_new_by<'a>(&'a self, author: &'a str) -> hsof_store::NewTimelineEvent<'a> {
        hsof_store::NewTimelineEvent { at: &self.at, author, kind: self.kind, text: &self.text, data: &self.data }
    }
}
