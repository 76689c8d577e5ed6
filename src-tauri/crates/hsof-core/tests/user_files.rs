//! In a process that keeps its own files private (umask 077, as the desktop app and the demo
//! server run), a file written where the user chose the path still gets the user's umask.
//! One test in its own binary: the umask is the whole process's.

use std::os::unix::fs::PermissionsExt as _;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

#[test]
fn a_private_process_writes_the_users_ics_with_the_users_umask_and_its_own_files_0600() {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let before = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .expect("Umask");
    hsof_core::private::restrict_umask();
    let dir = tempfile::tempdir().expect("tempdir");

    let own = dir.path().join("own.log");
    std::fs::write(&own, "x").expect("write");
    assert_eq!(mode(&own), 0o600, "the process's own files are private");

    let ics = dir.path().join("team.ics");
    hsof_core::calendar::write_atomically(&ics, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").expect("ics");
    assert_eq!(mode(&ics), 0o666 & !before, "the user's file gets the user's umask");
    assert_eq!(hsof_core::private::user_umask(), before);
    assert_eq!(hsof_core::private::user_file_mode(), 0o666 & !before);
}
