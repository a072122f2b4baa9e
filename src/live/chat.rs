//! The Chat Completions client: one OpenAI-compatible endpoint (OpenAI, Together, DeepSeek,
//! vLLM, llama.cpp, Ollama, `specsim serve-llm`).
//!
//! The API key is read from the environment variable the configuration names and lives only
//! in an [`ApiKey`], whose `Debug` prints `[redacted]`. It is sent in the `Authorization`
//! header and nowhere else; every error message is scrubbed of it before it leaves this
//! module (a server could echo it back), so it cannot reach traces, logs or errors.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::Endpoint;
use super::retry::{next_step, parse_retry_after, BackoffSpec, Next, Stop};
use super::web::transport;
use crate::sim::rng::{Purpose, StreamKey};

/// An API key. Never printed.
#[derive(Clone)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// An API key that could not be read: the endpoint's field and the variable, never a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The variable is not set.
    #[error("{path}.api_key_env: environment variable {var} is not set (export it, or remove api_key_env for servers without keys)")]
    NotSet {
        /// The endpoint (`target`, `drafts[0]`).
        path: String,
        /// The variable.
        var: String,
    },
    /// The variable is empty.
    #[error("{path}.api_key_env: environment variable {var} is empty")]
    Empty {
        /// The endpoint.
        path: String,
        /// The variable.
        var: String,
    },
}

impl ApiKey {
    /// Reads the key from environment variable `var`; the error names the variable only.
    pub fn from_env(var: &str, path: &str) -> Result<ApiKey, KeyError> {
        let names = || (path.to_string(), var.to_string());
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(ApiKey(v.trim().to_string())),
            Ok(_) => {
                let (path, var) = names();
                Err(KeyError::Empty { path, var })
            }
            Err(_) => {
                let (path, var) = names();
                Err(KeyError::NotSet { path, var })
            }
        }
    }

    /// Replaces every occurrence of the key in `s`.
    pub fn scrub(&self, s: &str) -> String {
        if self.0.len() < 4 {
            return s.to_string();
        }
        s.replace(&self.0, "[redacted]")
    }
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
}

impl Message {
    /// A message with `role` and `content`.
    pub fn new(role: &str, content: impl Into<String>) -> Message {
        Message {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

#[derive(Deserialize)]
struct Response {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ReplyMessage,
}

#[derive(Deserialize)]
struct ReplyMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// A successful call.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The assistant's text.
    pub text: String,
    /// Prompt tokens, when the server reports usage.
    pub input_tokens: Option<u64>,
    /// Completion tokens, when the server reports usage.
    pub output_tokens: Option<u64>,
    /// Attempts made (1 without retries).
    pub attempts: u32,
}

/// A call that failed after its retries. The message names the endpoint and model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChatError(pub String);

/// A client of one endpoint.
#[derive(Clone, Debug)]
pub struct ChatClient {
    agent: ureq::Agent,
    endpoint: Endpoint,
    key: Option<ApiKey>,
    backoff: BackoffSpec,
    jitter: StreamKey,
    stop: Stop,
}

enum Attempt {
    Ok(Reply),
    Retry(String, Option<Duration>),
    Fatal(String),
}

impl ChatClient {
    /// A client; reads the API key now. `path` names the endpoint in errors (`target`).
    pub fn new(
        endpoint: &Endpoint,
        path: &str,
        backoff: BackoffSpec,
        seed: u64,
        proxy: Option<ureq::Proxy>,
        stop: Stop,
    ) -> Result<ChatClient, KeyError> {
        let key = match &endpoint.spec.api_key_env {
            Some(var) => Some(ApiKey::from_env(var, path)?),
            None => None,
        };
        let mut agent = ureq::AgentBuilder::new()
            .timeout_connect(endpoint.connect_timeout)
            .timeout(endpoint.timeout)
            .redirects(0);
        if let Some(p) = proxy {
            agent = agent.proxy(p);
        }
        let agent = agent.build();
        Ok(ChatClient {
            agent,
            endpoint: endpoint.clone(),
            key,
            backoff,
            jitter: StreamKey::root(seed).child(0x006c_6c6d), // "llm"
            stop,
        })
    }

    /// The model name.
    pub fn model(&self) -> &str {
        &self.endpoint.spec.model
    }

    fn scrub(&self, s: String) -> String {
        match &self.key {
            Some(k) => k.scrub(&s),
            None => s,
        }
    }

    /// Sends `messages`, retrying transient failures; `nonce` varies the jitter per call.
    pub fn chat(&self, messages: &[Message], nonce: u64) -> Result<Reply, ChatError> {
        let spec = &self.endpoint.spec;
        let mut req = spec.extra.clone();
        req.insert("model".into(), spec.model.clone().into());
        req.insert(
            "messages".into(),
            serde_json::to_value(messages).unwrap_or_default(),
        );
        if let Some(m) = spec.max_tokens {
            req.insert("max_tokens".into(), m.into());
        }
        if let Some(t) = spec.temperature {
            req.insert("temperature".into(), t.into());
        }
        let body = serde_json::Value::Object(req).to_string();
        let mut rng = self.jitter.rng(nonce, 0, Purpose::Other);
        let mut attempt = 0;
        let what = format!("{} (model {})", self.endpoint.url, self.endpoint.spec.model);
        loop {
            let (m, ra) = match self.attempt(&body, attempt + 1) {
                Attempt::Ok(r) => return Ok(r),
                Attempt::Fatal(m) => return Err(ChatError(self.scrub(format!("{what}: {m}")))),
                Attempt::Retry(m, ra) => (m, ra),
            };
            match next_step(
                &self.backoff,
                self.endpoint.spec.retries,
                attempt,
                ra,
                &mut rng,
            ) {
                Next::Wait(d) => {
                    if !self.stop.sleep(d) {
                        return Err(ChatError(self.scrub(format!("{what}: {m}; interrupted"))));
                    }
                }
                Next::GiveUp(why) => {
                    return Err(ChatError(self.scrub(format!("{what}: {m}; {why}"))));
                }
            }
            attempt += 1;
        }
    }

    fn attempt(&self, body: &str, attempts: u32) -> Attempt {
        let mut req = self
            .agent
            .post(self.endpoint.url.as_str())
            .set("Content-Type", "application/json");
        if let Some(k) = &self.key {
            req = req.set("Authorization", &format!("Bearer {}", k.0));
        }
        let resp = match req.send_string(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let ra = parse_retry_after(r.header("retry-after"));
                let detail = snippet(&r.into_string().unwrap_or_default());
                let m = format!("HTTP {code}: {detail}");
                return if code == 429 || code >= 500 || code == 408 {
                    Attempt::Retry(m, ra)
                } else {
                    Attempt::Fatal(m)
                };
            }
            Err(ureq::Error::Transport(t)) => return Attempt::Retry(transport(&t), None),
        };
        if (300..400).contains(&resp.status()) {
            return Attempt::Fatal(format!(
                "HTTP {} redirect; set base_url to the final address",
                resp.status()
            ));
        }
        let text = match resp.into_string() {
            Ok(t) => t,
            Err(e) => return Attempt::Retry(format!("reading the response failed: {e}"), None),
        };
        match serde_json::from_str::<Response>(&text) {
            Ok(r) => match r.choices.into_iter().next() {
                Some(c) => Attempt::Ok(Reply {
                    text: c.message.content.unwrap_or_default(),
                    input_tokens: r.usage.as_ref().and_then(|u| u.prompt_tokens),
                    output_tokens: r.usage.as_ref().and_then(|u| u.completion_tokens),
                    attempts,
                }),
                None => Attempt::Retry("the response has no choices".into(), None),
            },
            Err(e) => Attempt::Retry(
                format!(
                    "the response is not Chat Completions JSON ({e}): {}",
                    snippet(&text)
                ),
                None,
            ),
        }
    }
}

/// The first 200 characters of a body, on one line.
fn snippet(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &one[..i]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let k = ApiKey("sk-secret-123".into());
        assert_eq!(format!("{k:?}"), "ApiKey([redacted])");
        assert_eq!(
            k.scrub("echo: Bearer sk-secret-123!"),
            "echo: Bearer [redacted]!"
        );
    }

    #[test]
    fn missing_key_variable_is_named_not_valued() {
        let e = ApiKey::from_env("SPECSIM_TEST_SURELY_UNSET_VAR", "target")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(
            "target.api_key_env: environment variable SPECSIM_TEST_SURELY_UNSET_VAR is not set"
        ));
    }
}
