//! Procedure runs and maintenance windows in the team store, like incidents (see
//! `incident.rs`): a desktop's writes are applied to the record as it is in the cluster, so
//! they can be applied again after a 409. A run's step results are appended once each (by
//! id) and its completion or skip is set once (the first to land stands); a window's
//! silence is the last one set, its cancellation set once.

use hsof_store::{RunRecord, SharedStep, WindowRecord};
use serde_json::{json, Value};

use crate::incident::{cut, opt_time, time, Actor};
use crate::{GROUP, VERSION};

/// Step results a run holds.
pub const MAX_STEPS: usize = 200;

fn meta(name: &str, namespace: &str) -> Value {
    json!({"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "hsof-control-center"}})
}

/// A new ProcedureRun from any of its writes (each carries the occurrence).
pub fn new_run(name: &str, namespace: &str, op: &Value) -> Value {
    let run = &op["run"];
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "ProcedureRun", "metadata": meta(name, namespace),
        "spec": {"procedure": run["procedure"], "occurrence": run["occurrence"], "due": run["starts_at"]},
        "status": {"state": "InProgress", "steps": []}})
}

/// A new MaintenanceWindow from any of its writes (each carries the window).
pub fn new_window(name: &str, namespace: &str, op: &Value, actor: &Actor) -> Value {
    let w = &op["window"];
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "MaintenanceWindow", "metadata": meta(name, namespace),
        "spec": {"title": w["title"], "start": w["starts_at"], "end": w["ends_at"],
            "description": cut(w["description"].as_str().unwrap_or_default(), 4096),
            "impact": cut(w["impact"].as_str().unwrap_or_default(), 1024),
            "scheduledBy": actor.user, "scheduledByLocal": w["created_by"], "scheduledAt": w["created_at"]},
        "status": {"state": "Scheduled"}})
}

fn status(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("an object")
}

/// Applies one write to a ProcedureRun.
pub fn apply_run(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let st = status(obj);
    match op["op"].as_str().unwrap_or_default() {
        "step" => {
            let s = &op["step"];
            let uid = s["uid"].as_str().filter(|u| !u.is_empty()).ok_or("a step result without an id")?;
            let steps = st.entry("steps").or_insert_with(|| json!([]));
            if !steps.is_array() {
                *steps = json!([]);
            }
            let steps = steps.as_array_mut().expect("an array");
            if steps.iter().any(|x| x["id"] == uid) {
                return Ok(());
            }
            if steps.len() >= MAX_STEPS {
                return Err(format!("the shared run {name} holds {MAX_STEPS} step results already"));
            }
            let local = s["by"].as_str().unwrap_or_default();
            let mut entry = json!({"id": uid, "step": s["step"], "at": s["at"], "by": actor.user, "byLocal": local,
                "automated": s["automated"], "verdict": s["verdict"],
                "output": cut(s["output"].as_str().unwrap_or_default(), 4096)});
            if let Some(n) = s["note"].as_str() {
                entry["note"] = json!(cut(n, 1024));
            }
            if let Some(c) = s["cluster"].as_str() {
                entry["cluster"] = json!(c);
            }
            steps.push(entry);
            steps.sort_by(|a, b| a["at"].as_str().unwrap_or_default().cmp(b["at"].as_str().unwrap_or_default()));
            if !st.get("finished").is_some_and(Value::is_object) {
                st.insert("state".into(), json!("InProgress"));
            }
        }
        "finish" => {
            if st.get("finished").is_some_and(Value::is_object) {
                return Ok(()); // done once, by whoever landed first
            }
            let f = &op["finished"];
            let skipped = f["skipped"].as_bool().unwrap_or(false);
            let mut finished = json!({"by": actor.user, "byLocal": f["by"], "at": f["at"], "skipped": skipped});
            if let Some(n) = f["note"].as_str() {
                finished["reason"] = json!(cut(n, 1024));
            }
            st.insert("finished".into(), finished);
            st.insert("state".into(), json!(if skipped { "Skipped" } else { "Completed" }));
        }
        other => return Err(format!("unknown write {other:?} to a procedure run")),
    }
    Ok(())
}

/// Applies one write to a MaintenanceWindow.
pub fn apply_window(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    let st = status(obj);
    match op["op"].as_str().unwrap_or_default() {
        "window" => {}
        "silence" => {
            st.insert("silenceId".into(), op["value"].clone());
        }
        "cancel" => {
            if !st.get("cancelled").is_some_and(Value::is_object) {
                st.insert("cancelled".into(), json!({"by": actor.user, "at": op["value"]}));
                st.insert("state".into(), json!("Cancelled"));
            }
        }
        other => return Err(format!("unknown write {other:?} to a maintenance window")),
    }
    Ok(())
}

fn shown(by: Option<&str>, local: Option<&str>) -> String {
    match (by, local) {
        (Some(b), Some(l)) if l != b && !l.is_empty() => format!("{b} ({l})"),
        (Some(b), _) => b.to_string(),
        (None, Some(l)) => l.to_string(),
        (None, None) => "someone".into(),
    }
}

/// A ProcedureRun in local terms; an error names what this app cannot read.
pub fn run_to_local(obj: &Value) -> Result<(RunRecord, Vec<SharedStep>), String> {
    let spec = &obj["spec"];
    let st = &obj["status"];
    let occurrence = spec["occurrence"].as_str().filter(|s| !s.is_empty()).ok_or("spec.occurrence: missing")?;
    let procedure = spec["procedure"].as_str().filter(|s| !s.is_empty()).ok_or("spec.procedure: missing")?;
    let f = &st["finished"];
    let finished = f.is_object();
    let run = RunRecord {
        occurrence_key: occurrence.to_string(),
        procedure_id: procedure.to_string(),
        starts_at: time(&spec["due"], "spec.due")?,
        completed_at: if finished { opt_time(&f["at"], "status.finished.at")? } else { None },
        completed_by: finished.then(|| shown(f["by"].as_str(), f["byLocal"].as_str())),
        skipped: finished && f["skipped"].as_bool().unwrap_or(false),
        note: f["reason"].as_str().map(str::to_string),
    };
    let steps = match &st["steps"] {
        Value::Null => vec![],
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let verdict = s["verdict"].as_str().filter(|v| ["pass", "warn", "fail", "done", "unknown"].contains(v));
                Ok(SharedStep {
                    uid: s["id"]
                        .as_str()
                        .filter(|x| !x.is_empty())
                        .ok_or_else(|| format!("status.steps[{n}].id: missing"))?
                        .into(),
                    step_id: s["step"].as_str().ok_or_else(|| format!("status.steps[{n}].step: missing"))?.into(),
                    at: time(&s["at"], &format!("status.steps[{n}].at"))?,
                    by: shown(s["by"].as_str(), s["byLocal"].as_str()),
                    automated: s["automated"].as_bool().unwrap_or(false),
                    verdict: verdict
                        .ok_or_else(|| {
                            format!(
                                "status.steps[{n}].verdict: {} is not pass, warn, fail, done or unknown",
                                s["verdict"]
                            )
                        })?
                        .into(),
                    output: s["output"].as_str().unwrap_or_default().into(),
                    note: s["note"].as_str().map(str::to_string),
                    cluster: s["cluster"].as_str().map(str::to_string),
                })
            })
            .collect::<Result<_, String>>()?,
        other => return Err(format!("status.steps: {other} is not a list")),
    };
    Ok((run, steps))
}

/// A MaintenanceWindow in local terms; an error names what this app cannot read.
pub fn window_to_local(obj: &Value) -> Result<WindowRecord, String> {
    let spec = &obj["spec"];
    let st = &obj["status"];
    let title = spec["title"].as_str().filter(|t| !t.trim().is_empty()).ok_or("spec.title: missing or empty")?;
    let (start, end) = (time(&spec["start"], "spec.start")?, time(&spec["end"], "spec.end")?);
    if end <= start {
        return Err(format!("spec.end {end} is not after spec.start {start}"));
    }
    Ok(WindowRecord {
        id: 0,
        title: title.to_string(),
        starts_at: start,
        ends_at: end,
        description: spec["description"].as_str().unwrap_or_default().into(),
        impact: spec["impact"].as_str().unwrap_or_default().into(),
        created_at: opt_time(&spec["scheduledAt"], "spec.scheduledAt")?
            .or_else(|| obj["metadata"]["creationTimestamp"].as_str().map(str::to_string))
            .unwrap_or_default(),
        created_by: shown(spec["scheduledBy"].as_str(), spec["scheduledByLocal"].as_str()),
        silence_id: st["silenceId"].as_str().map(str::to_string),
        cancelled_at: opt_time(&st["cancelled"]["at"], "status.cancelled.at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(u: &str) -> Actor {
        Actor { user: u.into() }
    }

    fn step(uid: &str, at: &str) -> Value {
        json!({"op": "step", "run": {"occurrence": "morning-health@2026-12-07T09:00", "procedure": "morning-health",
            "starts_at": "2026-12-07T08:00:00Z"}, "step": {"uid": uid, "step": "pods", "at": at, "by": "ali",
            "automated": true, "verdict": "pass", "output": "3/3 ready", "note": null}})
    }

    #[test]
    fn a_run_keeps_every_step_once_and_is_finished_once() {
        let op = step("s1", "2026-12-07T08:01:00Z");
        let mut obj = new_run("run-x", "hsof", &op);
        apply_run(&mut obj, &op, &actor("alice")).expect("ok");
        apply_run(&mut obj, &op, &actor("alice")).expect("ok");
        apply_run(&mut obj, &step("s2", "2026-12-07T08:00:30Z"), &actor("bob")).expect("ok");
        let finish = |by: &str| json!({"op": "finish", "run": op["run"], "finished": {"at": "2026-12-07T08:05:00Z", "by": by, "skipped": false, "note": null}});
        apply_run(&mut obj, &finish("ali"), &actor("alice")).expect("ok");
        apply_run(&mut obj, &finish("bo"), &actor("bob")).expect("ok");
        let (run, steps) = run_to_local(&obj).expect("ok");
        assert_eq!(steps.iter().map(|s| s.uid.as_str()).collect::<Vec<_>>(), ["s2", "s1"], "once each, in time order");
        assert_eq!(run.completed_by.as_deref(), Some("alice (ali)"), "the first completion stands");
        assert_eq!(obj["status"]["state"], "Completed");
    }

    #[test]
    fn a_window_reads_back_and_is_cancelled_once() {
        let op = json!({"op": "window", "window": {"title": "node pool upgrade", "starts_at": "2026-12-08T20:00:00Z",
            "ends_at": "2026-12-08T22:00:00Z", "description": "", "impact": "stage 2 paused", "created_at": "2026-12-05T10:00:00Z",
            "created_by": "ali", "silence_id": null, "cancelled_at": null}});
        let mut obj = new_window("mw-1", "hsof", &op, &actor("alice"));
        apply_window(&mut obj, &op, &actor("alice")).expect("ok");
        let w = window_to_local(&obj).expect("ok");
        assert_eq!((w.title.as_str(), w.created_by.as_str()), ("node pool upgrade", "alice (ali)"));
        let cancel = |at: &str| json!({"op": "cancel", "window": op["window"], "value": at});
        apply_window(&mut obj, &cancel("2026-12-06T10:00:00Z"), &actor("bob")).expect("ok");
        apply_window(&mut obj, &cancel("2026-12-06T11:00:00Z"), &actor("alice")).expect("ok");
        assert_eq!(window_to_local(&obj).expect("ok").cancelled_at.as_deref(), Some("2026-12-06T10:00:00Z"));
        obj["spec"]["end"] = json!("2026-12-08T19:00:00Z");
        assert!(window_to_local(&obj).expect_err("refused").contains("not after"));
    }
}
