//! The API server's service proxy:
//! `/api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy[/PATH]`.
//!
//! Resolution follows the API server (`pkg/registry/core/service/storage`): a numeric PORT
//! is turned into the name of the service port with that number (`503 no service port N
//! found` when none has it), then the port whose name matches (an empty PORT matches the one
//! unnamed port) is used (`503 no endpoints available` when none). The fake has no pod
//! network: the endpoint is `127.0.0.1:targetPort` (the port when `targetPort` is not set),
//! so a test or the demo points a Service at a loopback server through `targetPort`.
//! Authorization is `VERB services/proxy` on the `[SCHEME:]NAME[:PORT]` name, as the real
//! request info parses it; the caller's credentials are not forwarded.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::policy::Attributes;
use crate::resources::find;
use crate::routes::{authorize, status, Shared};

/// Headers a proxy never passes on (hop-by-hop ones, and the caller's credentials).
const DROPPED: &[&str] = &[
    "authorization",
    "connection",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "impersonate-user",
    "impersonate-group",
];

/// The service and the path behind it, when `path` is a service proxy path.
fn parse(path: &str) -> Option<(String, String, String)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("services/")?;
    let (id, rest) = rest.split_once('/')?;
    let tail = rest.strip_prefix("proxy")?;
    if !(tail.is_empty() || tail.starts_with('/')) {
        return None;
    }
    let tail = if tail.is_empty() { "/".to_string() } else { tail.to_string() };
    Some((ns.to_string(), id.to_string(), tail))
}

/// `[scheme:]name[:port]`, as `net.SplitSchemeNamePort` reads it.
fn split_id(id: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return None,
    };
    (!name.is_empty() && matches!(scheme, "" | "http" | "https")).then_some((scheme, name, port))
}

/// The loopback port behind `port` of `svc`, or the API server's `503` message.
fn endpoint(svc: &Value, name: &str, port: &str) -> Result<u16, String> {
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let mut wanted = port.to_string();
    if let Ok(n) = port.parse::<i64>() {
        match ports.iter().find(|p| p["port"].as_i64() == Some(n)) {
            Some(p) => wanted = p["name"].as_str().unwrap_or_default().to_string(),
            None => return Err(format!("no service port {n} found for service \"{name}\"")),
        }
    }
    let unavailable = || format!("no endpoints available for service \"{name}\"");
    let p = ports.iter().find(|p| p["name"].as_str().unwrap_or_default() == wanted).ok_or_else(unavailable)?;
    let target = match &p["targetPort"] {
        Value::Null => p["port"].as_u64(),
        // A named target port needs a pod's container ports, which the fake does not resolve.
        t => t.as_u64(),
    };
    target.and_then(|t| u16::try_from(t).ok()).ok_or_else(unavailable)
}

/// Answers a service proxy request; `None` when `uri` is not one.
pub async fn serve(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Option<Response> {
    let (ns, id, tail) = parse(uri.path())?;
    let Some((_scheme, name, port)) = split_id(&id) else {
        return Some(status(400, "BadRequest", format!("invalid service request {id:?}")));
    };
    let verb = match method.as_str() {
        "GET" | "HEAD" | "OPTIONS" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => return Some(status(405, "MethodNotAllowed", format!("{method} is not supported"))),
    };
    let res = find("", "v1", "services")?;
    let target = {
        let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
        let attrs = Attributes {
            verb: verb.into(),
            group: String::new(),
            resource: "services".into(),
            subresource: "proxy".into(),
            namespace: ns.clone(),
            name: id.clone(),
        };
        if let Some(denied) = authorize(&store, headers, &attrs) {
            return Some(denied);
        }
        let Some(svc) = store.get(res, &ns, name) else {
            return Some(status(404, "NotFound", format!("services \"{name}\" not found")));
        };
        match endpoint(svc, name, port) {
            Ok(p) => p,
            Err(message) => return Some(status(503, "ServiceUnavailable", message)),
        }
    };
    let path_and_query = match uri.query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail,
    };
    Some(forward(method, target, &path_and_query, headers, body.clone()).await.unwrap_or_else(|e| {
        status(503, "ServiceUnavailable", format!("error trying to reach service: dial tcp 127.0.0.1:{target}: {e}"))
    }))
}

async fn forward(
    method: &Method,
    port: u16,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut req = hyper::Request::builder().method(method.clone()).uri(path_and_query);
    for (k, v) in headers.iter().filter(|(k, _)| !DROPPED.contains(&k.as_str())) {
        req = req.header(k, v);
    }
    let req = req.header("host", format!("127.0.0.1:{port}")).body(Full::new(body)).map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let (parts, incoming) = resp.into_parts();
    let bytes = incoming.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let mut out = (parts.status, bytes).into_response();
    for (k, v) in parts.headers.iter().filter(|(k, _)| !DROPPED.contains(&k.as_str()) && *k != "content-length") {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_ids_are_read_as_the_api_server_reads_them() {
        assert_eq!(
            parse("/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query"),
            Some(("monitoring".into(), "prometheus:9090".into(), "/api/v1/query".into()))
        );
        assert_eq!(parse("/api/v1/namespaces/m/services/am/proxy"), Some(("m".into(), "am".into(), "/".into())));
        assert_eq!(parse("/api/v1/namespaces/m/services/am/proxyx"), None);
        assert_eq!(parse("/api/v1/namespaces/m/services/am"), None);
        assert_eq!(split_id("https:web:443"), Some(("https", "web", "443")));
        assert_eq!(split_id("web:http"), Some(("", "web", "http")));
        assert_eq!(split_id("ftp:web:1"), None);
        assert_eq!(split_id(":9090"), None);
    }

    #[test]
    fn ports_resolve_by_number_then_name() {
        let svc = serde_json::json!({"spec": {"ports": [
            {"name": "web", "port": 9090, "targetPort": 40000},
            {"name": "grpc", "port": 10901}
        ]}});
        assert_eq!(endpoint(&svc, "p", "9090").ok(), Some(40000));
        assert_eq!(endpoint(&svc, "p", "web").ok(), Some(40000));
        assert_eq!(endpoint(&svc, "p", "grpc").ok(), Some(10901));
        assert!(endpoint(&svc, "p", "9091").is_err());
        assert!(endpoint(&svc, "p", "").is_err(), "no unnamed port");
        let single = serde_json::json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
        assert_eq!(endpoint(&single, "s", "").ok(), Some(8080));
        assert_eq!(endpoint(&single, "s", "80").ok(), Some(8080));
    }
}
