//! Writing output files safely: atomically, durably, and without leaving temporary files.

use std::io::Write;
use std::path::Path;

/// Prefix of the temporary file `write_atomic` writes `name` through.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.")
}

/// Suffix of every temporary file `write_atomic` creates.
const TEMP_SUFFIX: &str = ".specsim-tmp";

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory
/// (`.NAME.XXXXXX.specsim-tmp`), synced, then renamed over the target. An interrupted write
/// leaves the old file or none, and at worst the temporary file, which
/// [`remove_temp_files`] deletes.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dir_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files are created private (0600); results are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Makes the renames done in `dir` durable, in order (a no-op where directories cannot be
/// opened for syncing).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Deletes the temporary files an interrupted [`write_atomic`] of one of `names` left in
/// `dir`; returns how many it deleted.
pub fn remove_temp_files(dir: &Path, names: &[&str]) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let ours =
            file.ends_with(TEMP_SUFFIX) && names.iter().any(|n| file.starts_with(&temp_prefix(n)));
        if ours && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_temporary_files_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&dir.path().join("a.csv"), b"x").unwrap();
        std::fs::write(dir.path().join(".a.csv.Ab12Cd.specsim-tmp"), b"torn").unwrap();
        std::fs::write(dir.path().join(".b.csv.Ab12Cd.specsim-tmp"), b"other").unwrap();
        std::fs::write(dir.path().join("keep.specsim-tmp"), b"user file").unwrap();
        assert_eq!(remove_temp_files(dir.path(), &["a.csv"]).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![".b.csv.Ab12Cd.specsim-tmp", "a.csv", "keep.specsim-tmp"]
        );
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"x");
    }
}
