//! The outside programs the tests use (Prism from npm, aiosmtpd from PyPI), installed on first
//! use under `target/tmp/tools/`, so that `cargo test` alone works on a fresh machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Installs run one at a time within a test process: the tests that need a tool start at once.
static INSTALLING: Mutex<()> = Mutex::new(());

/// `target/tmp/tools/<name>`, installed by `install(dir)` if it is not there yet.
///
/// The install goes to a directory of this process's own and is renamed into place, so that
/// test processes running at once (cargo nextest) never see half an install: the first rename
/// wins and the others throw theirs away.
pub fn ensure(name: &str, install: impl FnOnce(&Path) -> Result<(), String>) -> PathBuf {
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tools");
    let dir = tools.join(name);
    // A test that panicked while installing leaves the lock poisoned, not the install.
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if dir.exists() {
        return dir;
    }
    std::fs::create_dir_all(&tools).expect("create target/tmp/tools");
    let partial = tools.join(format!(".{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).expect("create an install directory");
    if let Err(e) = install(&partial) {
        let _ = std::fs::remove_dir_all(&partial);
        panic!("could not install {name} for the tests: {e}");
    }
    if std::fs::rename(&partial, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
        assert!(dir.exists(), "could not move {name} into {}", dir.display());
    }
    dir
}

/// Runs `program args` and says what failed, with its output, if it did.
pub fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str], needs: &str) -> Result<(), String> {
    let program = program.as_ref();
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{} could not be started ({e}): {needs}", program.display()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{} {}` failed ({}): {needs}\n{}{}",
        program.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Stoplight Prism's binary, from npm.
pub fn prism() -> PathBuf {
    let dir = ensure("prism-5.14.2", |dir| {
        let dir = dir.to_str().expect("a UTF-8 path");
        run(
            "npm",
            &[
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                dir,
                "@stoplight/prism-cli@5.14.2",
            ],
            "the conformance tests need Node.js and npm",
        )
    });
    dir.join("node_modules/.bin/prism")
}

/// A Python with aiosmtpd, in a virtual environment of its own (no system-wide install).
pub fn aiosmtpd_python() -> PathBuf {
    let dir = ensure("aiosmtpd-1.4.6", |dir| {
        let dir_str = dir.to_str().expect("a UTF-8 path");
        run(
            "python3",
            &["-m", "venv", dir_str],
            "the SMTP tests need Python 3 with its venv module (Debian: apt-get install python3-venv)",
        )?;
        run(
            dir.join("bin/python"),
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "aiosmtpd==1.4.6",
            ],
            "the SMTP tests install aiosmtpd from PyPI",
        )
    });
    dir.join("bin/python")
}
