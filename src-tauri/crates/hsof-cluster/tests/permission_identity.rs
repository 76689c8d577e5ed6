//! Permission answers are per identity: two users behind the same server, context and
//! namespace never share one, and new credentials drop the cache. Against the fake API
//! server (whose SelfSubjectAccessReview answers the same for every token).

use std::path::{Path, PathBuf};
use std::time::Duration;

use hsof_cluster::{Cluster, ConnectOptions, PermissionCache};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};

fn kubeconfig(server: &str, user: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: {server}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: {user}\n    namespace: hsof\n"
    )
}

async fn connect(path: &Path) -> Cluster {
    let opts = ConnectOptions { timeout: Duration::from_secs(5), proxy_url: None };
    Cluster::connect(Some(path), None, "hsof", &opts).await.expect("connect")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("kubeconfig");
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn two_identities_get_separate_answers_and_new_credentials_clear_the_cache() {
    let mut store = Store::default();
    seed_hsof(&mut store, 1, 0);
    let fake = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let alice_cfg = write(dir.path(), "alice", &kubeconfig(&fake.url, "alice", "token-alice-1"));
    let bob_cfg = write(dir.path(), "bob", &kubeconfig(&fake.url, "bob", "token-bob-1"));
    let reviews = || fake.with(|s| s.requests.iter().filter(|r| r.contains("selfsubjectaccessreviews")).count());

    let alice = connect(&alice_cfg).await;
    let bob = connect(&bob_cfg).await;
    assert_eq!((&alice.server, &alice.context, &alice.namespace), (&bob.server, &bob.context, &bob.namespace));
    assert_ne!(alice.identity, bob.identity);
    assert!(alice.identity.starts_with("alice#") && !alice.identity.contains("token-alice"), "{}", alice.identity);
    assert!(!format!("{alice:?}").contains("token-alice"));

    let cache = PermissionCache::default();
    let ask = |c: &Cluster| {
        let c = c.clone();
        let cache = &cache;
        async move { cache.can_i(&c, "patch", "apps", "deployments", "").await.expect("ssar") }
    };
    assert!(ask(&alice).await.0);
    assert!(ask(&alice).await.0);
    assert_eq!(reviews(), 1, "alice's answer is reused");

    // The role changes server-side; bob must get his own answer, not alice's cached one.
    fake.with(|s| s.denied.push(("patch".into(), "deployments".into(), String::new())));
    let (allowed, reason) = ask(&bob).await;
    assert!(!allowed, "bob got alice's cached answer");
    assert!(reason.contains("cannot patch"), "{reason}");
    assert_eq!(reviews(), 2);
    assert!(!ask(&bob).await.0);
    assert_eq!(reviews(), 2, "bob's answer is reused");
    // Switching back to alice dropped bob's answers (and alice's were dropped before).
    assert!(!ask(&alice).await.0);
    assert_eq!(reviews(), 3);

    // A rebuilt client with the same credentials is the same identity: answers kept.
    let again = connect(&alice_cfg).await;
    assert_eq!(again.identity, alice.identity);
    assert!(!cache.follow(&again.permission_scope()));
    assert!(!ask(&again).await.0);
    assert_eq!(reviews(), 3);

    // New credentials for the same user and context: another identity, the cache is dropped.
    std::fs::write(&alice_cfg, kubeconfig(&fake.url, "alice", "token-alice-2")).expect("kubeconfig");
    let renewed = connect(&alice_cfg).await;
    assert!(renewed.identity.starts_with("alice#"));
    assert_ne!(renewed.identity, alice.identity);
    assert!(!cache.is_empty());
    assert!(cache.follow(&renewed.permission_scope()), "new credentials drop the answers");
    assert!(cache.is_empty());
    fake.with(|s| s.denied.clear());
    assert!(ask(&renewed).await.0);
    assert_eq!(reviews(), 4);
}
