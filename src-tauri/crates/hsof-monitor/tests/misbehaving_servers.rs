//! Clients against servers that misbehave: silent, slow, garbage, errors, gone.

use std::time::Duration;

use hsof_monitor::alertmanager::AlertmanagerClient;
use hsof_monitor::health::{HealthClient, HealthLimits};
use hsof_monitor::prom::PromClient;
use hsof_monitor::{Level, MonitorError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-trick server on a free port: every connection gets `reply` (or nothing).
async fn server(reply: Option<&'static str>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                match reply {
                    Some(r) => {
                        let _ = s.write_all(r.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    format!("http://{addr}")
}

fn http(status: &str, body: &'static str) -> &'static str {
    Box::leak(format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_boxed_str())
}

#[tokio::test]
async fn a_silent_server_times_out_with_the_url_named() {
    let url = server(None).await;
    let prom = PromClient::new(&url, Duration::from_millis(300)).expect("client");
    let err = prom.instant("up", None).await.expect_err("timeout");
    assert!(matches!(err, MonitorError::Timeout { .. }), "{err:?}");
    assert!(err.is_unavailable());
    assert!(err.to_string().contains(&url) && err.to_string().contains("did not answer within 0.3 s"), "{err}");
}

#[tokio::test]
async fn garbage_and_errors_are_named_not_swallowed() {
    let garbage = server(Some(http("200 OK", "<html>login page</html>"))).await;
    let err = PromClient::new(&garbage, Duration::from_secs(2))
        .expect("client")
        .instant("up", None)
        .await
        .expect_err("garbage");
    assert!(matches!(err, MonitorError::Malformed { .. }), "{err:?}");
    assert!(!err.is_unavailable(), "a wrong answer is not an outage");

    let rejected = server(Some(http(
        "400 Bad Request",
        r#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#,
    )))
    .await;
    let err = PromClient::new(&rejected, Duration::from_secs(2))
        .expect("client")
        .instant("up{", None)
        .await
        .expect_err("bad query");
    assert!(err.to_string().contains("bad_data: parse error at char 4"), "{err}");

    let broken = server(Some(http("502 Bad Gateway", "upstream gone"))).await;
    let err =
        AlertmanagerClient::new(&broken, Duration::from_secs(2)).expect("client").alerts().await.expect_err("502");
    assert!(matches!(err, MonitorError::Http { status: 502, .. }) && err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn a_port_with_nothing_listening_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let err = PromClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2))
        .expect("client")
        .instant("up", None)
        .await
        .expect_err("refused");
    assert!(matches!(err, MonitorError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("Connection refused"), "{err}");
}

#[tokio::test]
async fn health_with_partial_json_is_unknown_with_the_parse_error() {
    let url = server(Some(http("200 OK", r#"{"overall_status":"HEALTHY"}"#))).await;
    let r = HealthClient::new(&url, Duration::from_secs(2))
        .expect("client")
        .check(&HealthLimits::default(), chrono::Utc::now)
        .await;
    // /health parses (components default to none); the others get the same partial body.
    assert!(r.reachable);
    let gpu = r.components.iter().find(|c| c.name == "gpu").expect("gpu");
    assert_eq!(gpu.level, Level::Unknown);
    assert!(
        gpu.reason.contains("malformed JSON from health/gpu") && gpu.reason.contains("missing field"),
        "{}",
        gpu.reason
    );
}

#[test]
fn bad_urls_are_refused_up_front() {
    assert!(matches!(PromClient::new("prometheus:9090", Duration::from_secs(1)), Err(MonitorError::BadUrl { .. })));
    assert!(matches!(PromClient::new("ftp://x", Duration::from_secs(1)), Err(MonitorError::BadUrl { .. })));
}

#[test]
fn clock_skew_from_the_date_header() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z").expect("t").with_timezone(&chrono::Utc);
    assert_eq!(hsof_monitor::clock_skew_secs(Some("Fri, 27 Nov 2026 09:02:00 GMT"), now), Some(120.0));
    assert_eq!(hsof_monitor::clock_skew_secs(Some("Fri, 27 Nov 2026 08:59:30 GMT"), now), Some(-30.0));
    assert_eq!(hsof_monitor::clock_skew_secs(Some("yesterday"), now), None);
    assert_eq!(hsof_monitor::clock_skew_secs(None, now), None);
}
