//! Reading a file a user names (a CA file here; the exporter's config file and
//! `password_file` too) without trusting it: only a regular file, opened so
//! that a FIFO cannot block, and never more than a stated number of bytes.
//!
//! A FIFO opened the ordinary way blocks the opening thread until a writer
//! appears (a reload, or a runtime worker connecting to a router, would hang
//! with it), and `/dev/zero` is read until memory runs out.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Reads `path` whole if it is a regular file of at most `limit` bytes.
///
/// The file is opened non-blocking (opening a FIFO returns at once instead of
/// waiting for a writer) and its type is taken from the opened descriptor, so
/// a file swapped between a check and the open is still refused. The read is
/// capped at `limit + 1` bytes even where the reported size is wrong (files in
/// `/proc` report 0). Errors are [`io::Error`]s whose message says what the
/// path is (`it is a FIFO (named pipe), not a regular file`) or which limit it
/// exceeds.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = match open_nonblocking(path) {
        Ok(file) => file,
        Err(e) => {
            // Opening a socket fails (ENXIO) with a message that does not
            // say why; the path's type does.
            return Err(match std::fs::metadata(path) {
                Ok(meta) if !meta.is_file() => not_regular(&meta),
                _ => e,
            });
        }
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

fn not_regular(meta: &Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {}, not a regular file", kind(meta)),
    )
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("it is larger than {}, the limit for this file", size(limit)),
    )
}

/// `4 MiB`, `64 KiB` or `100 bytes`: limits are written in the unit a reader
/// would choose.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(unix)]
fn kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::mpsc;
    use std::time::Duration;

    fn message(path: &Path, limit: u64) -> String {
        match read_regular(path, limit) {
            Ok(bytes) => panic!("read {} bytes from {}", bytes.len(), path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_a_regular_file_up_to_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").expect("write");
        assert_eq!(read_regular(&path, 10).expect("read"), b"0123456789");
        let e = message(&path, 9);
        assert!(e.contains("larger than 9 bytes"), "{e}");
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = message(dir.path(), 1024);
        assert!(e.contains("it is a directory, not a regular file"), "{e}");
        let e = message(Path::new("/dev/zero"), 1024);
        assert!(e.contains("character device"), "{e}");
        let socket = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
        let e = message(&socket, 1024);
        assert!(e.contains("it is a socket"), "{e}");
        let e = message(&dir.path().join("missing"), 1024);
        assert!(e.contains("No such file"), "{e}");
    }

    /// Opening a FIFO for reading normally waits for a writer: this must
    /// answer at once. The read runs on its own thread so that a regression
    /// fails the test (after 10 s) instead of hanging it.
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(status.success());
        let (tx, rx) = mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read_regular(&path, 1024).map_err(|e| e.to_string()));
        });
        let result = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("reading a FIFO blocked");
        let e = result.expect_err("a FIFO is not a regular file");
        assert!(
            e.contains("it is a FIFO (named pipe), not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn proc_files_are_capped_though_they_report_no_size() {
        // /proc/self/maps is a "regular file" of size 0 with real content.
        let e = message(Path::new("/proc/self/maps"), 8);
        assert!(e.contains("larger than 8 bytes"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(size(4 << 20), "4 MiB");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
