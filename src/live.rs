//! Live mode: SpecCache for real, over HTTP, against OpenAI-compatible LLM APIs.
//!
//! The parts are the simulator's (the [`Cache`](crate::sim::cache::Cache), the
//! [`Policy`](crate::sim::policy::Policy), the draft/prefetch rules of `shared/spec/model.md`),
//! run under a wall clock with an HTTP fetcher and real LLM calls instead of a virtual clock
//! and samplers. Every run writes a trace in the project's format ([`crate::io::trace`]).
//!
//! - [`config`]: the live configuration file and its validation.
//! - [`retry`]: timeouts, jittered backoff, `Retry-After`, the stop flag (Ctrl-C).
//! - [`html`]: HTML to text and links with a real parser.
//! - [`web`]: the page fetcher (size cap, origin rules, redirects).
//! - [`chat`]: the Chat Completions client (API keys never leave it).
//! - [`prompt`]: what the target and drafts are asked, and how their replies are read.
//! - [`agent`]: the agent loop with speculative prefetching, writing the trace.
//! - [`site_server`], [`llm_server`]: local stand-ins for a website and an LLM API, on
//!   [`server`] (axum on a tokio runtime).
//! - [`validate`]: replays a live trace in the simulator and reports the error.
//! - [`crawl`]: a site's link graph as the agent sees it, for scenarios and `serve-llm`.

pub mod agent;
pub mod chat;
pub mod config;
pub mod crawl;
pub mod html;
pub mod llm_server;
pub mod prompt;
pub mod retry;
pub mod server;
pub mod site_server;
pub mod validate;
pub mod web;

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
