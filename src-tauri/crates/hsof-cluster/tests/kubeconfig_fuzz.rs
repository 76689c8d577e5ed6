//! Property tests: no kubeconfig, however broken (random bytes or YAML, truncated or UTF-16 files,
//! missing or dangling contexts, clusters and users, bad certificate base64 or PEM, odd server and
//! proxy URLs), makes reading it or connecting through it panic. Connecting builds the client only;
//! nothing is sent, so no server is needed. Exec and auth-provider users are never generated (they
//! would run commands).
//!
//! `PROPTEST_CASES=5000 cargo test -p hsof-cluster --test kubeconfig_fuzz` searches harder.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use hsof_cluster::{read_kubeconfig, Cluster, ClusterError, ConnectOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt"))
}

/// Reads and connects through the kubeconfig at `path`: a connection or a kubeconfig error.
fn check(path: &Path, context: Option<&str>) -> Result<(), TestCaseError> {
    if let Err(e) = read_kubeconfig(Some(path)) {
        prop_assert!(matches!(e, ClusterError::Kubeconfig(_)), "{e:?}");
    }
    let opts = ConnectOptions { timeout: Duration::from_secs(2), proxy_url: None };
    let outcome = runtime().block_on(async {
        tokio::time::timeout(Duration::from_secs(20), Cluster::connect(Some(path), context, "hsof", &opts)).await
    });
    match outcome {
        Err(_) => prop_assert!(false, "connect hung"),
        Ok(Ok(cluster)) => {
            prop_assert!(cluster.identity.contains('#'), "{}", cluster.identity);
            prop_assert!(!cluster.server.is_empty());
        }
        Ok(Err(e)) => {
            let ok = matches!(e, ClusterError::Kubeconfig(_) | ClusterError::NoContext { .. });
            prop_assert!(ok, "unexpected error kind: {e:?}");
            prop_assert!(e.to_string().len() > 10, "{e}");
        }
    }
    Ok(())
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const NAMES: &[&str] = &["prod", "dev", "", "ünï", "a b", "prod"];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(NAMES).prop_map(str::to_string), 1 => "\\PC{0,6}"]
}

/// Certificate or key data: good base64 of junk or of PEM-looking junk, bad base64, empty.
fn cert_data() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| json!(base64(&b))),
        prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| {
            json!(base64(
                format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", base64(&b)).as_bytes()
            ))
        }),
        prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| {
            json!(base64(
                format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", base64(&b)).as_bytes()
            ))
        }),
        prop::sample::select(vec!["!!!not base64", "====", "a", "YQ", "-----BEGIN CERTIFICATE-----", ""])
            .prop_map(|s| json!(s)),
        any::<i64>().prop_map(|v| json!(v)),
    ]
}

fn url() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "https://127.0.0.1:6443",
            "http://localhost:8080",
            "https://[::1]:6443",
            "https://api.example.com",
            "",
            "not a url",
            "http://[::1",
            "https://",
            "ftp://x",
            "socks5://127.0.0.1:1080",
            "https://ünï.example",
            "https://host:99999",
            "//x",
            "unix:///var/run/x.sock",
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,10}".prop_map(|s| json!(s)),
        Just(Value::Null),
        Just(json!(42)),
    ]
}

/// A value where a map is expected, sometimes the wrong type.
fn maybe<T: Strategy<Value = Value>>(s: T) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![3 => s.prop_map(Some), 1 => Just(None), 1 => Just(Some(json!([1, 2])))]
}

fn cluster() -> impl Strategy<Value = Value> {
    (name(), url(), maybe(cert_data()), any::<bool>(), maybe(url()), maybe(Just(json!("/nonexistent/ca.crt"))))
        .prop_map(|(name, server, ca, insecure, proxy, ca_file)| {
            let mut c = json!({ "server": server, "insecure-skip-tls-verify": insecure });
            if let Some(v) = ca {
                c["certificate-authority-data"] = v;
            }
            if let Some(v) = proxy {
                c["proxy-url"] = v;
            }
            if let Some(v) = ca_file {
                c["certificate-authority"] = v;
            }
            json!({ "name": name, "cluster": c })
        })
}

fn user() -> impl Strategy<Value = Value> {
    (
        name(),
        maybe(prop_oneof![Just(json!("tok")), "\\PC{0,8}".prop_map(|s| json!(s)), Just(json!("a\nb"))]),
        maybe(cert_data()),
        maybe(cert_data()),
        maybe(Just(json!("/nonexistent/token"))),
        maybe(Just(json!("alice"))),
    )
        .prop_map(|(name, token, cert, key, token_file, username)| {
            let mut u = json!({});
            for (k, v) in [
                ("token", token),
                ("client-certificate-data", cert),
                ("client-key-data", key),
                ("tokenFile", token_file),
                ("username", username.clone()),
                ("password", username),
            ] {
                if let Some(v) = v {
                    u[k] = v;
                }
            }
            json!({ "name": name, "user": u })
        })
}

fn context() -> impl Strategy<Value = Value> {
    (name(), name(), prop::option::of(name()), prop::option::of(name()), any::<bool>()).prop_map(
        |(name, cluster, user, namespace, has_body)| {
            if !has_body {
                return json!({ "name": name });
            }
            let mut c = json!({ "cluster": cluster });
            if let Some(u) = user {
                c["user"] = json!(u);
            }
            if let Some(n) = namespace {
                c["namespace"] = json!(n);
            }
            json!({ "name": name, "context": c })
        },
    )
}

fn kubeconfig() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(cluster(), 0..3),
        prop::collection::vec(user(), 0..3),
        prop::collection::vec(context(), 0..3),
        prop::option::of(name()),
        any::<bool>(),
    )
        .prop_map(|(clusters, users, contexts, current, typed)| {
            let mut k = json!({ "clusters": clusters, "users": users, "contexts": contexts });
            if typed {
                k["apiVersion"] = json!("v1");
                k["kind"] = json!("Config");
            }
            if let Some(c) = current {
                k["current-context"] = json!(c);
            }
            k
        })
}

/// A sound kubeconfig as text, the base for truncation and damage.
const GOOD: &str = "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: u\n    namespace: hsof\n";

fn yaml_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            "clusters", "users", "contexts", "current-context", "cluster", "user", "context", "name", "server",
            "token", "namespace", "apiVersion", "kind", "Config", "v1", "certificate-authority-data",
            "client-certificate-data", "insecure-skip-tls-verify", "proxy-url", "preferences", "extensions",
            ":", ": ", "- ", "\n", "  ", "    ", "[", "]", "{", "}", ",", "'", "\"", "&a ", "*a", "<<: *a", "!!str ",
            "!!binary ", "~", "null", "true", "---\n", "...\n", "#", "|\n", ">\n", "? ", "\t", "%YAML 1.2\n",
            "https://127.0.0.1:6443",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{1,4}",
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn structured_kubeconfigs_connect_or_fail_clearly(
        k in kubeconfig(),
        pick in prop_oneof![Just(None), name().prop_map(Some)],
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        // JSON is YAML.
        std::fs::write(&path, serde_json::to_string_pretty(&k).expect("json")).expect("write");
        check(&path, pick.as_deref())?;
    }

    #[test]
    fn yaml_token_soup_fails_clearly(text in yaml_soup()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, text).expect("write");
        check(&path, None)?;
    }

    #[test]
    fn random_and_damaged_bytes_fail_clearly(
        bytes in prop::collection::vec(any::<u8>(), 0..1500),
        prefix in prop::sample::select(vec![&b""[..], b"\xFF\xFE", b"\xFE\xFF", b"\xEF\xBB\xBF"]),
        cut in any::<prop::sample::Index>(),
        good_base in any::<bool>(),
    ) {
        let mut data = prefix.to_vec();
        if good_base {
            // The sound file cut short at any byte, with junk after it.
            let at = cut.index(GOOD.len() + 1);
            data.extend(&GOOD.as_bytes()[..at]);
            data.extend(bytes.iter().take(8));
        } else {
            data.extend(&bytes);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, &data).expect("write");
        check(&path, None)?;
    }
}

fn write(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join("config");
    std::fs::write(&p, bytes).expect("write");
    p
}

/// Was a panic inside kube's reader (index out of bounds decoding UTF-16 in pairs): a file with a
/// UTF-16 byte-order mark and an odd number of bytes, as a truncated UTF-16 kubeconfig is.
#[test]
fn a_truncated_utf16_kubeconfig_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bom in [&[0xFF, 0xFE][..], &[0xFE, 0xFF]] {
        let mut bytes = bom.to_vec();
        bytes.extend(b"a: b");
        bytes.push(b'\n');
        let p = write(dir.path(), &bytes);
        let msg = read_kubeconfig(Some(&p)).expect_err("odd UTF-16").to_string();
        assert!(msg.contains("UTF-16") && msg.contains("even number of bytes"), "{msg}");
    }
    // An even-length UTF-16 file is read.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(GOOD.encode_utf16().flat_map(u16::to_le_bytes));
    let p = write(dir.path(), &utf16);
    assert_eq!(read_kubeconfig(Some(&p)).expect("UTF-16 LE kubeconfig").contexts.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_dangling_contexts_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ConnectOptions::default();
    let p = write(dir.path(), GOOD.replace("current-context: fake\n", "").as_bytes());
    match Cluster::connect(Some(&p), None, "hsof", &opts).await {
        Err(e @ ClusterError::NoContext { .. }) => assert!(e.to_string().contains("contexts: fake"), "{e}"),
        other => panic!("{other:?}"),
    }
    let p = write(dir.path(), GOOD.replace("    cluster: fake\n", "    cluster: gone\n").as_bytes());
    let e = Cluster::connect(Some(&p), None, "hsof", &opts).await.expect_err("dangling cluster");
    assert!(matches!(e, ClusterError::Kubeconfig(_)), "{e:?}");
    let p = write(dir.path(), b"apiVersion: v1\nkind: Config\n");
    match Cluster::connect(Some(&p), Some("prod"), "hsof", &opts).await {
        Err(e @ ClusterError::NoContext { .. }) => assert!(e.to_string().contains("contexts: none"), "{e}"),
        other => panic!("{other:?}"),
    }
}

/// Bad base64, bad DER and (was silently accepted, failing later on TLS) base64 of text with no PEM
/// block at all.
#[tokio::test(flavor = "multi_thread")]
async fn bad_certificate_data_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ConnectOptions::default();
    for data in
        ["!!!not base64", &base64(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), &base64(b"junk")]
    {
        let text = GOOD
            .replace("    insecure-skip-tls-verify: true\n", &format!("    certificate-authority-data: \"{data}\"\n"));
        let p = write(dir.path(), text.as_bytes());
        let e = Cluster::connect(Some(&p), None, "hsof", &opts).await.expect_err("bad CA");
        assert!(matches!(e, ClusterError::Kubeconfig(_)), "{data}: {e:?}");
    }
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    for depth in [1_000, 100_000] {
        for text in [
            format!("clusters: {}", "[".repeat(depth)),
            format!("clusters: {}{}", "[".repeat(depth), "]".repeat(depth)),
        ] {
            let p = write(dir.path(), text.as_bytes());
            let outcome = std::thread::spawn(move || read_kubeconfig(Some(&p)).map(|_| ())).join();
            assert!(matches!(outcome, Ok(Err(_))), "depth {depth}: {outcome:?}");
        }
    }
}
