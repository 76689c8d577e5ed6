//! Proxies for the API server: HTTP(S) CONNECT and SOCKS5 (kube's `http-proxy` and
//! `socks5` connectors), chosen from the settings or from the environment.

use crate::ClusterError;

/// Parses a proxy URL, accepting only what kube can use.
pub fn parse(url: &str) -> Result<http::Uri, ClusterError> {
    let uri: http::Uri = url.parse().map_err(|e| ClusterError::Kubeconfig(format!("proxy URL {url:?}: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https" | "socks5") if uri.host().is_some() => Ok(uri),
        _ => Err(ClusterError::Kubeconfig(format!(
            "proxy URL {url:?}: use http://host:port, https://host:port or socks5://host:port"
        ))),
    }
}

/// The proxy the environment names for `server`, as Go's `ProxyFromEnvironment` (and so
/// kubectl) picks it: `HTTPS_PROXY` for https servers, `HTTP_PROXY` for http, then
/// `ALL_PROXY`; lower-case names too; none for loopback hosts or hosts `NO_PROXY` lists
/// (exact names, `.suffix` / `suffix` domains, `*`).
pub fn from_env(server: &str, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let uri: http::Uri = server.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return None;
    }
    let get = |name: &str| var(name).or_else(|| var(&name.to_ascii_lowercase())).filter(|v| !v.is_empty());
    if let Some(no) = get("NO_PROXY") {
        for entry in no.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            let entry = entry.split(':').next().unwrap_or_default().to_string();
            let bare = entry.trim_start_matches('.');
            if entry == "*" || host == bare || host.ends_with(&format!(".{bare}")) {
                return None;
            }
        }
    }
    let scheme_var = if uri.scheme_str() == Some("https") { "HTTPS_PROXY" } else { "HTTP_PROXY" };
    get(scheme_var).or_else(|| get("ALL_PROXY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_environment_picks_the_proxy_as_kubectl_does() {
        let e = [("HTTPS_PROXY", "http://proxy:3128"), ("NO_PROXY", ".internal,10.0.0.1")];
        assert_eq!(from_env("https://api.example.com:6443", env(&e)).as_deref(), Some("http://proxy:3128"));
        assert_eq!(from_env("https://k8s.internal:6443", env(&e)), None);
        assert_eq!(from_env("https://10.0.0.1:6443", env(&e)), None);
        assert_eq!(from_env("https://127.0.0.1:6443", env(&e)), None, "loopback never goes through a proxy");
        assert_eq!(from_env("http://api.example.com", env(&e)), None, "http servers use HTTP_PROXY");
        assert_eq!(
            from_env("http://api.example.com", env(&[("all_proxy", "socks5://s:1080")])).as_deref(),
            Some("socks5://s:1080")
        );
        assert_eq!(from_env("https://x.example.com", env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")])), None);
    }

    #[test]
    fn only_proxies_kube_can_use_are_accepted() {
        assert!(parse("socks5://127.0.0.1:1080").is_ok());
        assert!(parse("http://proxy:3128").is_ok());
        assert!(parse("ftp://proxy").is_err());
        assert!(parse("not a url").is_err());
    }
}
