//! A desktop launcher starts the app with a minimal PATH, where kubeconfig exec plugins
//! (`gke-gcloud-auth-plugin`, `aws`, `kubelogin`) are not found. Ask the user's login
//! shell for its PATH once at start-up, with a deadline, for those plugins.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The login shell's PATH when it is longer than ours (it extends ours); reads only, so
/// it runs on another thread while the window is being set up, and is handed to
/// hsof-cluster for exec plugins rather than set in the process environment.
pub fn ask() -> Option<String> {
    let Ok(shell) = std::env::var("SHELL") else { return None };
    // At a lower priority (`nice` execs the shell, so the child is the shell itself): on a
    // small machine the shell's profile (pyenv, conda, nvm init) runs while the window is
    // painting its first frame, which should come first.
    let spawn = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .args(["-l", "-c", "printf %s \"$PATH\""])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
    };
    let Ok(mut child) = spawn("nice", &["-n", "10", &shell]).or_else(|_| spawn(&shell, &[])) else {
        return None;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(2) => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                // A slow or interactive profile must not hold up the window.
                let _ = child.kill();
                tracing::warn!(shell, "login shell did not report its PATH within 2 s; keeping the inherited PATH");
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    let login = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let current = std::env::var("PATH").unwrap_or_default();
    let longer = !login.is_empty() && login.len() > current.len();
    if longer {
        tracing::info!("using the login shell's PATH for kubeconfig exec plugins");
    }
    longer.then_some(login)
}
