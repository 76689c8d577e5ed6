//! Follow-up actions and post-mortems in the team store.
//!
//! A `FollowUp` is one action item: its `spec` (title, the incident it came from, who
//! created it, from where) is set when it is created; its `status` holds the owner, the
//! due date, the state (open, in progress, done, won't do) with who and why, and the
//! history of every change, each kept once by its id, so a write sent twice is one change.
//! A `PostMortem` holds what the team wrote into an incident's post-mortem (contributing
//! factors, lessons): each field keeps its latest edit by time. The timeline and impact
//! of a post-mortem are computed from what happened, never stored.

use serde_json::{json, Map, Value};

use crate::incident::{cut, time, Actor};
use crate::{GROUP, VERSION};

/// History entries a follow-up keeps (the oldest go first; the current state is kept
/// apart from them).
pub const MAX_HISTORY: usize = 100;
/// The longest title.
pub const MAX_TITLE: usize = 300;
/// The longest text of a post-mortem section.
pub const MAX_SECTION: usize = 16384;
/// The longest reason kept (the history's text holds 2 KiB).
pub const MAX_REASON: usize = 1000;

/// The states of a follow-up, as stored.
pub const STATES: [&str; 4] = ["open", "in_progress", "done", "wont_do"];

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn status(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("an object")
}

fn check_due(v: &Value) -> Result<String, String> {
    let d = text(v).ok_or("due: missing")?;
    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| format!("due: {d:?} is not a date YYYY-MM-DD"))?;
    Ok(d)
}

/// Whether the creation write `op` makes a follow-up that can be stored; why not.
pub fn check_create(op: &Value) -> Result<(), String> {
    let f = &op["followup"];
    let title = text(&f["title"]).ok_or("title: missing")?;
    if title.len() > MAX_TITLE {
        return Err(format!("title: {} characters; at most {MAX_TITLE}", title.len()));
    }
    text(&f["owner"]).ok_or("owner: missing")?;
    check_due(&f["due"])?;
    time(&op["at"], "the write's time")?;
    Ok(())
}

/// A new follow-up from its creation write.
pub fn new_object(name: &str, namespace: &str, op: &Value, actor: &Actor) -> Value {
    let f = &op["followup"];
    let mut spec = json!({"title": text(&f["title"]).unwrap_or_default(), "createdBy": actor.user,
        "createdAt": op["at"], "source": text(&f["source"]).unwrap_or_else(|| "manual".into())});
    for (k, key) in [("incident", "incident"), ("incident_title", "incidentTitle"), ("cluster", "cluster")] {
        if let Some(v) = text(&f[k]) {
            spec[key] = json!(v);
        }
    }
    if let Some(l) = text(&op["by"]).filter(|l| *l != actor.user) {
        spec["createdByLocal"] = json!(l);
    }
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "FollowUp",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center"}},
        "spec": spec, "status": {}})
}

/// Applies one write to a follow-up: `create` (sets the owner, due date and state once),
/// `owner`, `due`, `state` (with a reason; won't do needs one) and `note`. Each is kept
/// once by its id.
pub fn apply(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    let id = text(&op["id"]).ok_or("a follow-up write without an id")?;
    let at = time(&op["at"], "the write's time")?;
    let by = actor.user.clone();
    let st = status(obj);
    let history = st.entry("history").or_insert_with(|| json!([]));
    if !history.is_array() {
        *history = json!([]);
    }
    if history.as_array().is_some_and(|h| h.iter().any(|e| e["id"] == id.as_str())) {
        return Ok(());
    }
    // Each field keeps the change made last by time (a change made offline and sent late
    // does not undo a later one); the history keeps every change once, in time order.
    let later =
        |st: &Map<String, Value>, field: &str| st.get(field).and_then(Value::as_str).is_none_or(|t| t <= at.as_str());
    let (what, shown) = match op["op"].as_str().unwrap_or_default() {
        "create" => {
            check_create(op)?;
            if st.get("state").is_some_and(Value::is_string) {
                // Created once; another creation under the same name is another follow-up.
                let first = st.get("createdId").and_then(Value::as_str).unwrap_or_default();
                if !first.is_empty() && first != id {
                    return Err("another follow-up has this name already".into());
                }
                return Ok(());
            }
            let f = &op["followup"];
            let owner = text(&f["owner"]).unwrap_or_default();
            st.insert("owner".into(), json!(owner));
            st.insert("due".into(), json!(check_due(&f["due"])?));
            st.insert("state".into(), json!("open"));
            st.insert("createdId".into(), json!(id));
            ("created", format!("created, owner {owner}, due {}", f["due"].as_str().unwrap_or_default()))
        }
        "owner" => {
            let owner = text(&op["owner"]).ok_or("owner: missing")?;
            let old = st.get("owner").and_then(Value::as_str).unwrap_or("nobody").to_string();
            if later(st, "ownerAt") {
                st.insert("owner".into(), json!(owner));
                st.insert("ownerAt".into(), json!(at));
            }
            ("owner", format!("owner {old} → {owner}"))
        }
        "due" => {
            let due = check_due(&op["due"])?;
            let old = st.get("due").and_then(Value::as_str).unwrap_or("none").to_string();
            if later(st, "dueAt") {
                st.insert("due".into(), json!(due));
                st.insert("dueAt".into(), json!(at));
            }
            ("due", format!("due {old} → {due}"))
        }
        "state" => {
            let state = text(&op["state"]).filter(|s| STATES.contains(&s.as_str()));
            let state = state.ok_or_else(|| format!("state: {} is not one of {}", op["state"], STATES.join(", ")))?;
            let reason = text(&op["reason"]).map(|r| cut(&r, MAX_REASON));
            if state == "wont_do" && reason.is_none() {
                return Err("won't do needs a reason".into());
            }
            let old = st.get("state").and_then(Value::as_str).unwrap_or("open").to_string();
            if later(st, "stateAt") {
                st.insert("state".into(), json!(state));
                st.insert("stateAt".into(), json!(at));
                if state == "done" || state == "wont_do" {
                    st.insert("closedBy".into(), json!(by));
                    st.insert("closedAt".into(), json!(at));
                    st.insert("reason".into(), json!(reason));
                } else {
                    for k in ["closedBy", "closedAt", "reason"] {
                        st.remove(k);
                    }
                }
            }
            let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
            ("state", format!("{old} → {state}{why}"))
        }
        "note" => {
            let t = text(&op["text"]).ok_or("note: empty")?;
            ("note", t)
        }
        other => return Err(format!("unknown write {other:?} to a follow-up")),
    };
    let history = st.get_mut("history").and_then(Value::as_array_mut).expect("a list");
    let mut entry = json!({"id": id, "at": at, "by": by, "what": what, "text": cut(&shown, 2000)});
    if let Some(l) = text(&op["by"]).filter(|l| *l != by) {
        entry["byLocal"] = json!(l);
    }
    history.push(entry);
    history.sort_by(|a, b| a["at"].as_str().unwrap_or_default().cmp(b["at"].as_str().unwrap_or_default()));
    if history.len() > MAX_HISTORY {
        let extra = history.len() - MAX_HISTORY;
        history.drain(..extra);
    }
    Ok(())
}

/// A new post-mortem record for incident `incident` (its shared name, or `local-<id>`).
pub fn new_postmortem(name: &str, namespace: &str, op: &Value, actor: &Actor) -> Value {
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "PostMortem",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center"}},
        "spec": {"incident": op["incident"], "incidentTitle": op["incident_title"], "createdBy": actor.user},
        "status": {}})
}

/// Applies one edit to a post-mortem: each of `factors` and `lessons` present in the write
/// replaces the field when the write is not older than the field's last edit.
pub fn apply_postmortem(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    if op["op"] != "edit" {
        return Err(format!("unknown write {} to a post-mortem", op["op"]));
    }
    let at = time(&op["at"], "the write's time")?;
    let st = status(obj);
    for field in ["factors", "lessons"] {
        let Some(v) = op[field].as_str() else { continue };
        if v.len() > MAX_SECTION {
            return Err(format!("{field}: {} bytes; at most {MAX_SECTION}", v.len()));
        }
        let stamp = format!("{field}At");
        if st.get(&stamp).and_then(Value::as_str).is_none_or(|old| old <= at.as_str()) {
            st.insert(field.into(), json!(v));
            st.insert(stamp, json!(at));
            st.insert(format!("{field}By"), json!(actor.user));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ali() -> Actor {
        Actor { user: "alice@example.org".into() }
    }

    fn create() -> Value {
        json!({"op": "create", "id": "c1", "at": "2026-12-05T12:00:00Z", "by": "ali",
            "followup": {"title": "Alert on queue depth", "owner": "bo", "due": "2026-12-12", "incident": "inc-1", "source": "postmortem"}})
    }

    #[test]
    fn a_follow_up_is_created_once_and_changed_once_per_write() {
        let mut obj = new_object("fu-1", "hsof", &create(), &ali());
        assert_eq!(obj["spec"]["incident"], "inc-1");
        apply(&mut obj, &create(), &ali()).expect("ok");
        let done =
            json!({"op": "state", "id": "s1", "at": "2026-12-06T12:00:00Z", "state": "done", "reason": "rule added"});
        apply(&mut obj, &done, &ali()).expect("ok");
        let once = obj.clone();
        apply(&mut obj, &done, &ali()).expect("ok");
        apply(&mut obj, &create(), &ali()).expect("ok");
        assert_eq!(obj, once);
        assert_eq!(obj["status"]["state"], "done");
        assert_eq!(obj["status"]["closedBy"], "alice@example.org");
        assert_eq!(obj["status"]["history"].as_array().expect("list").len(), 2);
        let reopen = json!({"op": "state", "id": "s2", "at": "2026-12-07T12:00:00Z", "state": "open"});
        apply(&mut obj, &reopen, &ali()).expect("ok");
        assert!(obj["status"]["closedAt"].is_null());
    }

    #[test]
    fn bad_writes_are_refused_with_the_reason() {
        let mut obj = new_object("fu-1", "hsof", &create(), &ali());
        apply(&mut obj, &create(), &ali()).expect("ok");
        let wont = json!({"op": "state", "id": "w", "at": "2026-12-06T12:00:00Z", "state": "wont_do"});
        assert_eq!(apply(&mut obj, &wont, &ali()), Err("won't do needs a reason".into()));
        let due = json!({"op": "due", "id": "d", "at": "2026-12-06T12:00:00Z", "due": "next week"});
        assert!(apply(&mut obj, &due, &ali()).expect_err("refused").contains("not a date"));
        let mut bad = create();
        bad["followup"]["owner"] = json!("");
        assert_eq!(check_create(&bad), Err("owner: missing".into()));
    }

    #[test]
    fn a_post_mortem_keeps_each_sections_latest_edit() {
        let op = json!({"op": "edit", "incident": "inc-1", "at": "2026-12-06T12:00:00Z", "factors": "A"});
        let mut pm = new_postmortem("pm-inc-1", "hsof", &op, &ali());
        apply_postmortem(&mut pm, &op, &ali()).expect("ok");
        let older = json!({"op": "edit", "at": "2026-12-06T11:00:00Z", "factors": "old", "lessons": "L"});
        apply_postmortem(&mut pm, &older, &ali()).expect("ok");
        assert_eq!((pm["status"]["factors"].as_str(), pm["status"]["lessons"].as_str()), (Some("A"), Some("L")));
    }
}
