//! Atomic file output: everything is written to a temporary file next to the target and
//! renamed over it only when complete, so an interrupted run never leaves a half-written file
//! where a finished one used to be.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A file being written; becomes visible at `path` on [`AtomicFile::commit`]. Dropped without
/// commit, the temporary file is removed and the target is untouched.
pub struct AtomicFile {
    path: PathBuf,
    temp_path: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let file_name = path.file_name().with_context(|| format!("output path {} has no file name", path.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".tmp{}", std::process::id()));
        let temp_path = path.with_file_name(temp_name);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).with_context(|| format!("failed to create directory {}", parent.display()))?;
        }
        let file = File::create(&temp_path).with_context(|| format!("failed to create {}", temp_path.display()))?;
        Ok(AtomicFile { path: path.to_path_buf(), temp_path, writer: Some(BufWriter::new(file)) })
    }

    /// Flushes, syncs and renames the temporary file over the target.
    pub fn commit(mut self) -> Result<()> {
        let writer = self.writer.take().expect("commit consumes self, so the writer is still there");
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("failed to write {}", self.path.display()))?;
        file.sync_all().with_context(|| format!("failed to sync {}", self.path.display()))?;
        fs::rename(&self.temp_path, &self.path)
            .with_context(|| format!("failed to move output into {}", self.path.display()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().expect("writer present until commit").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().expect("writer present until commit").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp_path);
        }
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(contents).with_context(|| format!("failed to write {}", path.display()))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_file_leaves_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        fs::write(&target, "old").unwrap();
        {
            let mut file = AtomicFile::create(&target).unwrap();
            file.write_all(b"new but unfinished").unwrap();
        }
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "temporary file was cleaned up");
    }

    #[test]
    fn committed_file_replaces_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.jsonl");
        write_file(&target, b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    }
}
