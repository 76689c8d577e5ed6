//! Stakeholder updates: a status page (the Atlassian Statuspage API's shape) or a
//! stakeholder webhook, updated from the incident. Each update is previewed, queued like a
//! Slack message (this desktop's outbox, or the shared incident's record where the first
//! app to claim it sends it, so the page hears it once per team), sent in order (the first
//! creates the page's incident, the next ones change it), and its delivery goes on the
//! incident's timeline. Its timer is apart from the engineers' 15-minute Slack cadence.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::statuspage::{
    self as sp, PageRequest, PageStatus, StakeholderUpdate, StatusPageClient, WebhookClient,
};
use hsof_ops::incidents::{Incident, TimelineKind};
use hsof_store::{Channel, OutboxRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{at, write_id};
use crate::{AppContext, Error};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const LEASE_SECS: i64 = 30;
const BATCH: usize = 20;

/// What an update would send, before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct StakeholderPreview {
    /// `statuspage`, `webhook` or `none`.
    pub target: String,
    /// The update (the form's starting point).
    pub update: StakeholderUpdate,
    /// The Statuspage request it makes (POST to create the page's incident, PATCH after).
    pub request: Option<PageRequest>,
    /// The webhook's body, JSON.
    pub webhook_body: Option<String>,
    /// The page's incident, once the first update created it.
    pub page_incident: Option<String>,
    /// When the next update is due by the stakeholders' timer.
    pub next_due: Option<DateTime<Utc>>,
    /// Why updates cannot be sent now (no target, no key): they are kept and wait.
    pub blocked: Option<String>,
}

/// One stakeholder update of an incident, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StakeholderPost {
    /// Outbox id (0 for a shared incident's update, kept in its record).
    #[specta(type = f64)]
    pub id: i64,
    /// Queued at.
    pub created_at: String,
    /// The page status it sets.
    pub status: Option<PageStatus>,
    /// What stakeholders read.
    pub body: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Delivered at.
    pub posted_at: Option<String>,
    /// The page's incident it went to.
    pub page_incident: Option<String>,
    /// Next attempt not before.
    pub next_attempt_at: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Refused for good: retried only by hand.
    pub gave_up: bool,
    /// Its id in the shared incident's record (retried there), for a shared incident's update.
    pub shared_id: Option<String>,
}

impl StakeholderPost {
    fn of_update(payload: &str) -> (Option<PageStatus>, String) {
        let u = serde_json::from_str::<StakeholderUpdate>(payload).ok();
        (u.as_ref().map(|u| u.status), u.map(|u| u.body).unwrap_or_default())
    }

    fn from_record(r: &OutboxRecord, page_incident: Option<String>) -> Self {
        let (status, body) = Self::of_update(&r.payload);
        Self {
            id: r.id,
            created_at: r.created_at.clone(),
            status,
            body,
            attempts: r.attempts,
            posted_at: r.posted_at.clone(),
            page_incident: r.posted_at.as_ref().and(page_incident),
            next_attempt_at: r.posted_at.is_none().then(|| r.next_attempt_at.clone()),
            last_error: r.last_error.clone(),
            gave_up: r.gave_up,
            shared_id: None,
        }
    }

    fn from_shared(m: &Value) -> Self {
        let s = |k: &str| m[k].as_str().map(str::to_string);
        let (status, body) = Self::of_update(m["update"].as_str().unwrap_or_default());
        Self {
            id: 0,
            created_at: s("createdAt").unwrap_or_default(),
            status,
            body,
            attempts: u32::try_from(m["attempts"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX),
            next_attempt_at: if s("postedAt").is_none() { s("claimedUntil") } else { None },
            posted_at: s("postedAt"),
            page_incident: s("pageIncident"),
            last_error: s("error"),
            gave_up: m["gaveUp"] == json!(true),
            shared_id: s("id"),
        }
    }
}

enum Receiver {
    Page(StatusPageClient),
    Hook(WebhookClient),
}

impl AppContext {
    fn stakeholder_receiver(&self) -> Result<Receiver, String> {
        let c = self.config().config.stakeholders;
        let secret = |name: &str, what: &str| match self.secrets().get(name) {
            Ok(v) if !v.expose().trim().is_empty() => Ok(v.expose().trim().to_string()),
            _ => Err(format!("no {what} is configured: store it with `hsofctl secret set {name}` (or in Settings)")),
        };
        match c.target.as_str() {
            "statuspage" => {
                let key = secret(&c.api_key_secret, "Statuspage API key")?;
                StatusPageClient::new(&c.statuspage_url, &c.page_id, &key, TIMEOUT)
                    .map(Receiver::Page)
                    .map_err(|e| e.to_string())
            }
            "webhook" => {
                let url = secret(&c.webhook_secret, "stakeholder webhook URL")?;
                WebhookClient::new(&url, TIMEOUT).map(Receiver::Hook).map_err(|e| e.to_string())
            }
            _ => {
                Err("no stakeholder target is configured ([stakeholders] target = \"statuspage\" or \"webhook\")"
                    .into())
            }
        }
    }

    /// The page's incident of incident `id`: the one its first delivered update created.
    fn page_incident_of(&self, id: i64) -> Result<Option<String>, Error> {
        let store = self.store()?;
        for e in store.timeline(id)?.iter().rev() {
            if e.kind == TimelineKind::StakeholderPosted.as_str() {
                let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
                if let Some(p) = data["page_incident"].as_str().filter(|p| !p.is_empty()) {
                    return Ok(Some(p.to_string()));
                }
            }
        }
        Ok(None)
    }

    /// The stakeholder updates of incident `id`, oldest first.
    pub fn incident_stakeholder_posts(&self, id: i64) -> Result<Vec<StakeholderPost>, Error> {
        let store = self.store()?;
        let rec = store.incident(id)?.ok_or_else(|| Error::NotFound(format!("no incident #{id}")))?;
        let page = self.page_incident_of(id)?;
        let mut out: Vec<StakeholderPost> = store
            .messages(Channel::Stakeholders, Some(id))?
            .iter()
            .map(|r| StakeholderPost::from_record(r, page.clone()))
            .collect();
        if let Some(name) = &rec.team_name {
            let cached = store.team_cache_get("incident", name)?;
            let obj = cached.and_then(|c| serde_json::from_str::<Value>(&c.object).ok());
            let shared = obj.as_ref().and_then(|o| o["status"]["stakeholder"].as_array().cloned()).unwrap_or_default();
            out.extend(shared.iter().map(StakeholderPost::from_shared));
            for o in store.team_outbox()?.iter().filter(|o| &o.name == name) {
                let op: Value = serde_json::from_str(&o.op).unwrap_or(Value::Null);
                if op["op"] == "stakeholder" && !shared.iter().any(|m| m["id"] == op["id"]) {
                    let mut p = StakeholderPost::from_shared(&json!({"update": op["update"], "createdAt": op["at"]}));
                    p.last_error = Some("not shared yet: waits in this desktop's outbox for the cluster".into());
                    out.push(p);
                }
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    fn stakeholder_every(&self, i: &Incident) -> Option<Duration> {
        let idx = i.severity as usize;
        self.config().config.stakeholders.every_of(idx)
    }

    /// When incident `id`'s next stakeholder update is due (`None`: no timer for its
    /// severity, no target, resolved, or a drill).
    pub fn stakeholder_next_due(&self, id: i64) -> Result<Option<DateTime<Utc>>, Error> {
        let i = self.incident(id)?;
        if self.config().config.stakeholders.target == "none" || i.drill.is_some() {
            return Ok(None);
        }
        let Some(every) = self.stakeholder_every(&i) else { return Ok(None) };
        // Stakeholders last heard when an update was delivered (a queued or refused one
        // told them nothing).
        let last = self
            .incident_stakeholder_posts(id)?
            .iter()
            .filter_map(|p| p.posted_at.as_deref())
            .filter_map(|t| DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc)))
            .max();
        Ok(sp::next_due(&i, last, every))
    }

    fn page_components(&self, i: &Incident) -> (BTreeMap<String, String>, Vec<String>) {
        let c = self.config().config.stakeholders;
        let mut by_component = BTreeMap::new();
        let mut always = Vec::new();
        for e in &c.components {
            let Some((k, v)) = e.split_once('=') else { continue };
            if k.trim() == "*" {
                always.push(v.trim().to_string());
            } else if i.components.iter().any(|x| x == k.trim()) {
                by_component.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        (by_component, always)
    }

    /// The update the incident's state suggests, with `body` (empty: a body written from
    /// the incident), and what sending it would do.
    pub fn incident_stakeholder_preview(
        &self,
        id: i64,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<StakeholderPreview, Error> {
        let i = self.incident(id)?;
        let body = if body.trim().is_empty() {
            match sp::page_status(&i) {
                PageStatus::Resolved => format!("This incident has been resolved: {}.", i.title),
                PageStatus::Identified => {
                    format!("We have identified the issue ({}) and are working on a fix.", i.title)
                }
                _ => format!("We are investigating an issue: {}.", i.title),
            }
        } else {
            body.to_string()
        };
        let (map, always) = self.page_components(&i);
        let mut update = StakeholderUpdate::draft(&i, &body, &map);
        for id in always {
            update.components.insert(id, sp::component_status(i.severity, i.is_resolved()));
        }
        self.preview_of(&i, update, now)
    }

    /// What sending `update` (as edited) for incident `id` would do: the exact request.
    pub fn incident_stakeholder_render(
        &self,
        id: i64,
        update: &StakeholderUpdate,
        now: DateTime<Utc>,
    ) -> Result<StakeholderPreview, Error> {
        let i = self.incident(id)?;
        self.preview_of(&i, update.clone(), now)
    }

    fn preview_of(
        &self,
        i: &Incident,
        update: StakeholderUpdate,
        _now: DateTime<Utc>,
    ) -> Result<StakeholderPreview, Error> {
        let c = self.config().config.stakeholders;
        let page_incident = self.page_incident_of(i.id)?;
        let blocked = self.stakeholder_receiver().err();
        Ok(StakeholderPreview {
            request: (c.target == "statuspage")
                .then(|| sp::page_request(&c.page_id, page_incident.as_deref(), &update)),
            webhook_body: (c.target == "webhook")
                .then(|| serde_json::to_string_pretty(&sp::webhook_body(i, &update, Utc::now())).unwrap_or_default()),
            target: c.target,
            page_incident,
            next_due: self.stakeholder_next_due(i.id)?,
            blocked,
            update,
        })
    }

    /// Queues stakeholder update `update` for incident `id` (a drill records it and holds
    /// it back). Sent by the next flush, once per team.
    pub fn incident_stakeholder_send(
        &self,
        id: i64,
        update: &StakeholderUpdate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<StakeholderPost>, Error> {
        let i = self.incident(id)?;
        if self.config().config.stakeholders.target == "none" {
            return Err(Error::InvalidInput(
                "no stakeholder target is configured: set [stakeholders] target = \"statuspage\" or \"webhook\"".into(),
            ));
        }
        if update.body.trim().is_empty() {
            return Err(Error::InvalidInput("the update says nothing: write what stakeholders should read".into()));
        }
        if update.body.len() > 3000 {
            return Err(Error::InvalidInput(format!("the update is {} bytes; keep it under 3000", update.body.len())));
        }
        let payload = serde_json::to_string(update).map_err(|e| Error::Unavailable(e.to_string()))?;
        let store = self.store()?;
        let when = at(now);
        if i.drill.is_some() {
            let text = format!("stakeholder update (drill: held back, not sent): {}", update.body);
            store.append_timeline(id, &Self::event(&when, actor, TimelineKind::Note, &text, &payload))?;
            return self.incident_stakeholder_posts(id);
        }
        let shared = store.team_enabled().unwrap_or(false) && i.shared_name.is_some();
        if shared {
            let op = json!({"op": "stakeholder", "id": write_id(), "update": payload, "at": when});
            store.team_queue(id, &op)?;
        } else {
            store.enqueue_message(Channel::Stakeholders, Some(id), &payload, &when)?;
        }
        let text = format!("stakeholder update queued ({:?}): {}", update.status, update.body).to_lowercase();
        store.append_timeline(id, &Self::event(&when, actor, TimelineKind::Note, &text, "null"))?;
        self.incident_stakeholder_posts(id)
    }

    /// Puts a refused or waiting update back in the queue now: this desktop's (`outbox_id`)
    /// or the shared incident's (`shared_id`). Refused when a newer update of the incident
    /// was delivered since: sending the older one would put the page back to an older status.
    pub async fn stakeholder_retry(
        &self,
        incident_id: i64,
        outbox_id: i64,
        shared_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let posts = self.incident_stakeholder_posts(incident_id)?;
        let this = posts
            .iter()
            .position(|p| match shared_id {
                Some(sid) => p.shared_id.as_deref() == Some(sid),
                None => p.id == outbox_id && p.id > 0,
            })
            .ok_or_else(|| Error::NotFound(format!("incident #{incident_id} has no such stakeholder update")))?;
        if posts[this + 1..].iter().any(|p| p.posted_at.is_some()) {
            return Err(Error::InvalidInput(
                "a newer stakeholder update was delivered after this one: send a new update instead (retrying would put the page back to an older status)".into(),
            ));
        }
        let Some(sid) = shared_id else {
            return Ok(self.store()?.message_retry_now(Channel::Stakeholders, outbox_id, &at(now))?);
        };
        let name = self.incident(incident_id)?.shared_name.ok_or_else(|| {
            Error::InvalidInput(format!("incident #{incident_id} is not shared: retry its update by its outbox id"))
        })?;
        let cluster = self.cluster().await?;
        let retry = |o: &mut Value| hsof_team::incident::message_retry(o, hsof_team::incident::STAKEHOLDER, sid);
        let done = hsof_team::sync::update(cluster.client(), &cluster.namespace, &name, retry).await?;
        if let Some(after) = &done {
            let actor = self.team_actor(&cluster).await;
            let older = hsof_team::sync::paged_entries(cluster.client(), &cluster.namespace, after).await;
            self.team_mirror_one(after, &older, &actor, now)?;
        }
        Ok(done.is_some())
    }

    async fn deliver(
        &self,
        receiver: &Result<Receiver, String>,
        i: &Incident,
        page_incident: Option<&str>,
        update: &StakeholderUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, (bool, Option<std::time::Duration>, String)> {
        match receiver {
            Ok(Receiver::Page(c)) => c
                .send(page_incident, update)
                .await
                .map(Some)
                .map_err(|e| (e.is_retryable(), e.retry_after(), e.to_string())),
            Ok(Receiver::Hook(h)) => h
                .post(&sp::webhook_body(i, update, now))
                .await
                .map(|()| None)
                .map_err(|e| (e.is_retryable(), e.retry_after(), e.to_string())),
            Err(e) => Err((true, None, e.clone())),
        }
    }

    /// Sends the stakeholder updates that are due (this desktop's, then the shared
    /// incidents' this app claims first); returns `(delivered, failed)`.
    pub async fn flush_stakeholders(&self, now: DateTime<Utc>) -> Result<(u32, u32), Error> {
        let store = self.store()?;
        let receiver = self.stakeholder_receiver();
        let holder = crate::incidents::lease_holder();
        let started = std::time::Instant::now();
        let (mut posted, mut failed) = (0, 0);
        for _ in 0..BATCH {
            // What is due is judged at `now`; a lease runs from the time that has really
            // passed (a slow Slack pass or receiver before it must not leave it expired).
            let t = now + Duration::from_std(started.elapsed()).unwrap_or_default();
            let Some(m) = store.claim_message(
                Channel::Stakeholders,
                &at(now),
                &at(t + Duration::seconds(LEASE_SECS)),
                &holder,
            )?
            else {
                break;
            };
            let Some(id) = m.incident_id else { continue };
            let i = self.incident(id)?;
            let update: StakeholderUpdate = match serde_json::from_str(&m.payload) {
                Ok(u) => u,
                Err(e) => {
                    store.message_failed(
                        Channel::Stakeholders,
                        m.id,
                        &format!("the stored update does not read: {e}"),
                        None,
                    )?;
                    failed += 1;
                    continue;
                }
            };
            let page = self.page_incident_of(id)?;
            let t = now + Duration::from_std(started.elapsed()).unwrap_or_default();
            let when = at(t);
            match self.deliver(&receiver, &i, page.as_deref(), &update, now).await {
                Ok(p) => {
                    posted += 1;
                    store.message_posted(Channel::Stakeholders, m.id, &when)?;
                    let text = format!("stakeholder update delivered ({})", self.stakeholder_target_name());
                    let data = json!({"outbox_id": m.id, "page_incident": p.or(page)}).to_string();
                    store.append_timeline(
                        id,
                        &Self::event(&when, "hsof", TimelineKind::StakeholderPosted, &text, &data),
                    )?;
                }
                Err((retryable, asked, error)) => {
                    failed += 1;
                    let retry =
                        retryable.then(|| crate::incidents::next_attempt(receiver.is_ok(), m.attempts, asked, t));
                    store.message_failed(Channel::Stakeholders, m.id, &error, retry.map(crate::time::ts).as_deref())?;
                    if m.attempts == 0 || retry.is_none() {
                        let text = match retry {
                            Some(r) => format!("stakeholder update failed ({error}); retrying at {}", r.to_rfc3339()),
                            None => format!("stakeholder update refused ({error}); kept, retry it by hand"),
                        };
                        let data = json!({"outbox_id": m.id, "error": error}).to_string();
                        store.append_timeline(
                            id,
                            &Self::event(&when, "hsof", TimelineKind::StakeholderFailed, &text, &data),
                        )?;
                    }
                }
            }
        }
        // A desktop that cannot send (no key, no target) leaves the team's updates to one
        // that can, instead of claiming them only to fail.
        if receiver.is_err() {
            return Ok((posted, failed));
        }
        let (p, f) = self.flush_team_stakeholders(&receiver, now).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the shared stakeholder updates could not be sent now");
            (0, 0)
        });
        Ok((posted + p, failed + f))
    }

    fn stakeholder_target_name(&self) -> String {
        let c = self.config().config.stakeholders;
        match c.target.as_str() {
            "statuspage" => format!("status page {}", c.page_id),
            other => other.to_string(),
        }
    }

    async fn flush_team_stakeholders(
        &self,
        receiver: &Result<Receiver, String>,
        now: DateTime<Utc>,
    ) -> Result<(u32, u32), Error> {
        let store = self.store()?;
        if !store.team_enabled()? {
            return Ok((0, 0));
        }
        let Ok(cluster) = self.cluster().await else { return Ok((0, 0)) };
        let actor = self.team_actor(&cluster).await;
        let holder = format!("{} ({})", actor.user, crate::incidents::lease_holder());
        let started = std::time::Instant::now();
        let (client, ns) = (cluster.client().clone(), cluster.namespace.clone());
        let (mut posted, mut failed) = (0, 0);
        use hsof_team::incident::{self as shared, STAKEHOLDER};
        for (name, cached) in store.team_cache_all("incident")? {
            let Ok(obj) = serde_json::from_str::<Value>(&cached.object) else { continue };
            if cached.invalid.is_some() || obj["spec"]["drill"].is_string() {
                continue;
            }
            let ids: Vec<String> = obj["status"][STAKEHOLDER]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["postedAt"].is_null() && m["gaveUp"] != json!(true))
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            let Some(local_id) = store.incident_by_team_name(&name)? else { continue };
            for mid in ids {
                let elapsed = now + Duration::from_std(started.elapsed()).unwrap_or_default();
                let (t, until) = (at(elapsed), at(elapsed + Duration::seconds(LEASE_SECS)));
                let claim = |o: &mut Value| shared::claim_message(o, STAKEHOLDER, &mid, &holder, &t, &until);
                let Some(claimed) = hsof_team::sync::update(&client, &ns, &name, claim).await? else { continue };
                let Some(m) = claimed["status"][STAKEHOLDER]
                    .as_array()
                    .and_then(|a| a.iter().find(|m| m["id"] == mid.as_str()))
                    .cloned()
                else {
                    continue;
                };
                let Ok(update) = serde_json::from_str::<StakeholderUpdate>(m["update"].as_str().unwrap_or_default())
                else {
                    continue;
                };
                let i = self.incident(local_id)?;
                // Updates sent before the incident was shared went to the page's incident
                // this desktop's timeline names.
                let page = shared::page_incident(&claimed).or(self.page_incident_of(local_id)?);
                let attempts = u32::try_from(m["attempts"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
                let result = self.deliver(receiver, &i, page.as_deref(), &update, now).await;
                let done = at(now + Duration::from_std(started.elapsed()).unwrap_or_default());
                let (outcome, page_incident, entry) = match &result {
                    Ok(p) => {
                        posted += 1;
                        let p = p.clone().or(page.clone());
                        let e = json!({"id": write_id(), "at": done, "by": "hsof", "byLocal": holder,
                            "kind": TimelineKind::StakeholderPosted.as_str(),
                            "text": format!("stakeholder update delivered ({})", self.stakeholder_target_name()),
                            "data": json!({"page_incident": p}).to_string()});
                        (Ok(done.clone()), p, e)
                    }
                    Err((retryable, asked, error)) => {
                        failed += 1;
                        let retry = retryable.then(|| {
                            at(crate::incidents::next_attempt(
                                receiver.is_ok(),
                                attempts,
                                *asked,
                                now + Duration::from_std(started.elapsed()).unwrap_or_default(),
                            ))
                        });
                        let text = match &retry {
                            Some(r) => format!("stakeholder update failed ({error}); retrying at {r}"),
                            None => format!("stakeholder update refused ({error}); kept, retry it by hand"),
                        };
                        let e = if attempts > 0 && retry.is_some() {
                            Value::Null
                        } else {
                            json!({"id": write_id(), "at": done, "by": "hsof", "byLocal": holder,
                                "kind": TimelineKind::StakeholderFailed.as_str(), "text": text})
                        };
                        (Err((error.clone(), retry)), None, e)
                    }
                };
                let record = |o: &mut Value| {
                    let r = match &outcome {
                        Ok(at) => Ok(at.as_str()),
                        Err((e, retry)) => Err((e.as_str(), retry.as_deref())),
                    };
                    shared::message_result(o, STAKEHOLDER, &mid, &holder, r, page_incident.as_deref(), entry.clone())
                };
                if let Some(after) = hsof_team::sync::update(&client, &ns, &name, record).await? {
                    let older = hsof_team::sync::paged_entries(&client, &ns, &after).await;
                    self.team_mirror_one(&after, &older, &actor, now)?;
                }
            }
        }
        Ok((posted, failed))
    }
}
