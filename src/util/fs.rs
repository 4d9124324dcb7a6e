//! Reading and writing the monitor's own small files: a bounded read that refuses FIFOs, and
//! an atomic write (a temporary file in the same directory, renamed into place).

use std::io::Write;
use std::path::Path;

/// Why a file the monitor reads was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file system said no (missing, no permission, …).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A FIFO, a device, a directory: reading it could block or never end.
    #[error("it is not a regular file")]
    NotRegular,
    /// Larger than anything the monitor writes or a person types.
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
}

/// Reads a small regular file whole. A FIFO is refused before it is opened (opening one
/// blocks until a writer comes), and no more than `max` bytes are ever read.
pub fn read_regular(path: &std::path::Path, max: u64) -> Result<String, ReadError> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(ReadError::TooLarge(max));
    }
    Ok(text)
}

/// Writes `text` and a line break atomically: see [`write_atomically_with`].
pub fn write_atomically(path: &Path, json: &str) -> std::io::Result<()> {
    write_atomically_with(path, |f| f.write_all(json.as_bytes()))
}

/// Lets `write` fill a temporary file beside `path` (through a buffer), ends it with a line
/// break, then renames it into place, so a reader (or a crash) never sees half a file. The
/// temporary file is created exclusively (never through a planted link, never over another
/// file) and removed when anything fails.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "heartbeat_result.json".into());
    let (tmp, f) = create_temp(&dir, &name)?;
    let mut buffered = std::io::BufWriter::new(f);
    let written = write(&mut buffered)
        .and_then(|()| buffered.write_all(b"\n"))
        .and_then(|()| buffered.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all());
    written
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// A new file `.{name}.{pid}.{n}.tmp` in `dir`, made with `O_EXCL` (a file or a link already
/// there is never opened): the first free `n`.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut n = 0;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_at_the_temporary_name_is_never_followed() {
        let dir = std::env::temp_dir().join(format!("hm-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        for n in 0..3 {
            let planted = dir.join(format!(".result.json.{}.{n}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &planted).unwrap();
        }
        write_atomically(&dir.join("result.json"), "{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(
            std::fs::read_to_string(dir.join("result.json")).unwrap(),
            "{}\n"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
