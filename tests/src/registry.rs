//! A real container registry on loopback: Debian's `docker-registry` (the CNCF distribution
//! registry) with token auth, its token service played by this harness (JWTs signed ES256
//! with a self-signed certificate the registry trusts), and images pushed by the tests
//! through the distribution API. Public repositories pull anonymously; private ones need
//! a user's password; pushes use a token the harness mints.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};

/// The registry binary `make test` installs (Debian's docker-registry).
pub const BINARY: &str = "/usr/bin/docker-registry";

const SERVICE: &str = "hsof-test-registry";
const ISSUER: &str = "hsof-test-issuer";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Who may pull what.
#[derive(Debug, Clone)]
struct Policy {
    users: Vec<(String, String)>,
    private: Vec<String>,
    refuse_tokens: bool,
}

/// A running registry and its token service.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    key_pem: String,
    cert_der: Vec<u8>,
    policy: std::sync::Arc<std::sync::Mutex<Policy>>,
    _token: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("host", &self.host).finish()
    }
}

fn jwt(key_pem: &str, cert_der: &[u8], sub: &str, access: serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.x5c = Some(vec![base64::engine::general_purpose::STANDARD.encode(cert_der)]);
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({"iss": ISSUER, "sub": sub, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", rand_id()), "access": access});
    let key = jsonwebtoken::EncodingKey::from_ec_pem(key_pem.as_bytes()).expect("the harness's key");
    jsonwebtoken::encode(&header, &claims, &key).expect("a token")
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn basic_user(header: Option<&str>) -> Option<(String, String)> {
    let b64 = header?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

impl Registry {
    /// Starts the registry with `users` (name, password) and `private` repositories (pull
    /// needs a user); panics with why when it cannot.
    pub fn start(users: &[(&str, &str)], private: &[&str]) -> Self {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: `make test` installs Debian's docker-registry"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = rcgen::generate_simple_self_signed(vec!["hsof-test-issuer".to_string()]).expect("certificate");
        let cert_pem = cert.cert.pem();
        let cert_der = cert.cert.der().to_vec();
        let key_pem = cert.key_pair.serialize_pem();
        std::fs::write(dir.path().join("root.pem"), &cert_pem).expect("root");
        let policy = std::sync::Arc::new(std::sync::Mutex::new(Policy {
            users: users.iter().map(|(u, p)| ((*u).to_string(), (*p).to_string())).collect(),
            private: private.iter().map(|s| (*s).to_string()).collect(),
            refuse_tokens: false,
        }));
        // The token service.
        let server = tiny_http::Server::http("127.0.0.1:0").expect("token server");
        let token_port = server.server_addr().to_ip().map(|a| a.port()).expect("port");
        let (k, c, pol) = (key_pem.clone(), cert_der.clone(), policy.clone());
        let token = std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let url = req.url().to_string();
                let auth =
                    req.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.as_str().to_string());
                let p = pol.lock().map(|p| p.clone()).unwrap_or_else(|e| e.into_inner().clone());
                let user = basic_user(auth.as_deref());
                let valid = user.as_ref().is_some_and(|(u, pw)| p.users.iter().any(|(a, b)| a == u && b == pw));
                if std::env::var("HSOF_REGISTRY_DEBUG").is_ok() {
                    eprintln!("token request {url} user={:?} valid={valid}", user.as_ref().map(|u| u.0.clone()));
                }
                if p.refuse_tokens || (user.is_some() && !valid) {
                    let _ = req.respond(
                        tiny_http::Response::from_string("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}")
                            .with_status_code(401),
                    );
                    continue;
                }
                let scope = url
                    .split('&')
                    .chain(url.split('?'))
                    .find_map(|kv| kv.strip_prefix("scope="))
                    .map(|s| s.replace("%3A", ":").replace("%2F", "/").replace("%2C", ","))
                    .unwrap_or_default();
                let repo = scope.split(':').nth(1).unwrap_or_default().to_string();
                let allowed = !p.private.contains(&repo) || valid;
                let access = if allowed && !repo.is_empty() {
                    serde_json::json!([{"type": "repository", "name": repo, "actions": ["pull"]}])
                } else {
                    serde_json::json!([])
                };
                let t = jwt(&k, &c, user.map(|u| u.0).as_deref().unwrap_or(""), access);
                let body = serde_json::json!({"token": t, "access_token": t, "expires_in": 300}).to_string();
                let _ = req.respond(tiny_http::Response::from_string(body).with_header(
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("header"),
                ));
            }
        });
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            dir.path().join("data").display(),
            dir.path().join("root.pem").display()
        );
        let cfg: PathBuf = dir.path().join("config.yml");
        std::fs::write(&cfg, config).expect("config");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry");
        let host = format!("127.0.0.1:{port}");
        let mut r = Registry { child, host, key_pem, cert_der, policy, _token: token, _dir: dir };
        r.wait_ready();
        r
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("docker-registry exited ({status}): {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not listen on {} within 15 s", self.host);
    }

    /// From now on the token service refuses every request (a broken token service).
    pub fn refuse_tokens(&self) {
        if let Ok(mut p) = self.policy.lock() {
            p.refuse_tokens = true;
        }
    }

    fn push_token(&self, repo: &str) -> String {
        jwt(
            &self.key_pem,
            &self.cert_der,
            "pusher",
            serde_json::json!([{"type": "repository", "name": repo, "actions": ["pull", "push"]}]),
        )
    }

    fn upload(&self, http: &reqwest::blocking::Client, token: &str, repo: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let resp = http
            .post(format!("http://{}/v2/{repo}/blobs/uploads/", self.host))
            .bearer_auth(token)
            .send()
            .expect("upload start");
        assert_eq!(resp.status().as_u16(), 202, "upload start: {:?}", resp.text());
        let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
        let url = if loc.starts_with("http") { loc } else { format!("http://{}{loc}", self.host) };
        let sep = if url.contains('?') { '&' } else { '?' };
        let resp = http
            .put(format!("{url}{sep}digest={digest}"))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .expect("upload");
        assert_eq!(resp.status().as_u16(), 201, "upload: {:?}", resp.text());
        digest
    }

    /// Pushes an image `repo:tag` built at `created` (its config says so); returns the
    /// manifest's digest. `salt` makes a different image under the same tag (a moved tag).
    pub fn push(&self, repo: &str, tag: &str, created: chrono::DateTime<chrono::Utc>, salt: &str) -> String {
        let http = reqwest::blocking::Client::new();
        let token = self.push_token(repo);
        let layer = format!("layer of {repo}:{tag} {salt}").into_bytes();
        let layer_digest = self.upload(&http, &token, repo, &layer);
        let config = serde_json::json!({"architecture": "amd64", "os": "linux", "created": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "config": {}, "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).to_string().into_bytes();
        let config_digest = self.upload(&http, &token, repo, &config);
        let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}]}).to_string();
        let resp = http
            .put(format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .bearer_auth(&token)
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.clone())
            .send()
            .expect("manifest");
        assert_eq!(resp.status().as_u16(), 201, "manifest: {:?}", resp.text());
        format!("sha256:{}", hex::encode(Sha256::digest(manifest.as_bytes())))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
