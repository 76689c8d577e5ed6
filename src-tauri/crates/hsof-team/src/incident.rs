//! Incidents in the team store. A desktop's writes reach the shared record as the same
//! writes it made locally (the outbox ops hsof-store records), applied to the record as
//! it is in the cluster *now*: an acknowledgement or a resolution sets its time only if
//! unset (a second one becomes a note), an escalation counts once, a timeline entry is
//! appended once (by its id), a reminder is claimed once. Applying is a pure function of
//! the record and the write, so a 409 (someone wrote in between) is answered by reading
//! the record again and applying the same writes to it. The same function folds a
//! desktop's unsent writes over its last copy, which is what its offline view shows.

use chrono::DateTime;
use hsof_store::{IncidentRecord, SharedEntry};
use serde_json::{json, Map, Value};

use crate::{GROUP, VERSION};

/// Timeline entries a record holds.
pub const MAX_TIMELINE: usize = 200;
/// Slack messages a record holds.
pub const MAX_SLACK: usize = 50;
/// The longest text or data an entry carries (the schema's limit).
pub const MAX_FIELD: usize = 2048;

/// Who writes: the Kubernetes user (SelfSubjectReview) and the local user beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The Kubernetes user; the local user when the API server does not say.
    pub user: String,
}

/// A reminder this app claimed in the shared record (only its claimant shows it).
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The reminder write as queued: key, title, body.
    pub op: Value,
}

/// `s` cut to at most `max` bytes on a character boundary, `…` marking a cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A new, empty Incident for the declaration `incident` (local terms).
pub fn new_object(name: &str, namespace: &str, incident: &Value, actor: &Actor) -> Value {
    let alert = incident.get("source_alert").filter(|a| a.is_object()).cloned();
    let mut spec = json!({
        "severity": incident["severity"],
        "title": incident["title"],
        "description": cut(str_of(incident, "description").unwrap_or_default(), 8192),
        "components": incident.get("components").cloned().unwrap_or(json!([])),
        "declaredBy": actor.user,
        "declaredByLocal": incident["declared_by"],
        "declaredAt": incident["declared_at"],
    });
    if let Some(a) = alert {
        spec["sourceAlert"] = a;
    }
    if let Some(c) = str_of(incident, "cluster") {
        spec["cluster"] = json!(c);
    }
    if let Some(d) = str_of(incident, "drill") {
        spec["drill"] = json!(d);
    }
    json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "Incident",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center", "ops.hsof.io/severity": incident["severity"]}},
        "spec": spec,
        "status": {"state": "Declared", "timeline": []},
    })
}

fn status_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("an object")
}

fn array_mut<'a>(status: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let v = status.entry(key.to_string()).or_insert_with(|| json!([]));
    if !v.is_array() {
        *v = json!([]);
    }
    v.as_array_mut().expect("an array")
}

fn state_of(status: &Map<String, Value>) -> &'static str {
    if status.get("resolved").is_some_and(Value::is_object) {
        "Resolved"
    } else if status.get("acknowledged").is_some_and(Value::is_object) {
        "Acknowledged"
    } else if status.get("escalated").is_some_and(Value::is_object) {
        "Escalated"
    } else {
        "Declared"
    }
}

fn who(v: &Value) -> String {
    str_of(v, "by").unwrap_or("someone").to_string()
}

/// Applies one local write to the shared record `obj` (already created). Returns the
/// reminder it claimed, if it is a reminder this app is the first to claim.
pub fn apply(obj: &mut Value, op: &Value, actor: &Actor) -> Result<Option<Claimed>, String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let kind = op["op"].as_str().unwrap_or_default();
    let status = status_mut(obj);
    match kind {
        "reminder" => {
            let key = str_of(op, "key").ok_or("a reminder without a key")?;
            let reminders = array_mut(status, "reminders");
            if reminders.iter().any(|r| r["key"] == key) {
                return Ok(None);
            }
            reminders.push(json!({"key": key, "by": actor.user, "at": op["at"]}));
            return Ok(Some(Claimed { op: op.clone() }));
        }
        "slack" => {
            let id = str_of(op, "id").ok_or("a Slack message without an id")?;
            let slack = array_mut(status, "slack");
            if slack.iter().any(|m| m["id"] == id) {
                return Ok(None);
            }
            if slack.len() >= MAX_SLACK {
                return Err(format!("the shared record {name} holds {MAX_SLACK} Slack messages already"));
            }
            slack.push(json!({"id": id, "text": cut(str_of(op, "text").unwrap_or_default(), MAX_FIELD),
                "blocks": cut(str_of(op, "blocks").unwrap_or("null"), 4096), "createdAt": op["at"], "attempts": 0}));
            return Ok(None);
        }
        "stakeholder" => {
            let id = str_of(op, "id").ok_or("a stakeholder update without an id")?;
            let list = array_mut(status, "stakeholder");
            if list.iter().any(|m| m["id"] == id) {
                return Ok(None);
            }
            if list.len() >= MAX_SLACK {
                return Err(format!("the shared record {name} holds {MAX_SLACK} stakeholder updates already"));
            }
            let update = str_of(op, "update").ok_or("a stakeholder update without its content")?;
            if update.len() > 4096 {
                return Err(format!("the stakeholder update is {} bytes; the team store takes 4096", update.len()));
            }
            list.push(
                json!({"id": id, "update": update, "createdAt": op["at"], "createdBy": actor.user, "attempts": 0}),
            );
            return Ok(None);
        }
        "declare" | "update" | "event" => {}
        other => return Err(format!("unknown write {other:?}")),
    }
    let ev = &op["event"];
    let uid = str_of(ev, "uid").ok_or("a timeline entry without an id")?;
    // Applied before (a retry after a lost answer, or a second process): nothing to do.
    if array_mut(status, "timeline").iter().any(|e| e["id"] == uid) {
        return Ok(None);
    }
    let local = str_of(ev, "author").unwrap_or_default();
    let mut entry = json!({"id": uid, "at": ev["at"], "by": if local == "hsof" { "hsof" } else { actor.user.as_str() },
        "byLocal": local, "kind": ev["kind"], "text": cut(str_of(ev, "text").unwrap_or_default(), MAX_FIELD)});
    if let Some(d) = str_of(ev, "data").filter(|d| *d != "null" && d.len() <= MAX_FIELD) {
        entry["data"] = json!(d);
    }
    let mut keep = true;
    let changes = &op["changes"];
    let at = |k: &str| str_of(changes, k).map(str::to_string);
    let stamp = json!({"by": entry["by"], "byLocal": local});
    for (field, key, verb) in
        [("acknowledged", "acknowledged_at", "acknowledged"), ("resolved", "resolved_at", "resolved")]
    {
        if let Some(t) = at(key) {
            match status.get(field).filter(|v| v.is_object()) {
                Some(first) => {
                    // Someone else was first: theirs stands, this one is kept as a note.
                    entry["kind"] = json!("note");
                    entry["text"] = json!(cut(
                        &format!(
                            "also {verb} by {} ({} had at {}): {}",
                            entry["by"].as_str().unwrap_or_default(),
                            who(first),
                            first["at"].as_str().unwrap_or("?"),
                            entry["text"].as_str().unwrap_or_default()
                        ),
                        MAX_FIELD
                    ));
                }
                None => {
                    let mut s = stamp.clone();
                    s["at"] = json!(t);
                    status.insert(field.into(), s);
                }
            }
        }
    }
    if let Some(t) = at("escalated_at") {
        if status.get("escalated").is_some_and(Value::is_object) {
            keep = false; // escalated once, by whichever app's clock came first
        } else {
            let mut s = stamp.clone();
            s["at"] = json!(t);
            status.insert("escalated".into(), s);
        }
    }
    if let Some(t) = at("last_update_at") {
        if status.get("lastUpdateAt").and_then(Value::as_str).is_none_or(|old| old < t.as_str()) {
            status.insert("lastUpdateAt".into(), json!(t));
        }
    }
    if let Some(s) = str_of(changes, "summary") {
        status.insert("summary".into(), json!(cut(s, 16384)));
    }
    let state = state_of(status);
    status.insert("state".into(), json!(state));
    if keep {
        let timeline = array_mut(status, "timeline");
        if timeline.len() >= MAX_TIMELINE {
            return Err(format!(
                "the shared timeline of {name} holds {MAX_TIMELINE} entries: this entry waits until older ones are moved to a timeline page"
            ));
        }
        timeline.push(entry);
        // Entries in time order; entries at the same instant in the order they arrived.
        timeline.sort_by(|a, b| a["at"].as_str().unwrap_or_default().cmp(b["at"].as_str().unwrap_or_default()));
    }
    Ok(None)
}

/// The lists of outgoing messages a record holds: the engineers' Slack channel and the
/// stakeholders' (status page or webhook).
pub const SLACK: &str = "slack";
/// See [`SLACK`].
pub const STAKEHOLDER: &str = "stakeholder";

fn message_entry<'a>(obj: &'a mut Value, list: &str, id: &str) -> Option<&'a mut Value> {
    obj["status"][list].as_array_mut()?.iter_mut().find(|m| m["id"] == id)
}

/// Claims Slack message `id` for `holder` until `until`, when it is unposted and nobody
/// else holds it (or their claim ran out, or its retry time came): whoever stores this
/// change first posts it. False when there is nothing to claim.
pub fn claim_slack(obj: &mut Value, id: &str, holder: &str, now: &str, until: &str) -> bool {
    claim_message(obj, SLACK, id, holder, now, until)
}

/// [`claim_slack`] on the list `list`. Stakeholder updates go in order: one is not claimed
/// while an earlier one is neither posted nor given up (a status page's incident is
/// created by the first and changed by the next).
pub fn claim_message(obj: &mut Value, list: &str, id: &str, holder: &str, now: &str, until: &str) -> bool {
    if list == STAKEHOLDER {
        let all = obj["status"][list].as_array().cloned().unwrap_or_default();
        let pos = all.iter().position(|m| m["id"] == id);
        let blocked =
            pos.is_some_and(|p| all[..p].iter().any(|m| m["postedAt"].is_null() && m["gaveUp"] != json!(true)));
        if blocked {
            return false;
        }
    }
    let Some(m) = message_entry(obj, list, id) else { return false };
    let free =
        m["postedAt"].is_null() && m["gaveUp"] != json!(true) && m["claimedUntil"].as_str().is_none_or(|u| u <= now);
    if free {
        m["claimedBy"] = json!(holder);
        m["claimedUntil"] = json!(until);
    }
    free
}

/// Records what posting message `id` did, when `holder` still holds it: posted (with a
/// timeline entry `entry`), or failed (retried after `retry_at`; never again without it).
pub fn slack_result(
    obj: &mut Value,
    id: &str,
    holder: &str,
    result: Result<&str, (&str, Option<&str>)>,
    entry: Value,
) -> bool {
    message_result(obj, SLACK, id, holder, result, None, entry)
}

/// [`slack_result`] on the list `list`; `page_incident` is the status page's incident the
/// update went to.
pub fn message_result(
    obj: &mut Value,
    list: &str,
    id: &str,
    holder: &str,
    result: Result<&str, (&str, Option<&str>)>,
    page_incident: Option<&str>,
    entry: Value,
) -> bool {
    let Some(m) = message_entry(obj, list, id) else { return false };
    if m["claimedBy"] != json!(holder) || !m["postedAt"].is_null() {
        return false;
    }
    match result {
        Ok(at) => {
            m["postedAt"] = json!(at);
            m["postedBy"] = json!(holder);
            m["claimedUntil"] = Value::Null;
            m["error"] = Value::Null;
            if let Some(p) = page_incident {
                m["pageIncident"] = json!(p);
            }
        }
        Err((error, retry_at)) => {
            m["attempts"] = json!(m["attempts"].as_u64().unwrap_or(0) + 1);
            m["error"] = json!(cut(error, MAX_FIELD));
            m["claimedBy"] = Value::Null;
            match retry_at {
                Some(r) => m["claimedUntil"] = json!(r),
                None => m["gaveUp"] = json!(true),
            }
        }
    }
    let status = status_mut(obj);
    let timeline = array_mut(status, "timeline");
    if !entry.is_null() && timeline.len() < MAX_TIMELINE && !timeline.iter().any(|e| e["id"] == entry["id"]) {
        timeline.push(entry);
    }
    true
}

/// Lets a message that was refused for good be tried again (after its cause was fixed).
pub fn slack_retry(obj: &mut Value, id: &str) -> bool {
    message_retry(obj, SLACK, id)
}

/// [`slack_retry`] on the list `list`.
pub fn message_retry(obj: &mut Value, list: &str, id: &str) -> bool {
    let Some(m) = message_entry(obj, list, id) else { return false };
    if !m["postedAt"].is_null() {
        return false;
    }
    m["gaveUp"] = Value::Null;
    m["claimedUntil"] = Value::Null;
    m["claimedBy"] = Value::Null;
    true
}

/// The status page's incident of a record: the one its first posted stakeholder update
/// created.
pub fn page_incident(obj: &Value) -> Option<String> {
    obj["status"][STAKEHOLDER].as_array()?.iter().find_map(|m| m["pageIncident"].as_str().map(str::to_string))
}

/// The writes of `ops` whose stakeholder update is not in the stored record `stored`: an
/// Incident definition older than stakeholder updates drops the field it goes in.
pub fn dropped_by_schema(ops: &[Value], stored: &Value) -> Option<usize> {
    ops.iter().position(|op| {
        op["op"] == "stakeholder"
            && !stored["status"][STAKEHOLDER].as_array().is_some_and(|a| a.iter().any(|m| m["id"] == op["id"]))
    })
}

/// An RFC 3339 time of a shared record, as written; an error naming `what` otherwise.
pub(crate) fn time(v: &Value, what: &str) -> Result<String, String> {
    let s = v.as_str().ok_or_else(|| format!("{what}: missing"))?;
    DateTime::parse_from_rfc3339(s).map_err(|e| format!("{what}: {s:?} is not a time ({e})"))?;
    Ok(s.to_string())
}

/// [`time`], or `None` for a null.
pub(crate) fn opt_time(v: &Value, what: &str) -> Result<Option<String>, String> {
    if v.is_null() {
        Ok(None)
    } else {
        time(v, what).map(Some)
    }
}

fn shown(by: Option<&str>, local: Option<&str>) -> String {
    match (by, local) {
        (Some(b), Some(l)) if l != b && b != "hsof" => format!("{b} ({l})"),
        (Some(b), _) => b.to_string(),
        (None, Some(l)) => l.to_string(),
        (None, None) => "someone".into(),
    }
}

/// The record in local terms: the incident's row and its timeline. An error says what in
/// the record this app cannot read (it was edited by hand into another shape).
pub fn to_local(obj: &Value) -> Result<(IncidentRecord, Vec<SharedEntry>), String> {
    let spec = &obj["spec"];
    let status = &obj["status"];
    let severity = spec["severity"].as_str().filter(|s| ["P0", "P1", "P2", "P3"].contains(s));
    let severity = severity.ok_or_else(|| format!("spec.severity: {} is not one of P0–P3", spec["severity"]))?;
    let title = spec["title"].as_str().filter(|t| !t.trim().is_empty()).ok_or("spec.title: missing or empty")?;
    let components = match &spec["components"] {
        Value::Null => json!([]),
        Value::Array(a) if a.iter().all(Value::is_string) => json!(a),
        other => return Err(format!("spec.components: {other} is not a list of names")),
    };
    if !status.is_null() && !status.is_object() {
        return Err(format!("status: {status} is not an object"));
    }
    let stamp = |k: &str| opt_time(&status[k]["at"], &format!("status.{k}.at"));
    let acknowledged_at = stamp("acknowledged")?;
    let resolved_at = stamp("resolved")?;
    let rec = IncidentRecord {
        id: 0,
        title: title.to_string(),
        severity: severity.to_string(),
        status: if resolved_at.is_some() {
            "resolved"
        } else if acknowledged_at.is_some() {
            "acknowledged"
        } else {
            "open"
        }
        .into(),
        components: components.to_string(),
        description: spec["description"].as_str().unwrap_or_default().to_string(),
        declared_at: time(&spec["declaredAt"], "spec.declaredAt")?,
        declared_by: shown(spec["declaredBy"].as_str(), spec["declaredByLocal"].as_str()),
        acknowledged_at,
        escalated_at: stamp("escalated")?,
        resolved_at,
        last_update_at: opt_time(&status["lastUpdateAt"], "status.lastUpdateAt")?,
        source_alert: spec["sourceAlert"].is_object().then(|| spec["sourceAlert"].to_string()),
        summary: status["summary"].as_str().map(str::to_string),
        drill: spec["drill"].as_str().map(str::to_string),
        team_name: obj["metadata"]["name"].as_str().map(str::to_string),
        cluster: spec["cluster"].as_str().map(str::to_string),
    };
    let entries = match &status["timeline"] {
        Value::Null => vec![],
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(n, e)| {
                let id = e["id"].as_str().filter(|s| !s.is_empty());
                let id = id.ok_or_else(|| format!("status.timeline[{n}].id: missing"))?;
                let kind = e["kind"].as_str().ok_or_else(|| format!("status.timeline[{n}].kind: missing"))?;
                Ok(SharedEntry {
                    uid: id.to_string(),
                    at: time(&e["at"], &format!("status.timeline[{n}].at"))?,
                    author: shown(e["by"].as_str(), e["byLocal"].as_str()),
                    kind: kind.to_string(),
                    text: e["text"].as_str().unwrap_or_default().to_string(),
                    data: e["data"].as_str().unwrap_or("null").to_string(),
                })
            })
            .collect::<Result<_, String>>()?,
        other => return Err(format!("status.timeline: {other} is not a list")),
    };
    Ok((rec, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Actor {
        Actor { user: "alice@example.org".into() }
    }
    fn bob() -> Actor {
        Actor { user: "bob@example.org".into() }
    }

    fn declared() -> Value {
        let incident = json!({"title": "GPU OOM", "severity": "P1", "components": ["stage2"], "description": "",
            "declared_at": "2026-12-05T10:00:00Z", "declared_by": "ali"});
        let mut obj = new_object("inc-1", "hsof", &incident, &alice());
        let op = json!({"op": "declare", "incident": incident, "event": {"uid": "e1", "at": "2026-12-05T10:00:00Z",
            "author": "ali", "kind": "declared", "text": "declared P1: GPU OOM", "data": "null"}});
        apply(&mut obj, &op, &alice()).expect("ok");
        obj
    }

    fn ack(uid: &str, at: &str, who: &str) -> Value {
        json!({"op": "update", "changes": {"status": "acknowledged", "acknowledged_at": at},
            "event": {"uid": uid, "at": at, "author": who, "kind": "acknowledged", "text": "acknowledged", "data": "null"}})
    }

    #[test]
    fn a_declaration_reads_back_with_both_identities() {
        let (rec, entries) = to_local(&declared()).expect("ok");
        assert_eq!(rec.severity, "P1");
        assert_eq!(rec.status, "open");
        assert_eq!(rec.declared_by, "alice@example.org (ali)");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].uid, "e1");
        assert_eq!(entries[0].author, "alice@example.org (ali)");
    }

    #[test]
    fn two_acknowledgements_make_one_and_keep_both_entries() {
        let mut obj = declared();
        apply(&mut obj, &ack("a", "2026-12-05T10:01:00Z", "ali"), &alice()).expect("ok");
        apply(&mut obj, &ack("b", "2026-12-05T10:01:00Z", "bo"), &bob()).expect("ok");
        let (rec, entries) = to_local(&obj).expect("ok");
        assert_eq!(rec.acknowledged_at.as_deref(), Some("2026-12-05T10:01:00Z"));
        assert_eq!(obj["status"]["acknowledged"]["by"], "alice@example.org");
        assert_eq!(entries.iter().filter(|e| e.kind == "acknowledged").count(), 1);
        let note = entries.iter().find(|e| e.uid == "b").expect("ok");
        assert_eq!(note.kind, "note");
        assert!(note.text.starts_with("also acknowledged by bob@example.org"), "{}", note.text);
        assert_eq!(obj["status"]["state"], "Acknowledged");
    }

    #[test]
    fn applying_a_write_again_changes_nothing() {
        let mut obj = declared();
        let op = ack("a", "2026-12-05T10:01:00Z", "ali");
        apply(&mut obj, &op, &alice()).expect("ok");
        let once = obj.clone();
        apply(&mut obj, &op, &alice()).expect("ok");
        assert_eq!(obj, once);
    }

    #[test]
    fn an_escalation_counts_once_and_a_reminder_is_claimed_once() {
        let mut obj = declared();
        let esc = |uid: &str| {
            json!({"op": "update", "changes": {"escalated_at": "2026-12-05T10:15:00Z"}, "event": {"uid": uid,
                "at": "2026-12-05T10:15:00Z", "author": "hsof", "kind": "escalated", "text": "escalate", "data": "null"}})
        };
        apply(&mut obj, &esc("x1"), &alice()).expect("ok");
        apply(&mut obj, &esc("x2"), &bob()).expect("ok");
        let (_, entries) = to_local(&obj).expect("ok");
        assert_eq!(entries.iter().filter(|e| e.kind == "escalated").count(), 1);
        let rem = json!({"op": "reminder", "key": "update@2026-12-05T10:30:00Z", "at": "2026-12-05T10:30:00Z"});
        assert!(apply(&mut obj, &rem, &alice()).expect("ok").is_some());
        assert!(apply(&mut obj, &rem, &bob()).expect("ok").is_none());
    }

    #[test]
    fn entries_stay_in_time_order_whoever_sends_first() {
        let mut obj = declared();
        let note = |uid: &str, at: &str| json!({"op": "event", "event": {"uid": uid, "at": at, "author": "x", "kind": "note", "text": uid, "data": "null"}});
        apply(&mut obj, &note("late", "2026-12-05T10:05:00Z"), &alice()).expect("ok");
        apply(&mut obj, &note("early", "2026-12-05T10:02:00Z"), &bob()).expect("ok");
        let (_, entries) = to_local(&obj).expect("ok");
        let order: Vec<&str> = entries.iter().map(|e| e.uid.as_str()).collect();
        assert_eq!(order, ["e1", "early", "late"]);
    }

    #[test]
    fn a_record_edited_into_another_shape_is_named_not_read() {
        let mut obj = declared();
        obj["spec"]["severity"] = json!("P9");
        assert!(to_local(&obj).expect_err("refused").contains("spec.severity"));
        let mut obj = declared();
        obj["status"]["timeline"][0]["at"] = json!("yesterday");
        assert!(to_local(&obj).expect_err("refused").contains("status.timeline[0].at"));
    }

    #[test]
    fn a_slack_message_is_claimed_by_one_holder_and_posted_once() {
        let mut obj = declared();
        let op =
            json!({"op": "slack", "id": "s1", "text": "P1 declared", "blocks": "null", "at": "2026-12-05T10:00:00Z"});
        apply(&mut obj, &op, &alice()).expect("ok");
        apply(&mut obj, &op, &bob()).expect("ok");
        assert_eq!(obj["status"]["slack"].as_array().expect("ok").len(), 1);
        let now = "2026-12-05T10:00:01Z";
        let mut a = obj.clone();
        assert!(claim_slack(&mut a, "s1", "A", now, "2026-12-05T10:00:31Z"));
        // B read the record after A stored its claim: nothing to claim.
        let mut b = a.clone();
        assert!(!claim_slack(&mut b, "s1", "B", now, "2026-12-05T10:00:31Z"));
        assert!(!slack_result(&mut b, "s1", "B", Ok(now), Value::Null));
        assert!(slack_result(&mut a, "s1", "A", Ok(now), Value::Null));
        assert!(!claim_slack(&mut a, "s1", "B", "2026-12-05T11:00:00Z", "2026-12-05T11:00:30Z"), "posted stays posted");
        // A claim that ran out (its app died mid-post) can be taken over.
        let mut c = obj.clone();
        assert!(claim_slack(&mut c, "s1", "A", now, "2026-12-05T10:00:31Z"));
        assert!(claim_slack(&mut c, "s1", "B", "2026-12-05T10:01:00Z", "2026-12-05T10:01:30Z"));
    }

    #[test]
    fn stakeholder_updates_go_in_order_once_and_an_older_definition_that_drops_them_is_noticed() {
        let mut obj = declared();
        let u = |id: &str| json!({"op": "stakeholder", "id": id, "update": "{\"status\":\"investigating\"}", "at": "2026-12-05T10:00:00Z"});
        for op in [u("s1"), u("s2"), u("s1")] {
            apply(&mut obj, &op, &alice()).expect("ok");
        }
        assert_eq!(obj["status"][STAKEHOLDER].as_array().expect("list").len(), 2);
        let now = "2026-12-05T10:00:01Z";
        // The second waits for the first: the first creates the page's incident.
        assert!(!claim_message(&mut obj, STAKEHOLDER, "s2", "A", now, "2026-12-05T10:00:31Z"));
        assert!(claim_message(&mut obj, STAKEHOLDER, "s1", "A", now, "2026-12-05T10:00:31Z"));
        assert!(message_result(&mut obj, STAKEHOLDER, "s1", "A", Ok(now), Some("pinc1"), Value::Null));
        assert_eq!(page_incident(&obj).as_deref(), Some("pinc1"));
        assert!(claim_message(&mut obj, STAKEHOLDER, "s2", "B", now, "2026-12-05T10:00:31Z"));
        // A store whose Incident definition has no status.stakeholder prunes it.
        let mut pruned = obj.clone();
        pruned["status"].as_object_mut().expect("status").remove(STAKEHOLDER);
        assert_eq!(dropped_by_schema(&[json!({"op": "event"}), u("s1")], &pruned), Some(1));
        assert_eq!(dropped_by_schema(&[u("s1")], &obj), None);
    }

    #[test]
    fn a_full_timeline_refuses_the_write_instead_of_losing_it() {
        let mut obj = declared();
        for n in 1..MAX_TIMELINE {
            let op = json!({"op": "event", "event": {"uid": format!("n{n}"), "at": "2026-12-05T10:05:00Z",
                "author": "x", "kind": "note", "text": "n", "data": "null"}});
            apply(&mut obj, &op, &alice()).expect("ok");
        }
        let op = json!({"op": "event", "event": {"uid": "over", "at": "2026-12-05T11:00:00Z", "author": "x",
            "kind": "note", "text": "n", "data": "null"}});
        assert!(apply(&mut obj, &op, &alice()).expect_err("refused").contains("holds 200 entries"));
    }
}
