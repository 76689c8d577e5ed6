//! The HTTP side: requests to `/v2/…` with the registry's auth flow. A 401 with `Bearer
//! realm=…,service=…,scope=…` asks the realm for a token (with the pull secret's credentials
//! when there are some, anonymously otherwise) and tries once more with it; `Basic` sends
//! the credentials. A 429 is waited out per `Retry-After` (at most 10 s, three times).
//! Loopback registries are spoken to over plain HTTP, every other over HTTPS.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};

use crate::reference::ImageRef;

/// A user name and password (or token) for one registry, from a pull secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"…").finish()
    }
}

/// What went wrong, in words a platform engineer acts on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    /// No answer.
    #[error("the registry {0} could not be reached: {1}")]
    Unreachable(String, String),
    /// Credentials missing or refused.
    #[error("{0}")]
    Unauthorized(String),
    /// The repository or tag does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Still rate-limited after waiting.
    #[error("the registry {0} rate-limits these requests (429) and still did after waiting {1} s")]
    RateLimited(String, u64),
    /// An answer that does not read.
    #[error("{0}")]
    Bad(String),
}

/// Accept headers for manifests: OCI and Docker, single and multi-platform.
const MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A registry client holding, in memory only, the credentials per registry host.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    creds: BTreeMap<String, Credentials>,
    tokens: Mutex<BTreeMap<(String, String), String>>,
    /// How long 429s are waited out in all, seconds.
    max_wait_secs: u64,
}

/// `key="value", key2=value2` of a `WWW-Authenticate` challenge.
pub fn challenge_params(header: &str) -> (String, BTreeMap<String, String>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut out = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    (scheme.to_ascii_lowercase(), out)
}

fn loopback(host: &str) -> bool {
    let h = host.rsplit_once(':').map_or(host, |(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    h == "localhost" || h.starts_with("127.") || h == "[::1]"
}

impl Client {
    /// A client with these credentials (registry host → credentials), each request limited
    /// to `timeout`.
    pub fn new(creds: BTreeMap<String, Credentials>, timeout: Duration) -> Result<Self, RegistryError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("hsof-control-center/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Bad(format!("HTTP client: {e}")))?;
        Ok(Self { http, creds, tokens: Mutex::new(BTreeMap::new()), max_wait_secs: 20 })
    }

    /// Waits out 429s for at most `secs` in all (default 20).
    pub fn with_max_wait(mut self, secs: u64) -> Self {
        self.max_wait_secs = secs;
        self
    }

    fn url(host: &str, path: &str) -> String {
        format!("{}://{host}{path}", if loopback(host) { "http" } else { "https" })
    }

    fn basic(c: &Credentials) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password)))
    }

    async fn token(&self, host: &str, params: &BTreeMap<String, String>, scope: &str) -> Result<String, RegistryError> {
        let realm = params
            .get("realm")
            .ok_or_else(|| RegistryError::Bad(format!("{host} asked for a bearer token without a realm")))?;
        let mut req = self.http.get(realm).query(&[
            ("service", params.get("service").cloned().unwrap_or_default()),
            ("scope", params.get("scope").cloned().unwrap_or_else(|| scope.to_string())),
        ]);
        if let Some(c) = self.creds.get(host) {
            req = req.header("authorization", Self::basic(c));
        }
        let resp = req.send().await.map_err(|e| RegistryError::Unreachable(realm.clone(), e.to_string()))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized(match self.creds.get(host) {
                Some(c) => format!("the token service of {host} refused the pull secret's credentials (user {}): {status}", c.username),
                None => format!("the token service of {host} refused an anonymous token for {scope}: it needs credentials, and no pull secret of the workloads names {host}"),
            }));
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| {
            RegistryError::Bad(format!("the token service of {host} answered {status} with no token: {e}"))
        })?;
        body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .map(str::to_string)
            .ok_or_else(|| RegistryError::Bad(format!("the token service of {host} answered without a token")))
    }

    /// One request to `path` on `host`, through the auth flow and any 429.
    async fn send(
        &self,
        method: Method,
        host: &str,
        path: &str,
        scope: &str,
        accept: Option<&str>,
    ) -> Result<Response, RegistryError> {
        let key = (host.to_string(), scope.to_string());
        let mut auth: Option<String> = self.tokens.lock().ok().and_then(|t| t.get(&key).map(|t| format!("Bearer {t}")));
        let mut tried_auth = false;
        let mut waited = 0u64;
        loop {
            let mut req = self.http.request(method.clone(), Self::url(host, path));
            if let Some(a) = accept {
                req = req.header("accept", a);
            }
            if let Some(a) = &auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.map_err(|e| RegistryError::Unreachable(host.to_string(), e.to_string()))?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !tried_auth => {
                    tried_auth = true;
                    let header = resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let (scheme, params) = challenge_params(&header);
                    auth = Some(match scheme.as_str() {
                        "bearer" => {
                            let t = self.token(host, &params, scope).await?;
                            if let Ok(mut cache) = self.tokens.lock() {
                                cache.insert(key.clone(), t.clone());
                            }
                            format!("Bearer {t}")
                        }
                        "basic" => match self.creds.get(host) {
                            Some(c) => Self::basic(c),
                            None => {
                                return Err(RegistryError::Unauthorized(format!(
                                    "{host} needs credentials and no pull secret of the workloads names it"
                                )))
                            }
                        },
                        _ => {
                            return Err(RegistryError::Unauthorized(format!(
                                "{host} answered 401 with an unknown challenge `{header}`"
                            )))
                        }
                    });
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(RegistryError::Unauthorized(format!(
                        "{host} refused {} for {scope}{}",
                        resp.status(),
                        if self.creds.contains_key(host) {
                            " with the pull secret's credentials"
                        } else {
                            " without credentials"
                        }
                    )))
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .unwrap_or(1)
                        .min(10);
                    if waited + after > self.max_wait_secs {
                        return Err(RegistryError::RateLimited(host.to_string(), waited));
                    }
                    waited += after;
                    tokio::time::sleep(Duration::from_secs(after)).await;
                }
                _ => return Ok(resp),
            }
        }
    }

    fn scope(r: &ImageRef) -> String {
        format!("repository:{}:pull", r.repository)
    }

    /// Every tag of the image's repository.
    pub async fn tags(&self, r: &ImageRef) -> Result<Vec<String>, RegistryError> {
        let host = r.api_host();
        let mut path = format!("/v2/{}/tags/list?n=1000", r.repository);
        let mut out = Vec::new();
        for _ in 0..100 {
            let resp = self.send(Method::GET, host, &path, &Self::scope(r), None).await?;
            let status = resp.status();
            if status == StatusCode::NOT_FOUND {
                return Err(RegistryError::NotFound(format!("{host} has no repository {}", r.repository)));
            }
            if !status.is_success() {
                return Err(RegistryError::Bad(format!(
                    "{host} answered {status} to the tag list of {}",
                    r.repository
                )));
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split(';').next())
                .map(|l| l.trim().trim_start_matches('<').trim_end_matches('>').to_string());
            let body: serde_json::Value = resp
                .json()
                .await
                .map_err(|e| RegistryError::Bad(format!("{host}'s tag list of {} does not read: {e}", r.repository)))?;
            let tags = body["tags"]
                .as_array()
                .ok_or_else(|| RegistryError::Bad(format!("{host}'s tag list of {} has no `tags`", r.repository)))?;
            out.extend(tags.iter().filter_map(|t| t.as_str().map(str::to_string)));
            match next {
                Some(n) if n.starts_with("/v2/") => path = n,
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// The digest `reference` (a tag or digest) points at now.
    pub async fn digest(&self, r: &ImageRef, reference: &str) -> Result<String, RegistryError> {
        let host = r.api_host();
        let path = format!("/v2/{}/manifests/{reference}", r.repository);
        let resp = self.send(Method::HEAD, host, &path, &Self::scope(r), Some(MANIFESTS)).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => {
                Err(RegistryError::NotFound(format!("{host} has no {}:{reference}", r.repository)))
            }
            s if s.is_success() => resp
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    RegistryError::Bad(format!("{host} gave no Docker-Content-Digest for {}:{reference}", r.repository))
                }),
            s => Err(RegistryError::Bad(format!("{host} answered {s} for {}:{reference}", r.repository))),
        }
    }

    async fn json(&self, r: &ImageRef, path: &str, accept: Option<&str>) -> Result<serde_json::Value, RegistryError> {
        let host = r.api_host();
        let resp = self.send(Method::GET, host, path, &Self::scope(r), accept).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(RegistryError::Bad(format!("{host} answered {status} for {path}")));
        }
        resp.json().await.map_err(|e| RegistryError::Bad(format!("{host}: {path} does not read: {e}")))
    }

    /// When the image `reference` names was built (its config's `created`), for
    /// linux/amd64 when it is multi-platform.
    pub async fn created(&self, r: &ImageRef, reference: &str) -> Result<Option<DateTime<Utc>>, RegistryError> {
        let mut manifest =
            self.json(r, &format!("/v2/{}/manifests/{reference}", r.repository), Some(MANIFESTS)).await?;
        if let Some(list) = manifest["manifests"].as_array() {
            let pick = list
                .iter()
                .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
                .or_else(|| list.first())
                .and_then(|m| m["digest"].as_str())
                .ok_or_else(|| {
                    RegistryError::Bad(format!("the index of {}:{reference} lists no manifest", r.repository))
                })?
                .to_string();
            manifest = self.json(r, &format!("/v2/{}/manifests/{pick}", r.repository), Some(MANIFESTS)).await?;
        }
        let Some(config) = manifest["config"]["digest"].as_str() else { return Ok(None) };
        let blob = self.json(r, &format!("/v2/{}/blobs/{config}", r.repository), None).await?;
        Ok(blob["created"].as_str().and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|t| t.with_timezone(&Utc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quotes_and_commas() {
        let (s, p) = challenge_params(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let (s, p) = challenge_params("Basic realm=basic-realm");
        assert_eq!((s.as_str(), p["realm"].as_str()), ("basic", "basic-realm"));
        assert!(loopback("127.0.0.1:5000") && loopback("localhost") && !loopback("ghcr.io"));
    }
}

#[cfg(test)]
mod server_tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A loopback server answering each request with the next of the answers `make` builds
    /// for its address (status line, headers, body); the requests' first lines and
    /// Authorization headers are recorded.
    fn serve(make: impl FnOnce(&str) -> Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let host = l.local_addr().expect("addr").to_string();
        let answers = make(&host);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (answer, stream) in answers.into_iter().zip(l.incoming()) {
                let Ok(mut s) = stream else { return };
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                let mut first = String::new();
                let _ = r.read_line(&mut first);
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                    if line.to_ascii_lowercase().starts_with("authorization:") {
                        auth = line.trim().to_string();
                    }
                }
                if let Ok(mut g) = log.lock() {
                    g.push(format!("{} {auth}", first.trim()));
                }
                let _ = s.write_all(answer.as_bytes());
            }
        });
        (host, seen)
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn a_429_is_waited_out_then_the_bearer_flow_and_pages_are_followed() {
        // The token realm is the same server: 429 (Retry-After 1), 401 Bearer, the token,
        // the first page of tags (Link: next), the second.
        let (host, seen) = serve(|host| {
            vec![
                answer("429 Too Many Requests", "Retry-After: 1\r\n", ""),
                answer(
                    "401 Unauthorized",
                    &format!("WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"reg\",scope=\"repository:a/b:pull\"\r\n"),
                    "",
                ),
                answer("200 OK", "Content-Type: application/json\r\n", r#"{"token":"t0k"}"#),
                answer(
                    "200 OK",
                    "Content-Type: application/json\r\nLink: </v2/a/b/tags/list?last=1.0&n=1000>; rel=\"next\"\r\n",
                    r#"{"name":"a/b","tags":["1.0"]}"#,
                ),
                answer("200 OK", "Content-Type: application/json\r\n", r#"{"name":"a/b","tags":["1.1","latest"]}"#),
            ]
        });
        let mut creds = BTreeMap::new();
        creds.insert(host.clone(), Credentials { username: "ci".into(), password: "pw".into() });
        let client = Client::new(creds, Duration::from_secs(5)).expect("client");
        let r = ImageRef::parse(&format!("{host}/a/b:1.0")).expect("ref");
        let tags = client.tags(&r).await.expect("tags");
        assert_eq!(tags, vec!["1.0", "1.1", "latest"]);
        let log = seen.lock().expect("log").clone();
        assert!(
            log[2].starts_with("GET /token?service=reg&scope=repository%3Aa%2Fb%3Apull") && log[2].contains("Basic"),
            "{log:?}"
        );
        assert!(log[3].contains("Bearer t0k") && log[4].contains("last=1.0"), "{log:?}");
    }

    #[tokio::test]
    async fn still_rate_limited_is_said() {
        let (host, _) = serve(|_| (0..10).map(|_| answer("429 Too Many Requests", "Retry-After: 1\r\n", "")).collect());
        let client = Client::new(BTreeMap::new(), Duration::from_secs(2)).expect("client").with_max_wait(2);
        let r = ImageRef::parse(&format!("{host}/a/b:1")).expect("ref");
        let e = client.tags(&r).await.expect_err("limited");
        assert!(matches!(e, RegistryError::RateLimited(_, 2)), "{e}");
    }
}
