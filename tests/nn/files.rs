//! The file writer on real special files made in a temporary directory: a
//! FIFO, symbolic links (to a file, to /dev/null, to /dev/full), read-only
//! and private files; and many threads saving one model.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use backprop::files::{check_paths, check_writable, read_limited, write_atomic};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_regular_file_is_replaced_and_keeps_its_permission_bits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    fs::write(&path, "old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&path, b"new").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    assert_eq!(names(dir.path()), ["model.json"]);
}

#[test]
fn a_new_file_gets_the_usual_permissions_and_no_temporary_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plot.svg");
    write_atomic(&path, b"<svg/>").unwrap();
    // 0666 less a umask, which never takes the owner's read and write.
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o600, 0o600);
    assert_eq!(names(dir.path()), ["plot.svg"]);
}

#[test]
fn a_read_only_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.json");
    fs::write(&path, "precious").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let err = write_atomic(&path, b"new").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("mode 444"), "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    assert!(check_writable(&path).is_err());
    assert_eq!(names(dir.path()), ["keep.json"]);
}

#[test]
fn a_file_of_another_user_without_write_permission_for_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("theirs.json");
    fs::write(&path, "theirs").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    // Only root can give a file away; as anyone else the file is ours and
    // writable, which the other tests cover.
    if std::os::unix::fs::chown(&path, Some(12345), Some(12345)).is_err() {
        return;
    }
    let err = write_atomic(&path, b"new").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "theirs");
    assert_eq!(fs::metadata(&path).unwrap().uid(), 12345);

    // Writable by others: replaced, and still theirs.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o646)).unwrap();
    write_atomic(&path, b"new").unwrap();
    let m = fs::metadata(&path).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (12345, 12345, 0o646));
    assert_eq!(fs::read_to_string(&path).unwrap(), "new");
}

#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    assert_eq!(names(dir.path()), ["link.json", "real.json"]);
}

#[test]
fn a_device_is_written_in_place_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("null");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    write_atomic(&link, b"nothing").unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert_eq!(names(dir.path()), ["null"]);
}

#[test]
fn a_full_device_gives_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("full");
    std::os::unix::fs::symlink("/dev/full", &link).unwrap();
    let err = write_atomic(&link, b"bytes").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28), "{err}"); // ENOSPC
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names(dir.path()), ["full"]);
}

/// A FIFO `pipe` in `dir` and a thread that reads it to the end, sending
/// what it read.
fn fifo_with_reader(dir: &Path) -> (std::path::PathBuf, std::sync::mpsc::Receiver<String>) {
    let fifo = dir.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        fs::File::open(path)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        let _ = tx.send(s);
    });
    (fifo, rx)
}

#[test]
fn a_fifo_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (fifo, read) = fifo_with_reader(dir.path());
    write_atomic(&fifo, b"through the pipe").unwrap();
    assert_eq!(read.recv().unwrap(), "through the pipe");
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names(dir.path()), ["pipe"]);
}

/// The check before a long job must neither wait for a reader nor hand
/// one an end of file: `mkfifo p; cat p > out & backprop train --save p`
/// gives `out` the whole model.
#[test]
fn checking_a_fifo_neither_blocks_nor_ends_the_readers_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (fifo, rx) = fifo_with_reader(dir.path());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let checked = check_writable(&fifo).map_err(|e| e.to_string());
            let written = write_atomic(&fifo, b"the whole model").map_err(|e| e.to_string());
            let _ = done_tx.send((checked, written));
        });
    }
    let timeout = std::time::Duration::from_secs(20);
    let (checked, written) = done_rx
        .recv_timeout(timeout)
        .expect("checking and writing a FIFO with a reader finishes");
    assert_eq!(checked, Ok(()));
    assert_eq!(written, Ok(()));
    assert_eq!(rx.recv_timeout(timeout).unwrap(), "the whole model");
    // A FIFO its owner (this process) may not write is refused by its
    // mode bits, without waiting for a reader.
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o444)).unwrap();
    assert_eq!(
        check_writable(&fifo).unwrap_err().kind(),
        std::io::ErrorKind::PermissionDenied
    );
}

#[test]
fn a_directory_or_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_atomic(dir.path(), b"x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
    let missing = dir.path().join("no/such/dir/out.json");
    let err = write_atomic(&missing, b"x").unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(check_writable(&missing).is_err());
    assert!(names(dir.path()).is_empty());
}

#[test]
fn eight_threads_saving_one_model_never_show_a_reader_half_a_file() {
    use backprop::Graph;
    use backprop::nn::{Loss, Mlp, MlpConfig, SavedModel};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    let models: Vec<SavedModel> = (0..8)
        .map(|seed| {
            let g = Graph::new();
            let config = MlpConfig {
                seed,
                ..Default::default()
            };
            let m = Mlp::new(&g, 4, &[64, 64, 1], &config).unwrap();
            SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None)
        })
        .collect();
    models[0].save(&path).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut reads = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let m = SavedModel::load(&path).expect("every read parses");
                        assert!(models.contains(&m));
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let writers: Vec<_> = models
            .iter()
            .map(|m| {
                s.spawn(|| {
                    for _ in 0..20 {
                        m.save(&path).expect("every save succeeds");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
    assert_eq!(names(dir.path()), ["model.json"]);
}

#[test]
fn reading_is_bounded() {
    let err = read_limited("/dev/zero".as_ref(), 1 << 20).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file is larger than the limit of 1 MiB"
    );
}

#[test]
fn outputs_that_are_inputs_or_each_other_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    fs::write(&data, "1,0\n").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let err = check_paths(&[("--dataset", &data)], &[("--save", &link)]).unwrap_err();
    assert!(err.to_string().contains("would destroy the input"), "{err}");
    // Two outputs on one new file, spelled differently.
    let a = dir.path().join("x.png");
    let b = dir.path().join("sub/../x.png");
    fs::create_dir(dir.path().join("sub")).unwrap();
    let err = check_paths(&[], &[("--plot", &a), ("--save", &b)]).unwrap_err();
    assert!(
        err.to_string().starts_with("--plot and --save both write"),
        "{err}"
    );
    // Different files, and a device twice, are fine.
    let other = dir.path().join("model.json");
    check_paths(
        &[("--dataset", &data)],
        &[("--plot", &a), ("--save", &other)],
    )
    .unwrap();
    let null = Path::new("/dev/null");
    check_paths(&[], &[("--plot", null), ("--save", null)]).unwrap();
}

/// A copy of `/dev/full` and of `/dev/null` (device nodes made with
/// `mknod`, which needs root; elsewhere the symbolic-link tests above
/// cover devices): written in place, never replaced.
#[test]
fn device_nodes_are_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let null = dir.path().join("null");
    let made = [(&full, "7"), (&null, "3")].iter().all(|(path, minor)| {
        std::process::Command::new("mknod")
            .arg(path)
            .args(["c", "1", minor])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !made {
        return;
    }
    let err = write_atomic(&full, b"bytes").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28), "{err}"); // ENOSPC
    write_atomic(&null, b"bytes").unwrap();
    for p in [&full, &null] {
        assert!(fs::metadata(p).unwrap().file_type().is_char_device());
    }
    assert_eq!(names(dir.path()), ["full", "null"]);
}
