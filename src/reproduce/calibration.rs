//! The section of `specsim reproduce` that asks whether one parameter set is consistent with
//! every figure the paper reports for a benchmark. A calibration takes minutes, so the
//! section prints the answers `specsim calibrate --record` stored in
//! `scenarios/paper/calibrate/`, after checking that the scenario, the observe file and the
//! settings they were made from are still the current ones (the inputs' hash).

use crate::calibrate::record::{Freshness, Record};
use crate::calibrate::text::render;

/// A paper benchmark's calibration inputs and stored answer, as shipped.
pub struct PaperCalibration {
    /// Benchmark, as in [`super::PAPER_SCENARIOS`].
    pub benchmark: &'static str,
    /// Observe file name (in `scenarios/paper/calibrate/`).
    pub observe: &'static str,
    /// Its text.
    pub observe_text: &'static str,
    /// Stored answer's file name (same directory).
    pub result: &'static str,
    /// Its text.
    pub result_text: &'static str,
}

/// The calibrations shipped with the tool.
pub const PAPER_CALIBRATIONS: [PaperCalibration; 2] = [
    PaperCalibration {
        benchmark: "WebWalkerQA",
        observe: "webwalkerqa.observe.json",
        observe_text: include_str!("../../scenarios/paper/calibrate/webwalkerqa.observe.json"),
        result: "webwalkerqa.result.json",
        result_text: include_str!("../../scenarios/paper/calibrate/webwalkerqa.result.json"),
    },
    PaperCalibration {
        benchmark: "MuWC",
        observe: "muwc.observe.json",
        observe_text: include_str!("../../scenarios/paper/calibrate/muwc.observe.json"),
        result: "muwc.result.json",
        result_text: include_str!("../../scenarios/paper/calibrate/muwc.result.json"),
    },
];

/// A stored answer, judged against the current inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// It was made from the current inputs.
    Current(Box<Record>),
    /// The inputs changed since: its numbers describe other inputs.
    Stale {
        /// The record (for its command).
        record: Box<Record>,
        /// The inputs' hash it recorded.
        recorded: String,
        /// The inputs' hash now.
        now: String,
    },
    /// The observe file or the answer cannot be read.
    Unavailable(String),
}

/// One benchmark's entry of the section.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// Benchmark.
    pub benchmark: String,
    /// Where the answer is stored.
    pub result_source: String,
    /// Its status.
    pub status: Status,
}

/// Judges the stored answer `result` (source, text) of `benchmark` against the current
/// scenario and observe file texts.
pub fn check(
    benchmark: &str,
    scenario_text: &str,
    observe_text: Result<&str, String>,
    result: (&str, Result<&str, String>),
) -> Stored {
    let (result_source, result_text) = result;
    let status = match (observe_text, result_text) {
        (Err(e), _) | (_, Err(e)) => Status::Unavailable(e),
        (Ok(observe), Ok(text)) => match Record::parse(text, result_source) {
            Err(e) => Status::Unavailable(e),
            Ok(record) => match record.freshness(scenario_text, observe) {
                Freshness::Current => Status::Current(Box::new(record)),
                Freshness::Stale { recorded, now } => Status::Stale {
                    record: Box::new(record),
                    recorded,
                    now,
                },
            },
        },
    };
    Stored {
        benchmark: benchmark.to_string(),
        result_source: result_source.to_string(),
        status,
    }
}

/// The section as text.
pub fn render_section(stored: &[Stored]) -> String {
    let mut out = String::from(
        "\nIs one parameter set consistent with every figure? (specsim calibrate: history matching \
         of draft accuracy, back-tracking, out-degree spread, LLM and fetch times; stored answers, \
         not rerun here; an inference about the paper's setup, not a reproduction; docs/reproduce.md)\n",
    );
    for s in stored {
        match &s.status {
            Status::Current(r) => {
                out.push_str(&format!(
                    "\n{}: from {} (inputs hash {}, current; regenerate: {})\n",
                    s.benchmark, s.result_source, r.calibration.inputs_hash, r.command
                ));
                out.push_str(&render(&r.calibration));
            }
            Status::Stale {
                record,
                recorded,
                now,
            } => out.push_str(&format!(
                "\n{}: stale: {} was made from other inputs (hash {recorded}; the scenario, observe file and settings now hash to {now}): rerun {}\n",
                s.benchmark, s.result_source, record.command
            )),
            Status::Unavailable(why) => out.push_str(&format!(
                "\n{}: no stored calibration: {why}\n",
                s.benchmark
            )),
        }
    }
    out
}
