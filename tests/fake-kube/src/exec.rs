//! `pods/{name}/exec` over a websocket with the Kubernetes channel protocols
//! (`v5.channel.k8s.io`, `v4.channel.k8s.io`): the command's scripted output on stdout
//! (channel 1) and stderr (2), then its Status on the error channel (3), then close.
//! This is what `kubectl exec` (websocket transport) and kube-rs `Api::exec` speak.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::resources::find;
use crate::routes::{admit, percent_decode, status, Shared};
use crate::store::ExecAnswer;

/// Answers an exec request.
pub async fn handle(
    State(state): State<Shared>,
    Path((ns, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Some(answer) = admit(&state, &method, &uri, &headers).await {
        return answer;
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
        let Some(pods) = find("", "v1", "pods") else { return status(500, "InternalError", "no pods".into()) };
        if store.get(pods, &ns, &name).is_none() {
            return status(404, "NotFound", format!("pods \"{name}\" not found"));
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
        return status(400, "BadRequest", "you must specify at least one command for the container".into());
    }
    let Ok(ws) = ws else {
        return status(400, "BadRequest", "exec needs a websocket upgrade (v4/v5.channel.k8s.io)".into());
    };
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |socket| run(socket, answer))
        .into_response()
}

async fn run(mut socket: WebSocket, answer: ExecAnswer) {
    let frame = |channel: u8, data: &[u8]| {
        let mut v = Vec::with_capacity(data.len() + 1);
        v.push(channel);
        v.extend_from_slice(data);
        Message::Binary(v.into())
    };
    let status = if answer.exit == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({"metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command, exit status {}", answer.exit),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": answer.exit.to_string()}]}})
    };
    for msg in [
        (!answer.stdout.is_empty()).then(|| frame(1, answer.stdout.as_bytes())),
        (!answer.stderr.is_empty()).then(|| frame(2, answer.stderr.as_bytes())),
        Some(frame(3, status.to_string().as_bytes())),
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
