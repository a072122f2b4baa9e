//! Joining the results directories of a sweep's shards into one.

use std::path::{Path, PathBuf};

use crate::io::results::{Manifest, Results, ResultsError};
use crate::sweep::Shard;

/// The outcome of merging shard directories.
#[derive(Debug)]
pub struct Merged {
    /// The merged manifest (as an unsharded run's).
    pub manifest: Manifest,
    /// Every row.
    pub results: Results,
    /// Enumeration positions of the cells no shard had.
    pub missing: Vec<usize>,
    /// Ids of cells found in more than one shard (kept once: they were identical).
    pub duplicated: Vec<String>,
    /// The shard each input directory holds, in the order given.
    pub shards: Vec<Option<Shard>>,
}

fn invalid(path: &Path, message: String) -> ResultsError {
    ResultsError::Invalid {
        path: path.display().to_string(),
        message,
    }
}

/// Joins shard outputs; refuses different scenarios or tool versions, and conflicting rows.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, ResultsError> {
    let mut first: Option<(PathBuf, Manifest)> = None;
    let mut all: Option<Results> = None;
    let mut duplicated = Vec::new();
    let mut shards = Vec::new();
    for d in dirs {
        let (m, r) = Results::read(d)?;
        if let Some((fp, f)) = &first {
            if m.scenario_hash != f.scenario_hash {
                return Err(invalid(d, format!(
                    "is a shard of a different scenario (hash {}) than {} (hash {}): refusing to merge",
                    m.scenario_hash, fp.display(), f.scenario_hash)));
            }
            if m.version != f.version {
                return Err(invalid(
                    d,
                    format!(
                        "was written by specsim {} but {} by specsim {}: refusing to merge",
                        m.version,
                        fp.display(),
                        f.version
                    ),
                ));
            }
        } else {
            first = Some((d.clone(), m.clone()));
        }
        shards.push(Shard::parse(&m.shard).ok());
        let all = all.get_or_insert_with(|| Results::new(&m.axes));
        match all.absorb(r) {
            Ok(dups) => duplicated.extend(dups.into_iter().map(|i| m.cell_ids[i].clone())),
            Err(i) => {
                return Err(invalid(
                    d,
                    format!(
                        "cell {} differs from the same cell in another shard",
                        m.cell_ids[i]
                    ),
                ))
            }
        }
    }
    let (Some((_, f)), Some(all)) = (first, all) else {
        return Err(ResultsError::Invalid {
            path: "merge".into(),
            message: "no result directories given".into(),
        });
    };
    let missing: Vec<usize> = (0..f.cell_ids.len()).filter(|i| !all.has(*i)).collect();
    let manifest = Manifest {
        shard: Shard::ALL.to_string(),
        cells_in_shard: f.cells_total,
        cells_done: all.len(),
        complete: missing.is_empty(),
        ..f
    };
    Ok(Merged {
        manifest,
        results: all,
        missing,
        duplicated,
        shards,
    })
}

/// Positions as ranges: `0-4, 9, 12-13` (at most `max` ranges, then how many more).
fn ranges(positions: &[usize], max: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < positions.len() {
        let mut j = i;
        while j + 1 < positions.len() && positions[j + 1] == positions[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            positions[i].to_string()
        } else {
            format!("{}-{}", positions[i], positions[j])
        });
        i = j + 1;
    }
    if out.len() > max {
        let more = out.len() - max;
        out.truncate(max);
        out.push(format!("and {more} more ranges"));
    }
    out.join(", ")
}

impl Merged {
    /// What is missing, in one line: the shards nobody gave and the incomplete ones, with
    /// cell positions as ranges (never the raw list of cell ids).
    pub fn missing_summary(&self) -> String {
        let n = self.missing.len();
        let total = self.manifest.cells_total;
        let mut parts = Vec::new();
        let counts: Vec<u32> = self.shards.iter().flatten().map(|s| s.count).collect();
        let common = counts
            .first()
            .copied()
            .filter(|c| *c > 1 && counts.iter().all(|x| x == c));
        match common {
            Some(count) => {
                for index in 1..=count {
                    let shard = Shard { index, count };
                    let lost: Vec<usize> = self
                        .missing
                        .iter()
                        .copied()
                        .filter(|&i| shard.owns(i))
                        .collect();
                    if lost.is_empty() {
                        continue;
                    }
                    let owned = (0..total).filter(|&i| shard.owns(i)).count();
                    if !self.shards.contains(&Some(shard)) {
                        parts.push(format!("shard {shard} was not given ({owned} cells)"));
                    } else {
                        parts.push(format!(
                            "shard {shard} is incomplete ({} of its {owned} cells missing: cells {}; continue it with `specsim sweep ... --shard {shard} --resume`)",
                            lost.len(),
                            ranges(&lost, 8)
                        ));
                    }
                }
            }
            None => parts.push(format!("cells {}", ranges(&self.missing, 8))),
        }
        format!(
            "{n} cells missing from every shard: {} (cells are numbered 0..{} in enumeration order)",
            parts.join("; "),
            total.saturating_sub(1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact() {
        assert_eq!(ranges(&[0, 1, 2, 3, 4, 9, 12, 13], 8), "0-4, 9, 12-13");
        assert_eq!(ranges(&[1, 3, 5, 7], 2), "1, 3, and 2 more ranges");
    }
}
