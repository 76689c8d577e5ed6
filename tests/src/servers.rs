//! Real Prometheus and AlertManager (Debian's packages) on free loopback ports, with
//! temporary configuration and storage, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, output_dir, DEADLINE};

fn binary(names: &[&str]) -> PathBuf {
    for n in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let p = Path::new(dir).join(n);
            if p.exists() {
                return p;
            }
        }
    }
    panic!("{} not found: `make test` installs Debian's prometheus and prometheus-alertmanager", names.join(" / "));
}

fn wait_ready(url: &str, child: &mut Child, what: &str) {
    let start = Instant::now();
    loop {
        if let Ok(ok) = probe::http_ok(url) {
            if ok {
                return;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before it was ready; see test-output/");
        }
        assert!(start.elapsed() < DEADLINE, "{what} not ready at {url}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

mod probe {
    // A tiny blocking GET for readiness probes, so the harness needs no runtime.
    pub fn http_ok(url: &str) -> std::io::Result<bool> {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut s = std::net::TcpStream::connect(host)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))?;
        write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        Ok(buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200"))
    }
}

/// A running server process.
#[derive(Debug)]
pub struct Server {
    /// Base URL.
    pub url: String,
    /// Port.
    pub port: u16,
    child: Child,
    /// How to start it again: binary, arguments, log name, readiness path.
    launch: (PathBuf, Vec<String>, &'static str, &'static str),
    _dir: tempfile::TempDir,
}

impl Server {
    /// Stops the process (to test an unreachable server).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port with the same configuration and storage (a
    /// restart, as after a crash or an upgrade), and waits until it is ready.
    pub fn restart(&mut self) {
        self.kill();
        let (bin, args, name, ready) = &self.launch;
        self.child = spawn(bin, args, name, self.port);
        let url = format!("{}{ready}", self.url);
        wait_ready(&url, &mut self.child, name);
    }
}

fn spawn(bin: &Path, args: &[String], name: &str, port: u16) -> Child {
    Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log_file(name, port))
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_file(name: &str, port: u16) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(output_dir().join(format!("{name}-{port}.log")))
        .expect("log file")
}

/// AlertManager with one null receiver and fast grouping.
pub fn alertmanager() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(
        &cfg,
        "route:\n  receiver: 'null'\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: 'null'\n",
    )
    .expect("write config");
    let bin = binary(&["prometheus-alertmanager", "alertmanager"]);
    let args = vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
    ];
    let mut child = spawn(&bin, &args, "alertmanager", port);
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{url}/-/ready"), &mut child, "AlertManager");
    Server { url, port, child, launch: (bin, args, "alertmanager", "/-/ready"), _dir: dir }
}

/// Prometheus scraping `target` every second as job `hsof-main`, evaluating `rule_files`
/// every second and sending alerts to `alertmanager`.
pub fn prometheus(target: &str, rule_files: &[PathBuf], alertmanager: Option<&Server>) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut cfg = String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
    if !rule_files.is_empty() {
        cfg += "rule_files:\n";
        for r in rule_files {
            cfg += &format!("  - {}\n", r.display());
        }
    }
    if let Some(am) = alertmanager {
        cfg += &format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\n",
            am.port
        );
    }
    cfg += &format!("scrape_configs:\n  - job_name: hsof-main\n    static_configs:\n      - targets: ['{target}']\n");
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, cfg).expect("write config");
    let bin = binary(&["prometheus"]);
    let args = vec![
        format!("--config.file={}", path.display()),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    let mut child = spawn(&bin, &args, "prometheus", port);
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{url}/-/ready"), &mut child, "Prometheus");
    Server { url, port, child, launch: (bin, args, "prometheus", "/-/ready"), _dir: dir }
}
