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

/// An error of live mode: bad configuration, or a run that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The configuration (file or flags) is invalid.
    #[error("{0}")]
    Config(String),
    /// Something failed while running (server, trace file, ...).
    #[error("{0}")]
    Run(String),
}
