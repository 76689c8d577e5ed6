//! Who asks: the identity a connection authenticates as, and SelfSubjectAccessReview
//! answers cached per server, context, namespace *and* that identity, dropped when any of
//! them changes.
//!
//! The identity is the kubeconfig user's name plus a SHA-256 digest of the credentials in
//! effect (token, token file, client certificate, basic auth, exec plugin or auth-provider
//! config, impersonation): two users behind one context never share an answer, and no
//! secret is kept in a key or shown in a log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::{Cluster, ClusterError};

/// The identity `auth` (the kubeconfig user named `user`) authenticates as:
/// `user#<32 hex digits>` (`#<digits>` alone for an unnamed user). Files the credentials
/// point to (token file, client certificate and key) are hashed by their contents, read now.
pub(crate) fn identity_of(user: Option<&str>, auth: &kube::config::AuthInfo) -> String {
    let mut h = Sha256::new();
    h.update(b"hsof-cluster identity v1\0");
    h.update(user.unwrap_or_default().as_bytes());
    h.update(b"\0");
    // Serialising exposes the secrets, only into the digest. Hashed canonically (object
    // keys sorted), so equal credentials always give the same identity.
    match serde_json::to_value(auth) {
        Ok(v) => hash_value(&mut h, &v),
        Err(e) => h.update(format!("unserialisable: {e}").as_bytes()),
    }
    for (what, path) in [
        ("tokenFile", &auth.token_file),
        ("client-certificate", &auth.client_certificate),
        ("client-key", &auth.client_key),
    ] {
        if let Some(path) = path {
            h.update(what.as_bytes());
            h.update(b"\0");
            match std::fs::read(path) {
                Ok(bytes) => h.update(&bytes),
                Err(e) => h.update(format!("unreadable: {}", e.kind()).as_bytes()),
            }
            h.update(b"\0");
        }
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}#{hex}", user.unwrap_or_default())
}

fn hash_value(h: &mut Sha256, v: &serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            h.update(b"#");
            h.update(n.to_string().as_bytes());
            h.update(b"\0");
        }
        Value::String(s) => {
            h.update(b"s");
            h.update(s.len().to_le_bytes());
            h.update(s.as_bytes());
        }
        Value::Array(a) => {
            h.update(b"[");
            h.update(a.len().to_le_bytes());
            a.iter().for_each(|x| hash_value(h, x));
        }
        Value::Object(m) => {
            h.update(b"{");
            h.update(m.len().to_le_bytes());
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, x) in entries {
                h.update(k.len().to_le_bytes());
                h.update(k.as_bytes());
                hash_value(h, x);
            }
        }
    }
}

/// Where a permission question is asked and by whom: answers are shared only within one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermissionScope {
    /// API server URL.
    pub server: String,
    /// Kubeconfig context.
    pub context: String,
    /// Namespace.
    pub namespace: String,
    /// [`Cluster::identity`]: the user and a digest of the credentials.
    pub identity: String,
}

impl Cluster {
    /// The server, context, namespace and identity of this connection.
    pub fn permission_scope(&self) -> PermissionScope {
        PermissionScope {
            server: self.server.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            identity: self.identity.clone(),
        }
    }
}

/// `(verb, group, resource, subresource)`.
type Attributes = (String, String, String, String);

#[derive(Debug, Default)]
struct Answers {
    /// The scope followed last: answers for any other are dropped.
    scope: Option<PermissionScope>,
    answers: HashMap<(PermissionScope, Attributes), (bool, String, Instant)>,
}

/// SelfSubjectAccessReview answers, trusted for a time, per [`PermissionScope`]. Following
/// a connection with another server, context, namespace or identity (new credentials, a
/// context switch, a rebuilt client that authenticates differently) drops every answer.
#[derive(Debug)]
pub struct PermissionCache {
    ttl: Duration,
    state: Mutex<Answers>,
}

impl Default for PermissionCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_TTL)
    }
}

impl PermissionCache {
    /// How long an answer is trusted by default.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

    /// An empty cache whose answers are trusted for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, state: Mutex::new(Answers::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes `scope` the current one; when it differs from the last (another context,
    /// server, namespace or identity), every cached answer is dropped. True when dropped.
    /// Call it whenever the connection is (re)built; [`PermissionCache::can_i`] calls it too.
    pub fn follow(&self, scope: &PermissionScope) -> bool {
        let mut st = self.lock();
        if st.scope.as_ref() == Some(scope) {
            return false;
        }
        st.scope = Some(scope.clone());
        let dropped = !st.answers.is_empty();
        st.answers.clear();
        dropped
    }

    /// Forgets every answer (after a role change, say).
    pub fn forget(&self) {
        self.lock().answers.clear();
    }

    /// Answers held (fresh or not).
    pub fn len(&self) -> usize {
        self.lock().answers.len()
    }

    /// True when no answer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SelfSubjectAccessReview through the cache: an answer younger than the TTL for the
    /// same scope (server, context, namespace, identity) and attributes is reused.
    pub async fn can_i(
        &self,
        cluster: &Cluster,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
    ) -> Result<(bool, String), ClusterError> {
        let scope = cluster.permission_scope();
        self.follow(&scope);
        let attrs: Attributes = (verb.into(), group.into(), resource.into(), subresource.into());
        if let Some(answer) = self.lookup(&scope, &attrs, Instant::now()) {
            return Ok(answer);
        }
        let (allowed, reason) = cluster.can_i(verb, group, resource, subresource).await?;
        self.store(&scope, attrs, (allowed, reason.clone()), Instant::now());
        Ok((allowed, reason))
    }

    fn lookup(&self, scope: &PermissionScope, attrs: &Attributes, now: Instant) -> Option<(bool, String)> {
        let st = self.lock();
        let (allowed, reason, at) = st.answers.get(&(scope.clone(), attrs.clone()))?;
        (now.saturating_duration_since(*at) < self.ttl).then(|| (*allowed, reason.clone()))
    }

    /// Keeps an answer unless the cache has moved on to another scope meanwhile (the
    /// credentials changed while the review was in flight).
    fn store(&self, scope: &PermissionScope, attrs: Attributes, answer: (bool, String), now: Instant) {
        let mut st = self.lock();
        if st.scope.as_ref() == Some(scope) {
            st.answers.insert((scope.clone(), attrs), (answer.0, answer.1, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::config::{AuthInfo, Kubeconfig};

    use super::*;

    fn scope(identity: &str) -> PermissionScope {
        PermissionScope {
            server: "https://k8s.example:6443/".into(),
            context: "prod".into(),
            namespace: "hsof".into(),
            identity: identity.into(),
        }
    }

    fn attrs(verb: &str) -> Attributes {
        (verb.into(), "apps".into(), "deployments".into(), String::new())
    }

    fn user(yaml: &str) -> AuthInfo {
        let kc = Kubeconfig::from_yaml(&format!("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n{yaml}"));
        kc.ok().and_then(|k| k.auth_infos.into_iter().next()).and_then(|a| a.auth_info).unwrap_or_default()
    }

    #[test]
    fn two_identities_on_one_server_context_and_namespace_get_separate_answers() {
        let cache = PermissionCache::default();
        let (alice, bob) = (scope("alice#01"), scope("bob#02"));
        let now = Instant::now();
        cache.follow(&alice);
        cache.store(&alice, attrs("patch"), (true, "admin".into()), now);
        assert_eq!(cache.lookup(&alice, &attrs("patch"), now), Some((true, "admin".into())));
        assert_eq!(cache.lookup(&bob, &attrs("patch"), now), None, "bob never gets alice's answer");
        cache.follow(&bob);
        assert_eq!(cache.lookup(&bob, &attrs("patch"), now), None);
        cache.store(&bob, attrs("patch"), (false, "viewer".into()), now);
        assert_eq!(cache.lookup(&bob, &attrs("patch"), now), Some((false, "viewer".into())));
        assert_eq!(cache.lookup(&alice, &attrs("patch"), now), None, "alice's answer went with her credentials");
    }

    #[test]
    fn changing_credentials_or_context_clears_and_the_same_scope_keeps() {
        let cache = PermissionCache::default();
        let now = Instant::now();
        let a = scope("alice#01");
        assert!(!cache.follow(&a));
        cache.store(&a, attrs("patch"), (true, String::new()), now);
        cache.store(&a, attrs("create"), (false, String::new()), now);
        assert!(!cache.follow(&a.clone()), "the same scope keeps its answers");
        assert_eq!(cache.len(), 2);
        // Same user name, other credentials: another identity.
        assert!(cache.follow(&scope("alice#99")));
        assert!(cache.is_empty());
        for change in [
            PermissionScope { context: "staging".into(), ..a.clone() },
            PermissionScope { server: "https://other:6443/".into(), ..a.clone() },
            PermissionScope { namespace: "other".into(), ..a.clone() },
        ] {
            cache.follow(&a);
            cache.store(&a, attrs("patch"), (true, String::new()), now);
            assert!(cache.follow(&change), "{change:?}");
            assert!(cache.is_empty());
        }
    }

    #[test]
    fn an_answer_arriving_after_a_credential_change_is_not_kept() {
        let cache = PermissionCache::default();
        let (old, new) = (scope("alice#01"), scope("alice#02"));
        cache.follow(&old);
        cache.follow(&new);
        cache.store(&old, attrs("patch"), (true, String::new()), Instant::now());
        assert!(cache.is_empty());
    }

    #[test]
    fn answers_expire_and_forget_drops_them() {
        let cache = PermissionCache::new(Duration::from_secs(60));
        let a = scope("alice#01");
        let then = Instant::now();
        cache.follow(&a);
        cache.store(&a, attrs("patch"), (true, String::new()), then);
        assert!(cache.lookup(&a, &attrs("patch"), then + Duration::from_secs(59)).is_some());
        assert!(cache.lookup(&a, &attrs("patch"), then + Duration::from_secs(60)).is_none());
        assert!(cache.lookup(&a, &attrs("create"), then).is_none(), "other attributes, other answer");
        cache.forget();
        assert!(cache.lookup(&a, &attrs("patch"), then).is_none());
    }

    #[test]
    fn the_identity_names_the_user_and_hashes_the_credentials_without_showing_them() {
        let token = user("    token: s3cr3t-token-aaaa\n");
        let id = identity_of(Some("alice"), &token);
        assert!(id.starts_with("alice#") && id.len() == "alice#".len() + 32, "{id}");
        assert!(!id.contains("s3cr3t"));
        assert_eq!(id, identity_of(Some("alice"), &user("    token: s3cr3t-token-aaaa\n")), "stable");
        let others = [
            identity_of(Some("alice"), &user("    token: s3cr3t-token-bbbb\n")),
            identity_of(Some("bob"), &token),
            identity_of(None, &token),
            identity_of(Some("alice"), &user("    token: s3cr3t-token-aaaa\n    as: root\n")),
            identity_of(Some("alice"), &user("    client-certificate-data: Y2VydA==\n    client-key-data: a2V5\n")),
            identity_of(Some("alice"), &user("    client-certificate-data: Y2VydDI=\n    client-key-data: a2V5\n")),
            identity_of(Some("alice"), &user("    username: alice\n    password: one\n")),
            identity_of(Some("alice"), &user("    username: alice\n    password: two\n")),
            identity_of(
                Some("alice"),
                &user("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n"),
            ),
            identity_of(
                Some("alice"),
                &user("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n      env:\n      - name: AWS_PROFILE\n        value: admin\n"),
            ),
        ];
        for (i, a) in others.iter().enumerate() {
            assert_ne!(*a, id, "{i}");
            for (j, b) in others.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{i} vs {j}");
            }
        }
        assert!(others.iter().all(|o| !o.contains("one") && !o.contains("two") && !o.contains("Y2Vyd")));
    }

    #[test]
    fn a_credential_file_is_hashed_by_its_contents() {
        let path = std::env::temp_dir().join(format!("hsof-cluster-identity-{}.token", std::process::id()));
        let at = |contents: &str| {
            std::fs::write(&path, contents).ok();
            identity_of(Some("sa"), &user(&format!("    tokenFile: {}\n", path.display())))
        };
        let first = at("token-one");
        assert_eq!(first, at("token-one"));
        assert_ne!(first, at("token-two"), "a rotated file to another account is another identity");
        std::fs::remove_file(&path).ok();
        assert_ne!(first, identity_of(Some("sa"), &user(&format!("    tokenFile: {}\n", path.display()))));
    }
}
