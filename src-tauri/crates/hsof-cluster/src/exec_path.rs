//! The PATH kubeconfig exec plugins (`gke-gcloud-auth-plugin`, `aws`, `kubelogin`) run
//! with. A desktop launcher starts the app with a minimal PATH; the shell asks the user's
//! login shell for theirs, which can take a few hundred milliseconds (pyenv, nvm, conda
//! init), so it is asked on another thread while the window opens and handed over here
//! instead of changing the process environment under WebKit's feet. A connection whose
//! user has an exec plugin waits for the answer (at most [`WAIT`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;

static PATH: OnceLock<Option<String>> = OnceLock::new();
static PENDING: AtomicBool = AtomicBool::new(false);

/// Longest wait for a pending answer.
pub const WAIT: Duration = Duration::from_secs(3);

/// Says an answer is coming ([`set_exec_path`] follows).
pub fn exec_path_pending() {
    PENDING.store(true, Ordering::SeqCst);
}

/// The login shell's PATH (`None`: keep the inherited one). Set once; later calls are ignored.
pub fn set_exec_path(path: Option<String>) {
    let _ = PATH.set(path);
    PENDING.store(false, Ordering::SeqCst);
}

async fn known() -> Option<&'static str> {
    let start = Instant::now();
    while PENDING.load(Ordering::SeqCst) && PATH.get().is_none() && start.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    PATH.get().and_then(|p| p.as_deref())
}

/// Gives every exec plugin of `kc` the login shell's PATH, unless its entry sets one.
pub(crate) async fn apply(kc: &mut Kubeconfig) {
    if !kc.auth_infos.iter().any(|a| a.auth_info.as_ref().is_some_and(|i| i.exec.is_some())) {
        return;
    }
    let Some(path) = known().await else { return };
    add_path(kc, path);
}

fn add_path(kc: &mut Kubeconfig, path: &str) {
    for exec in kc.auth_infos.iter_mut().filter_map(|a| a.auth_info.as_mut()).filter_map(|i| i.exec.as_mut()) {
        let env = exec.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.get("name").map(String::as_str) == Some("PATH")) {
            env.push([("name".to_string(), "PATH".to_string()), ("value".to_string(), path.to_string())].into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_plugins_get_the_path_unless_they_set_their_own() {
        let mut kc = Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}\n- name: b\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubelogin\n      env: [{name: PATH, value: /opt/bin}]\n- name: c\n  user: {token: t}\n",
        )
        .expect("kubeconfig");
        add_path(&mut kc, "/usr/local/bin:/usr/bin");
        let env =
            |i: usize| kc.auth_infos[i].auth_info.as_ref().and_then(|a| a.exec.as_ref()).and_then(|e| e.env.clone());
        assert_eq!(env(0).expect("a")[0]["value"], "/usr/local/bin:/usr/bin");
        assert_eq!(env(1).expect("b").len(), 1);
        assert_eq!(env(1).expect("b")[0]["value"], "/opt/bin");
        assert!(kc.auth_infos[2].auth_info.as_ref().is_some_and(|a| a.exec.is_none()));
    }
}
