//! A loopback forwarder to the API server's service proxy, so HTTP clients that know nothing
//! of Kubernetes (the Prometheus, AlertManager and HSOF health clients) reach in-cluster
//! services with the kubeconfig's credentials, whatever they are (token, client
//! certificate, exec plugin, OIDC): every request is sent through `kube::Client`.
//!
//! It listens on `127.0.0.1:0` on a thread of its own and answers only paths under a random
//! 128-bit prefix, and only service proxy paths below it: another local user who finds the
//! port can neither use it nor reach anything but `…/services/…/proxy`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::Mutex;

use crate::services::ServiceRef;
use crate::{Cluster, ClusterError, ConnectOptions};

/// Which cluster the forwarder talks to.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyTarget {
    /// Kubeconfig file; `None`: `$KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Context; `None`: the current one.
    pub context: Option<String>,
    /// Timeout and proxy.
    pub options: ConnectOptions,
}

impl ProxyTarget {
    fn file(&self) -> Option<PathBuf> {
        self.kubeconfig.clone().or_else(|| {
            std::env::var_os("KUBECONFIG")
                .and_then(|v| std::env::split_paths(&v).next())
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config")))
        })
    }
}

/// A running forwarder; dropping it stops it.
#[derive(Debug)]
pub struct ServiceProxy {
    base: String,
    target: ProxyTarget,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Connection = Option<(Option<SystemTime>, kube::Client)>;

struct Inner {
    prefix: String,
    target: ProxyTarget,
    /// The client, with the kubeconfig's modification time it was made from: an edited file
    /// (fresh credentials) means a new client.
    client: Mutex<Connection>,
}

impl ServiceProxy {
    /// Binds a loopback port and starts serving on a thread of its own.
    pub fn start(target: ProxyTarget) -> Result<Self, ClusterError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| ClusterError::Unreachable(format!("service proxy: cannot listen on loopback: {e}")))?;
        let addr: SocketAddr =
            listener.local_addr().map_err(|e| ClusterError::Unreachable(format!("service proxy: {e}")))?;
        let mut token = [0u8; 16];
        getrandom::fill(&mut token)
            .map_err(|e| ClusterError::Unreachable(format!("service proxy: no randomness for its key: {e}")))?;
        let prefix = format!("/{}", hex(&token));
        let inner = Arc::new(Inner { prefix: prefix.clone(), target: target.clone(), client: Mutex::new(None) });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("service-proxy".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() else {
                    tracing::error!("service proxy: no runtime");
                    return;
                };
                rt.block_on(serve(listener, inner, rx));
            })
            .map_err(|e| ClusterError::Unreachable(format!("service proxy: cannot start its thread: {e}")))?;
        Ok(Self { base: format!("http://{addr}{prefix}"), target, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The cluster it talks to.
    pub fn target(&self) -> &ProxyTarget {
        &self.target
    }

    /// The loopback base URL that reaches `svc` (no trailing slash).
    pub fn url_for(&self, svc: &ServiceRef) -> String {
        format!("{}{}", self.base, svc.proxy_path())
    }
}

impl Drop for ServiceProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn serve(listener: std::net::TcpListener, inner: Arc<Inner>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let inner = inner.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let inner = inner.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&inner, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

fn plain(status: u16, text: String) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    r.headers_mut().insert("content-type", http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// Whether `path` (after the prefix) is a service proxy path and nothing else.
fn allowed(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["", "api", "v1", "namespaces", ns, "services", id, "proxy", ..]
        if !ns.is_empty() && !id.is_empty() && !parts.iter().any(|p| *p == ".." || p.to_ascii_lowercase().contains("%2e")))
}

async fn client(inner: &Inner, fresh: bool) -> Result<kube::Client, ClusterError> {
    let modified = inner.target.file().and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
    let mut slot = inner.client.lock().await;
    if let Some((m, c)) = slot.as_ref() {
        if *m == modified && !fresh {
            return Ok(c.clone());
        }
    }
    let t = &inner.target;
    let cluster = Cluster::connect(t.kubeconfig.as_deref(), t.context.as_deref(), "default", &t.options).await?;
    *slot = Some((modified, cluster.client.clone()));
    Ok(cluster.client)
}

async fn handle(inner: &Inner, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let Some(path) = req.uri().path().strip_prefix(inner.prefix.as_str()) else {
        return plain(404, "not found\n".into());
    };
    if !allowed(path) {
        return plain(
            403,
            format!("the service proxy forwards only /api/v1/namespaces/NS/services/NAME/proxy/…, not {path}\n"),
        );
    }
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return plain(400, "the request body could not be read\n".into());
    };
    let build = || {
        let mut b = http::Request::builder().method(parts.method.clone()).uri(&path_and_query);
        for name in ["accept", "content-type", "accept-encoding"] {
            if let Some(v) = parts.headers.get(name) {
                b = b.header(name, v);
            }
        }
        b.body(kube::client::Body::from(body.clone()))
    };
    // One retry with a fresh client when the first could not even be sent (a dropped
    // connection pool, expired credentials replaced in the file).
    let mut last = String::new();
    for fresh in [false, true] {
        let c = match client(inner, fresh).await {
            Ok(c) => c,
            Err(e) => return plain(502, format!("service proxy: {e}\n")),
        };
        let Ok(request) = build() else { return plain(400, format!("bad request path {path_and_query}\n")) };
        match c.send(request).await {
            Ok(resp) => {
                let (p, b) = resp.into_parts();
                return match b.collect().await {
                    Ok(bytes) => {
                        let mut out = hyper::Response::new(Full::new(bytes.to_bytes()));
                        *out.status_mut() = p.status;
                        for name in ["content-type", "content-encoding", "retry-after", "cache-control"] {
                            if let Some(v) = p.headers.get(name) {
                                out.headers_mut().insert(name, v.clone());
                            }
                        }
                        out
                    }
                    Err(e) => plain(502, format!("service proxy: the answer broke off: {}\n", crate::chain(&e))),
                };
            }
            Err(e) => last = ClusterError::from_kube(e, "service proxy").to_string(),
        }
    }
    plain(502, format!("{last}\n"))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_service_proxy_paths_pass() {
        assert!(allowed("/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query"));
        assert!(allowed("/api/v1/namespaces/monitoring/services/prometheus:9090/proxy"));
        assert!(!allowed("/api/v1/namespaces/hsof/secrets"));
        assert!(!allowed("/api/v1/namespaces/hsof/pods/x/exec"));
        assert!(!allowed("/apis/apps/v1/deployments"));
        assert!(!allowed("/api/v1/namespaces/m/services/p/proxy/../../secrets"));
    }
}
