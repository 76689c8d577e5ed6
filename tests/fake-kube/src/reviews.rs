//! Who am I and may I: SelfSubjectReview (`kubectl auth whoami`),
//! SelfSubjectAccessReview (`kubectl auth can-i`) and SubjectAccessReview (may that user),
//! answered by the same decision the requests themselves get ([`Store::decide`]).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::policy::Attributes;
use crate::rbac::{Decision, Request, UserInfo};
use crate::routes::{authorize, identity, reply, status};
use crate::store::Store;

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`: the caller's user and groups.
pub(crate) fn self_subject_review(store: &Store, headers: &HeaderMap) -> Response {
    let who = identity(store, headers);
    reply(
        StatusCode::CREATED,
        json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {},
               "status": {"userInfo": {"username": who.name, "groups": who.groups}}}),
    )
}

/// The review's answer, with no `reason` when there is none (as the API server omits it).
fn answered(mut review: Value, kind: &str, d: &Decision) -> Response {
    review["kind"] = json!(kind);
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["status"] = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        review["status"]["reason"] = json!(d.reason);
    }
    reply(StatusCode::CREATED, review)
}

fn invalid(kind: &str, message: &str) -> Response {
    status(422, "Invalid", format!("{kind}.authorization.k8s.io \"\" is invalid: {message}"))
}

/// What a review asks.
enum Asked {
    /// `resourceAttributes`.
    Resource(Attributes),
    /// `nonResourceAttributes`: verb and path.
    NonResource(String, String),
}

/// What a review's spec asks, or the validation error the API server gives.
fn asked(spec: &Value) -> Result<Asked, &'static str> {
    let resource = spec.get("resourceAttributes").filter(|a| !a.is_null());
    let non_resource = spec.get("nonResourceAttributes").filter(|a| !a.is_null());
    match (resource, non_resource) {
        (Some(_), Some(_)) => Err("spec.nonResourceAttributes: Invalid value: \"null\": cannot be specified in combination with resourceAttributes"),
        (None, None) => Err("spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified"),
        (Some(a), None) => Ok(Asked::Resource(Attributes::from_review(a))),
        (None, Some(n)) => {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            Ok(Asked::NonResource(s("verb"), s("path")))
        }
    }
}

fn decide(store: &Store, who: &UserInfo, asked: &Asked) -> Decision {
    match asked {
        Asked::Resource(a) => store.decide(who, &Request::Resource(a)),
        Asked::NonResource(verb, path) => store.decide(who, &Request::NonResource { verb, path }),
    }
}

/// `POST .../selfsubjectaccessreviews`: the caller's own access. The store's legacy
/// `denied` list refuses its triples to everyone first.
pub(crate) fn self_subject_access_review(store: &Store, headers: &HeaderMap, body: &Bytes) -> Response {
    const KIND: &str = "SelfSubjectAccessReview";
    let Ok(review) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the request body is not JSON".into());
    };
    let asked = match asked(&review["spec"]) {
        Ok(asked) => asked,
        Err(e) => return invalid(KIND, e),
    };
    if let Asked::Resource(a) = &asked {
        let key = (a.verb.clone(), a.resource.clone(), a.subresource.clone());
        if store.denied.contains(&key) {
            let reason = format!("RBAC: user cannot {} {}", key.0, key.1);
            return answered(review, KIND, &Decision { allowed: false, reason });
        }
    }
    let who = identity(store, headers);
    answered(review, KIND, &decide(store, &who, &asked))
}

/// `POST /apis/authorization.k8s.io/v1/subjectaccessreviews`: may `spec.user` (in
/// `spec.groups`, taken as given: the API server adds no implicit group) do what the
/// spec asks. The caller must be allowed to create subjectaccessreviews.
pub(crate) fn subject_access_review(store: &Store, headers: &HeaderMap, body: &Bytes) -> Response {
    const KIND: &str = "SubjectAccessReview";
    let create = Attributes {
        verb: "create".into(),
        group: "authorization.k8s.io".into(),
        resource: "subjectaccessreviews".into(),
        ..Attributes::default()
    };
    if let Some(denied) = authorize(store, headers, &create) {
        return denied;
    }
    let Ok(review) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the request body is not JSON".into());
    };
    let spec = &review["spec"];
    let user = spec["user"].as_str().unwrap_or_default().to_string();
    let groups: Vec<String> =
        spec["groups"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    if user.is_empty() && groups.is_empty() {
        return invalid(KIND, "spec.user: Invalid value: \"\": at least one of user or group must be specified");
    }
    let asked = match asked(spec) {
        Ok(asked) => asked,
        Err(e) => return invalid(KIND, e),
    };
    let who = UserInfo { name: user, groups, credentialless: false };
    let d = decide(store, &who, &asked);
    answered(review, KIND, &d)
}
