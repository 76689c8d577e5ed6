//! `hsofctl dataset …`: what the engine image runs on the cluster's side of an upload. A
//! short-lived pod of the engine image runs `dataset idle`; the desktop execs
//! `dataset receive PATH --sha256 H --size N` in it and streams the file on stdin.
//!
//! `receive` writes to a temporary name beside PATH while hashing, and renames only when
//! all N bytes arrived and their SHA-256 is H: a cut or corrupted upload never leaves a
//! file at PATH. `--check` only says whether PATH is already there (exit 0) or not (exit 1).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use hsof_core::Error;
use sha2::{Digest, Sha256};

use crate::output::Out;

/// `hsofctl dataset`
#[derive(Debug, Subcommand)]
pub enum DatasetCmd {
    /// Receive a file on standard input into PATH (atomically, checked against its SHA-256)
    Receive {
        /// Where the file goes (its folder is created)
        path: PathBuf,
        /// The file's SHA-256, hex
        #[arg(long)]
        sha256: String,
        /// The file's size in bytes
        #[arg(long)]
        size: u64,
        /// Only say whether PATH is already there with that size: exit 0 if so, 1 if not
        #[arg(long)]
        check: bool,
    },
    /// Write a file to standard output (a finished run's report read back from the claim)
    Send {
        /// The file
        path: PathBuf,
    },
    /// Wait, doing nothing (the upload pod's main process); exits after SECONDS
    Idle {
        /// How long
        #[arg(long, default_value_t = 900)]
        seconds: u64,
    },
}

/// Runs a `dataset` command; returns the exit status.
pub fn run(cmd: &DatasetCmd, out: &Out) -> Result<u8, Error> {
    match cmd {
        DatasetCmd::Send { path } => {
            let mut f = std::fs::File::open(path).map_err(|e| Error::NotFound(format!("{}: {e}", path.display())))?;
            std::io::copy(&mut f, &mut std::io::stdout().lock())
                .map_err(|e| Error::Unavailable(format!("{}: {e}", path.display())))?;
            Ok(0)
        }
        DatasetCmd::Idle { seconds } => {
            std::thread::sleep(Duration::from_secs(*seconds));
            Ok(0)
        }
        DatasetCmd::Receive { path, sha256, size, check } => {
            let want = sha256.trim().to_ascii_lowercase();
            if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidInput(format!("`{sha256}` is not a SHA-256 in hex")));
            }
            if *check {
                let present = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == *size);
                out.line_or_json(
                    &format!("{}: {}", path.display(), if present { "present" } else { "absent" }),
                    &serde_json::json!({"path": path, "present": present}),
                );
                return Ok(u8::from(!present));
            }
            let got = receive(path, &want, *size, &mut std::io::stdin().lock())?;
            out.line_or_json(
                &format!("received {} bytes into {} (sha256 {got})", size, path.display()),
                &serde_json::json!({"path": path, "bytes": size, "sha256": got}),
            );
            Ok(0)
        }
    }
}

/// How a receiver names its temporary file (`.upload-XXXXXX.part`); the sweep below touches
/// only such names.
const PART_PREFIX: &str = ".upload-";
const PART_SUFFIX: &str = ".part";

/// A temporary upload file not written to for this long belongs to a receiver that was
/// killed (an upload in progress writes every few milliseconds).
const STALE_PART: Duration = Duration::from_secs(15 * 60);

/// Removes the `.upload-*.part` files in `dir` that nobody has written to for `stale`: what a
/// receiver killed mid-upload (SIGKILL, a pod evicted) left behind. Ages are measured against
/// `own`, the temporary file this receiver just created, so both times come from the file
/// system's clock (an NFS server's), never this pod's. Best effort: a file that cannot be read
/// or removed is left for the next upload.
fn sweep_stale_parts(dir: &Path, own: &Path, stale: Duration) {
    let Ok(now) = std::fs::metadata(own).and_then(|m| m.modified()) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(PART_PREFIX) && name.ends_with(PART_SUFFIX)) || e.path() == own {
            continue;
        }
        let idle = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| now.duration_since(t).ok());
        if idle.is_some_and(|idle| idle >= stale) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Streams exactly `size` bytes from `input` into `path` through a temporary file in the
/// same folder, checking the SHA-256; the file appears at `path` only when whole and right.
pub fn receive(path: &Path, sha256: &str, size: u64, input: &mut impl Read) -> Result<String, Error> {
    let io = |what: &str, e: std::io::Error| Error::Unavailable(format!("{what}: {e}"));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(PART_PREFIX)
        .suffix(PART_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| io(&format!("a temporary file in {}", dir.display()), e))?;
    sweep_stale_parts(dir, tmp.path(), STALE_PART);
    let mut hasher = Sha256::new();
    let mut left = size;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = match input.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::InvalidInput(format!(
                    "the upload was cut after {} of {size} bytes; nothing was written to {}",
                    size - left,
                    path.display()
                )))
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("reading the upload", e)),
        };
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(|e| io("writing the upload", e))?;
        left -= n as u64;
    }
    let got = hex::encode(hasher.finalize());
    if got != sha256 {
        return Err(Error::InvalidInput(format!(
            "the upload's SHA-256 is {got}, not {sha256}: corrupted on the way; nothing was written to {}",
            path.display()
        )));
    }
    tmp.as_file().sync_all().map_err(|e| io("syncing the upload", e))?;
    tmp.persist(path).map_err(|e| io(&format!("renaming the upload to {}", path.display()), e.error))?;
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn an_upload_sweeps_parts_left_by_killed_receivers_and_keeps_live_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join(".upload-killed.part");
        let live = dir.path().join(".upload-live.part");
        let other = dir.path().join("notes.part");
        for p in [&stale, &live, &other] {
            std::fs::write(p, b"partial").expect("write");
        }
        // An hour before the file system's own clock (the test must not read this process's,
        // which the date tests fake).
        let old = std::fs::metadata(&live).and_then(|m| m.modified()).expect("mtime") - Duration::from_secs(3600);
        for p in [&stale, &other] {
            std::fs::File::options().write(true).open(p).expect("open").set_modified(old).expect("mtime");
        }
        let data = b"a,b\n1,2\n";
        let sha = hex::encode(Sha256::digest(data));
        let target = dir.path().join("data.csv");
        receive(&target, &sha, data.len() as u64, &mut &data[..]).expect("receive");
        assert_eq!(std::fs::read(&target).expect("read"), data);
        assert!(!stale.exists(), "a part nobody wrote to for an hour is swept");
        assert!(live.exists(), "a part being written (fresh) is another upload's, kept");
        assert!(other.exists(), "only the receiver's own temporary files are touched");
    }
}
