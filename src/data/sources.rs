//! Importers of public latency measurements (see `docs/data.md`): each reads a dataset's
//! files as published and turns them into samples and fitted profiles, never copying raw
//! rows into the project.
//!
//! - [`llmperf`]: ray-project/llmperf-leaderboard per-request results (LLM profiles per
//!   provider, failures as an error rate).
//! - [`thefastest`]: fixie-ai/thefastest.ai measurements (per model, region and day).
//! - [`har`]: HTTP Archive (HAR) files from browsers (per-request timings, page onLoad).
//! - [`httparchive`]: published quantile tables such as HTTP Archive's Speed Index.

use std::path::{Path, PathBuf};

use crate::data::fit::profile::Source;
use crate::data::fit::samples::DataError;

pub mod har;
pub mod httparchive;
pub mod llmperf;
pub mod thefastest;

/// An upstream dataset: what to cite and where to fetch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Name of the dataset.
    pub name: &'static str,
    /// Where the originals are.
    pub upstream: &'static str,
    /// Their licence.
    pub licence: &'static str,
}

impl Dataset {
    /// A provenance record for a profile derived from `files`.
    pub fn source(&self, files: &[PathBuf], note: impl Into<String>) -> Source {
        Source {
            dataset: self.name.into(),
            upstream: self.upstream.into(),
            licence: self.licence.into(),
            files: files.iter().map(|f| base_name(f)).collect(),
            note: note.into(),
        }
    }
}

/// The file name without directories (profiles must not depend on where data lives).
pub fn base_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Expands directories into their files with extension `ext` (sorted by name); plain
/// files are kept as given.
pub fn expand(paths: &[PathBuf], ext: &str) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| DataError::io(p, e))?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == ext))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(DataError::file(
                    p,
                    format!("no *.{ext} files in this directory"),
                ));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Reads a whole file, mapping the OS error to a [`DataError`].
pub fn read_text(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))
}

/// Deserialises one record (a JSON Lines line or an array element starting at `line`),
/// naming the field and the line of the problem.
pub fn parse_record<T: serde::de::DeserializeOwned>(
    path: &Path,
    line: usize,
    text: &str,
    what: &str,
) -> Result<T, DataError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = line + e.inner().line().saturating_sub(1);
        let field = e.path().to_string();
        let msg = e.inner().to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        if field == "." {
            DataError::at(path, at, format!("{what}: {msg}"))
        } else {
            DataError::at(path, at, format!("{what}: field `{field}`: {msg}"))
        }
    })
}
