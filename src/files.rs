//! Writing files so that a reader never sees half of one: the bytes go to
//! a temporary file in the same directory, which is synced and then renamed
//! over the target. Models, plots and drawings are all saved this way.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary file next to `path` that [`write_atomic`] writes first.
pub(crate) fn temporary(path: &Path) -> std::io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        )
    })?;
    Ok(dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes `bytes` to a temporary file next to `path`, syncs it, and renames
/// it over `path`; on failure the temporary file is removed and any old
/// file at `path` is left as it was.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path)?;
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
