//! Links into the team's Grafana (`endpoints.grafana_url`): a PromQL expression opened in
//! Explore over a time range, and the HSOF deployment's two dashboards (production and
//! SLO, panel ids as in its `grafana-dashboards.json` / `slo-dashboard.json`), so a number
//! or chart on screen leads to its graph (pure).

use url::Url;

/// The Explore URL that graphs `expr` over the last `range` (a Grafana relative range such
/// as `6h`), or `None` when no Grafana is configured or the base is not an http(s) URL.
/// The datasource is left out, so Grafana uses the organisation's default one.
pub fn explore_url(base: &str, expr: &str, range: &str) -> Option<String> {
    let base = base.trim();
    if base.is_empty() || expr.trim().is_empty() {
        return None;
    }
    let mut url = Url::parse(base).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let panes = serde_json::json!({
        "a": {
            "queries": [{ "refId": "A", "expr": expr }],
            "range": { "from": format!("now-{range}"), "to": "now" },
        }
    });
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop_if_empty().push("explore");
    }
    url.query_pairs_mut().append_pair("schemaVersion", "1").append_pair("panes", &panes.to_string());
    Some(url.into())
}

/// The HSOF deployment's dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dashboard {
    /// "HSOF Production Dashboard": GPU, pipeline, backups, errors.
    Production,
    /// "HSOF SLO Dashboard": SLOs, error budgets, burn rate.
    Slo,
}

impl Dashboard {
    /// The dashboard's title, as the reference JSON names it.
    pub fn title(self) -> &'static str {
        match self {
            Dashboard::Production => "HSOF Production Dashboard",
            Dashboard::Slo => "HSOF SLO Dashboard",
        }
    }
}

/// The link to `panel` of `dashboard` over the last `range`: `BASE/d/UID?viewPanel=N` when
/// the dashboard's uid is known (`uid` non-empty), else Grafana's dashboard search for its
/// title (the reference dashboards carry no uid, so an import gives them a random one).
/// `None` without a Grafana or with a base that is not http(s).
pub fn dashboard_url(base: &str, uid: &str, dashboard: Dashboard, panel: Option<u32>, range: &str) -> Option<String> {
    let base = base.trim();
    if base.is_empty() {
        return None;
    }
    let mut url = Url::parse(base).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let uid = uid.trim();
    if uid.is_empty() {
        url.path_segments_mut().ok()?.pop_if_empty().push("dashboards");
        url.query_pairs_mut().append_pair("query", dashboard.title());
        return Some(url.into());
    }
    url.path_segments_mut().ok()?.pop_if_empty().push("d").push(uid);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("from", &format!("now-{range}")).append_pair("to", "now");
        if let Some(p) = panel {
            q.append_pair("viewPanel", &p.to_string());
        }
    }
    Some(url.into())
}

/// True when `link` is a page of the Grafana at `base` (same scheme, host, port and path
/// prefix): the app opens only such links in the browser.
pub fn is_under(base: &str, link: &str) -> bool {
    let (Ok(b), Ok(l)) = (Url::parse(base.trim()), Url::parse(link)) else {
        return false;
    };
    let prefix = b.path().trim_end_matches('/');
    matches!(b.scheme(), "http" | "https")
        && b.scheme() == l.scheme()
        && b.host_str() == l.host_str()
        && b.port_or_known_default() == l.port_or_known_default()
        && (l.path() == prefix || l.path().starts_with(&format!("{prefix}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explore_links_carry_the_query_and_range_under_any_base_path() {
        let u = explore_url("https://grafana.example.com/g/", "sum(rate(x[5m])) > 0 & y", "6h").expect("url");
        let parsed = Url::parse(&u).expect("parse");
        assert_eq!(parsed.path(), "/g/explore");
        let panes = parsed.query_pairs().find(|(k, _)| k == "panes").expect("panes").1.to_string();
        let v: serde_json::Value = serde_json::from_str(&panes).expect("json");
        assert_eq!(v["a"]["queries"][0]["expr"], "sum(rate(x[5m])) > 0 & y");
        assert_eq!(v["a"]["range"]["from"], "now-6h");
        assert!(is_under("https://grafana.example.com/g/", &u));
        let u = explore_url("http://localhost:3000", "up", "1h").expect("url");
        assert!(u.starts_with("http://localhost:3000/explore?"), "{u}");
    }

    #[test]
    fn dashboard_links_by_uid_with_the_panel_or_by_title_search() {
        let u =
            dashboard_url("https://g.example.com/grafana/", "hsof-slo", Dashboard::Slo, Some(5), "24h").expect("url");
        let p = Url::parse(&u).expect("parse");
        assert_eq!(p.path(), "/grafana/d/hsof-slo");
        let q: std::collections::HashMap<_, _> = p.query_pairs().into_owned().collect();
        assert_eq!((q["viewPanel"].as_str(), q["from"].as_str(), q["to"].as_str()), ("5", "now-24h", "now"));
        assert!(is_under("https://g.example.com/grafana", &u));
        let u = dashboard_url("http://localhost:3000", "", Dashboard::Production, Some(6), "6h").expect("url");
        assert_eq!(u, "http://localhost:3000/dashboards?query=HSOF+Production+Dashboard");
        let u = dashboard_url("http://localhost:3000", "a/b", Dashboard::Production, None, "6h").expect("url");
        assert!(u.starts_with("http://localhost:3000/d/a%2Fb?"), "{u}");
        assert_eq!(dashboard_url("", "x", Dashboard::Slo, None, "1h"), None);
        assert_eq!(dashboard_url("ftp://g", "x", Dashboard::Slo, None, "1h"), None);
    }

    #[test]
    fn no_grafana_or_a_strange_base_gives_no_link_and_foreign_links_are_refused() {
        assert_eq!(explore_url("", "up", "1h"), None);
        assert_eq!(explore_url("file:///etc/passwd", "up", "1h"), None);
        assert_eq!(explore_url("not a url", "up", "1h"), None);
        assert_eq!(explore_url("http://g", " ", "1h"), None);
        let base = "https://grafana.example.com/g";
        assert!(!is_under(base, "https://evil.example.com/g/explore"));
        assert!(!is_under(base, "https://grafana.example.com/gx/explore"));
        assert!(!is_under(base, "http://grafana.example.com/g/explore"));
        assert!(!is_under(base, "file:///g/explore"));
        assert!(!is_under("", "https://grafana.example.com/g/explore"));
    }
}
