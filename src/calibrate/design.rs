//! Where a calibration runs the simulator: Latin-hypercube designs, the first over every
//! parameter's whole range, each later one inside the box of the points still in play.
//!
//! Positions are in the unit cube (one coordinate per parameter, 0 = its minimum, 1 = its
//! maximum on its scale). Draws come from the project's named streams, keyed by the seed
//! and the wave, so a design depends only on them and on the earlier waves' results.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::sim::rng::{Purpose, StreamKey};

/// Separates the design's streams from a simulation's under the same seed.
const DESIGN_TAG: u64 = 0x6361_6c69_6272; // "calibr"

/// A box in the unit cube.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Lower corner.
    pub lo: Vec<f64>,
    /// Upper corner.
    pub hi: Vec<f64>,
}

impl Region {
    /// The whole cube of `dims` dimensions.
    pub fn whole(dims: usize) -> Region {
        Region {
            lo: vec![0.0; dims],
            hi: vec![1.0; dims],
        }
    }

    /// The smallest box holding `points`, widened on each side by `margin` times its own
    /// width plus `floor`, clipped to the cube. `None` without points.
    pub fn around(points: &[&[f64]], margin: f64, floor: f64) -> Option<Region> {
        let first = points.first()?;
        let dims = first.len();
        let mut lo = first.to_vec();
        let mut hi = first.to_vec();
        for p in points {
            for d in 0..dims {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        for d in 0..dims {
            let pad = margin * (hi[d] - lo[d]) + floor;
            lo[d] = (lo[d] - pad).max(0.0);
            hi[d] = (hi[d] + pad).min(1.0);
        }
        Some(Region { lo, hi })
    }
}

/// `n` points of a Latin hypercube in `region`: along every dimension, one point in each of
/// `n` equal slices, at a uniform position inside it, the slices paired at random.
pub fn latin_hypercube(n: usize, region: &Region, seed: u64, wave: u64) -> Vec<Vec<f64>> {
    let dims = region.lo.len();
    let mut rng = StreamKey::root(seed)
        .child(DESIGN_TAG)
        .rng(wave, 0, Purpose::Other);
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(dims);
    for d in 0..dims {
        let mut slots: Vec<usize> = (0..n).collect();
        slots.shuffle(&mut rng);
        let (lo, hi) = (region.lo[d], region.hi[d]);
        columns.push(
            slots
                .into_iter()
                .map(|s| {
                    let u = (s as f64 + rng.random::<f64>()) / n as f64;
                    lo + u * (hi - lo)
                })
                .collect(),
        );
    }
    (0..n)
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hypercube_fills_every_slice_once() {
        let pts = latin_hypercube(10, &Region::whole(3), 1, 1);
        assert_eq!(pts.len(), 10);
        for d in 0..3 {
            let mut slices: Vec<usize> = pts.iter().map(|p| (p[d] * 10.0) as usize).collect();
            slices.sort_unstable();
            assert_eq!(slices, (0..10).collect::<Vec<_>>(), "dimension {d}");
        }
        assert_eq!(pts, latin_hypercube(10, &Region::whole(3), 1, 1));
        assert_ne!(pts, latin_hypercube(10, &Region::whole(3), 1, 2));
    }

    #[test]
    fn refined_regions_hold_their_points() {
        let a = [0.2, 0.5];
        let b = [0.4, 0.9];
        let r = Region::around(&[&a, &b], 0.25, 0.0).unwrap();
        assert!((r.lo[0] - 0.15).abs() < 1e-12 && (r.hi[0] - 0.45).abs() < 1e-12);
        assert!((r.lo[1] - 0.4).abs() < 1e-12 && r.hi[1] == 1.0);
        for p in latin_hypercube(20, &r, 3, 2) {
            assert!(p[0] >= r.lo[0] && p[0] <= r.hi[0] && p[1] >= r.lo[1] && p[1] <= r.hi[1]);
        }
        assert!(Region::around(&[], 0.1, 0.0).is_none());
    }
}
