//! A Slack incoming-webhook receiver for tests: records every body it accepts and answers
//! as a test scripts it (ok, a status code with a body, or never).

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200 `ok`, as Slack does.
    Ok,
    /// This status and body (500, 400 `invalid_payload`, ...).
    Status(u16, String),
    /// Read the request and never answer (until the receiver is dropped).
    Hang,
    /// 200 `ok` after this long, each request on a thread of its own (as a slow Slack
    /// answers several clients at once).
    Slow(Duration),
}

/// A running receiver on a free loopback port.
pub struct Webhook {
    /// `http://127.0.0.1:PORT/services/T000/B000/XXXX`.
    pub url: String,
    answer: Arc<Mutex<Answer>>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    requests: Arc<std::sync::atomic::AtomicUsize>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Webhook {
    /// Starts answering `answer`.
    pub fn start(answer: Answer) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind webhook"));
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or_default();
        let answer = Arc::new(Mutex::new(answer));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (s, a, b, r) = (server.clone(), answer.clone(), bodies.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            let mut hung = Vec::new();
            for mut req in s.incoming_requests() {
                let mut text = String::new();
                let _ = req.as_reader().read_to_string(&mut text);
                r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let now = a.lock().unwrap_or_else(|p| p.into_inner()).clone();
                match now {
                    Answer::Slow(after) => {
                        let b = b.clone();
                        std::thread::spawn(move || {
                            std::thread::sleep(after);
                            // Recorded as delivered only when the answer reached the client.
                            if req.respond(tiny_http::Response::from_string("ok")).is_ok() {
                                b.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push(serde_json::from_str(&text).unwrap_or_default());
                            }
                        });
                    }
                    Answer::Ok => {
                        b.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(serde_json::from_str(&text).unwrap_or_default());
                        let _ = req.respond(tiny_http::Response::from_string("ok"));
                    }
                    Answer::Status(code, body) => {
                        let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(code));
                    }
                    // Keep the request (and its connection) open without answering.
                    Answer::Hang => hung.push(req),
                }
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/services/T000/B000/XXXX"),
            answer,
            bodies,
            requests,
            server,
            thread: Some(thread),
        }
    }

    /// Changes how it answers from now on.
    pub fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap_or_else(|p| p.into_inner()) = a;
    }

    /// Bodies accepted so far.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Requests read so far, answered or not.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until at least `n` bodies arrived (up to `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let start = std::time::Instant::now();
        while self.bodies().len() < n && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.bodies()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
