//! The on-call schedule in the team store: one `OnCallSchedule` record per team (named
//! [`SCHEDULE_NAME`]) holding the team's members, the rotation and its overrides. Every
//! write is a set operation that can be applied again without changing anything (a member
//! added twice is one member; an override is kept once by its id; a rotation set twice
//! keeps the later one by its time), so a retried or doubled write is harmless and two
//! desktops' writes merge whatever order they land in. The shapes of the rotation and of
//! an override are hsof-ops' `oncall::Rotation` and `oncall::Override` (snake_case), so
//! the arithmetic reads them as they are stored.

use serde_json::{json, Map, Value};

use crate::incident::{time, Actor};
use crate::{GROUP, VERSION};

/// The name of the team's one schedule record.
pub const SCHEDULE_NAME: &str = "hsof-team";
/// Overrides a schedule keeps; beyond it, those that ended longest ago are dropped.
pub const MAX_OVERRIDES: usize = 300;
/// Members a schedule keeps (removed ones count, so their names stay known).
pub const MAX_MEMBERS: usize = 200;

/// A new, empty schedule.
pub fn new_object(name: &str, namespace: &str, actor: &Actor) -> Value {
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "OnCallSchedule",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center"},
            "annotations": {"ops.hsof.io/created-by": actor.user}},
        "spec": {"team": name},
        "status": {"members": [], "overrides": []}})
}

fn status(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("an object")
}

fn list<'a>(st: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let v = st.entry(key.to_string()).or_insert_with(|| json!([]));
    if !v.is_array() {
        *v = json!([]);
    }
    v.as_array_mut().expect("an array")
}

fn name_of(v: &Value, what: &str) -> Result<String, String> {
    let n = v.as_str().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| format!("{what}: missing"))?;
    if n.len() > 100 {
        return Err(format!("{what}: {} characters; at most 100", n.len()));
    }
    Ok(n.to_string())
}

/// Applies one write to the schedule `obj`.
pub fn apply(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    let at = time(&op["at"], "the write's time")?;
    let st = status(obj);
    match op["op"].as_str().unwrap_or_default() {
        "member_add" => {
            let m = &op["member"];
            let name = name_of(&m["name"], "member.name")?;
            let members = list(st, "members");
            let text = |k: &str| m[k].as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
            match members.iter_mut().find(|x| x["name"] == name.as_str()) {
                Some(x) => {
                    // Back after a removal that came before this write; details refreshed.
                    if x["removedAt"].as_str().is_some_and(|r| r <= at.as_str()) {
                        x["removedAt"] = Value::Null;
                        x["removedBy"] = Value::Null;
                    }
                    // A removal made before this addition and arriving after it changes nothing.
                    if x["addedAt"].as_str().is_none_or(|a| a < at.as_str()) {
                        x["addedAt"] = json!(at);
                    }
                    for (k, key) in [("user", "user"), ("contact", "contact")] {
                        if let Some(v) = text(k) {
                            x[key] = json!(v);
                        }
                    }
                }
                None => {
                    if members.len() >= MAX_MEMBERS {
                        return Err(format!("the schedule holds {MAX_MEMBERS} members already"));
                    }
                    members.push(json!({"name": name, "user": text("user"), "contact": text("contact"),
                        "addedAt": at, "addedBy": actor.user}));
                }
            }
            Ok(())
        }
        "member_remove" => {
            let name = name_of(&op["name"], "name")?;
            let members = list(st, "members");
            let Some(x) = members.iter_mut().find(|x| x["name"] == name.as_str()) else {
                return Ok(()); // never added here: nothing to remove
            };
            if x["removedAt"].is_null() && x["addedAt"].as_str().is_none_or(|a| a <= at.as_str()) {
                x["removedAt"] = json!(at);
                x["removedBy"] = json!(actor.user);
            }
            Ok(())
        }
        "rotation_set" => {
            let r = &op["rotation"];
            if !r.is_object() {
                return Err("rotation: missing".into());
            }
            let newer = st.get("rotationSetAt").and_then(Value::as_str).is_none_or(|old| old <= at.as_str());
            if newer {
                st.insert("rotation".into(), r.clone());
                st.insert("rotationSetAt".into(), json!(at));
                st.insert("rotationSetBy".into(), json!(actor.user));
            }
            Ok(())
        }
        "override_add" => {
            let o = &op["override"];
            let id = name_of(&o["id"], "override.id")?;
            for k in ["start", "end", "created_at"] {
                time(&o[k], &format!("override.{k}"))?;
            }
            name_of(&o["who"], "override.who")?;
            let overrides = list(st, "overrides");
            if overrides.iter().any(|x| x["id"] == id.as_str()) {
                return Ok(());
            }
            overrides.push(o.clone());
            if overrides.len() > MAX_OVERRIDES {
                // The ones that ended longest ago go first.
                overrides
                    .sort_by(|a, b| a["end"].as_str().unwrap_or_default().cmp(b["end"].as_str().unwrap_or_default()));
                let extra = overrides.len() - MAX_OVERRIDES;
                overrides.drain(..extra);
            }
            Ok(())
        }
        "override_cancel" => {
            let id = name_of(&op["override_id"], "override_id")?;
            let overrides = list(st, "overrides");
            if let Some(o) = overrides.iter_mut().find(|x| x["id"] == id.as_str()) {
                if o["cancelled_at"].is_null() {
                    o["cancelled_at"] = json!(at);
                    o["cancelled_by"] = json!(actor.user);
                }
            }
            Ok(())
        }
        other => Err(format!("unknown write {other:?} to the on-call schedule")),
    }
}

/// One member as the schedule keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The name the rotation and follow-ups use.
    pub name: String,
    /// The Kubernetes (or OS) user whose desktop is theirs, when given.
    pub user: Option<String>,
    /// How to reach them (phone, Slack handle, e-mail).
    pub contact: Option<String>,
    /// Removed from the team at, when they were.
    pub removed_at: Option<String>,
}

/// The schedule in local terms: members, the rotation (hsof-ops' shape, JSON) with who
/// set it, and the overrides not cancelled. The error says what cannot be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// Every member ever added (removed ones with their removal time).
    pub members: Vec<Member>,
    /// The rotation, as hsof-ops' `Rotation` serializes.
    pub rotation: Option<Value>,
    /// Who set it, when.
    pub rotation_set: Option<(String, String)>,
    /// Overrides in force (cancelled ones left out), as hsof-ops' `Override` serializes.
    pub overrides: Vec<Value>,
}

/// Reads the schedule record.
pub fn to_local(obj: &Value) -> Result<Schedule, String> {
    let st = &obj["status"];
    let members = match &st["members"] {
        Value::Null => vec![],
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(n, m)| {
                let s = |k: &str| m[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
                Ok(Member {
                    name: s("name").ok_or_else(|| format!("status.members[{n}].name: missing"))?,
                    user: s("user"),
                    contact: s("contact"),
                    removed_at: s("removedAt"),
                })
            })
            .collect::<Result<_, String>>()?,
        other => return Err(format!("status.members: {other} is not a list")),
    };
    let overrides = match &st["overrides"] {
        Value::Null => vec![],
        Value::Array(a) => a.iter().filter(|o| o["cancelled_at"].is_null()).cloned().collect(),
        other => return Err(format!("status.overrides: {other} is not a list")),
    };
    let rotation = st["rotation"].is_object().then(|| st["rotation"].clone());
    let rotation_set = match (st["rotationSetBy"].as_str(), st["rotationSetAt"].as_str()) {
        (Some(b), Some(a)) => Some((b.to_string(), a.to_string())),
        _ => None,
    };
    Ok(Schedule { members, rotation, rotation_set, overrides })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Actor {
        Actor { user: "alice@example.org".into() }
    }

    fn op(v: Value) -> Value {
        v
    }

    #[test]
    fn writes_merge_in_any_order_and_twice_is_once() {
        let writes = [
            op(
                json!({"op": "member_add", "at": "2026-12-01T10:00:00Z", "member": {"name": "ali", "user": "alice@example.org"}}),
            ),
            op(json!({"op": "member_add", "at": "2026-12-01T10:01:00Z", "member": {"name": "bo"}})),
            op(
                json!({"op": "rotation_set", "at": "2026-12-01T10:02:00Z", "rotation": {"members": ["ali", "bo"], "rrule": "FREQ=WEEKLY;BYDAY=MO", "start": "2026-11-30T09:00", "timezone": "Europe/Berlin", "skip_holidays": true}}),
            ),
            op(
                json!({"op": "rotation_set", "at": "2026-12-01T09:00:00Z", "rotation": {"members": ["bo"], "rrule": "FREQ=DAILY", "start": "2026-11-30T09:00", "timezone": "UTC", "skip_holidays": false}}),
            ),
            op(
                json!({"op": "override_add", "at": "2026-12-01T10:03:00Z", "override": {"id": "o1", "start": "2026-12-24T17:00:00Z", "end": "2026-12-25T08:00:00Z", "who": "bo", "reason": "swap", "by": "ali", "created_at": "2026-12-01T10:03:00Z"}}),
            ),
            op(json!({"op": "member_remove", "at": "2026-12-02T10:00:00Z", "name": "bo"})),
        ];
        let mut a = new_object(SCHEDULE_NAME, "hsof", &alice());
        for w in &writes {
            apply(&mut a, w, &alice()).expect("applied");
        }
        let once = a.clone();
        for w in writes.iter().rev() {
            apply(&mut a, w, &alice()).expect("applied again");
        }
        let s = to_local(&a).expect("read");
        assert_eq!(to_local(&once).expect("read"), s);
        assert_eq!(s.members.len(), 2);
        assert_eq!(s.rotation.as_ref().expect("set")["rrule"], "FREQ=WEEKLY;BYDAY=MO", "the later rotation stands");
        assert_eq!(s.overrides.len(), 1);
        assert!(s.members.iter().any(|m| m.name == "bo" && m.removed_at.is_some()));
        // Added back after the removal.
        apply(&mut a, &json!({"op": "member_add", "at": "2026-12-03T10:00:00Z", "member": {"name": "bo"}}), &alice())
            .expect("ok");
        assert!(to_local(&a).expect("read").members.iter().all(|m| m.removed_at.is_none()));
        apply(&mut a, &json!({"op": "override_cancel", "at": "2026-12-03T11:00:00Z", "override_id": "o1"}), &alice())
            .expect("ok");
        assert!(to_local(&a).expect("read").overrides.is_empty());
    }

    #[test]
    fn a_bad_write_is_named() {
        let mut a = new_object(SCHEDULE_NAME, "hsof", &alice());
        let e = apply(&mut a, &json!({"op": "member_add", "at": "2026-12-01T10:00:00Z", "member": {}}), &alice());
        assert_eq!(e, Err("member.name: missing".into()));
        let e = apply(
            &mut a,
            &json!({"op": "override_add", "at": "2026-12-01T10:00:00Z", "override": {"id": "x", "start": "soon", "end": "2026-12-01T10:00:00Z", "created_at": "2026-12-01T10:00:00Z", "who": "a"}}),
            &alice(),
        );
        assert!(e.expect_err("refused").contains("override.start"));
        assert!(apply(&mut a, &json!({"op": "drop", "at": "2026-12-01T10:00:00Z"}), &alice()).is_err());
    }
}
