//! Live mode: SpecCache for real, over HTTP, against OpenAI-compatible LLM APIs.
//!
//! The rules are the simulator's own ([`crate::sim::model::SpecCache`]), run in a live world
//! ([`world`]) under a wall clock with an HTTP fetcher and real LLM calls instead of the
//! sampled world's virtual clock and samplers. Every run writes a trace in the project's
//! format ([`crate::io::trace`]).
//!
//! - [`config`]: the live configuration file and its validation.
//! - [`retry`]: timeouts, jittered backoff, `Retry-After`, the stop flag (Ctrl-C).
//! - [`html`]: HTML to text and links with a real parser.
//! - [`web`]: the page fetcher (size cap, origin rules, redirects).
//! - [`chat`]: the Chat Completions client (API keys never leave it).
//! - [`prompt`]: what the target and drafts are asked, and how their replies are read.
//! - [`world`]: the live world, under which the simulator's own SpecCache rules run the
//!   agent against real pages and LLMs, and the wall-clock event loop; writes the trace.
//! - [`exec`]: how the world's calls are carried out (threads and real clients, or a virtual
//!   clock and mocks for tests).
//! - [`site_server`], [`llm_server`]: local stand-ins for a website and an LLM API, on
//!   [`server`] (axum on a tokio runtime).
//! - [`validate`]: replays a live trace in the simulator and reports the error.
//! - [`collector`]: `specsim collect`, an OTLP/HTTP receiver writing an OTLP JSON file.
//! - [`crawl`]: a site's link graph as the agent sees it, for scenarios and `serve-llm`.

pub mod chat;
pub mod collector;
pub mod config;
pub mod crawl;
pub mod exec;
pub mod html;
pub mod llm_server;
pub mod prompt;
pub mod retry;
pub mod server;
pub mod site_server;
pub mod validate;
pub mod web;
pub mod world;

/// An error of live mode, named by where it happened.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A file could not be read.
    #[error("{file}: cannot read {what}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What it was meant to be (`live config`, ...).
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON, or a field has the wrong type or an unknown name.
    #[error("{file}: {at}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The field path, or `line L column C`.
        at: String,
        /// What is wrong, and the fix when there is an obvious one.
        message: String,
    },
    /// Values are out of range or inconsistent: every problem, by field.
    #[error("{}", problems.iter().map(|p| format!("{file}: {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file (or `<flags>`).
        file: String,
        /// Every problem found.
        problems: Vec<crate::scenario::problems::Problem>,
    },
    /// An API key could not be read from its environment variable.
    #[error(transparent)]
    Key(#[from] chat::KeyError),
    /// A trace could not be read.
    #[error(transparent)]
    Trace(#[from] crate::io::trace::TraceError),
    /// A trace cannot be validated: it is not a live run's, or lacks a field validation needs.
    #[error("{file}: {message}")]
    NotLive {
        /// The trace.
        file: String,
        /// What is missing or wrong.
        message: String,
    },
    /// A server could not listen on its address.
    #[error("cannot listen on {bind}: {source}")]
    Listen {
        /// The address.
        bind: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An output file could not be opened.
    #[error("{file}: cannot open for appending: {source}")]
    Open {
        /// The file.
        file: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The trace of a live run could not be written.
    #[error("cannot write the trace: {0}")]
    WriteTrace(#[source] std::io::Error),
}

impl LiveError {
    /// True when the user's input is at fault (exit 2), false for a failure of the run (1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LiveError::Read { .. }
                | LiveError::Parse { .. }
                | LiveError::Invalid { .. }
                | LiveError::Key(_)
                | LiveError::Trace(_)
                | LiveError::NotLive { .. }
        )
    }
}
