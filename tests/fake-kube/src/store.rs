//! The fake's state: objects as JSON, a resource version counter, access rules, faults.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::policy::{Attributes, Rule, DEFAULT_TOKEN, DEFAULT_USER};
use crate::rbac::{Request, UserInfo};
use crate::resources::{by_kind, Resource};
use crate::selector::{LabelSelector, Selectors};

/// Key of one object: plural, namespace ("" for cluster-scoped), name.
pub type Key = (String, String, String);

/// Faults a test can inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer every request with this HTTP status (500, 401, 403).
    pub status: Option<u16>,
    /// Delay every answer by this many milliseconds.
    pub delay_ms: u64,
    /// Close each watch (and log follow) after it has sent this many events, as an API
    /// server or a load balancer may at any time.
    pub drop_watch_after: Option<usize>,
    /// Refuse requests whose bearer token is not this one with 401 (expired credentials).
    pub require_token: Option<String>,
}

/// One change to an object, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Change {
    /// Resource version of the change.
    pub rv: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// Resource plural.
    pub plural: String,
    /// Namespace ("" for cluster-scoped).
    pub ns: String,
    /// The object after the change (before it, for `DELETED`).
    pub object: Value,
}

/// One line of a container's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// When the container wrote it.
    pub at: DateTime<Utc>,
    /// The text, without the newline.
    pub text: String,
}

/// What open watches and log follows hear about.
#[derive(Debug, Clone)]
pub enum Signal {
    /// An object changed.
    Change(Arc<Change>),
    /// A pod wrote a log line: (namespace, pod, line).
    Log(Arc<(String, String, LogLine)>),
    /// Every open stream closes now (a dropped connection).
    DropStreams,
}

/// The broadcast channel open streams subscribe to.
#[derive(Debug)]
pub struct Bus(pub tokio::sync::broadcast::Sender<Signal>);

impl Default for Bus {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(16_384).0)
    }
}

/// How many changes the server remembers for watches that resume from a resourceVersion;
/// older ones get `410 Gone` and must list again, as on a real server.
pub const CHANGE_HISTORY: usize = 20_000;

/// What an exec of a command answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecAnswer {
    /// Exit code.
    pub exit: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The whole state.
#[derive(Debug, Default)]
pub struct Store {
    /// Last resource version handed out.
    pub rv: u64,
    /// Objects.
    pub objects: BTreeMap<Key, Value>,
    /// `(verb, resource, subresource)` triples SelfSubjectAccessReview denies (for everyone,
    /// in every namespace; reviews only, the requests themselves are not refused). For real
    /// RBAC, use [`Store::policy`].
    pub denied: Vec<(String, String, String)>,
    /// Allow rules by user name: a user listed here may do only what one of their rules
    /// allows, in reviews and in requests (`403 Forbidden`). Unlisted users may do anything
    /// while no RoleBinding or ClusterRoleBinding is stored; once one is, users other than
    /// [`DEFAULT_USER`] are authorized by the stored RBAC objects (see [`crate::rbac`]).
    pub policy: BTreeMap<String, Vec<Rule>>,
    /// Bearer token to user name. Without an entry, [`DEFAULT_TOKEN`] is [`DEFAULT_USER`],
    /// any other token is a user of that name, and no token is `system:anonymous`.
    pub tokens: BTreeMap<String, String>,
    /// Groups of users authenticated by bearer token, by user name (besides the implicit
    /// `system:authenticated` and a service account's groups).
    pub groups: BTreeMap<String, Vec<String>>,
    /// Injected faults.
    pub faults: Faults,
    /// Pod logs by (namespace, pod).
    pub logs: BTreeMap<(String, String), Vec<LogLine>>,
    /// Recent changes, oldest first, for watches resuming from a resourceVersion.
    pub changes: VecDeque<Change>,
    /// Open watches and log follows listen here.
    pub bus: Bus,
    /// What `exec` answers, by the command joined with spaces; other commands exit 127.
    pub exec: BTreeMap<String, ExecAnswer>,
    /// Requests seen, `METHOD path?query`, for assertions.
    pub requests: Vec<String>,
    /// Who sent each of [`Store::requests`] (same index): the user name.
    pub request_users: Vec<String>,
    /// How often a watch with `allowWatchBookmarks=true` sends a `BOOKMARK`, in
    /// milliseconds (0: every 5 s); one always follows the initial events.
    pub bookmark_interval_ms: u64,
    /// Serve metrics.k8s.io (as if metrics-server were installed).
    pub metrics_server: bool,
    /// Jobs whose name starts with one of these fail instead of succeeding.
    pub failing_jobs: Vec<String>,
    /// Jobs whose name starts with one of these never start (no node can take them): no
    /// pod, no status, until deleted.
    pub held_jobs: Vec<String>,
    /// Custom resources served, from the stored CRDs ([`Store::sync_crds`]).
    pub crds: Vec<crate::crd::Served>,
    /// Kubelet mode: Jobs and bare pods of these images run as local processes.
    pub kubelet: Option<crate::kubelet::Kubelet>,
}

impl Store {
    /// A served resource, built-in or custom, by group, version and plural.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        crate::resources::find(group, version, plural).or_else(|| {
            self.crds.iter().map(|c| c.res).find(|r| r.group == group && r.version == version && r.plural == plural)
        })
    }

    /// A served resource by kind.
    pub fn kind(&self, kind: &str) -> Option<&'static Resource> {
        by_kind(kind).or_else(|| self.crds.iter().map(|c| c.res).find(|r| r.kind == kind))
    }

    /// Next resource version.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `obj` (kind and metadata must be set), stamping uid, resourceVersion and
    /// creationTimestamp as the API server would. Returns the stored object. A ClusterRole
    /// written runs the aggregation controller (see [`crate::aggregation`]), after which
    /// aggregating ClusterRoles hold the rules they select.
    pub fn put(&mut self, obj: Value) -> Value {
        let cluster_role = obj["kind"] == "ClusterRole";
        let stored = self.put_object(obj);
        if cluster_role {
            self.aggregate_cluster_roles();
        }
        stored
    }

    /// [`Store::put`] without the controllers' reactions.
    pub(crate) fn put_object(&mut self, mut obj: Value) -> Value {
        // The real server decodes into typed structs: explicit nulls (Go's zero
        // `creationTimestamp: null`, say) do not survive a round trip.
        prune_nulls(&mut obj);
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let Some(res) = self.kind(&kind) else { return obj };
        let ns = if res.namespaced {
            obj["metadata"]["namespace"].as_str().unwrap_or("default").to_string()
        } else {
            String::new()
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let key = (res.plural.to_string(), ns.clone(), name.clone());
        let rv = self.next_rv();
        let existing = self.objects.get(&key).cloned();
        let change_kind = if existing.is_some() { "MODIFIED" } else { "ADDED" };
        let meta = obj["metadata"].as_object_mut().map(std::mem::take).unwrap_or_default();
        let mut meta = Value::Object(meta);
        meta["resourceVersion"] = json!(rv.to_string());
        if res.namespaced {
            meta["namespace"] = json!(ns);
        }
        match existing {
            Some(e) => {
                meta["uid"] = e["metadata"]["uid"].clone();
                meta["creationTimestamp"] = e["metadata"]["creationTimestamp"].clone();
            }
            None => {
                meta["uid"] = json!(format!("00000000-0000-4000-8000-{rv:012}"));
                if meta.get("creationTimestamp").is_none_or(Value::is_null) {
                    meta["creationTimestamp"] =
                        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
            }
        }
        obj["metadata"] = meta;
        obj["apiVersion"] = json!(res.api_version());
        self.record(Change { rv, kind: change_kind, plural: res.plural.into(), ns, object: obj.clone() });
        self.objects.insert(key, obj.clone());
        obj
    }

    fn record(&mut self, change: Change) {
        if self.changes.len() >= CHANGE_HISTORY {
            self.changes.pop_front();
        }
        self.changes.push_back(change.clone());
        // Nobody listening is fine.
        let _ = self.bus.0.send(Signal::Change(Arc::new(change)));
    }

    /// The oldest resource version a watch may resume from without `410 Gone`.
    pub fn oldest_resumable(&self) -> u64 {
        self.changes.front().map_or(self.rv, |c| c.rv.saturating_sub(1))
    }

    /// Appends a line to a pod's log, stamped now (strictly after the previous line),
    /// and tells the followers.
    pub fn append_log(&mut self, ns: &str, pod: &str, text: &str) {
        let lines = self.logs.entry((ns.to_string(), pod.to_string())).or_default();
        let mut at = Utc::now();
        if let Some(last) = lines.last() {
            if at <= last.at {
                at = last.at + chrono::Duration::nanoseconds(1);
            }
        }
        let line = LogLine { at, text: text.to_string() };
        lines.push(line.clone());
        let _ = self.bus.0.send(Signal::Log(Arc::new((ns.to_string(), pod.to_string(), line))));
    }

    /// Closes every open watch and log follow, as a dropped connection would.
    pub fn drop_streams(&self) {
        let _ = self.bus.0.send(Signal::DropStreams);
    }

    /// One object.
    pub fn get(&self, res: &Resource, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&(
            res.plural.to_string(),
            if res.namespaced { ns.to_string() } else { String::new() },
            name.to_string(),
        ))
    }

    /// Objects of a resource in a namespace (all namespaces when `ns` is `None`), filtered by
    /// a label selector in the API server's grammar (`a=b,c in (x,y),!d`); one that does
    /// not parse selects nothing (the routes answer it with `400`).
    pub fn list(&self, res: &Resource, ns: Option<&str>, selector: Option<&str>) -> Vec<Value> {
        let Ok(labels) = LabelSelector::parse(selector.unwrap_or_default()) else { return Vec::new() };
        self.select(res, ns, &Selectors { labels, ..Selectors::default() })
    }

    /// Objects of a resource in a namespace (all when `None`) that `sel` selects, in the
    /// API server's order (namespace, then name).
    pub fn select(&self, res: &Resource, ns: Option<&str>, sel: &Selectors) -> Vec<Value> {
        self.keyed(res, ns, sel, None, usize::MAX).into_iter().map(|(_, v)| v).collect()
    }

    /// Up to `limit` selected objects after the key `after` (namespace, name), with keys.
    pub(crate) fn keyed(
        &self,
        res: &Resource,
        ns: Option<&str>,
        sel: &Selectors,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Vec<((String, String), Value)> {
        self.selected(res, ns, sel, after)
            .take(limit)
            .map(|((_, n, name), v)| ((n.clone(), name.clone()), v.clone()))
            .collect()
    }

    /// How many selected objects follow the key `after`.
    pub(crate) fn count_after(
        &self,
        res: &Resource,
        ns: Option<&str>,
        sel: &Selectors,
        after: &(String, String),
    ) -> usize {
        self.selected(res, ns, sel, Some(after)).count()
    }

    fn selected<'a>(
        &'a self,
        res: &'a Resource,
        ns: Option<&'a str>,
        sel: &'a Selectors,
        after: Option<&'a (String, String)>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        let start = match after {
            Some((n, name)) => (res.plural.to_string(), n.clone(), name.clone()),
            None => (res.plural.to_string(), String::new(), String::new()),
        };
        self.objects
            .range(start..)
            .take_while(move |((plural, _, _), _)| plural == res.plural)
            .filter(move |((_, n, name), _)| after.is_none_or(|(an, aname)| (n, name) != (an, aname)))
            .filter(move |((_, n, _), _)| ns.is_none_or(|ns| !res.namespaced || n == ns))
            .filter(move |(_, v)| sel.matches(v))
    }

    /// The user a bearer token authenticates as.
    pub fn user_of(&self, token: Option<&str>) -> String {
        match token {
            None => "system:anonymous".into(),
            Some(t) => self.tokens.get(t).cloned().unwrap_or_else(|| {
                if t == DEFAULT_TOKEN {
                    DEFAULT_USER.into()
                } else {
                    t.to_string()
                }
            }),
        }
    }

    /// Whether `user`, authenticated by a bearer token (groups: its [`Store::groups`] and the
    /// implicit ones), may do `a`: under [`Store::policy`] for a user listed there, else
    /// as [`Store::decide`] says.
    pub fn allows(&self, user: &str, a: &Attributes) -> bool {
        let who = UserInfo::authenticated(user, self.groups.get(user).map_or(&[], Vec::as_slice));
        self.decide(&who, &Request::Resource(a)).allowed
    }

    /// Removes an object.
    pub fn delete(&mut self, res: &Resource, ns: &str, name: &str) -> Option<Value> {
        let ns = if res.namespaced { ns.to_string() } else { String::new() };
        let mut gone = self.objects.remove(&(res.plural.to_string(), ns.clone(), name.to_string()))?;
        let rv = self.next_rv();
        gone["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.record(Change { rv, kind: "DELETED", plural: res.plural.into(), ns, object: gone.clone() });
        if res.plural == "clusterroles" {
            self.aggregate_cluster_roles();
        }
        Some(gone)
    }
}

fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}
