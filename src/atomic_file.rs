//! How keysweep writes whole files (reports, SARIF, caches): beside the
//! target, synced, then renamed over it. A run killed or a disk filling up
//! mid-write leaves the previous file as it was, and a reader (a merge job,
//! an uploader) sees either the old file or the new one, never half of one.
//!
//! A file that holds secrets is created 0600, and never through an existing
//! link: the temporary file is created anew (`O_EXCL`), and the rename
//! replaces a link at the target instead of writing where it points.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Who may read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Only the owner (0600): the file holds secrets.
    Private,
    /// As the umask allows (0666 & !umask).
    Shared,
}

/// Replaces `path` with `bytes`. A target that exists and is not a regular
/// file (`/dev/stdout`, a FIFO, a terminal) cannot be replaced and is
/// written in place. On error the old file is untouched and no temporary
/// file is left behind.
pub(crate) fn write_replacing(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            return f.write_all(bytes).and_then(|()| f.flush());
        }
    }
    replace(path, bytes, access)
}

/// Replaces `path` with `bytes` by a rename, whatever is there now (for
/// files keysweep keeps for itself: a link or a FIFO planted at the path is
/// replaced, never written through). On error the old file is untouched and
/// no temporary file is left behind.
pub(crate) fn replace(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let (tmp, mut file) = create_beside(path, access)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // The rename itself is durable once the directory is synced.
    if let Ok(dir) = std::fs::File::open(parent(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A new file next to `target`, named after it, this process and a counter,
/// so that two writers (two runs, two threads) never share one.
fn create_beside(target: &Path, access: Access) -> std::io::Result<(PathBuf, std::fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keysweep".into());
    let tmp = parent(target).join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match access {
            Access::Private => 0o600,
            Access::Shared => 0o666,
        });
    }
    let file = options.open(&tmp)?;
    Ok((tmp, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn replaces_whole_files_and_leaves_nothing_beside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("report.json");
        write_replacing(&p, b"old", Access::Shared).expect("write");
        write_replacing(&p, b"new", Access::Shared).expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn secrets_are_private_even_over_a_shared_file_or_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("report.json");
        std::fs::write(&p, b"old").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_replacing(&p, b"secret", Access::Private).expect("write");
        assert_eq!(mode(&p), 0o600);
        // A link planted at the target is replaced, not written through.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"untouched").expect("write");
        let link = dir.path().join("out.json");
        std::os::unix::fs::symlink(&victim, &link).expect("link");
        write_replacing(&link, b"secret", Access::Private).expect("write");
        assert_eq!(std::fs::read(&victim).expect("read"), b"untouched");
        assert_eq!(mode(&link), 0o600);
        assert!(!std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink());
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("inside"), b"x").expect("write");
        assert!(write_replacing(&target, b"never", Access::Shared).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn special_files_are_written_in_place() {
        write_replacing(Path::new("/dev/null"), b"gone", Access::Shared).expect("write");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .expect("stat")
            .file_type()
            .is_char_device());
    }
}
