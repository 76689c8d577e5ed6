//! The app's own files belong to its user alone: what the app keeps on a desktop (the store
//! with incidents and the audit log, logs, reports, the demo profile) is created with
//! folders `0700` and files `0600`, the modes set when the file is created so that there is
//! no moment in which another account can read it. A profile from an older version (a
//! `0755` folder, a `0644` store) is tightened when it is opened ([`secure_data_dir`]),
//! and what could not be tightened is named ([`inspect_data_dir`]).
//!
//! Files written where the user chose the path (`--out` reports, `.ics` exports) keep the
//! user's umask: they are the user's to share ([`user_file_mode`]).

use std::fs::Permissions;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;

/// Mode of every folder the app creates for itself.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file the app creates for itself.
pub const FILE_MODE: u32 = 0o600;
/// Folders under the data directory that the app creates and owns (logs, saved reports).
pub const OWNED_DIRS: [&str; 2] = ["logs", "reports"];

/// The umask the process started with, when [`restrict_umask`] replaced it.
static USER_UMASK: OnceLock<u32> = OnceLock::new();

/// Makes every file and folder this process (and what it starts) creates private to its
/// user: umask `077`. For processes that write only the app's own files, or that put the
/// user's umask back on the files the user chose ([`user_file_mode`]): the desktop app,
/// whose log files are created by the log appender, and the demo server, whose Prometheus
/// and AlertManager write into the demo profile. Safe to call more than once.
pub fn restrict_umask() {
    let before = umask(0o077);
    let _ = USER_UMASK.set(before);
}

/// The mode a file the user asked for (at a path the user chose) gets: `0666` less the
/// user's own umask, as any other program would have written it.
pub fn user_file_mode() -> u32 {
    0o666 & !user_umask()
}

/// The user's own umask: the one the process started with, before [`restrict_umask`].
/// Programs started for the user (a browser) get it back.
pub fn user_umask() -> u32 {
    match USER_UMASK.get() {
        Some(m) => *m,
        None => current_umask().unwrap_or_else(|| {
            // Without /proc: read by setting it and putting it straight back.
            let m = umask(0o022);
            umask(m);
            m
        }),
    }
}

/// `path` and every missing parent, each created `0700`.
pub fn create_dir_all(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(path)
}

/// A folder the app owns, made private: created `0700` (with its missing parents) or, when
/// it exists with looser modes and this user owns it, tightened to `0700` (logged). One
/// someone else owns is left as it is.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    create_dir_all(path)?;
    let handle = open_handle(path, true)?;
    let meta = handle.metadata()?;
    if meta.uid() == euid() && meta.mode() & 0o077 != 0 {
        tighten_handle(&handle, path, meta.mode())?;
    }
    Ok(())
}

/// Creates `path` empty and `0600` unless it exists (an existing file is left as it is).
pub fn create_file(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` through a `0600` temporary file beside it and a rename, so
/// that no reader sees half a file and nobody else ever reads it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, FILE_MODE)
}

/// Writes `bytes` to `path`, a path the user chose, through a temporary file and a rename:
/// the file gets the user's own umask ([`user_file_mode`]), even in a process that keeps its
/// own files private.
pub fn write_user_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, user_file_mode())
}

/// The temporary file is given `mode` through its handle (the umask does not narrow it, and
/// an older temporary file of the same name keeps its mode on open), then renamed into place.
fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode & FILE_MODE).open(&tmp)?;
        f.set_permissions(Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A mode as `ls -l`'s octal (`0644`).
fn octal(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// A mode made private: group and other bits removed, the owner's kept.
fn tightened(mode: u32) -> u32 {
    mode & 0o7700
}

/// A file or folder whose mode was tightened when the app opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Tightened {
    /// The path.
    pub path: String,
    /// The mode it had (`0644`).
    pub was: String,
    /// The mode it has now (`0600`).
    pub now: String,
}

/// A file or folder that other accounts may read and that the app did not (or could not)
/// make private.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Exposure {
    /// The path.
    pub path: String,
    /// Its mode (`0644`).
    pub mode: String,
    /// Its owner's uid.
    #[specta(type = f64)]
    pub owner_uid: u32,
    /// Why it is a risk and why it was left as it is.
    pub reason: String,
}

/// How private the data directory is: what was tightened on opening, and what is still
/// readable by others. `private` is true when nothing is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct Privacy {
    /// The data directory.
    pub data_dir: String,
    /// Whether only its user can read it (no exposure found).
    pub private: bool,
    /// Modes tightened by this process when it opened the directory.
    pub tightened: Vec<Tightened>,
    /// What others can still read, or what someone else owns.
    pub exposures: Vec<Exposure>,
}

impl Tightened {
    /// The change in one line, as `doctor` and `hsofctl` say it.
    pub fn line(&self) -> String {
        format!("Files: {} was {} (readable by other users); made {}", self.path, self.was, self.now)
    }
}

impl Exposure {
    /// The risk in one line, for `doctor`'s attention list.
    pub fn line(&self) -> String {
        format!("Files: {} ({}): {}", self.path, self.mode, self.reason)
    }
}

impl Privacy {
    /// One line per change and per risk.
    pub fn attention(&self) -> Vec<String> {
        self.tightened.iter().map(Tightened::line).chain(self.exposures.iter().map(Exposure::line)).collect()
    }
}

/// The effective uid of this process.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Sets the process's file-creation mask, returning the one before.
fn umask(mask: u32) -> u32 {
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(mask)).bits()
}

/// This process's umask as the kernel reports it (`Umask:` in /proc/self/status, Linux 4.7
/// on), read without changing it: setting and restoring it would, for that instant, give
/// files another thread creates the wrong mode.
fn current_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let v = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(v.trim(), 8).ok()
}

/// Opens `path` for its metadata and mode through the handle: a final symbolic link fails
/// (`O_NOFOLLOW`) unless `follow`, and a FIFO does not block.
fn open_handle(path: &Path, follow: bool) -> std::io::Result<std::fs::File> {
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    std::fs::OpenOptions::new().read(true).custom_flags(flags.bits() as i32).open(path)
}

/// Looks at one of the app's own paths and, with `tighten`, makes it private through its
/// handle (fstat, fchmod: a path swapped for a link in between is not followed). Returns
/// whether it is this user's and of the expected kind (so that a folder's files may be
/// looked at).
fn survey_one(path: &Path, is_dir: bool, follow: bool, tighten: bool, out: &mut Privacy) -> bool {
    let me = euid();
    // Absent, a link (not followed: a link in the data directory is the user's own
    // arrangement), or unreadable: nothing of the app's to judge.
    let Ok(handle) = open_handle(path, follow) else { return false };
    let Ok(meta) = handle.metadata() else { return false };
    if meta.is_dir() != is_dir {
        return false;
    }
    let (mode, owner) = (meta.mode(), meta.uid());
    let exposure =
        |reason: String| Exposure { path: path.display().to_string(), mode: octal(mode), owner_uid: owner, reason };
    if owner != me {
        out.exposures.push(exposure(format!(
            "owned by another user (uid {owner}; this user is uid {me}): left as it is, nothing in it touched; \
             its owner can read it{}",
            if mode & 0o077 != 0 { ", and so can others" } else { "" }
        )));
        return false;
    }
    if mode & 0o077 == 0 {
        return true;
    }
    if !tighten {
        out.exposures.push(exposure("readable by other users".into()));
        return true;
    }
    match tighten_handle(&handle, path, mode) {
        Ok(t) => out.tightened.push(t),
        Err(e) => out.exposures.push(exposure(format!("readable by other users and could not be made private: {e}"))),
    }
    true
}

/// Removes group and other bits from the open `handle` (fchmod) whose mode is `mode`, and
/// logs the change.
fn tighten_handle(handle: &std::fs::File, path: &Path, mode: u32) -> std::io::Result<Tightened> {
    let want = tightened(mode);
    handle.set_permissions(Permissions::from_mode(want))?;
    tracing::warn!(path = %path.display(), was = %octal(mode), now = %octal(want),
        "the app's file was readable by other users: made private");
    Ok(Tightened { path: path.display().to_string(), was: octal(mode), now: octal(want) })
}

/// Looks at the data directory's own paths — the folder (followed when it is a link: it is
/// where the user pointed the app), the store with its WAL, shared-memory and journal files,
/// the owned folders and the files in them — and, when `tighten` is set, makes those this
/// user owns private. What someone else owns is named and not touched, nor is anything in
/// it; nothing else in the folder is looked at (it may be a folder the user keeps other
/// things in).
fn survey(dir: &Path, tighten: bool) -> Privacy {
    let mut out = Privacy { data_dir: dir.display().to_string(), ..Privacy::default() };
    if survey_one(dir, true, true, tighten, &mut out) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            survey_one(&dir.join(format!("{}{suffix}", crate::STORE_FILE)), false, false, tighten, &mut out);
        }
        for sub in OWNED_DIRS {
            let d = dir.join(sub);
            if !survey_one(&d, true, false, tighten, &mut out) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
            files.sort();
            for f in files {
                survey_one(&f, false, false, tighten, &mut out);
            }
        }
    }
    out.private = out.exposures.is_empty();
    out
}

/// Makes the data directory's own files private (folders `0700`, files `0600`), leaving
/// alone what another user owns; each change is logged. Call it before the store opens.
pub fn secure_data_dir(dir: &Path) -> Privacy {
    survey(dir, true)
}

/// What in the data directory other users can read, changing nothing.
pub fn inspect_data_dir(dir: &Path) -> Privacy {
    survey(dir, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).expect("stat").mode() & 0o777
    }

    #[test]
    fn created_folders_and_files_are_private_whatever_the_umask() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("a/b");
        create_dir_all(&d).expect("dirs");
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&d), 0o700);
        let f = d.join("f");
        create_file(&f).expect("file");
        assert_eq!(mode(&f), 0o600);
        std::fs::write(&f, b"kept").expect("write");
        create_file(&f).expect("again");
        assert_eq!(std::fs::read(&f).expect("read"), b"kept", "an existing file is left as it is");
        let r = d.join("report.md");
        write_atomically(&r, b"# r").expect("write");
        assert_eq!(mode(&r), 0o600);
        assert_eq!(std::fs::read(&r).expect("read"), b"# r");
        assert_eq!(std::fs::read_dir(&d).expect("ls").count(), 2, "no temporary file left");
    }

    #[test]
    fn an_older_profile_is_tightened_once_and_then_private() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("data");
        std::fs::create_dir_all(d.join("logs")).expect("dirs");
        std::fs::create_dir_all(d.join("elsewhere")).expect("dirs");
        for (p, m) in [(d.clone(), 0o755), (d.join("logs"), 0o755), (d.join("elsewhere"), 0o755)] {
            std::fs::set_permissions(&p, Permissions::from_mode(m)).expect("chmod");
        }
        for f in [
            crate::STORE_FILE.to_string(),
            format!("{}-wal", crate::STORE_FILE),
            "logs/app.log".into(),
            "notes.txt".into(),
        ] {
            std::fs::write(d.join(&f), b"x").expect("write");
            std::fs::set_permissions(d.join(&f), Permissions::from_mode(0o644)).expect("chmod");
        }
        let seen = inspect_data_dir(&d);
        assert!(!seen.private);
        assert_eq!(seen.exposures.len(), 5, "{seen:?}");
        assert_eq!(mode(&d), 0o755, "inspecting changes nothing");

        let first = secure_data_dir(&d);
        assert!(first.private, "{first:?}");
        assert_eq!(first.tightened.len(), 5, "{first:?}");
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join("logs")), 0o700);
        assert_eq!(mode(&d.join(crate::STORE_FILE)), 0o600);
        assert_eq!(mode(&d.join(format!("{}-wal", crate::STORE_FILE))), 0o600);
        assert_eq!(mode(&d.join("logs/app.log")), 0o600);
        assert_eq!(mode(&d.join("notes.txt")), 0o644, "only the app's own files");
        assert_eq!(mode(&d.join("elsewhere")), 0o755, "only the app's own folders");
        assert!(first.attention().iter().any(|l| l.contains("was 0644") && l.contains("made 0600")));

        let again = secure_data_dir(&d);
        assert!(again.private && again.tightened.is_empty(), "said once: {again:?}");
    }

    #[test]
    fn a_missing_data_directory_is_private_and_a_user_file_keeps_the_users_umask() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = secure_data_dir(&tmp.path().join("none"));
        assert!(p.private && p.tightened.is_empty() && p.exposures.is_empty());
        assert_eq!(user_file_mode() & 0o600, 0o600, "the user can always read and write what they asked for");
    }

    #[test]
    fn a_linked_data_directory_is_tightened_and_links_inside_it_are_not_followed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let real = tmp.path().join("real");
        std::fs::create_dir_all(real.join("reports")).expect("dirs");
        std::fs::set_permissions(&real, Permissions::from_mode(0o755)).expect("chmod");
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, b"not the app's").expect("write");
        std::fs::set_permissions(&outside, Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::symlink(&outside, real.join("reports/weekly.md")).expect("link");
        let link = tmp.path().join("data");
        std::os::unix::fs::symlink(&real, &link).expect("link");

        let p = secure_data_dir(&link);
        assert!(p.private, "{p:?}");
        assert_eq!(mode(&real), 0o700, "the folder the user pointed the app at");
        assert_eq!(mode(&outside), 0o644, "a link inside is not followed");
    }

    #[test]
    fn what_another_user_owns_is_named_and_left_alone() {
        if euid() != 0 {
            eprintln!("skipped: giving a file to another uid needs root");
            return;
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = tmp.path().join(crate::STORE_FILE);
        std::fs::write(&store, b"x").expect("write");
        std::fs::set_permissions(&store, Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::chown(&store, Some(65534), Some(65534)).expect("chown");
        let p = secure_data_dir(tmp.path());
        assert!(!p.private);
        assert_eq!(mode(&store), 0o644, "not touched");
        assert_eq!(p.exposures.len(), 1, "{p:?}");
        assert_eq!(p.exposures[0].owner_uid, 65534);
        assert!(p.exposures[0].reason.contains("owned by another user"), "{p:?}");

        std::os::unix::fs::chown(tmp.path(), Some(65534), Some(65534)).expect("chown");
        let p = secure_data_dir(tmp.path());
        assert_eq!(p.exposures.len(), 1, "the folder alone is named: {p:?}");
        assert!(
            p.exposures[0].reason.contains("uid 65534") && p.exposures[0].path == tmp.path().display().to_string(),
            "{p:?}"
        );
    }
}
