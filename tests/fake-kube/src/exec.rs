//! `pods/{name}/exec` as the API server answers it, over both transports `kubectl` has used.
//! One path admits the request, finds the pod, parses `command=` and looks up its scripted
//! [`ExecAnswer`]; then the `Upgrade` header picks the transport:
//!
//! - a websocket with the channel protocols (`v5.channel.k8s.io`, `v4.channel.k8s.io`): the
//!   command's output on stdout (channel 1) and stderr (2), then its Status on the error
//!   channel (3), then close. kube-rs `Api::exec` and `kubectl` since 1.30 speak this.
//! - SPDY/3.1 (`v4.channel.k8s.io` down to `channel.k8s.io`), what older `kubectl` (client-go
//!   remotecommand) speaks: the client opens one stream per channel, each with a `streamtype`
//!   header (`error`, `stdin`, `stdout`, `stderr`, `resize`); the server replies to each, then
//!   writes the output on the stdout and stderr streams and the Status on the error stream,
//!   half-closing each, and waits for the client to hang up. See [`crate::spdy`].

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

use crate::kubelet::{local_run, LocalRun};
use crate::policy::Attributes;
use crate::resources::find;
use crate::routes::{admit, authorize, param, percent_decode, status, Shared};
use crate::spdy::{self, Deflater, Frame, Inflater, FLAG_FIN, REFUSED_STREAM};
use crate::store::ExecAnswer;

/// The exec protocols served over SPDY, best first (v5 is websocket-only).
const SPDY_PROTOCOLS: [&str; 4] = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

/// How long a SPDY session waits for the client to open the streams its query asked for
/// before it answers on those it has (the kubelet waits 30 s, then gives up).
const STREAM_WAIT: Duration = Duration::from_secs(5);

/// How long a SPDY session waits, after the Status, for the client to hang up.
const HANGUP_WAIT: Duration = Duration::from_secs(10);

/// The most output one SPDY data frame carries.
const CHUNK: usize = 16 * 1024;

/// Answers an exec request.
pub async fn handle(
    State(state): State<Shared>,
    Path((ns, name)): Path<(String, String)>,
    mut req: Request,
) -> Response {
    let answer = match prepare(&state, &ns, &name, req.method(), req.uri(), req.headers()).await {
        Ok(answer) => answer,
        Err(refused) => return refused,
    };
    let answer = match answer {
        Exec::Scripted(a) => a,
        Exec::Local(run) => {
            if wants_spdy(req.headers()) {
                return status(
                    400,
                    "BadRequest",
                    "the fake kubelet runs exec over websockets (v4/v5.channel.k8s.io) only".into(),
                );
            }
            let stdin = matches!(param(req.uri().query().unwrap_or_default(), "stdin").as_deref(), Some("true" | "1"));
            let (mut parts, _) = req.into_parts();
            let Ok(ws) = WebSocketUpgrade::from_request_parts(&mut parts, &state).await else {
                return status(400, "BadRequest", "exec needs an upgrade: websocket (v4/v5.channel.k8s.io)".into());
            };
            return ws
                .protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
                .on_upgrade(move |socket| run_local(socket, run, stdin))
                .into_response();
        }
    };
    if wants_spdy(req.headers()) {
        return upgrade_spdy(&mut req, answer);
    }
    let (mut parts, _) = req.into_parts();
    let Ok(ws) = WebSocketUpgrade::from_request_parts(&mut parts, &state).await else {
        return status(400, "BadRequest", "exec needs an upgrade: websocket (v4/v5.channel.k8s.io) or SPDY/3.1".into());
    };
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |socket| run_websocket(socket, answer))
        .into_response()
}

/// What an exec runs: a scripted answer, or (kubelet mode) a local process.
enum Exec {
    Scripted(ExecAnswer),
    Local(LocalRun),
}

/// Runs a kubelet-mode exec: channel 0 feeds the process's stdin (a v5 close of channel 0,
/// or the connection closing, ends it), its stdout and stderr go out on channels 1 and 2,
/// then the Status with its exit code. A client that goes away kills the process. It sees
/// the pod's volumes (its emptyDir folders are the pod's own).
async fn run_local(socket: WebSocket, run: LocalRun, stdin: bool) {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::AsyncReadExt;
    let mut cmd = tokio::process::Command::new(&run.program);
    cmd.args(&run.args)
        .env_clear()
        .envs(run.env.iter().cloned())
        .stdin(if stdin { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let (mut sink, mut stream) = socket.split();
    let frame = |channel: u8, data: &[u8]| {
        let mut v = Vec::with_capacity(data.len() + 1);
        v.push(channel);
        v.extend_from_slice(data);
        Message::Binary(v.into())
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let answer = ExecAnswer { exit: 126, stdout: String::new(), stderr: format!("exec: {e}\n") };
            let _ = sink.send(frame(2, answer.stderr.as_bytes())).await;
            let _ = sink.send(frame(3, exit_status(&answer).to_string().as_bytes())).await;
            let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
            return;
        }
    };
    let (out_tx, mut out_rx) = mpsc::channel::<(u8, Vec<u8>)>(64);
    for (channel, pipe) in [
        (1u8, child.stdout.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
        (2u8, child.stderr.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
    ] {
        let Some(mut pipe) = pipe else { continue };
        let tx = out_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 || tx.send((channel, buf[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(out_tx);
    let mut child_stdin = child.stdin.take();
    let mut client_gone = false;
    let mut outputs_open = true;
    loop {
        tokio::select! {
            msg = stream.next(), if !client_gone => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => match b[0] {
                    0 => {
                        if let Some(w) = child_stdin.as_mut() {
                            if w.write_all(&b[1..]).await.is_err() {
                                child_stdin = None;
                            }
                        }
                    }
                    // v5: CLOSE of channel 0 is the end of stdin.
                    255 if b.get(1) == Some(&0) => child_stdin = None,
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    // The client went away: a cut upload. The process dies with it.
                    client_gone = true;
                    let _ = child.start_kill();
                    child_stdin = None;
                }
                Some(Ok(_)) => {}
            },
            out = out_rx.recv(), if outputs_open => match out {
                Some((channel, data)) => {
                    if !client_gone && sink.send(frame(channel, &data)).await.is_err() {
                        client_gone = true;
                        let _ = child.start_kill();
                    }
                }
                None => outputs_open = false,
            },
            st = child.wait(), if !outputs_open => {
                let exit = st.ok().and_then(|s| s.code()).unwrap_or(137);
                if !client_gone {
                    let answer = ExecAnswer { exit, stdout: String::new(), stderr: String::new() };
                    let _ = sink.send(frame(3, exit_status(&answer).to_string().as_bytes())).await;
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
                }
                break;
            }
        }
    }
    // The pod's folders (emptyDir, HOME) are the pod's: they go when it ends.
}

/// What both transports share: admission, the pod, the command and its scripted answer.
async fn prepare(
    state: &Shared,
    ns: &str,
    name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Exec, Response> {
    if let Some(answer) = admit(state, method, uri, headers).await {
        return Err(answer);
    }
    let command: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "command")
        .map(|(_, v)| percent_decode(v))
        .collect();
    let answer = {
        let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
        let attrs = Attributes {
            verb: "create".into(),
            resource: "pods".into(),
            subresource: "exec".into(),
            namespace: ns.into(),
            name: name.into(),
            ..Attributes::default()
        };
        if let Some(denied) = authorize(&store, headers, &attrs) {
            return Err(denied);
        }
        let Some(pods) = find("", "v1", "pods") else { return Err(status(500, "InternalError", "no pods".into())) };
        let Some(pod) = store.get(pods, ns, name) else {
            return Err(status(404, "NotFound", format!("pods \"{name}\" not found")));
        };
        if let Some(k) = store.kubelet.as_ref().filter(|k| k.runs(&pod["spec"])) {
            if command.is_empty() {
                return Err(status(
                    400,
                    "BadRequest",
                    "you must specify at least one command for the container".into(),
                ));
            }
            if pod["status"]["phase"].as_str() != Some("Running") {
                return Err(status(
                    400,
                    "BadRequest",
                    format!("unable to upgrade connection: container not found (\"{name}\" is not running)"),
                ));
            }
            return local_run(k, pod, Some(&command)).map(Exec::Local).map_err(|e| status(500, "InternalError", e));
        }
        let line = command.join(" ");
        store.exec.get(&line).cloned().unwrap_or_else(|| ExecAnswer {
            exit: 127,
            stdout: String::new(),
            stderr: format!(
                "exec: \"{}\": executable file not found in $PATH\n",
                command.first().cloned().unwrap_or_default()
            ),
        })
    };
    if command.is_empty() {
        return Err(status(400, "BadRequest", "you must specify at least one command for the container".into()));
    }
    Ok(Exec::Scripted(answer))
}

/// What the kubelet says of a command that exited non-zero.
fn failure_message(exit: i32) -> String {
    format!("command terminated with non-zero exit code: error executing command, exit status {exit}")
}

/// The Status the error channel carries (protocol v4 and later): `kubectl` exits with the
/// code in `details.causes`.
fn exit_status(answer: &ExecAnswer) -> Value {
    if answer.exit == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({"metadata": {}, "status": "Failure",
            "message": failure_message(answer.exit),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": answer.exit.to_string()}]}})
    }
}

async fn run_websocket(mut socket: WebSocket, answer: ExecAnswer) {
    let frame = |channel: u8, data: &[u8]| {
        let mut v = Vec::with_capacity(data.len() + 1);
        v.push(channel);
        v.extend_from_slice(data);
        Message::Binary(v.into())
    };
    for msg in [
        (!answer.stdout.is_empty()).then(|| frame(1, answer.stdout.as_bytes())),
        (!answer.stderr.is_empty()).then(|| frame(2, answer.stderr.as_bytes())),
        Some(frame(3, exit_status(&answer).to_string().as_bytes())),
    ]
    .into_iter()
    .flatten()
    {
        if socket.send(msg).await.is_err() {
            return;
        }
    }
    // A normal closure (1000) ends the error channel; without a code kubectl reports 1005.
    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
}

/// Whether the request asks to upgrade to SPDY/3.1.
fn wants_spdy(headers: &HeaderMap) -> bool {
    let has = |name: &str, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has("connection", "upgrade") && has("upgrade", "SPDY/3.1")
}

/// Negotiates the exec protocol as the kubelet's handshake does, answers `101 Switching
/// Protocols` and runs the session on the upgraded connection.
fn upgrade_spdy(req: &mut Request, answer: ExecAnswer) -> Response {
    let plain =
        |code: StatusCode, message: String| (code, [("content-type", "text/plain; charset=utf-8")], message + "\n");
    let offered: Vec<&str> = req
        .headers()
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if offered.is_empty() {
        return plain(StatusCode::BAD_REQUEST, "unable to upgrade: X-Stream-Protocol-Version is required".into())
            .into_response();
    }
    let Some(protocol) = SPDY_PROTOCOLS.into_iter().find(|p| offered.contains(p)) else {
        let message = format!(
            "unable to upgrade: unable to negotiate protocol: client supports [{}], server accepts [{}]",
            offered.join(" "),
            SPDY_PROTOCOLS.join(" ")
        );
        let mut refused = plain(StatusCode::FORBIDDEN, message).into_response();
        for p in SPDY_PROTOCOLS {
            refused.headers_mut().append("x-accepted-stream-protocol-versions", HeaderValue::from_static(p));
        }
        return refused;
    };
    let wanted = wanted(req.uri().query().unwrap_or_default(), protocol);
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            serve_spdy(TokioIo::new(upgraded), wanted, answer).await;
        }
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [("connection", "Upgrade"), ("upgrade", "SPDY/3.1"), ("x-stream-protocol-version", protocol)],
        Body::empty(),
    )
        .into_response()
}

/// What a SPDY exec session expects of the client.
#[derive(Debug)]
struct Wanted {
    /// The negotiated protocol.
    protocol: &'static str,
    /// The `streamtype`s the client opens.
    streams: Vec<&'static str>,
    /// Whether stdout is a terminal (then stderr goes there too).
    tty: bool,
}

/// The streams the client opens for the query's `stdin` / `stdout` / `stderr` / `tty`, as the
/// kubelet counts them: always `error`; `stderr` only without a tty; `resize` with one (v3+).
fn wanted(query: &str, protocol: &'static str) -> Wanted {
    // Go's strconv.ParseBool, which the API server's parameter decoding uses.
    let flag = |name: &str| matches!(param(query, name).as_deref(), Some("1" | "t" | "T" | "true" | "TRUE" | "True"));
    let tty = flag("tty");
    let resize = tty && matches!(protocol, "v4.channel.k8s.io" | "v3.channel.k8s.io");
    let streams = [
        ("error", true),
        ("stdin", flag("stdin")),
        ("stdout", flag("stdout")),
        ("stderr", flag("stderr") && !tty),
        ("resize", resize),
    ]
    .into_iter()
    .filter_map(|(t, on)| on.then_some(t))
    .collect();
    Wanted { protocol, streams, tty }
}

/// One exec over a SPDY session: reply to the client's streams, write the answer, half-close,
/// and wait (bounded) for the client to hang up.
async fn serve_spdy<IO>(io: IO, wanted: Wanted, answer: ExecAnswer)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(io);
    // Frames arrive on their own task: reading one is not cancel-safe, waiting for one is.
    let (tx, mut rx) = mpsc::channel(16);
    let reader = tokio::spawn(async move {
        let mut inflater = Inflater::new();
        while let Ok(Some(frame)) = spdy::read_frame(&mut rd, &mut inflater).await {
            if tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    let Ok(deflater) = Deflater::new() else { return reader.abort() };
    let mut session = Session { wr, deflater, streams: BTreeMap::new() };
    let _ = session.exec(&mut rx, &wanted, &answer).await;
    reader.abort();
    let _ = session.wr.shutdown().await;
}

/// The server's side of a SPDY session.
struct Session<W> {
    wr: W,
    deflater: Deflater,
    /// `streamtype` → the client's stream id.
    streams: BTreeMap<String, u32>,
}

impl<W: AsyncWrite + Unpin> Session<W> {
    async fn send(&mut self, frame: Frame) -> io::Result<()> {
        let bytes = frame.encode(&mut self.deflater)?;
        self.wr.write_all(&bytes).await?;
        self.wr.flush().await
    }

    async fn send_data(&mut self, stream_id: u32, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(CHUNK) {
            self.send(Frame::Data { stream_id, flags: 0, data: chunk.to_vec() }).await?;
        }
        Ok(())
    }

    /// Answers one frame from the client; `false` once it goes away.
    async fn on_frame(&mut self, frame: Frame) -> io::Result<bool> {
        match frame {
            Frame::SynStream { stream_id, headers, .. } => {
                match spdy::header(&headers, "streamtype") {
                    Some(t @ ("error" | "stdin" | "stdout" | "stderr" | "resize")) => {
                        self.streams.insert(t.to_string(), stream_id);
                        self.send(Frame::SynReply { stream_id, flags: 0, headers: Vec::new() }).await?;
                    }
                    _ => self.send(Frame::RstStream { stream_id, status: REFUSED_STREAM }).await?,
                }
                Ok(true)
            }
            Frame::Ping { id } => self.send(Frame::Ping { id }).await.map(|()| true),
            Frame::GoAway { .. } => Ok(false),
            // Stdin and resize data, window updates, settings, resets: nothing a scripted
            // command needs.
            _ => Ok(true),
        }
    }

    async fn exec(&mut self, rx: &mut mpsc::Receiver<Frame>, wanted: &Wanted, answer: &ExecAnswer) -> io::Result<()> {
        let deadline = Instant::now() + STREAM_WAIT;
        while !wanted.streams.iter().all(|t| self.streams.contains_key(*t)) {
            match timeout_at(deadline, rx.recv()).await {
                Err(_) => break,
                Ok(None) => return Ok(()),
                Ok(Some(frame)) => {
                    if !self.on_frame(frame).await? {
                        return Ok(());
                    }
                }
            }
        }
        let stream = |t: &str| self.streams.get(t).copied();
        let stdout = stream("stdout");
        // With a tty, stderr is the terminal too.
        let stderr = stream("stderr").or(if wanted.tty { stdout } else { None });
        let error = stream("error");
        if let Some(id) = stdout {
            self.send_data(id, answer.stdout.as_bytes()).await?;
        }
        if let Some(id) = stderr {
            self.send_data(id, answer.stderr.as_bytes()).await?;
        }
        if let Some(id) = error {
            // v4 carries a Status; the older protocols the failure's message, nothing on success.
            let report = match (wanted.protocol, answer.exit) {
                ("v4.channel.k8s.io", _) => exit_status(answer).to_string(),
                (_, 0) => String::new(),
                (_, exit) => failure_message(exit),
            };
            self.send_data(id, report.as_bytes()).await?;
        }
        // Half-close every stream: output first, then the error stream, then the rest.
        let mut order = Vec::new();
        for id in [stdout, stderr, error].into_iter().flatten().chain(self.streams.values().copied()) {
            if !order.contains(&id) {
                order.push(id);
            }
        }
        for stream_id in order {
            self.send(Frame::Data { stream_id, flags: FLAG_FIN, data: Vec::new() }).await?;
        }
        let deadline = Instant::now() + HANGUP_WAIT;
        while let Ok(Some(frame)) = timeout_at(deadline, rx.recv()).await {
            if !self.on_frame(frame).await? {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use crate::resources::find;
    use crate::spdy::{self, Deflater, Frame, Inflater, FLAG_FIN};
    use crate::{seed_hsof, ExecAnswer, FakeKube, Store};

    const V4_DOWN: [&str; 4] = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

    fn fake() -> (FakeKube, String) {
        let mut store = Store::default();
        seed_hsof(&mut store, 1, 0);
        store
            .exec
            .insert("sh -c exit 3".into(), ExecAnswer { exit: 3, stdout: "out\n".into(), stderr: "err\n".into() });
        store
            .exec
            .insert("cat big".into(), ExecAnswer { exit: 0, stdout: "0123456789".repeat(4000), stderr: "".into() });
        let pods = find("", "v1", "pods").expect("pods");
        let pod = store.list(pods, Some("hsof"), None)[0]["metadata"]["name"].as_str().expect("name").to_string();
        (FakeKube::start(store), pod)
    }

    /// A SPDY client as client-go's remotecommand is one.
    struct Client {
        io: TcpStream,
        deflater: Deflater,
        inflater: Inflater,
    }

    /// POSTs an exec upgrade; the response head, and a client once it is 101.
    async fn upgrade(fake: &FakeKube, target: &str, protocols: &[&str]) -> (String, Option<Client>) {
        let addr = fake.url.trim_start_matches("http://");
        let mut io = TcpStream::connect(addr).await.expect("connect");
        let mut req = format!(
            "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        );
        for p in protocols {
            req += &format!("X-Stream-Protocol-Version: {p}\r\n");
        }
        io.write_all(format!("{req}\r\n").as_bytes()).await.expect("request");
        // Byte by byte: what follows the head belongs to the SPDY session.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let b = io.read_u8().await.expect("response");
            head.push(b);
        }
        let mut head = String::from_utf8(head).expect("utf-8");
        if !head.starts_with("HTTP/1.1 101") {
            // The connection stays open (keep-alive): read just the body.
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().to_string()))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            io.read_exact(&mut body).await.expect("body");
            head += &String::from_utf8_lossy(&body);
            return (head, None);
        }
        let client = Client { io, deflater: Deflater::new().expect("deflater"), inflater: Inflater::new() };
        (head, Some(client))
    }

    impl Client {
        async fn send(&mut self, frame: Frame) {
            let bytes = frame.encode(&mut self.deflater).expect("encode");
            self.io.write_all(&bytes).await.expect("send");
        }

        async fn next(&mut self) -> Option<Frame> {
            tokio::time::timeout(std::time::Duration::from_secs(10), spdy::read_frame(&mut self.io, &mut self.inflater))
                .await
                .expect("a frame within 10 s")
                .expect("a frame")
        }

        /// Opens one stream per type, as remotecommand does (waiting for each reply), reads
        /// until every stream is half-closed, then resets the streams and goes away like
        /// spdystream; the data per stream type, and whether the server hung up.
        async fn exec(&mut self, types: &[&str]) -> (BTreeMap<String, Vec<u8>>, bool) {
            let mut ids = BTreeMap::new();
            for (i, t) in types.iter().enumerate() {
                let stream_id = 1 + 2 * i as u32;
                let headers = vec![("streamtype".to_string(), t.to_string())];
                self.send(Frame::SynStream { stream_id, associated_to: 0, priority: 0, slot: 0, flags: 0, headers })
                    .await;
                assert!(
                    matches!(self.next().await, Some(Frame::SynReply { stream_id: r, flags: 0, .. }) if r == stream_id),
                    "the server replies to {t} before anything else"
                );
                ids.insert(stream_id, t.to_string());
            }
            self.send(Frame::Ping { id: 1 }).await;
            let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            let (mut open, mut pinged) = (ids.len(), false);
            while open > 0 || !pinged {
                match self.next().await.expect("the server keeps the session until the client hangs up") {
                    Frame::Data { stream_id, flags, data: d } => {
                        assert!(d.len() <= 16 * 1024, "{} bytes in one frame", d.len());
                        data.entry(ids[&stream_id].clone()).or_default().extend(d);
                        if flags & FLAG_FIN != 0 {
                            open -= 1;
                        }
                    }
                    Frame::Ping { id: 1 } => pinged = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
            for &stream_id in ids.keys() {
                self.send(Frame::RstStream { stream_id, status: 5 }).await;
            }
            self.send(Frame::GoAway { last_good_stream_id: 0, status: 0 }).await;
            let hung_up = self.next().await.is_none();
            (data, hung_up)
        }
    }

    fn text(data: &BTreeMap<String, Vec<u8>>, t: &str) -> String {
        String::from_utf8_lossy(data.get(t).map(Vec::as_slice).unwrap_or_default()).into_owned()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn spdy_exec_answers_like_the_kubelet() {
        let (fake, pod) = fake();
        let path =
            |cmd: &str| format!("/api/v1/namespaces/hsof/pods/{pod}/exec?{cmd}&container=hsof&stderr=true&stdout=true");

        let (head, client) = upgrade(&fake, &path("command=df&command=-h"), &V4_DOWN).await;
        let head = head.to_ascii_lowercase();
        assert!(head.contains("connection: upgrade") && head.contains("upgrade: spdy/3.1"), "{head}");
        assert!(head.contains("x-stream-protocol-version: v4.channel.k8s.io"), "{head}");
        let (data, hung_up) = client.expect("101").exec(&["error", "stdout", "stderr"]).await;
        assert_eq!(text(&data, "stdout"), crate::seed::DF_H);
        assert_eq!(text(&data, "stderr"), "");
        assert_eq!(serde_json::from_str::<Value>(&text(&data, "error")).expect("status")["status"], "Success");
        assert!(hung_up, "the server closes once the client went away");

        // A non-zero exit: the code travels in the Status, as kubectl reads it.
        let (_, client) = upgrade(&fake, &path("command=sh&command=-c&command=exit%203"), &V4_DOWN).await;
        let (data, _) = client.expect("101").exec(&["error", "stdout", "stderr"]).await;
        assert_eq!((text(&data, "stdout").as_str(), text(&data, "stderr").as_str()), ("out\n", "err\n"));
        let status: Value = serde_json::from_str(&text(&data, "error")).expect("status");
        assert_eq!((status["status"].as_str(), status["reason"].as_str()), (Some("Failure"), Some("NonZeroExitCode")));
        assert_eq!(status["details"]["causes"][0], serde_json::json!({"reason": "ExitCode", "message": "3"}));

        // Output over 16 KiB goes out in several frames.
        let (_, client) = upgrade(&fake, &path("command=cat&command=big"), &V4_DOWN).await;
        let (data, _) = client.expect("101").exec(&["error", "stdout", "stderr"]).await;
        assert_eq!(text(&data, "stdout"), "0123456789".repeat(4000));

        // An older protocol: the error stream carries the failure's message only.
        let (head, client) = upgrade(&fake, &path("command=nope"), &["v2.channel.k8s.io", "channel.k8s.io"]).await;
        assert!(head.contains("x-stream-protocol-version: v2.channel.k8s.io"), "{head}");
        let (data, _) = client.expect("101").exec(&["error", "stdout", "stderr"]).await;
        assert!(text(&data, "stderr").contains("executable file not found"), "{data:?}");
        assert_eq!(text(&data, "error"), super::failure_message(127));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn spdy_exec_refuses_like_the_api_server() {
        let (fake, pod) = fake();
        let path = format!("/api/v1/namespaces/hsof/pods/{pod}/exec?command=df&command=-h&stdout=true");
        let (head, client) = upgrade(&fake, &path, &["v5.channel.k8s.io", "v9.channel.k8s.io"]).await;
        assert!(client.is_none() && head.starts_with("HTTP/1.1 403"), "{head}");
        assert!(head.contains("unable to negotiate protocol") && head.contains("x-accepted-stream-protocol-versions"));
        let (head, _) = upgrade(&fake, &path, &[]).await;
        assert!(head.starts_with("HTTP/1.1 400") && head.contains("X-Stream-Protocol-Version is required"), "{head}");
        let (head, _) = upgrade(&fake, "/api/v1/namespaces/hsof/pods/nope/exec?command=df&stdout=true", &V4_DOWN).await;
        assert!(head.starts_with("HTTP/1.1 404") && head.contains(r#"pods \"nope\" not found"#), "{head}");
        let (head, _) = upgrade(&fake, &format!("/api/v1/namespaces/hsof/pods/{pod}/exec?stdout=true"), &V4_DOWN).await;
        assert!(head.starts_with("HTTP/1.1 400") && head.contains("at least one command"), "{head}");
        fake.with(|s| s.faults.status = Some(403));
        let (head, _) = upgrade(&fake, &path, &V4_DOWN).await;
        assert!(head.starts_with("HTTP/1.1 403") && head.contains("injected fault"), "{head}");
        assert_eq!(fake.with(|s| s.requests.iter().filter(|r| r.contains("/exec?")).count()), 5, "all admitted first");
    }
}
