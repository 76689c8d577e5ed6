//! The webhook client against receivers on loopback: success, outage, rejection, silence.

use std::time::Duration;

use hsof_ops::incidents::{parse_retry_after, retry_after, SlackClient, SlackError, SlackMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the receiver got: request head and body.
struct Received {
    head: String,
    body: Vec<u8>,
}

/// A webhook receiver on a free port. Each request is reported on the channel, then
/// answered with `status` and `body`, or never answered when `status` is `None`.
async fn receiver(status: Option<&'static str>, body: &'static str) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let tx = tx.clone();
            tokio::spawn(async move { answer(stream, status, body, tx).await });
        }
    });
    (format!("http://{addr}/services/T000/B000/secret-token"), rx)
}

async fn answer(
    mut stream: TcpStream,
    status: Option<&'static str>,
    body: &'static str,
    tx: mpsc::UnboundedSender<Received>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, want) = loop {
        let Ok(n) = stream.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            buf.drain(..end + 4);
            break (head, len);
        }
    };
    while buf.len() < want {
        let Ok(n) = stream.read(&mut chunk).await else { return };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let _ = tx.send(Received { head, body: buf });
    match status {
        Some(status) => {
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes()).await;
        }
        // Hold the connection open, silent, until the client gives up.
        None => {
            let _ = stream.read(&mut chunk).await;
        }
    }
}

fn message() -> SlackMessage {
    SlackMessage {
        text: ":rotating_light: P1 incident #3 declared".into(),
        blocks: serde_json::json!([{"type": "section", "text": {"type": "mrkdwn", "text": "GPU &lt;3&gt; down"}}]),
    }
}

#[tokio::test]
async fn a_200_ok_delivers_the_message_as_json() {
    let (url, mut rx) = receiver(Some("200 OK"), "ok").await;
    let client = SlackClient::new(&url, Duration::from_secs(5)).expect("client");
    client.post(&message()).await.expect("delivered");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("in time").expect("a request");
    assert!(got.head.starts_with("POST /services/T000/B000/secret-token HTTP/1.1"), "{}", got.head);
    assert!(got.head.to_ascii_lowercase().contains("content-type: application/json"), "{}", got.head);
    let body: serde_json::Value = serde_json::from_slice(&got.body).expect("json body");
    assert_eq!(body, serde_json::to_value(message()).expect("json"));
    assert_eq!(body["text"], ":rotating_light: P1 incident #3 declared");
    assert_eq!(body["blocks"][0]["text"]["text"], "GPU &lt;3&gt; down");
}

#[tokio::test]
async fn a_500_is_unavailable_and_worth_retrying() {
    let (url, _rx) = receiver(Some("500 Internal Server Error"), "internal_error").await;
    let err = SlackClient::new(&url, Duration::from_secs(5)).expect("client").post(&message()).await.expect_err("500");
    assert_eq!(err, SlackError::Unavailable { status: 500, body: "internal_error".into(), retry_after: None });
    assert!(err.is_retryable());

    let (url, _rx) = receiver(Some("429 Too Many Requests"), "rate_limited").await;
    let err = SlackClient::new(&url, Duration::from_secs(5)).expect("client").post(&message()).await.expect_err("429");
    assert!(matches!(err, SlackError::Unavailable { status: 429, .. }) && err.is_retryable(), "{err:?}");
    assert!(err.is_rate_limit() && err.retry_after().is_none());

    // Slack's rate limit says how long to wait; the client reads it.
    let (url, _rx) = receiver(Some("429 Too Many Requests\r\nRetry-After: 30"), "rate_limited").await;
    let err = SlackClient::new(&url, Duration::from_secs(5)).expect("client").post(&message()).await.expect_err("429");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)), "{err:?}");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    use chrono::TimeZone as _;
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time");
    assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("Fri, 27 Nov 2026 09:01:30 GMT", now), Some(Duration::from_secs(90)));
    assert_eq!(parse_retry_after("Fri, 27 Nov 2026 08:00:00 GMT", now), Some(Duration::ZERO), "a past date: no wait");
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-5", now), None);
}

#[tokio::test]
async fn a_400_is_rejected_for_good() {
    let (url, _rx) = receiver(Some("400 Bad Request"), "invalid_payload").await;
    let err = SlackClient::new(&url, Duration::from_secs(5)).expect("client").post(&message()).await.expect_err("400");
    assert_eq!(err, SlackError::Rejected { status: 400, body: "invalid_payload".into() });
    assert!(!err.is_retryable());
    assert_eq!(err.to_string(), "Slack rejected the message (HTTP 400): invalid_payload");

    let (url, _rx) = receiver(Some("200 OK"), "<html>proxy login</html>").await;
    let err = SlackClient::new(&url, Duration::from_secs(5)).expect("client").post(&message()).await.expect_err("200");
    assert!(matches!(err, SlackError::Rejected { status: 200, .. }), "only `ok` is success: {err:?}");
}

#[tokio::test]
async fn a_silent_receiver_times_out_within_the_timeout() {
    let (url, mut rx) = receiver(None, "").await;
    let client = SlackClient::new(&url, Duration::from_secs(1)).expect("client");
    let started = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(10), client.post(&message())).await;
    let err = outcome.expect("the client gives up by itself").expect_err("no answer");
    assert_eq!(err, SlackError::Timeout);
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(rx.recv().await.is_some(), "the request did arrive");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_without_leaking_the_token() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let client =
        SlackClient::new(&format!("http://127.0.0.1:{port}/services/T/B/secret-token"), Duration::from_secs(2))
            .expect("client");
    let err = client.post(&message()).await.expect_err("refused");
    assert!(matches!(err, SlackError::Unreachable(_)) && err.is_retryable(), "{err:?}");
    assert!(!err.to_string().contains("secret-token"), "{err}");
    assert!(!format!("{client:?}").contains("secret-token"));
}

#[test]
fn only_https_or_loopback_http_is_accepted() {
    let err = SlackClient::new("http://hooks.slack.com/services/T/B/secret-token", Duration::from_secs(1))
        .expect_err("plain http");
    assert_eq!(err, SlackError::NotHttps("http://hooks.slack.com".into()));
    assert!(!err.to_string().contains("secret-token"));
    assert!(matches!(SlackClient::new("ftp://127.0.0.1/x", Duration::from_secs(1)), Err(SlackError::NotHttps(_))));
    assert!(matches!(SlackClient::new("not a url", Duration::from_secs(1)), Err(SlackError::BadUrl(_))));
    for ok in [
        "https://hooks.slack.com/services/T/B/x",
        "http://localhost:9000/hook",
        "http://[::1]:9000/hook",
        "http://127.0.0.1/hook",
    ] {
        assert!(SlackClient::new(ok, Duration::from_secs(1)).is_ok(), "{ok}");
    }
}

#[test]
fn retries_back_off_from_ten_seconds_to_fifteen_minutes() {
    let secs: Vec<u64> = [0, 1, 2, 3, 7, 8, 9, 1000].iter().map(|&a| retry_after(a).as_secs()).collect();
    assert_eq!(secs, [10, 10, 20, 40, 640, 900, 900, 900]);
}
