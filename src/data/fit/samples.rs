//! Reading numeric samples from CSV (a column by header), JSON and JSON Lines (a field,
//! by dotted path), with the line of every value kept for error messages.
//!
//! Field paths: `a.b` looks up key `b` inside key `a`; a numeric segment indexes an array
//! (`runs.0.ttft`); an array met where a key is expected is mapped over, so
//! `results.ttft_s` reads `ttft_s` of every element of `results`. Without a path a JSON file
//! must hold numbers (or arrays of numbers) and a CSV file a single column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::value::RawValue;

/// A value read from a file, with its 1-based line.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Located {
    /// The line the value is on.
    pub line: usize,
    /// The value.
    pub value: f64,
}

/// An input file that cannot be used, with the file, line and field at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A problem at a line.
    #[error("{file}:{line}: {message}")]
    At {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A problem with the file as a whole.
    #[error("{file}: {message}")]
    File {
        /// The file.
        file: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl DataError {
    /// A problem at `line` of `file`.
    pub fn at(file: &Path, line: usize, message: impl Into<String>) -> Self {
        DataError::At {
            file: file.display().to_string(),
            line,
            message: message.into(),
        }
    }

    /// A problem with `file` as a whole.
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        DataError::File {
            file: file.display().to_string(),
            message: message.into(),
        }
    }

    /// The file could not be read.
    pub fn io(file: &Path, e: impl std::fmt::Display) -> Self {
        DataError::Io {
            file: file.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// Input file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON document.
    Json,
    /// One JSON document per line.
    Jsonl,
}

impl Format {
    /// Guesses the format from the extension, then from the content.
    pub fn detect(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => return Format::Csv,
            Some("json") => return Format::Json,
            Some("jsonl" | "ndjson") => return Format::Jsonl,
            _ => {}
        }
        let t = text.trim_start();
        if t.starts_with('[') || t.starts_with('{') {
            if serde_json::from_str::<&RawValue>(text).is_ok() {
                Format::Json
            } else {
                Format::Jsonl
            }
        } else {
            Format::Csv
        }
    }
}

/// Reads the values of `field` (or the bare values, when `None`) from `path`; a record
/// without the field is an error.
pub fn read_samples(
    path: &Path,
    format: Option<Format>,
    field: Option<&str>,
) -> Result<Vec<Located>, DataError> {
    read_samples_with(path, format, field, false).map(|(v, _)| v)
}

/// Like [`read_samples`]; with `skip_missing`, records where the field is absent, `null`
/// or an empty CSV cell are skipped (e.g. the header line of a trace) and counted.
pub fn read_samples_with(
    path: &Path,
    format: Option<Format>,
    field: Option<&str>,
    skip_missing: bool,
) -> Result<(Vec<Located>, usize), DataError> {
    let skipped = std::cell::Cell::new(0usize);
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let format = format.unwrap_or_else(|| Format::detect(path, &text));
    let out = match format {
        Format::Csv => read_csv(path, &text, field, skip_missing, &skipped)?,
        Format::Json => {
            let top: &RawValue = serde_json::from_str(&text)
                .map_err(|e| DataError::at(path, e.line(), format!("invalid JSON: {e}")))?;
            let mut out = Vec::new();
            let segs = split(field);
            Walker {
                path,
                text: &text,
                base_line: 1,
                field,
                skip_missing,
                skipped: &skipped,
            }
            .collect(top, &segs, &mut out)?;
            out
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            let segs = split(field);
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let raw: &RawValue = serde_json::from_str(line).map_err(|e| {
                    DataError::at(
                        path,
                        i + 1,
                        format!("invalid JSON: {e} (JSON Lines: one value per line)"),
                    )
                })?;
                Walker {
                    path,
                    text: line,
                    base_line: i + 1,
                    field,
                    skip_missing,
                    skipped: &skipped,
                }
                .collect(raw, &segs, &mut out)?;
            }
            out
        }
    };
    if out.is_empty() {
        return Err(DataError::file(
            path,
            match field {
                Some(f) => format!("no values found for field `{f}`"),
                None => "no values found".to_string(),
            },
        ));
    }
    Ok((out, skipped.get()))
}

/// Checks every value is `>= 0` and there are at least two, naming the line otherwise.
pub fn check_latencies(path: &Path, what: &str, xs: &[Located]) -> Result<(), DataError> {
    if let Some(bad) = xs.iter().find(|x| x.value.is_nan() || x.value < 0.0) {
        return Err(DataError::at(
            path,
            bad.line,
            format!(
                "{what} is {}; latencies must be >= 0 (remove or fix the row)",
                bad.value
            ),
        ));
    }
    if xs.len() < 2 {
        return Err(DataError::file(
            path,
            format!("{what}: need at least 2 samples to fit, got {}", xs.len()),
        ));
    }
    Ok(())
}

fn split(field: Option<&str>) -> Vec<&str> {
    field.map_or_else(Vec::new, |f| f.split('.').collect())
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A CSV reader over `text` (fields trimmed) and its header row; a bad header is an error
/// at line 1 of `path`.
pub fn csv_reader<'a>(
    path: &Path,
    text: &'a str,
) -> Result<(csv::Reader<&'a [u8]>, csv::StringRecord), DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| DataError::at(path, 1, format!("invalid CSV header: {e}")))?
        .clone();
    Ok((rdr, headers))
}

fn read_csv(
    path: &Path,
    text: &str,
    field: Option<&str>,
    skip_missing: bool,
    skipped: &std::cell::Cell<usize>,
) -> Result<Vec<Located>, DataError> {
    let (mut rdr, headers) = csv_reader(path, text)?;
    let names: Vec<&str> = headers.iter().collect();
    let col = match field {
        Some(f) => names.iter().position(|h| *h == f).ok_or_else(|| {
            DataError::at(
                path,
                1,
                format!("no column `{f}`; the header has: {}", names.join(", ")),
            )
        })?,
        None if names.len() == 1 => 0,
        None => {
            return Err(DataError::at(
                path,
                1,
                format!(
                    "{} columns ({}); choose one with --field",
                    names.len(),
                    names.join(", ")
                ),
            ))
        }
    };
    let name = names[col].to_string();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            DataError::at(path, line, format!("invalid CSV: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let cell = rec.get(col).unwrap_or("");
        if skip_missing && cell.is_empty() {
            skipped.set(skipped.get() + 1);
            continue;
        }
        let value = parse_number(cell).ok_or_else(|| {
            DataError::at(
                path,
                line,
                format!(
                    "column `{name}`: `{cell}` is not a number (allowed: a finite decimal number)"
                ),
            )
        })?;
        out.push(Located { line, value });
    }
    Ok(out)
}

/// Walks JSON by raw slices, so every value's line is known.
struct Walker<'a> {
    path: &'a Path,
    text: &'a str,
    base_line: usize,
    field: Option<&'a str>,
    skip_missing: bool,
    skipped: &'a std::cell::Cell<usize>,
}

/// The 1-based line of `text` on which `raw` (a slice borrowed from `text`) starts.
pub fn line_of(text: &str, raw: &RawValue) -> usize {
    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let offset = offset.min(text.len());
    1 + text[..offset].matches('\n').count()
}

impl Walker<'_> {
    fn line_of(&self, raw: &RawValue) -> usize {
        self.base_line - 1 + line_of(self.text, raw)
    }

    fn what(&self) -> String {
        self.field
            .map_or_else(|| "value".to_string(), |f| format!("field `{f}`"))
    }

    fn collect(
        &self,
        raw: &RawValue,
        segs: &[&str],
        out: &mut Vec<Located>,
    ) -> Result<(), DataError> {
        let s = raw.get().trim_start();
        let line = self.line_of(raw);
        let bad = |m: String| DataError::at(self.path, line, m);
        if s.starts_with('[') {
            let items: Vec<&RawValue> =
                serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
            if let Some(i) = segs.first().and_then(|g| g.parse::<usize>().ok()) {
                let item = items.get(i).ok_or_else(|| {
                    bad(format!(
                        "{}: index {i} out of range (array of {})",
                        self.what(),
                        items.len()
                    ))
                })?;
                return self.collect(item, &segs[1..], out);
            }
            for item in items {
                self.collect(item, segs, out)?;
            }
            return Ok(());
        }
        if self.skip_missing && s.starts_with("null") {
            self.skipped.set(self.skipped.get() + 1);
            return Ok(());
        }
        match segs.split_first() {
            None => {
                let value = if s.starts_with('"') {
                    let text: String =
                        serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
                    parse_number(&text)
                } else {
                    parse_number(s)
                };
                let value = value.ok_or_else(|| {
                    bad(format!(
                        "{} is {}, not a number (allowed: a finite number or a numeric string)",
                        self.what(),
                        s.chars().take(40).collect::<String>()
                    ))
                })?;
                out.push(Located { line, value });
                Ok(())
            }
            Some((seg, rest)) => {
                if !s.starts_with('{') {
                    return Err(bad(format!(
                        "{}: cannot look up `{seg}` in {}",
                        self.what(),
                        s.chars().take(40).collect::<String>()
                    )));
                }
                let map: BTreeMap<String, &RawValue> =
                    serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
                match map.get(*seg) {
                    Some(child) => self.collect(child, rest, out),
                    None if self.skip_missing => {
                        self.skipped.set(self.skipped.get() + 1);
                        Ok(())
                    }
                    None => {
                        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                        Err(bad(format!(
                            "{}: no key `{seg}` here; keys are: {}",
                            self.what(),
                            keys.join(", ")
                        )))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(ext: &str, body: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(ext).tempfile().unwrap();
        f.write_all(body.as_bytes()).unwrap();
        f
    }

    fn values(xs: &[Located]) -> Vec<(usize, f64)> {
        xs.iter().map(|x| (x.line, x.value)).collect()
    }

    #[test]
    fn csv_column_by_header() {
        let f = file(".csv", "a,b\n1,2.5\n3, 4\n");
        let got = read_samples(f.path(), None, Some("b")).unwrap();
        assert_eq!(values(&got), vec![(2, 2.5), (3, 4.0)]);
        let e = read_samples(f.path(), None, Some("c")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":1: no column `c`; the header has: a, b"),
            "{e}"
        );
        let e = read_samples(f.path(), None, None).unwrap_err();
        assert!(e
            .to_string()
            .contains("2 columns (a, b); choose one with --field"));
    }

    #[test]
    fn csv_non_number_names_the_line() {
        let f = file(".csv", "t\n1\n2\nabc\n");
        let e = read_samples(f.path(), None, None).unwrap_err();
        assert!(
            e.to_string().ends_with(
                ":4: column `t`: `abc` is not a number (allowed: a finite decimal number)"
            ),
            "{e}"
        );
    }

    #[test]
    fn json_nested_paths_keep_lines() {
        let f = file(
            ".json",
            "{\"runs\": [\n {\"m\": {\"t\": 1.5}},\n {\"m\": {\"t\": \"2\"}}\n]}",
        );
        let got = read_samples(f.path(), None, Some("runs.m.t")).unwrap();
        assert_eq!(values(&got), vec![(2, 1.5), (3, 2.0)]);
        let got = read_samples(f.path(), None, Some("runs.1.m.t")).unwrap();
        assert_eq!(values(&got), vec![(3, 2.0)]);
        let e = read_samples(f.path(), None, Some("runs.m.x")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":2: field `runs.m.x`: no key `x` here; keys are: t"),
            "{e}"
        );
    }

    #[test]
    fn json_array_of_numbers_and_bad_element() {
        let f = file(".json", "[1,\n2,\ntrue]");
        let e = read_samples(f.path(), None, None).unwrap_err();
        assert!(
            e.to_string().ends_with(
                ":3: value is true, not a number (allowed: a finite number or a numeric string)"
            ),
            "{e}"
        );
    }

    #[test]
    fn jsonl_lines() {
        let f = file(".jsonl", "{\"x\": 1}\n\n{\"x\": 2}\n{\"y\": 3}\n");
        let e = read_samples(f.path(), None, Some("x")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":4: field `x`: no key `x` here; keys are: y"),
            "{e}"
        );
        let f = file(".jsonl", "{\"x\": 1}\n{\"x\": 2\n");
        let e = read_samples(f.path(), None, Some("x")).unwrap_err();
        assert!(e.to_string().contains(":2: invalid JSON"), "{e}");
    }

    #[test]
    fn skip_missing_counts_records_without_the_field() {
        // A trace-like file: a header line without the field, a null, two values.
        let f = file(
            ".jsonl",
            "{\"type\": \"header\"}\n{\"fetch_s\": 1.5}\n{\"fetch_s\": null}\n{\"fetch_s\": 2}\n",
        );
        let (got, skipped) = read_samples_with(f.path(), None, Some("fetch_s"), true).unwrap();
        assert_eq!(values(&got), vec![(2, 1.5), (4, 2.0)]);
        assert_eq!(skipped, 2);
        assert!(read_samples(f.path(), None, Some("fetch_s")).is_err());
        let c = file(".csv", "a,b\n1,\n2,3\n");
        let (got, skipped) = read_samples_with(c.path(), None, Some("b"), true).unwrap();
        assert_eq!((values(&got), skipped), (vec![(3, 3.0)], 1));
    }

    #[test]
    fn negative_latency_names_the_line() {
        let xs = [
            Located {
                line: 2,
                value: 1.0,
            },
            Located {
                line: 3,
                value: -0.5,
            },
        ];
        let e = check_latencies(Path::new("f.csv"), "column `t`", &xs).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:3: column `t` is -0.5; latencies must be >= 0 (remove or fix the row)"
        );
    }
}
