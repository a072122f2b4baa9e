//! Which cells of a sweep one process runs: shard `I/N` from a flag or from the array-job
//! variables of Slurm or a Kubernetes Indexed Job.

/// Which part of the cells this process runs: shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

/// A shard that cannot be used, naming what the user typed or the variables that were set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--shard` text that is not `I/N` with `1 <= I <= N`.
    #[error("invalid shard `{text}`: expected I/N with 1 <= I <= N, e.g. 2/8")]
    Invalid {
        /// What was given.
        text: String,
    },
    /// An array-job variable that is not an integer.
    #[error("environment variable {name}={value} is not an integer")]
    NotAnInteger {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// `SLURM_ARRAY_TASK_ID` without the size of the array.
    #[error("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --shards N")]
    SlurmCountMissing,
    /// A Slurm task ID outside the array the other variables describe.
    #[error("SLURM_ARRAY_TASK_ID={id} is not a task of the array {described}: the task IDs run {min}..={max}{step_text}, and the shard is read from the ID as 0-based (shard = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / step + 1 of the array's task count); fix the variables or pass --shard I/N", step_text = if *step > 1 { format!(" in steps of {step}") } else { String::new() })]
    SlurmOutOfRange {
        /// `SLURM_ARRAY_TASK_ID`.
        id: i64,
        /// The variables that set the range, as `NAME=value` (defaults marked).
        described: String,
        /// First task ID.
        min: i64,
        /// Last task ID.
        max: i64,
        /// Step between task IDs.
        step: i64,
    },
    /// `JOB_COMPLETION_INDEX` without `--shards`.
    #[error("JOB_COMPLETION_INDEX is set: give the number of completions with --shards N")]
    JobCountMissing,
    /// A Kubernetes completion index outside `0..N`.
    #[error("JOB_COMPLETION_INDEX={index} is outside 0..={} for --shards {count} (the index is 0-based: the job's completions must equal --shards)", *count as i64 - 1)]
    JobIndexOutOfRange {
        /// `JOB_COMPLETION_INDEX`.
        index: i64,
        /// `--shards`.
        count: u32,
    },
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `I/N` (1 <= I <= N).
    pub fn parse(s: &str) -> Result<Shard, ShardError> {
        let err = || ShardError::Invalid { text: s.into() };
        let (a, b) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = a.trim().parse().map_err(|_| err())?;
        let count: u32 = b.trim().parse().map_err(|_| err())?;
        if count == 0 || index == 0 || index > count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }

    /// The shard from array-job variables: Slurm (`SLURM_ARRAY_TASK_ID` with
    /// `SLURM_ARRAY_TASK_COUNT`, or `_MIN`/`_MAX`, and `_STEP`) or a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, 0-based, with `count` given). `None` when neither is set.
    ///
    /// Slurm task IDs are read as 0-based from `SLURM_ARRAY_TASK_MIN` (default 0): task
    /// `MIN` runs shard 1, task `MIN + STEP` shard 2, and so on.
    pub fn from_env(
        get: impl Fn(&str) -> Option<String>,
        count: Option<u32>,
    ) -> Result<Option<Shard>, ShardError> {
        let num = |name: &str| -> Result<Option<i64>, ShardError> {
            match get(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| ShardError::NotAnInteger {
                        name: name.into(),
                        value: v,
                    }),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min_var = num("SLURM_ARRAY_TASK_MIN")?;
            let step_var = num("SLURM_ARRAY_TASK_STEP")?;
            let count_var = num("SLURM_ARRAY_TASK_COUNT")?;
            let max_var = num("SLURM_ARRAY_TASK_MAX")?;
            let min = min_var.unwrap_or(0);
            let step = step_var.unwrap_or(1).max(1);
            let n = match (count_var, max_var) {
                (Some(n), _) => n,
                (None, Some(max)) => (max - min) / step + 1,
                (None, None) => match count {
                    Some(c) => i64::from(c),
                    None => return Err(ShardError::SlurmCountMissing),
                },
            };
            let mut described = vec![format!("SLURM_ARRAY_TASK_ID={id}")];
            described.push(match min_var {
                Some(m) => format!("SLURM_ARRAY_TASK_MIN={m}"),
                None => "SLURM_ARRAY_TASK_MIN unset (0)".into(),
            });
            if let Some(s) = step_var {
                described.push(format!("SLURM_ARRAY_TASK_STEP={s}"));
            }
            match (count_var, max_var) {
                (Some(c), _) => described.push(format!("SLURM_ARRAY_TASK_COUNT={c}")),
                (None, Some(m)) => described.push(format!("SLURM_ARRAY_TASK_MAX={m}")),
                (None, None) => described.push(format!("--shards {n}")),
            }
            let out_of_range = || ShardError::SlurmOutOfRange {
                id,
                described: format!("({})", described[1..].join(", ")),
                min,
                max: min + (n - 1) * step,
                step,
            };
            let offset = id - min;
            if n < 1 || n > i64::from(u32::MAX) || offset < 0 || offset % step != 0 {
                return Err(out_of_range());
            }
            let i = offset / step + 1;
            if i > n {
                return Err(out_of_range());
            }
            return Ok(Some(Shard {
                index: i as u32,
                count: n as u32,
            }));
        }
        if let Some(idx) = num("JOB_COMPLETION_INDEX")? {
            let n = count.ok_or(ShardError::JobCountMissing)?;
            if idx < 0 || idx >= i64::from(n) {
                return Err(ShardError::JobIndexOutOfRange {
                    index: idx,
                    count: n,
                });
            }
            return Ok(Some(Shard {
                index: idx as u32 + 1,
                count: n,
            }));
        }
        Ok(None)
    }

    /// Whether the cell at `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count as usize == (self.index - 1) as usize
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(a, _)| *a == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_partition_cells() {
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for cell in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(cell)).count(), 1);
        }
        assert!(Shard::parse("0/3").is_err());
        assert_eq!(
            Shard::parse("4/3").unwrap_err().to_string(),
            "invalid shard `4/3`: expected I/N with 1 <= I <= N, e.g. 2/8"
        );
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn shards_from_slurm_and_kubernetes() {
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 5, count: 8 }));
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "4"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 3, count: 4 }));
        // --array=0-14:2 has 8 tasks: 0, 2, ..., 14.
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "6"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "14"),
                ("SLURM_ARRAY_TASK_STEP", "2"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 4, count: 8 }));
        let s = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), Some(5));
        assert_eq!(s.unwrap(), Some(Shard { index: 1, count: 5 }));
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), None),
            Err(ShardError::JobCountMissing)
        );
        assert_eq!(Shard::from_env(env(&[]), None).unwrap(), None);
    }

    /// Issue 16: ID 3 of a 3-task array blamed shard `4/3`, which nobody typed.
    #[test]
    fn a_slurm_id_outside_the_array_names_the_variables_not_a_shard() {
        let e = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "SLURM_ARRAY_TASK_ID=3 is not a task of the array (SLURM_ARRAY_TASK_MIN unset (0), SLURM_ARRAY_TASK_COUNT=3): the task IDs run 0..=2, and the shard is read from the ID as 0-based (shard = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / step + 1 of the array's task count); fix the variables or pass --shard I/N"
        );
        assert!(!e.contains("4/3"), "{e}");
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "5")]), Some(5))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("JOB_COMPLETION_INDEX=5 is outside 0..=4 for --shards 5"),
            "{e}"
        );
        let e = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ]),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable SLURM_ARRAY_TASK_ID=x is not an integer"
        );
    }
}
