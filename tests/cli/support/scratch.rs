//! Every file a test process writes outside `target/` lives under one directory of its own,
//! `$TMPDIR/hm-tests-<pid>/`, that is removed when the process ends, however it ends: a
//! watchdog removes it once the process is gone, and each new test process first removes the
//! directories of test processes that no longer run (a watchdog killed with its machine).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PREFIX: &str = "hm-tests-";

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// This test process's directory, made (and its watchdog started) on first use.
pub fn root() -> &'static Path {
    ROOT.get_or_init(|| {
        let tmp = std::env::temp_dir();
        sweep(&tmp);
        let root = tmp.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create the tests' scratch directory");
        watch(&root);
        root
    })
}

/// A fresh, empty directory `name` under this process's directory.
pub fn dir(name: &str) -> PathBuf {
    let dir = root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// The path `name` under this process's directory (nothing is created).
pub fn path(name: &str) -> PathBuf {
    root().join(name)
}

/// Removes the directories of test processes that are gone.
fn sweep(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if !alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[allow(unsafe_code)]
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Once this process is gone, a detached shell removes `root`.
fn watch(root: &Path) {
    let mut c = Command::new("/bin/sh");
    c.args([
        "-c",
        "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; rm -rf \"$2\"",
        "sh",
        &std::process::id().to_string(),
    ])
    .arg(root)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // Its own process group: a Ctrl-C of the tests must not take the watchdog with them.
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    // It outlives this process on purpose; its parent becomes init, which reaps it.
    drop(c.spawn().expect("start the scratch directory's watchdog"));
}
