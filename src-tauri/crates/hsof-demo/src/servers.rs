//! Real Prometheus and AlertManager (Debian's packages) on free loopback ports, with
//! temporary configuration and storage, stopped when dropped. The demo runs them; the
//! test suites run them through `hsof-tests`' panicking wrappers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its readiness probe.
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Where the demo's servers come from: Debian's package and the binary names it installs.
const PACKAGES: [(&str, &[&str]); 2] =
    [("prometheus", &["prometheus"]), ("prometheus-alertmanager", &["prometheus-alertmanager", "alertmanager"])];

/// The one command that installs what the demo needs ([`missing_packages`]).
pub const INSTALL_COMMAND: &str = "sudo apt-get install prometheus prometheus-alertmanager";

/// The Debian packages the demo needs that this machine lacks (`make run` installs only
/// what the app needs; `make demo` and `make test` install these too).
pub fn missing_packages() -> Vec<&'static str> {
    missing_in(&BIN_DIRS)
}

/// Where Debian's packages put the servers.
const BIN_DIRS: [&str; 3] = ["/usr/bin", "/usr/local/bin", "/usr/sbin"];

fn missing_in(dirs: &[&str]) -> Vec<&'static str> {
    PACKAGES.iter().filter(|(_, names)| find(dirs, names).is_none()).map(|(p, _)| *p).collect()
}

fn find(dirs: &[&str], names: &[&str]) -> Option<PathBuf> {
    names.iter().flat_map(|n| dirs.iter().map(move |d| Path::new(d).join(n))).find(|p| p.is_file())
}

/// Debian's `promtool` (package prometheus).
pub fn promtool() -> Result<PathBuf, String> {
    binary(&["promtool"])
}

fn binary(names: &[&str]) -> Result<PathBuf, String> {
    find(&BIN_DIRS, names).ok_or_else(|| format!(
        "{} not found: install Debian's prometheus and prometheus-alertmanager (`{INSTALL_COMMAND}`; `make demo` and `make test` do)",
        names.join(" / ")
    ))
}

fn wait_ready(url: &str, child: &mut Child, what: &str, log: &Path) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if probe::http_ok(url).unwrap_or(false) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited with {status} before it was ready; its log: {}", log.display()));
        }
        if start.elapsed() > READY_DEADLINE {
            let _ = child.kill();
            return Err(format!(
                "{what} not ready at {url} within {} s; its log: {}",
                READY_DEADLINE.as_secs(),
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tiny blocking HTTP/1.0 GET, so launchers and the demo's client need no runtime.
pub mod probe {
    use std::io::{Read, Write};

    /// True when `url` (`http://HOST:PORT/PATH`) answers 200.
    pub fn http_ok(url: &str) -> std::io::Result<bool> {
        request("GET", url).map(|(status, _)| status == 200)
    }

    /// Sends `method` to `url` and returns the status and body.
    pub fn request(method: &str, url: &str) -> std::io::Result<(u16, String)> {
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut s = std::net::TcpStream::connect(host)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        write!(s, "{method} /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n")?;
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        let status = buf.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok((status, body))
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
    /// How to start it again: binary, arguments, name, readiness path, log.
    launch: (PathBuf, Vec<String>, &'static str, &'static str, PathBuf),
    _dir: tempfile::TempDir,
}

impl Server {
    /// Where a Prometheus keeps its TSDB (blocks moved in here are loaded at its next reload).
    pub fn storage(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// Stops the process (to test an unreachable server).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts it again on the same port with the same configuration and storage (a
    /// restart, as after a crash or an upgrade), and waits until it is ready.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let (bin, args, name, ready, log) = &self.launch;
        self.child = spawn(bin, args, name, log)?;
        let url = format!("{}{ready}", self.url);
        wait_ready(&url, &mut self.child, name, log)
    }
}

fn spawn(bin: &Path, args: &[String], name: &str, log: &Path) -> Result<Child, String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .map_err(|e| format!("cannot start {name} ({}): {e}", bin.display()))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// AlertManager with one null receiver and fast grouping, logging to `log_dir`.
pub fn alertmanager(log_dir: &Path) -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let port = free_port()?;
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(
        &cfg,
        "route:\n  receiver: 'null'\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: 'null'\n",
    )
    .map_err(|e| format!("write {}: {e}", cfg.display()))?;
    let bin = binary(&["prometheus-alertmanager", "alertmanager"])?;
    let args = vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
    ];
    let log = log_dir.join(format!("alertmanager-{port}.log"));
    let mut child = spawn(&bin, &args, "alertmanager", &log)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{url}/-/ready"), &mut child, "AlertManager", &log)?;
    Ok(Server { url, port, child, launch: (bin, args, "alertmanager", "/-/ready", log), _dir: dir })
}

/// Prometheus scraping `target` every second as job `hsof-main`, evaluating `rule_files`
/// every second and sending alerts to `alertmanager`, logging to `log_dir`.
pub fn prometheus(
    target: &str,
    rule_files: &[PathBuf],
    alertmanager: Option<&Server>,
    log_dir: &Path,
) -> Result<Server, String> {
    start_prometheus(Some(target), rule_files, alertmanager, None, log_dir)
}

/// Prometheus holding a history written as OpenMetrics text (samples with timestamps in
/// seconds, `# EOF` last), turned into TSDB blocks by `promtool tsdb create-blocks-from
/// openmetrics` before it starts; it scrapes nothing, and keeps ten years of data.
pub fn prometheus_backfilled(openmetrics: &str, log_dir: &Path) -> Result<Server, String> {
    start_prometheus(None, &[], None, Some(openmetrics), log_dir)
}

fn start_prometheus(
    target: Option<&str>,
    rule_files: &[PathBuf],
    alertmanager: Option<&Server>,
    history: Option<&str>,
    log_dir: &Path,
) -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let port = free_port()?;
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
    if let Some(target) = target {
        cfg +=
            &format!("scrape_configs:\n  - job_name: hsof-main\n    static_configs:\n      - targets: ['{target}']\n");
    }
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, cfg).map_err(|e| format!("write {}: {e}", path.display()))?;
    let data = dir.path().join("data");
    let bin = binary(&["prometheus"])?;
    let mut args = vec![
        format!("--config.file={}", path.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    if let Some(text) = history {
        crate::history::create_blocks(text, &data)?;
    }
    // Backfilled histories reach back weeks: nothing is dropped for its age.
    args.push("--storage.tsdb.retention.time=3650d".into());
    let log = log_dir.join(format!("prometheus-{port}.log"));
    let mut child = spawn(&bin, &args, "prometheus", &log)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{url}/-/ready"), &mut child, "Prometheus", &log)?;
    Ok(Server { url, port, child, launch: (bin, args, "prometheus", "/-/ready", log), _dir: dir })
}

#[cfg(test)]
mod tests {
    use super::missing_in;

    #[test]
    fn missing_packages_are_named_by_the_binaries_they_install() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf-8");
        assert_eq!(missing_in(&[d]), ["prometheus", "prometheus-alertmanager"]);
        std::fs::write(dir.path().join("prometheus"), "").expect("write");
        assert_eq!(missing_in(&[d]), ["prometheus-alertmanager"]);
        // Either of AlertManager's names will do; a folder of that name will not.
        std::fs::create_dir(dir.path().join("alertmanager")).expect("mkdir");
        assert_eq!(missing_in(&[d]), ["prometheus-alertmanager"]);
        std::fs::write(dir.path().join("prometheus-alertmanager"), "").expect("write");
        assert!(missing_in(&[d]).is_empty());
    }
}
