//! A status page receiver for tests, in the Atlassian Statuspage API's shape: it checks
//! each request (the `OAuth` key, the page, the path, a JSON body with an `incident`),
//! creates a page incident on `POST /pages/{page}/incidents` (201 with its `id`), changes
//! one on `PATCH /pages/{page}/incidents/{id}` (404 for an id it never made), and records
//! every request it accepted. It can be told to refuse the next requests (a 503 with
//! `Retry-After`) and to answer slowly, so two apps flushing at once overlap.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `POST` or `PATCH`.
    pub method: String,
    /// The path below the base URL.
    pub path: String,
    /// The body.
    pub body: serde_json::Value,
}

#[derive(Default)]
struct State {
    accepted: Vec<Request>,
    refused: usize,
    refuse_next: usize,
    made: Vec<String>,
}

/// A running receiver on a free loopback port.
pub struct StatusPage {
    /// The API's base URL (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for StatusPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusPage").field("url", &self.url).finish_non_exhaustive()
    }
}

impl StatusPage {
    /// Starts a receiver for page `page` taking key `key`, answering after `delay`.
    pub fn start(page: &str, key: &str, delay: Duration) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind status page"));
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or_default();
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st, page, key) = (server.clone(), state.clone(), page.to_string(), key.to_string());
        let thread = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let mut text = String::new();
                let _ = req.as_reader().read_to_string(&mut text);
                std::thread::sleep(delay);
                let (code, answer) = answer(&st, &page, &key, &req, &text);
                let resp = tiny_http::Response::from_string(answer)
                    .with_status_code(code)
                    .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").expect("header"))
                    .with_header(tiny_http::Header::from_bytes("Retry-After", "1").expect("header"));
                let _ = req.respond(resp);
            }
        });
        Self { url: format!("http://127.0.0.1:{port}/v1"), state, server, thread: Some(thread) }
    }

    /// Refuses the next `n` requests with 503.
    pub fn refuse_next(&self, n: usize) {
        self.state.lock().expect("lock").refuse_next = n;
    }

    /// The requests accepted, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().expect("lock").accepted.clone()
    }

    /// How many requests were refused (by `refuse_next` or because they were wrong).
    pub fn refused(&self) -> usize {
        self.state.lock().expect("lock").refused
    }
}

fn answer(st: &Mutex<State>, page: &str, key: &str, req: &tiny_http::Request, text: &str) -> (u16, String) {
    let mut st = st.lock().expect("lock");
    let auth = req.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.as_str().to_string());
    if auth.as_deref() != Some(&format!("OAuth {key}")) {
        st.refused += 1;
        return (401, r#"{"error":"Could not authenticate"}"#.into());
    }
    if st.refuse_next > 0 {
        st.refuse_next -= 1;
        st.refused += 1;
        return (503, r#"{"error":"Service Unavailable"}"#.into());
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else {
        st.refused += 1;
        return (400, r#"{"error":"body is not JSON"}"#.into());
    };
    if !body["incident"].is_object() || !body["incident"]["status"].is_string() {
        st.refused += 1;
        return (422, r#"{"error":"incident.status is required"}"#.into());
    }
    let path = req.url().trim_start_matches("/v1").to_string();
    let prefix = format!("/pages/{page}/incidents");
    let method = req.method().to_string();
    match (method.as_str(), path.strip_prefix(&prefix)) {
        ("POST", Some("")) => {
            if !body["incident"]["name"].is_string() {
                st.refused += 1;
                return (422, r#"{"error":"incident.name is required"}"#.into());
            }
            let id = format!("pinc{}", st.made.len() + 1);
            st.made.push(id.clone());
            st.accepted.push(Request { method, path, body: body.clone() });
            (
                201,
                serde_json::json!({"id": id, "name": body["incident"]["name"], "status": body["incident"]["status"]})
                    .to_string(),
            )
        }
        ("PATCH", Some(rest)) => {
            let id = rest.trim_start_matches('/');
            if !st.made.iter().any(|m| m == id) {
                st.refused += 1;
                return (404, r#"{"error":"not found"}"#.into());
            }
            st.accepted.push(Request { method, path: path.clone(), body: body.clone() });
            (200, serde_json::json!({"id": id, "status": body["incident"]["status"]}).to_string())
        }
        _ => {
            st.refused += 1;
            (404, r#"{"error":"not found"}"#.into())
        }
    }
}

impl Drop for StatusPage {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
