//! A calibration stored with the command that made it, so that others (`specsim reproduce`)
//! can show its answer without rerunning minutes of simulations, and can tell when the
//! scenario, the observe file or the settings changed since (the inputs' hash).

use serde::{Deserialize, Serialize};

use super::{inputs_hash, Calibration, Settings};

/// What `specsim calibrate --record FILE` writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The command that regenerates this file (paths as given, relative to where it ran).
    pub command: String,
    /// The settings it ran with, as given (part of the inputs' hash).
    pub settings: Settings,
    /// The answer.
    pub calibration: Calibration,
}

/// Whether a record still describes its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The scenario, observations and settings hash to the recorded value.
    Current,
    /// They changed: the recorded answer is for other inputs.
    Stale {
        /// The hash recorded.
        recorded: String,
        /// The hash of the inputs now.
        now: String,
    },
}

impl Record {
    /// Parses a record; the error names `source` and the field.
    pub fn parse(text: &str, source: &str) -> Result<Record, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            let inner = e.into_inner();
            if at == "." {
                // serde_json's message already ends with the line and column.
                format!("{source}: {inner}")
            } else {
                format!("{source}: {at}: {inner}")
            }
        })
    }

    /// The record as written: pretty JSON, one trailing newline.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record serialises") + "\n"
    }

    /// Compares the recorded inputs' hash with that of `scenario_text` and `observe_text`
    /// under the recorded settings.
    pub fn freshness(&self, scenario_text: &str, observe_text: &str) -> Freshness {
        let now = inputs_hash(scenario_text, observe_text, &self.settings);
        if now == self.calibration.inputs_hash {
            Freshness::Current
        } else {
            Freshness::Stale {
                recorded: self.calibration.inputs_hash.clone(),
                now,
            }
        }
    }
}
