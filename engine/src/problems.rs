//! Collecting input problems with the field path that caused each one.
//!
//! Validation never stops at the first problem: users fix files faster when they see all of
//! them. Every problem names the field path (`drafts[0].accuracy.top1`), the value and
//! what is allowed.

use std::fmt;

/// One problem in an input, at a field path.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Dotted field path, e.g. `cache.capacity` or `drafts[1].latency.sigma`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An accumulator of problems.
#[derive(Clone, Debug, Default)]
pub struct Problems {
    items: Vec<Problem>,
}

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem at `path`.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.items.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded problems, in the order found.
    pub fn items(&self) -> &[Problem] {
        &self.items
    }

    /// Consumes the accumulator.
    pub fn into_vec(self) -> Vec<Problem> {
        self.items
    }

    /// Checks `value` is finite and `>= 0`.
    pub fn non_negative(&mut self, path: &str, value: f64) -> bool {
        if value.is_finite() && value >= 0.0 {
            true
        } else {
            self.push(path, format!("must be a finite number >= 0, got {value}"));
            false
        }
    }

    /// Checks `value` is finite and `> 0`.
    pub fn positive(&mut self, path: &str, value: f64) -> bool {
        if value.is_finite() && value > 0.0 {
            true
        } else {
            self.push(path, format!("must be a finite number > 0, got {value}"));
            false
        }
    }

    /// Checks `value` is a probability in `[0, 1]`.
    pub fn probability(&mut self, path: &str, value: f64) -> bool {
        if (0.0..=1.0).contains(&value) {
            true
        } else {
            self.push(
                path,
                format!("must be a probability in [0, 1], got {value}"),
            );
            false
        }
    }
}

/// Joins a parent path and a field name.
pub fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// Joins a parent path and an index.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
