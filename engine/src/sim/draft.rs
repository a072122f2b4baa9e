//! Draft models: how often the draft's ranked top-k list contains the target's next page.
//!
//! Accuracy is stated as a cumulative table `[P(1), P(2), ...]` or as a top-1 accuracy `a`
//! with a `decay`: the chance that rank `j` is right, given ranks before it were wrong, is
//! `a * decay^(j-1)`, so `P(k) = 1 - prod_{j<=k} (1 - a * decay^(j-1))`. Wrong entries are
//! other links of the current page, drawn uniformly without replacement.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::problems::{index, join, Problems};
use crate::sim::llm::{Llm, LlmSpec};
use crate::sim::rng::uniform_index;
use crate::sim::site::PageId;

/// A draft LLM as written in a scenario file.
///
/// ```json
/// {"name": "gpt-4.1-mini",
///  "latency": {"latency": {"dist": "lognormal", "median": 1.2, "sigma": 0.4}},
///  "accuracy": {"cumulative": [0.62, 0.76, 0.833]}}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftSpec {
    /// A label for reports.
    #[serde(default)]
    pub name: String,
    /// The draft call's latency profile.
    pub latency: LlmSpec,
    /// How often its list contains the true next page.
    pub accuracy: AccuracySpec,
}

/// Draft accuracy: exactly one of `cumulative`, or `top1` (with optional `decay`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracySpec {
    /// Cumulative top-k accuracy `[P(1), P(2), ...]`, non-decreasing, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cumulative: Option<Vec<f64>>,
    /// Top-1 accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top1: Option<f64>,
    /// Decay of the conditional accuracy per rank (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<f64>,
}

/// A validated draft.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Label.
    pub name: String,
    /// Latency profile.
    pub llm: Llm,
    accuracy: Accuracy,
}

/// A validated accuracy law.
#[derive(Clone, Debug, PartialEq)]
pub enum Accuracy {
    /// Cumulative table; ranks past its end add nothing.
    Cumulative(Vec<f64>),
    /// Top-1 accuracy and decay.
    Decay { top1: f64, decay: f64 },
}

impl AccuracySpec {
    /// Validates the accuracy law.
    pub fn build(&self, path: &str, p: &mut Problems) -> Option<Accuracy> {
        match (&self.cumulative, self.top1) {
            (Some(c), None) => {
                let before = p.items().len();
                if self.decay.is_some() {
                    p.push(
                        join(path, "decay"),
                        "applies to `top1` only, not to `cumulative`",
                    );
                }
                if c.is_empty() {
                    p.push(
                        join(path, "cumulative"),
                        "must hold at least P(1), got an empty list",
                    );
                }
                let mut last = 0.0;
                for (i, &v) in c.iter().enumerate() {
                    let f = index(&join(path, "cumulative"), i);
                    if p.probability(&f, v) && v < last {
                        p.push(f, format!("must be >= the previous entry ({last}): the table is cumulative, got {v}"));
                    }
                    last = v.max(last);
                }
                (p.items().len() == before).then(|| Accuracy::Cumulative(c.clone()))
            }
            (None, Some(a)) => {
                let decay = self.decay.unwrap_or(0.5);
                let ok = p.probability(&join(path, "top1"), a)
                    & p.probability(&join(path, "decay"), decay);
                ok.then_some(Accuracy::Decay { top1: a, decay })
            }
            _ => {
                p.push(path, "give exactly one of `cumulative` or `top1`");
                None
            }
        }
    }
}

impl DraftSpec {
    /// Validates the draft.
    pub fn build(&self, path: &str, p: &mut Problems) -> Option<Draft> {
        let llm = self.latency.build(&join(path, "latency"), p);
        let accuracy = self.accuracy.build(&join(path, "accuracy"), p);
        Some(Draft {
            name: self.name.clone(),
            llm: llm?,
            accuracy: accuracy?,
        })
    }
}

impl Accuracy {
    /// Cumulative accuracy `P(k)` of a list of width `k` (`P(0) = 0`).
    pub fn p_at(&self, k: usize) -> f64 {
        match self {
            Accuracy::Cumulative(c) => {
                if k == 0 || c.is_empty() {
                    0.0
                } else {
                    c[k.min(c.len()) - 1]
                }
            }
            Accuracy::Decay { top1, decay } => {
                let mut miss = 1.0;
                let mut q = *top1;
                for _ in 0..k {
                    miss *= 1.0 - q;
                    q *= decay;
                }
                1.0 - miss
            }
        }
    }

    /// Draws the rank (0-based) of the true page in a list of width `k`, or `None`.
    pub fn draw_rank<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Option<usize> {
        let u: f64 = rng.random();
        (0..k).find(|&j| u < self.p_at(j + 1))
    }
}

impl Draft {
    /// Builds a draft from parts (tests and tools).
    pub fn new(name: &str, llm: Llm, accuracy: Accuracy) -> Self {
        Draft {
            name: name.to_string(),
            llm,
            accuracy,
        }
    }

    /// The accuracy law.
    pub fn accuracy(&self) -> &Accuracy {
        &self.accuracy
    }

    /// Writes the draft's ranked list of width `k` for a page with out-links `links`, when
    /// the target will choose `truth`, into `out` (cleared first).
    pub fn predict<R: Rng + ?Sized>(
        &self,
        links: &[PageId],
        truth: Option<PageId>,
        k: usize,
        rng: &mut R,
        out: &mut Vec<PageId>,
    ) {
        out.clear();
        // The scan for the truth among the links only matters when the list covers them all.
        if k >= links.len() && truth.is_some_and(|t| links.contains(&t)) {
            out.extend_from_slice(links); // the whole action space fits in the list
            return;
        }
        let rank = truth.and_then(|_| self.accuracy.draw_rank(k, rng));
        let wrong = k - usize::from(rank.is_some());
        pick_distinct(links, wrong, truth, rng, out);
        if let (Some(r), Some(t)) = (rank, truth) {
            out.insert(r.min(out.len()), t);
        }
    }
}

/// Appends up to `k` distinct links chosen uniformly without replacement, never `exclude`
/// and never a page already in `out`. Allocation-free: rejection sampling when the list is
/// sparse in the links, a rotating scan otherwise.
pub fn pick_distinct<R: Rng + ?Sized>(
    links: &[PageId],
    k: usize,
    exclude: Option<PageId>,
    rng: &mut R,
    out: &mut Vec<PageId>,
) {
    let base = out.len();
    let eligible = |v: PageId, out: &Vec<PageId>| Some(v) != exclude && !out[..].contains(&v);
    if k == 0 || links.is_empty() {
        return;
    }
    // Sparse case: at least 4k eligible links (counting them exactly is O(degree), so the
    // test uses the lower bound len - 1). Rejection sampling then needs few draws.
    // The tries are bounded because a graph file may repeat a link.
    if k * 4 < links.len() {
        let mut tries = 0;
        while out.len() - base < k && tries < 64 * k {
            let v = links[uniform_index(rng, links.len())];
            if eligible(v, out) {
                out.push(v);
            }
            tries += 1;
        }
        if out.len() - base == k {
            return;
        }
        out.truncate(base);
    }
    let available = links.iter().filter(|&&v| Some(v) != exclude).count();
    let want = k.min(available);
    if want == 0 {
        return;
    }
    // Dense case: selection sampling (Knuth's algorithm S) over the eligible links keeps
    // every subset equally likely, in link order; shuffle the picks' order afterwards.
    let mut need = want;
    let mut left = available;
    for &v in links {
        if Some(v) == exclude {
            continue;
        }
        if uniform_index(rng, left) < need && !out[base..].contains(&v) {
            out.push(v);
            need -= 1;
            if need == 0 {
                break;
            }
        }
        left -= 1;
    }
    let picked = &mut out[base..];
    for i in (1..picked.len()).rev() {
        let j = uniform_index(rng, i + 1);
        picked.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, StreamKey};

    #[test]
    fn decay_law_is_cumulative() {
        let a = Accuracy::Decay {
            top1: 0.6,
            decay: 0.5,
        };
        assert_eq!(a.p_at(0), 0.0);
        assert!((a.p_at(1) - 0.6).abs() < 1e-12);
        assert!((a.p_at(2) - (1.0 - 0.4 * 0.7)).abs() < 1e-12);
        assert!((a.p_at(3) - (1.0 - 0.4 * 0.7 * 0.85)).abs() < 1e-12);
        let c = Accuracy::Cumulative(vec![0.5, 0.7]);
        assert_eq!(c.p_at(5), 0.7);
    }

    #[test]
    fn list_contains_truth_at_stated_rate() {
        // 40k draws, P(3) = 0.8: binomial sd = 0.002; tolerance 0.01 (5 sd).
        let d = Draft::new(
            "d",
            Llm::constant(1.0),
            Accuracy::Cumulative(vec![0.5, 0.7, 0.8]),
        );
        let links: Vec<u32> = (100..150).collect();
        let mut out = Vec::new();
        let mut hits = 0;
        let n = 40_000;
        for i in 0..n {
            let mut r = StreamKey::root(5).rng(i, 0, Purpose::DraftPick);
            d.predict(&links, Some(120), 3, &mut r, &mut out);
            assert_eq!(out.len(), 3);
            let mut s = out.clone();
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), 3, "entries are distinct");
            assert!(out.iter().all(|v| links.contains(v)));
            hits += usize::from(out.contains(&120));
        }
        let rate = hits as f64 / n as f64;
        assert!((rate - 0.8).abs() < 0.01, "rate {rate}");
    }

    #[test]
    fn wide_list_covers_every_link() {
        let d = Draft::new("d", Llm::constant(1.0), Accuracy::Cumulative(vec![0.0]));
        let mut out = Vec::new();
        let mut r = StreamKey::root(1).rng(0, 0, Purpose::DraftPick);
        d.predict(&[4, 5, 6], Some(5), 3, &mut r, &mut out);
        assert_eq!(out, vec![4, 5, 6]);
    }

    #[test]
    fn pick_distinct_is_uniform_in_the_dense_case() {
        // 6 links, pick 4 excluding one: each of the 5 eligible links is picked with
        // probability 4/5. 20k draws: sd 0.0028, tolerance 0.015.
        let links = [1, 2, 3, 4, 5, 6];
        let mut count = [0usize; 7];
        let mut out = Vec::new();
        for i in 0..20_000 {
            out.clear();
            let mut r = StreamKey::root(2).rng(i, 0, Purpose::RandomPick);
            pick_distinct(&links, 4, Some(3), &mut r, &mut out);
            assert_eq!(out.len(), 4);
            for &v in &out {
                count[v as usize] += 1;
            }
        }
        assert_eq!(count[3], 0);
        for v in [1, 2, 4, 5, 6] {
            let f = count[v] as f64 / 20_000.0;
            assert!((f - 0.8).abs() < 0.015, "link {v}: {f}");
        }
    }

    #[test]
    fn repeated_links_never_hang_or_repeat() {
        let links = [5, 5, 5, 5, 5, 5, 5, 5, 5, 7];
        let mut out = Vec::new();
        let mut r = StreamKey::root(4).rng(0, 0, Purpose::RandomPick);
        pick_distinct(&links, 2, None, &mut r, &mut out);
        out.sort_unstable();
        assert!(
            out.len() <= 2 && out.windows(2).all(|w| w[0] != w[1]),
            "{out:?}"
        );
    }

    #[test]
    fn accuracy_must_be_one_form_and_monotone() {
        let mut p = Problems::new();
        let s = AccuracySpec {
            cumulative: Some(vec![0.5, 0.4]),
            ..Default::default()
        };
        assert!(s.build("drafts[0].accuracy", &mut p).is_none());
        assert_eq!(
            p.items()[0].to_string(),
            "drafts[0].accuracy.cumulative[1]: must be >= the previous entry (0.5): the table is cumulative, got 0.4"
        );
        let mut p = Problems::new();
        assert!(AccuracySpec::default().build("a", &mut p).is_none());
        assert_eq!(
            p.items()[0].message,
            "give exactly one of `cumulative` or `top1`"
        );
    }
}
