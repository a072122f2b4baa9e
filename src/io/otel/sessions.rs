//! From spans to agent sessions: which spans are LLM calls and which are web actions, which
//! `invoke_agent` span (or trace) each belongs to. The rules are those of `docs/otel.md`.

use std::collections::BTreeMap;

use super::spans::{Span, KIND_SERVER};
use super::{OtelError, Rules};

/// One LLM call (the outermost LLM span of its subtree).
#[derive(Clone, Debug, PartialEq)]
pub struct LlmCall {
    /// Start and end, Unix nanoseconds.
    pub start: u64,
    /// End.
    pub end: u64,
    /// Every model name the span gives (request, response, OpenInference), first = canonical.
    pub models: Vec<String>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
}

impl LlmCall {
    /// The name the call is counted under: the request model, else the response model,
    /// else `llm.model_name`.
    pub fn model(&self) -> &str {
        self.models
            .first()
            .map_or("(unnamed model)", String::as_str)
    }

    /// Whether `name` is one of the call's model names.
    pub fn is(&self, name: &str) -> bool {
        self.models.iter().any(|m| m == name)
    }
}

/// One web action: an HTTP client span, or a tool span that fetched a page.
#[derive(Clone, Debug, PartialEq)]
pub struct WebAction {
    /// Start, Unix nanoseconds.
    pub start: u64,
    /// End.
    pub end: u64,
    /// The page: `specsim.page.url`, `url.full`/`http.url`, the last HTTP request inside a
    /// tool span, or the span name.
    pub url: String,
    /// `specsim.page.out_degree` of the span or of a span inside it.
    pub out_degree: Option<u32>,
    /// HTTP status of the last request.
    pub status: Option<u64>,
    /// Response body bytes.
    pub bytes: Option<u64>,
    /// Start of the HTTP request the URL came from (the last one wins).
    url_at: Option<u64>,
}

/// A session's spans reduced to calls and actions.
#[derive(Clone, Debug, PartialEq)]
pub struct RawSession {
    /// Session id: the trace id, or `trace/span` when a trace holds several agent runs.
    pub id: String,
    /// Start of the session, Unix nanoseconds.
    pub start: u64,
    /// End of the session.
    pub end: u64,
    /// LLM calls, by start.
    pub calls: Vec<LlmCall>,
    /// Web actions, by start.
    pub actions: Vec<WebAction>,
}

fn is_llm(s: &Span) -> bool {
    matches!(
        s.attrs.operation.as_deref(),
        Some("chat" | "text_completion" | "generate_content")
    ) || s.attrs.oi_kind.as_deref() == Some("LLM")
}

fn is_agent(s: &Span) -> bool {
    s.attrs.operation.as_deref() == Some("invoke_agent")
        || s.attrs.oi_kind.as_deref() == Some("AGENT")
}

fn is_tool(s: &Span) -> bool {
    s.attrs.operation.as_deref() == Some("execute_tool")
        || s.attrs.oi_kind.as_deref() == Some("TOOL")
}

fn is_http(s: &Span) -> bool {
    s.attrs.http_method.is_some() && s.kind != KIND_SERVER
}

enum Item {
    Call(LlmCall),
    Action(WebAction),
}

/// What a span found inside an agent run, with the run it belongs to.
struct Found {
    agent: Option<usize>,
    start: u64,
    item: Item,
}

/// Groups spans into sessions. `files` names the input files in errors.
pub fn sessions(
    mut spans: Vec<Span>,
    files: &[String],
    rules: &mut Rules,
) -> Result<(Vec<RawSession>, u64), OtelError> {
    spans.sort_by(|a, b| (&a.trace, &a.id, a.at).cmp(&(&b.trace, &b.id, b.at)));
    let before = spans.len();
    spans.dedup_by(|b, a| a.trace == b.trace && a.id == b.id);
    rules.duplicate_spans += (before - spans.len()) as u64;
    let mut out = Vec::new();
    let mut traces = 0;
    let mut i = 0;
    while i < spans.len() {
        let j = i + spans[i..]
            .iter()
            .take_while(|s| s.trace == spans[i].trace)
            .count();
        traces += 1;
        one_trace(&spans[i..j], files, rules, &mut out)?;
        i = j;
    }
    out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    Ok((out, traces))
}

fn one_trace(
    spans: &[Span],
    files: &[String],
    rules: &mut Rules,
    out: &mut Vec<RawSession>,
) -> Result<(), OtelError> {
    let n = spans.len();
    let index: BTreeMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.parent.as_deref().map(|p| index.get(p)) {
            None => roots.push(i),
            Some(None) => {
                rules.spans_with_missing_parent += 1;
                roots.push(i);
            }
            Some(Some(&p)) => children[p].push(i),
        }
    }
    let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (spans[i].start, spans[i].end, i));
    by_start(&mut roots);
    for c in &mut children {
        by_start(c);
    }
    // Pre-order, iteratively (no recursion on untrusted depth).
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children[i].iter().rev());
    }
    if order.len() < n {
        let mut seen = vec![false; n];
        for &i in &order {
            seen[i] = true;
        }
        let s = &spans[seen.iter().position(|x| !x).unwrap_or(0)];
        return Err(OtelError::at(
            &files[s.at.file],
            s.at.line,
            Some((s.trace.clone(), s.id.clone())),
            format!(
                "span `{}` is its own ancestor: its parent chain (parentSpanId) forms a cycle",
                s.name
            ),
        ));
    }
    // Whether an HTTP request runs below a span, outside any LLM call.
    let mut http_below = vec![false; n];
    for &i in order.iter().rev() {
        http_below[i] = children[i]
            .iter()
            .any(|&c| !is_llm(&spans[c]) && (is_http(&spans[c]) || http_below[c]));
    }
    #[derive(Clone, Copy)]
    struct Ctx {
        in_llm: bool,
        web: Option<usize>,
        agent: Option<usize>,
    }
    let mut found: Vec<Found> = Vec::new();
    let mut stack: Vec<(usize, Ctx)> = roots
        .iter()
        .rev()
        .map(|&r| {
            (
                r,
                Ctx {
                    in_llm: false,
                    web: None,
                    agent: None,
                },
            )
        })
        .collect();
    let mut agents = Vec::new();
    while let Some((i, mut ctx)) = stack.pop() {
        let s = &spans[i];
        if ctx.agent.is_none() && is_agent(s) {
            ctx.agent = Some(i);
            agents.push(i);
        }
        if is_llm(s) {
            if ctx.in_llm {
                rules.nested_llm_spans += 1;
            } else {
                let a = &s.attrs;
                let models: Vec<String> = [&a.request_model, &a.response_model, &a.oi_model]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                found.push(Found {
                    agent: ctx.agent,
                    start: s.start,
                    item: Item::Call(LlmCall {
                        start: s.start,
                        end: s.end,
                        models,
                        input_tokens: a.input_tokens,
                        output_tokens: a.output_tokens,
                    }),
                });
                ctx.in_llm = true;
            }
        } else if ctx.in_llm {
            rules.http_spans_in_llm_calls += u64::from(is_http(s));
        } else if let Some(w) = ctx.web {
            if let Item::Action(act) = &mut found[w].item {
                if act.out_degree.is_none() {
                    act.out_degree = s.attrs.out_degree;
                }
                if is_http(s) {
                    if act.url_at.is_none_or(|t| s.start >= t) {
                        if let Some(u) = &s.attrs.url {
                            act.url = u.clone();
                            act.url_at = Some(s.start);
                        }
                    }
                    act.status = s.attrs.status.or(act.status);
                    act.bytes = s.attrs.body_size.or(act.bytes);
                }
            }
        } else {
            let a = &s.attrs;
            let tool_fetch =
                is_tool(s) && (http_below[i] || a.page_url.is_some() || a.url.is_some());
            if tool_fetch || is_http(s) {
                let given = a.page_url.clone().or_else(|| a.url.clone());
                ctx.web = Some(found.len());
                found.push(Found {
                    agent: ctx.agent,
                    start: s.start,
                    item: Item::Action(WebAction {
                        start: s.start,
                        end: s.end,
                        url_at: given.as_ref().map(|_| u64::MAX),
                        url: given.unwrap_or_else(|| s.name.clone()),
                        out_degree: a.out_degree,
                        status: a.status,
                        bytes: a.body_size,
                    }),
                });
            }
        }
        for &c in children[i].iter().rev() {
            stack.push((c, ctx));
        }
    }
    let trace = &spans[0].trace;
    let mut sessions: Vec<RawSession> = if agents.is_empty() {
        vec![RawSession {
            id: trace.clone(),
            start: spans.iter().map(|s| s.start).min().unwrap_or(0),
            end: spans.iter().map(|s| s.end).max().unwrap_or(0),
            calls: Vec::new(),
            actions: Vec::new(),
        }]
    } else {
        agents.sort_by_key(|&a| (spans[a].start, a));
        agents
            .iter()
            .map(|&a| RawSession {
                id: if agents.len() == 1 {
                    trace.clone()
                } else {
                    format!("{trace}/{}", spans[a].id)
                },
                start: spans[a].start,
                end: spans[a].end,
                calls: Vec::new(),
                actions: Vec::new(),
            })
            .collect()
    };
    for f in found {
        let target = match (f.agent, agents.is_empty()) {
            (_, true) => Some(0),
            (Some(a), false) => agents.iter().position(|&x| x == a),
            // Outside every agent span (e.g. under a span whose parent is missing): the
            // latest agent run whose time contains it.
            (None, false) => sessions
                .iter()
                .rposition(|s| s.start <= f.start && f.start <= s.end),
        };
        match (target, f.item) {
            (Some(k), Item::Call(c)) => sessions[k].calls.push(c),
            (Some(k), Item::Action(a)) => sessions[k].actions.push(a),
            (None, Item::Call(_)) => rules.calls_outside_sessions += 1,
            (None, Item::Action(_)) => rules.actions_outside_sessions += 1,
        }
    }
    for s in &mut sessions {
        s.calls.sort_by_key(|c| (c.start, c.end));
        s.actions.sort_by_key(|a| (a.start, a.end));
    }
    out.extend(sessions);
    Ok(())
}
