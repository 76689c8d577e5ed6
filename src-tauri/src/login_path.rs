//! A desktop launcher starts the app with a minimal PATH, where kubeconfig exec plugins
//! (`gke-gcloud-auth-plugin`, `aws`, `kubelogin`) are not found. Ask the user's login
//! shell for its PATH once at start-up, with a deadline, and adopt it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Replaces PATH with the login shell's when that one is longer (it extends ours).
pub fn adopt() {
    let Ok(shell) = std::env::var("SHELL") else { return };
    let Ok(mut child) = Command::new(&shell)
        .args(["-l", "-c", "printf %s \"$PATH\""])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(2) => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                // A slow or interactive profile must not hold up the window.
                let _ = child.kill();
                tracing::warn!(shell, "login shell did not report its PATH within 2 s; keeping the inherited PATH");
                return;
            }
        }
    }
    let Ok(out) = child.wait_with_output() else { return };
    let login = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let current = std::env::var("PATH").unwrap_or_default();
    if !login.is_empty() && login.len() > current.len() {
        tracing::info!("using the login shell's PATH for kubeconfig exec plugins");
        std::env::set_var("PATH", login);
    }
}
