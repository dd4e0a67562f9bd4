//! Writing output files without ever losing data, and reading input files
//! with a size limit.
//!
//! Every file the project writes (models, plots, drawings, pages) goes
//! through [`write_atomic`]:
//!
//! - a **regular file** (or a path that does not exist yet) is written to a
//!   uniquely named temporary file in the same directory (`tempfile`'s
//!   [`NamedTempFile`](tempfile::NamedTempFile)), synced, and renamed over
//!   the target, so a reader sees the old file or the new one, never half
//!   of one. An existing file keeps its permission bits (and, where the
//!   process may, its owner and group).
//! - a file the caller could not write (no write permission bit for its
//!   owner when the caller owns it, for its group when the caller is in it,
//!   for others otherwise; the same rule for root, who `cp` would let
//!   through) is **refused**, not replaced.
//! - a **symbolic link** is followed: its target is replaced and the link
//!   stays a link.
//! - anything else that is not a directory (a device such as `/dev/null`
//!   or `/dev/full`, a FIFO) is **written in place**, never replaced; its
//!   errors (`No space left on device`) are returned as they are.
//!
//! Temporary files are removed when a write fails, and by
//! [`remove_temporaries`], which a program calls from its Ctrl-C and
//! SIGTERM handler (the `backprop` command does).
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("out.txt");
//! backprop::files::write_atomic(&path, b"hello")?;
//! assert_eq!(std::fs::read(&path)?, b"hello");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The temporary files being written now, for [`remove_temporaries`].
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the list was locked leaves it usable.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every temporary file that a [`write_atomic`] in this process is
/// writing now. Call it from a signal handler thread (Ctrl-C, SIGTERM)
/// just before the process exits: from then on, writes that have not
/// started wait for the exit, and a write being finished has either put
/// its file in place (whole) or never will.
pub fn remove_temporaries() {
    let mut list = live();
    for p in list.drain(..) {
        let _ = fs::remove_file(p);
    }
    // Never unlocked: no temporary file is made, and none renamed, after
    // this.
    std::mem::forget(list);
}

/// The symbolic link chain from `path` followed to its end (at most 40
/// links, as Linux allows): the path that is really written.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The directory a file at `path` lives in (`.` for a bare name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Where and how [`write_atomic`] writes `path`.
enum Plan {
    /// A new regular file, or one replacing this existing file.
    Replace {
        target: PathBuf,
        old: Option<Metadata>,
    },
    /// A device, FIFO or socket, written in place.
    InPlace(PathBuf),
}

fn plan(path: &Path) -> io::Result<Plan> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no file name",
        ));
    }
    // A device, FIFO or socket as the kernel resolves the path: written in
    // place through the path itself. This also covers links that name no
    // path, such as `/dev/stdout` on a pipe (`/proc/self/fd/1` ->
    // `pipe:[N]`), which only the kernel can follow.
    if let Ok(m) = fs::metadata(path)
        && !m.is_file()
        && !m.is_dir()
    {
        return Ok(Plan::InPlace(path.to_path_buf()));
    }
    let target = follow_links(path)?;
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        )),
        Ok(m) if m.is_file() => Ok(Plan::Replace {
            target,
            old: Some(m),
        }),
        Ok(_) => Ok(Plan::InPlace(target)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = directory(&target);
            match fs::metadata(dir) {
                Ok(d) if d.is_dir() => Ok(Plan::Replace { target, old: None }),
                Ok(_) => Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", dir.display()),
                )),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("the directory {} does not exist", dir.display()),
                )),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Whether the process may write `old`, judged from its mode bits as for
/// an unprivileged user: `me` is a file this process just created (its
/// owner and group are ours).
fn may_write(old: &Metadata, me: &Metadata) -> bool {
    let mode = old.mode();
    if old.uid() == me.uid() {
        mode & 0o200 != 0
    } else if old.gid() == me.gid() {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    }
}

/// The error for a file the caller could not write.
fn not_writable(old: &Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "permission denied: the file is not writable (mode {:o}, owner {})",
            old.mode() & 0o7777,
            old.uid()
        ),
    )
}

/// A new temporary file next to `target`, registered for
/// [`remove_temporaries`] from before it exists (the list is locked while
/// it is made, so a signal handler never finds it unregistered).
fn temporary(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = target
        .file_name()
        .map(|n| format!(".{}.", n.to_string_lossy()))
        .unwrap_or_else(|| ".".into());
    tempfile::Builder::new()
        .prefix(&name)
        .suffix(".tmp")
        .make_in(directory(target), |path| {
            let mut list = live();
            let file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                // New files get the usual 0666 less the umask, as `>` gives
                // them.
                .mode(0o666)
                .open(path)?;
            list.push(path.to_path_buf());
            Ok(file)
        })
}

/// Removes a temporary file, then takes it off the list (in that order:
/// a signal in between finds it still listed).
fn discard(tmp: tempfile::NamedTempFile) {
    let path = tmp.path().to_path_buf();
    drop(tmp);
    live().retain(|p| p != &path);
}

/// Writes `bytes` to `path` so that no data is lost: see the [module
/// documentation](self) for what happens to regular files, symbolic links,
/// devices and FIFOs, and to files the caller could not write.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.json");
/// std::fs::write(&path, "old")?;
/// std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o444))?;
/// // A read-only file is refused and left as it was.
/// assert!(backprop::files::write_atomic(&path, b"new").is_err());
/// assert_eq!(std::fs::read_to_string(&path)?, "old");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The OS error of the first step that failed (with what was being done),
/// [`io::ErrorKind::PermissionDenied`] for a file the caller could not
/// write, [`io::ErrorKind::IsADirectory`] for a directory, and
/// [`io::ErrorKind::NotFound`] for a missing directory. Nothing is left
/// behind: an old file at `path` stays as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match plan(path)? {
        Plan::InPlace(target) => {
            let mut f = fs::OpenOptions::new().write(true).open(&target)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Plan::Replace { target, old } => {
            let mut tmp = temporary(&target)?;
            let path_of_tmp = tmp.path().to_path_buf();
            let result = (|| {
                if let Some(old) = &old {
                    let me = tmp.as_file().metadata()?;
                    if !may_write(old, &me) {
                        return Err(not_writable(old));
                    }
                    let f = tmp.as_file();
                    // Root may give the file back to its owner; others may
                    // not, and keep it as theirs (as `cp` does).
                    if old.uid() != me.uid() || old.gid() != me.gid() {
                        let _ = std::os::unix::fs::fchown(f, Some(old.uid()), Some(old.gid()));
                    }
                    f.set_permissions(fs::Permissions::from_mode(old.mode() & 0o7777))?;
                }
                tmp.write_all(bytes)?;
                tmp.as_file().sync_all()?;
                Ok(())
            })();
            if let Err(e) = result {
                discard(tmp);
                return Err(e);
            }
            // Locked while renaming: a signal handler's
            // `remove_temporaries` runs before or after, not during.
            let mut list = live();
            let persisted = tmp.persist(&target).map(drop).map_err(|e| {
                let err = io::Error::new(e.error.kind(), e.error.to_string());
                drop(e.file); // removes the temporary file
                err
            });
            list.retain(|p| p != &path_of_tmp);
            persisted
        }
    }
}

/// Checks, before any long work, that [`write_atomic`] could write `path`
/// now: its directory exists and takes a new file, and an existing file is
/// not a directory and is writable by the caller. `path` itself is not
/// changed (a device is opened for writing and closed); a FIFO is not
/// opened (that would wait for a reader, and hand
/// one an end of file before the real write), only its mode bits read.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// assert!(backprop::files::check_writable(&dir.path().join("model.json")).is_ok());
/// assert!(backprop::files::check_writable(dir.path()).is_err());
/// assert!(backprop::files::check_writable("/nonexistent/dir/model.json".as_ref()).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The reason the file could not be written, as [`write_atomic`] would
/// report it.
pub fn check_writable(path: &Path) -> io::Result<()> {
    match plan(path)? {
        Plan::InPlace(target) => {
            let m = fs::metadata(&target)?;
            let kind = m.file_type();
            if kind.is_fifo() || kind.is_socket() {
                // Opening a FIFO to try it would block until a reader comes,
                // and closing it would hand the reader an end of file before
                // the real write: judged from its mode bits instead, against
                // the process's own user and group (those of `/proc/self`).
                let me = fs::metadata("/proc/self")?;
                if may_write(&m, &me) {
                    Ok(())
                } else {
                    Err(not_writable(&m))
                }
            } else {
                fs::OpenOptions::new().write(true).open(target).map(drop)
            }
        }
        Plan::Replace { target, old } => {
            let tmp = temporary(&target)?;
            let result = match &old {
                Some(old) if !may_write(old, &tmp.as_file().metadata()?) => Err(not_writable(old)),
                _ => Ok(()),
            };
            discard(tmp);
            result
        }
    }
}

/// Reads at most `limit` bytes of `path`; a longer file (or an endless one
/// such as `/dev/zero`) is refused with an error that names the limit,
/// without reading more than one byte past it.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("data.csv");
/// std::fs::write(&path, "1,2,0\n")?;
/// assert_eq!(backprop::files::read_limited(&path, 6)?, b"1,2,0\n");
/// let err = backprop::files::read_limited(&path, 5).unwrap_err();
/// assert_eq!(err.to_string(), "the file is larger than the limit of 5 bytes");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The OS error of opening or reading, or [`io::ErrorKind::FileTooLarge`]
/// past `limit`.
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// The error of a file past its size limit, with the limit in words.
pub(crate) fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("the file is larger than the limit of {}", bytes_text(limit)),
    )
}

/// `5 bytes`, `16 MiB`.
fn bytes_text(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// How a file is identified for [`check_paths`]: its device and inode when
/// it exists, else its canonical directory and its name.
#[derive(PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Name(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    if let Ok(m) = fs::metadata(path) {
        return Some(Identity::Inode(m.dev(), m.ino()));
    }
    let target = follow_links(path).ok()?;
    let dir = fs::canonicalize(directory(&target)).ok()?;
    Some(Identity::Name(dir.join(target.file_name()?)))
}

/// A clash between the files one command reads and writes, found by
/// [`check_paths`].
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// An output that is also an input.
    #[error("{output} {} is also {input} {}: writing it would destroy the input", .output_path.display(), .input_path.display())]
    OutputIsInput {
        /// What the output is for (`--save`).
        output: String,
        /// Its path.
        output_path: PathBuf,
        /// What the input is for (`--dataset`).
        input: String,
        /// Its path.
        input_path: PathBuf,
    },
    /// Two outputs on one file.
    #[error("{first} and {second} both write {}: give them different files", .path.display())]
    SameOutput {
        /// The first output's option.
        first: String,
        /// The second output's option.
        second: String,
        /// The path.
        path: PathBuf,
    },
}

/// Refuses, before any work, outputs that are also inputs of the same
/// command, and two outputs on one file. Paths are compared as files (the
/// same device and inode, or the same canonical directory and name for a
/// file not yet made), so `./a.json`, `dir/../a.json` and a symbolic link
/// to `a.json` are all `a.json`. Each path comes with what it is for
/// (`--save`), which the error names. Devices such as `/dev/null` may be
/// given more than once.
///
/// ```
/// use std::path::Path;
/// let dir = tempfile::tempdir()?;
/// let data = dir.path().join("data.csv");
/// std::fs::write(&data, "1,0\n2,1\n")?;
/// let same = dir.path().join(".").join("data.csv");
/// let err = backprop::files::check_paths(&[("--dataset", &data)], &[("--save", &same)]).unwrap_err();
/// assert!(err.to_string().starts_with("--save"));
/// let plot = dir.path().join("x.png");
/// assert!(backprop::files::check_paths(&[], &[("--plot", &plot), ("--save", &plot)]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`PathError`].
pub fn check_paths(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> Result<(), PathError> {
    let special = |p: &Path| fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir());
    let outs: Vec<_> = outputs
        .iter()
        .filter(|(_, p)| !special(p))
        .map(|&(what, p)| (what, p, identity(p)))
        .collect();
    for &(input, input_path) in inputs {
        let Some(id) = identity(input_path) else {
            continue;
        };
        if let Some((output, output_path, _)) =
            outs.iter().find(|(_, _, o)| o.as_ref() == Some(&id))
        {
            return Err(PathError::OutputIsInput {
                output: output.to_string(),
                output_path: output_path.to_path_buf(),
                input: input.to_string(),
                input_path: input_path.to_path_buf(),
            });
        }
    }
    for (i, (first, path, id)) in outs.iter().enumerate() {
        if id.is_none() {
            continue;
        }
        if let Some((second, _, _)) = outs[i + 1..].iter().find(|(_, _, o)| o == id) {
            return Err(PathError::SameOutput {
                first: first.to_string(),
                second: second.to_string(),
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Whether `bytes` start like a safetensors file: an 8-byte little-endian
/// header length that fits in the file, then a JSON object (`{`).
pub(crate) fn looks_like_safetensors(bytes: &[u8]) -> bool {
    match bytes.get(..9) {
        Some(head) => {
            let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
            head[8] == b'{' && n >= 2 && n <= (bytes.len() - 8) as u64
        }
        None => false,
    }
}
