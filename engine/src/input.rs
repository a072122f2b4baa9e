//! Reading input files safely: regular files only, never more than a size cap.
//!
//! Every file a user names (scenarios, traces, graph files) is opened through here, so that
//! `/dev/zero`, a FIFO or a 50 GB file is a clear error instead of an allocation abort or a
//! hang. The cap is [`DEFAULT_MAX_INPUT_BYTES`]; the environment variable
//! [`MAX_INPUT_ENV`] raises (or lowers) it, in bytes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Largest input file read by default: 4 GiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 4 << 30;

/// Environment variable overriding [`DEFAULT_MAX_INPUT_BYTES`] (a byte count).
pub const MAX_INPUT_ENV: &str = "SPECSIM_MAX_INPUT_BYTES";

/// An input file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The operating system refused (missing file, permissions, ...).
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A device, FIFO, socket or directory where a file was expected.
    #[error("{file}: {}", not_a_file(kind))]
    NotAFile {
        /// The file.
        file: String,
        /// What it is instead (`a directory`, `a character device`, ...).
        kind: String,
    },
    /// Larger than the cap.
    #[error("{file}: {}", too_large(*size, *limit))]
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
}

fn not_a_file(kind: &str) -> String {
    format!("is {kind}, not a regular file: give the path of a file")
}

fn too_large(size: u64, limit: u64) -> String {
    format!(
        "is {size} bytes, over the {limit}-byte limit on input files (set {MAX_INPUT_ENV} to a larger byte count to read it)"
    )
}

impl InputError {
    /// The message without the file name in front.
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { message, .. } => format!("cannot read: {message}"),
            InputError::NotAFile { kind, .. } => not_a_file(kind),
            InputError::TooLarge { size, limit, .. } => too_large(*size, *limit),
        }
    }
}

/// The input size cap in bytes: [`MAX_INPUT_ENV`] if set to a number, else the default.
pub fn max_input_bytes() -> u64 {
    std::env::var(MAX_INPUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_INPUT_BYTES)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Opens `path` for reading after checking it is a regular file within the cap; the reader
/// stops at the cap even if the file grows meanwhile.
pub fn open(path: &Path) -> Result<BufReader<std::io::Take<File>>, InputError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| InputError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    let f = File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotAFile {
            file,
            kind: kind_of(&meta).to_string(),
        });
    }
    let limit = max_input_bytes();
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            file,
            size: meta.len(),
            limit,
        });
    }
    Ok(BufReader::new(f.take(limit)))
}

/// Reads a whole text file (see [`open`]).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let mut r = open(path)?;
    let mut s = String::new();
    r.read_to_string(&mut s).map_err(|e| InputError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_by_kind() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero: is a character device, not a regular file: give the path of a file"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(dir.path()).unwrap_err();
        assert!(matches!(e, InputError::NotAFile { ref kind, .. } if kind == "a directory"));
    }

    #[test]
    fn a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "hello").unwrap();
        assert_eq!(read_text(&p).unwrap(), "hello");
        let e = read_text(&dir.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("cannot read: No such file"), "{e}");
    }
}
