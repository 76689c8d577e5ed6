//! Security reviews in the team store, like procedure runs (see `calendar.rs`): a
//! SecurityReview's `spec` is the review as its desktop kept it (the record hsof-core
//! reads, without its local id and sign-off), set once when it is created; its `status`
//! holds the sign-off, set once (the first to land stands; a later one changes nothing
//! and is not an error). Every write carries the record, so a review kept before sharing
//! was on is created by its sign-off.

use serde_json::{json, Value};

use crate::incident::{time, Actor};
use crate::{GROUP, VERSION};

/// The largest record the team store takes, in bytes of JSON: etcd refuses objects over
/// about 1.5 MiB, and the object adds its metadata and status to the record.
pub const MAX_RECORD_BYTES: usize = 1_000_000;

/// The record fields that are this desktop's, not the shared review's.
const LOCAL_FIELDS: [&str; 3] = ["id", "signed_off_by", "signed_off_at"];

/// Whether `s` is a DNS subdomain (RFC 1123), what the API server takes as an object's
/// name: at most 253 characters, dot-separated labels of lowercase letters, digits and
/// `-`, each starting and ending with a letter or digit.
pub fn is_dns_subdomain(s: &str) -> bool {
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    s.len() <= 253 && s.split('.').all(label)
}

/// FNV-1a, 64 bits: a hash that is the same on every platform and release.
fn fnv64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The shared name of the review `uid`: the uid itself when it is a DNS subdomain (what
/// the app makes: `<cluster>-<yyyymmddthhmmss>-<hex>`), else a readable slug of it with a
/// hash of the whole uid, the same on every desktop.
pub fn name_for(uid: &str) -> String {
    if is_dns_subdomain(uid) {
        return uid.to_string();
    }
    let mut slug = String::new();
    for c in uid.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    let hash = format!("{:016x}", fnv64(uid));
    if slug.is_empty() {
        format!("review-{hash}")
    } else {
        format!("{slug}-{hash}")
    }
}

/// Whether `record` can be shared: an object naming its uid, cluster and author, small
/// enough for etcd. The error says why not.
pub fn check_record(record: &Value) -> Result<(), String> {
    if !record.is_object() {
        return Err("the review is not an object".into());
    }
    for field in ["uid", "cluster", "by"] {
        if record[field].as_str().is_none_or(str::is_empty) {
            return Err(format!("the review has no {field}"));
        }
    }
    let size = record.to_string().len();
    if size > MAX_RECORD_BYTES {
        return Err(format!(
            "the review is {} KiB; the team store takes reviews up to {} KiB (etcd's object limit), so it stays on this desktop",
            size / 1024,
            MAX_RECORD_BYTES / 1024
        ));
    }
    Ok(())
}

/// The record as the shared `spec` holds it: without the fields that are this desktop's,
/// and without its empty fields (a null is what the record reads when one is missing).
fn spec_of(record: &Value) -> Value {
    let mut spec = record.clone();
    if let Some(o) = spec.as_object_mut() {
        for f in LOCAL_FIELDS {
            o.remove(f);
        }
        o.retain(|_, v| !v.is_null());
    }
    spec
}

/// A new SecurityReview from any of its writes (each carries the record).
pub fn new_object(name: &str, namespace: &str, op: &Value, actor: &Actor) -> Value {
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "SecurityReview",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center"},
            "annotations": {"ops.hsof.io/shared-by": actor.user}},
        "spec": spec_of(&op["record"]), "status": {}})
}

fn status(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj["status"].is_object() {
        obj["status"] = json!({});
    }
    obj["status"].as_object_mut().expect("an object")
}

/// Applies one write to a SecurityReview: `record` (the review itself, already its spec)
/// changes nothing; `sign_off` sets who signed it off and when, once.
pub fn apply(obj: &mut Value, op: &Value, actor: &Actor) -> Result<(), String> {
    match op["op"].as_str().unwrap_or_default() {
        "record" => Ok(()),
        "sign_off" => {
            let s = &op["signed_off"];
            let at = time(&s["at"], "the sign-off's time")?;
            let st = status(obj);
            if st.get("signedOffBy").and_then(Value::as_str).is_some_and(|b| !b.is_empty()) {
                return Ok(()); // signed off once, by whoever landed first
            }
            st.insert("signedOffBy".into(), json!(actor.user));
            if let Some(local) = s["by"].as_str().filter(|l| !l.is_empty()) {
                st.insert("signedOffByLocal".into(), json!(local));
            }
            st.insert("signedOffAt".into(), json!(at));
            Ok(())
        }
        other => Err(format!("unknown write {other:?} to a security review")),
    }
}

fn shown(by: &str, local: Option<&str>) -> String {
    match local {
        Some(l) if !l.is_empty() && l != by => format!("{by} ({l})"),
        _ => by.to_string(),
    }
}

/// A shared review in local terms, for hsof-core to read into its record.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedReview {
    /// The review's uid: its `spec.uid` when that is the uid this object is named after,
    /// else the object's name.
    pub uid: String,
    /// The record: the spec, with that uid.
    pub record: Value,
    /// Who signed it off (Kubernetes user, and the desktop's user beside it) and when.
    pub signed_off: Option<(String, String)>,
}

/// A SecurityReview in local terms; an error names what this app cannot read (the
/// record's own shape is hsof-core's to check).
pub fn to_local(obj: &Value) -> Result<SharedReview, String> {
    let name = obj["metadata"]["name"].as_str().filter(|n| !n.is_empty()).ok_or("metadata.name: missing")?;
    let spec = &obj["spec"];
    if !spec.is_object() {
        return Err("spec: not an object".into());
    }
    let uid = spec["uid"].as_str().filter(|u| !u.is_empty() && name_for(u) == name).unwrap_or(name).to_string();
    let mut record = spec_of(spec);
    record["uid"] = json!(uid);
    let st = &obj["status"];
    let signed_off = match st["signedOffBy"].as_str().filter(|b| !b.is_empty()) {
        Some(by) => Some((shown(by, st["signedOffByLocal"].as_str()), time(&st["signedOffAt"], "status.signedOffAt")?)),
        None => None,
    };
    Ok(SharedReview { uid, record, signed_off })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(u: &str) -> Actor {
        Actor { user: u.into() }
    }

    fn record() -> Value {
        json!({"id": 7, "uid": "prod-eu-20261209t100000-1a2b", "cluster": "prod-eu", "by": "ali",
            "signed_off_by": null, "signed_off_at": null, "report": {"namespace": "hsof", "findings": []},
            "audit": null, "diff": null, "previous": null, "took_ms": 12.5})
    }

    fn sign_off(by: &str, at: &str) -> Value {
        json!({"op": "sign_off", "record": record(), "signed_off": {"by": by, "at": at}})
    }

    #[test]
    fn a_review_is_its_spec_and_is_signed_off_once() {
        let op = json!({"op": "record", "record": record()});
        let name = name_for("prod-eu-20261209t100000-1a2b");
        assert_eq!(name, "prod-eu-20261209t100000-1a2b", "the app's uid is already a name");
        let mut obj = new_object(&name, "hsof", &op, &actor("alice"));
        assert_eq!(obj["spec"]["cluster"], "prod-eu");
        assert!(
            obj["spec"].get("id").is_none() && obj["spec"].get("signed_off_by").is_none(),
            "local fields stay local"
        );
        assert!(obj["spec"].get("previous").is_none(), "no nulls for the schema's typed fields");
        apply(&mut obj, &op, &actor("alice")).expect("a record changes nothing");
        assert_eq!(obj["status"], json!({}));
        apply(&mut obj, &sign_off("ali", "2026-12-09T11:00:00Z"), &actor("alice")).expect("ok");
        apply(&mut obj, &sign_off("bo", "2026-12-09T12:00:00Z"), &actor("bob")).expect("a second is no error");
        let local = to_local(&obj).expect("reads");
        assert_eq!(local.uid, "prod-eu-20261209t100000-1a2b");
        assert_eq!(local.record["by"], "ali");
        assert_eq!(
            local.signed_off,
            Some(("alice (ali)".into(), "2026-12-09T11:00:00Z".into())),
            "the first sign-off stands"
        );
        assert!(apply(&mut obj, &json!({"op": "erase"}), &actor("bob"))
            .expect_err("refused")
            .contains("unknown write"));
        let bad = json!({"op": "sign_off", "record": record(), "signed_off": {"by": "bo", "at": "yesterday"}});
        assert!(apply(&mut obj, &bad, &actor("bob")).is_err(), "a sign-off needs a time");
    }

    #[test]
    fn a_uid_that_is_not_a_name_gets_a_stable_safe_one() {
        for ok in ["a", "prod-eu-20261209t100000-1a2b", "a.b-c.d0"] {
            assert!(is_dns_subdomain(ok), "{ok}");
        }
        for bad in ["", "Prod", "a_b", "-a", "a-", "a..b", ".a", &"a".repeat(254)] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
        let name = name_for("Prod_EU-20261209T100000-1A2B");
        assert!(is_dns_subdomain(&name), "{name}");
        assert!(name.starts_with("prod-eu-20261209t100000-1a2b-"), "{name}");
        assert_eq!(name, name_for("Prod_EU-20261209T100000-1A2B"), "deterministic");
        assert_ne!(name, name_for("prod_EU-20261209T100000-1A2B"), "distinct uids, distinct names");
        assert!(is_dns_subdomain(&name_for("__")) && name_for("__").starts_with("review-"));
        assert!(is_dns_subdomain(&name_for(&"Ü".repeat(300))));

        // The review keeps its uid across desktops, not the derived name.
        let mut rec = record();
        rec["uid"] = json!("Prod_EU-1");
        let obj = new_object(&name_for("Prod_EU-1"), "hsof", &json!({"op": "record", "record": rec}), &actor("a"));
        assert_eq!(to_local(&obj).expect("reads").uid, "Prod_EU-1");
        // A spec naming another uid than the object's name is read under the name.
        let mut other = obj.clone();
        other["metadata"]["name"] = json!("renamed");
        let local = to_local(&other).expect("reads");
        assert_eq!((local.uid.as_str(), local.record["uid"].as_str()), ("renamed", Some("renamed")));
    }

    #[test]
    fn a_record_is_checked_before_it_is_shared() {
        check_record(&record()).expect("ok");
        assert!(check_record(&json!([])).is_err());
        let mut r = record();
        r["cluster"] = json!("");
        assert!(check_record(&r).expect_err("refused").contains("cluster"));
        let mut r = record();
        r["report"]["blob"] = json!("x".repeat(MAX_RECORD_BYTES));
        assert!(check_record(&r).expect_err("refused").contains("KiB"));
        let mut obj = new_object("r", "hsof", &json!({"op": "record", "record": record()}), &actor("a"));
        obj["status"] = json!({"signedOffBy": "bob", "signedOffAt": "soon"});
        assert!(to_local(&obj).expect_err("refused").contains("status.signedOffAt"));
        obj["spec"] = json!("text");
        assert!(to_local(&obj).is_err());
    }
}
