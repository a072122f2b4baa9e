//! How the live world's calls are carried out: jobs (a target call, a draft call, a page
//! fetch), the clients that perform them, and executors that run them and report each
//! completion with the time it happened.
//!
//! - [`Threads`]: each job on its own thread against real HTTP clients; completions come back
//!   over a channel, stamped with the wall-clock time since the run started.
//! - [`Virtual`]: each job runs at once against any [`Clients`] (e.g. mocks) and completes after
//!   a delay the caller chooses, on a virtual clock. It lets tests run the live world with no
//!   sockets and compare it with the simulator event for event.

use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::chat::{ChatClient, ChatError, Message, Reply};
use super::html::Link;
use super::prompt::{self, Decision, Pick};
use super::web::{Fetcher, Page, WebError};
use crate::sim::engine::EventKey;
use crate::sim::fetch::FetchId;
use crate::sim::time::{Nanos, SimTime};
use crate::sim::world::SessionId;

/// Who a chat call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The target.
    Target,
    /// Draft `d`.
    Draft(u8),
}

/// The identity of a call, for clients that need more than the messages (mocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallId {
    /// The role.
    pub role: Role,
    /// The session.
    pub session: SessionId,
    /// The iteration.
    pub iteration: u32,
}

/// A Chat Completions endpoint.
pub trait Chat: Send + Sync {
    /// Sends `messages`; `nonce` varies retry jitter between calls.
    fn chat(&self, call: CallId, messages: &[Message], nonce: u64) -> Result<Reply, ChatError>;
}

impl Chat for ChatClient {
    fn chat(&self, _call: CallId, messages: &[Message], nonce: u64) -> Result<Reply, ChatError> {
        ChatClient::chat(self, messages, nonce)
    }
}

/// A page fetcher.
pub trait Web: Send + Sync {
    /// Fetches and parses `url`; `nonce` varies retry jitter between fetches.
    fn fetch(&self, url: &str, nonce: u64) -> Result<Page, WebError>;
}

impl Web for Fetcher {
    fn fetch(&self, url: &str, nonce: u64) -> Result<Page, WebError> {
        Fetcher::fetch(self, url, nonce)
    }
}

/// The clients of a live run.
#[derive(Clone)]
pub struct Clients {
    /// The target.
    pub target: Arc<dyn Chat>,
    /// The drafts.
    pub drafts: Vec<Arc<dyn Chat>>,
    /// The fetcher.
    pub web: Arc<dyn Web>,
}

/// What the target answered, after re-asking while its reply named no valid action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetAnswer {
    /// The decision.
    pub decision: Decision,
    /// Prompt tokens over all attempts, when reported.
    pub input_tokens: Option<u64>,
    /// Completion tokens over all attempts, when reported.
    pub output_tokens: Option<u64>,
}

/// A call to carry out. `key` is the reserved event key its completion is delivered under.
#[derive(Clone, Debug)]
pub enum Job {
    /// Ask the target.
    Target {
        /// Completion key.
        key: EventKey,
        /// Which call.
        call: CallId,
        /// The prompt.
        messages: Vec<Message>,
        /// The buttons offered.
        buttons: Arc<Vec<Link>>,
        /// Whether the back action is offered.
        back: bool,
        /// Times to re-ask when the reply names no valid action.
        retries: u32,
        /// Jitter nonce.
        nonce: u64,
    },
    /// Ask a draft for `width` actions.
    Draft {
        /// Completion key.
        key: EventKey,
        /// Which call.
        call: CallId,
        /// The prompt.
        messages: Vec<Message>,
        /// The buttons offered.
        buttons: Arc<Vec<Link>>,
        /// Whether the back action is offered.
        back: bool,
        /// Actions asked for.
        width: usize,
        /// Jitter nonce.
        nonce: u64,
    },
    /// Fetch a page.
    Fetch {
        /// Completion key.
        key: EventKey,
        /// The model's fetch id.
        fetch: FetchId,
        /// For whom and for which step (mocks key their delays by them).
        session: SessionId,
        /// The step the page is fetched for.
        step: u32,
        /// The URL.
        url: String,
    },
}

/// A completed job.
#[derive(Clone, Debug)]
pub enum Done {
    /// The target answered (or failed for good).
    Target {
        /// Completion key.
        key: EventKey,
        /// Which call.
        call: CallId,
        /// The answer.
        result: Result<TargetAnswer, ChatError>,
    },
    /// A draft answered (or failed).
    Draft {
        /// Completion key.
        key: EventKey,
        /// Which call.
        call: CallId,
        /// Its ranked actions and output tokens.
        result: Result<(Vec<Pick>, Option<u64>), ChatError>,
    },
    /// A fetch finished.
    Fetch {
        /// Completion key.
        key: EventKey,
        /// The model's fetch id.
        fetch: FetchId,
        /// The page, or why not.
        result: Result<Page, String>,
    },
}

impl Job {
    /// Carries the job out with `clients` (blocking).
    pub fn run(self, clients: &Clients) -> Done {
        match self {
            Job::Target {
                key,
                call,
                messages,
                buttons,
                back,
                retries,
                nonce,
            } => Done::Target {
                key,
                call,
                result: ask_target(
                    clients.target.as_ref(),
                    call,
                    messages,
                    &buttons,
                    back,
                    retries,
                    nonce,
                ),
            },
            Job::Draft {
                key,
                call,
                messages,
                buttons,
                back,
                width,
                nonce,
            } => {
                let Role::Draft(d) = call.role else {
                    unreachable!("draft jobs carry a draft role")
                };
                let result = clients.drafts[usize::from(d)]
                    .chat(call, &messages, nonce)
                    .map(|r| {
                        (
                            prompt::read_draft(&r.text, &buttons, back, width),
                            r.output_tokens,
                        )
                    });
                Done::Draft { key, call, result }
            }
            Job::Fetch {
                key, fetch, url, ..
            } => Done::Fetch {
                key,
                fetch,
                result: clients
                    .web
                    .fetch(&url, u64::from(fetch))
                    .map_err(|e| e.to_string()),
            },
        }
    }
}

/// Asks the target, re-asking up to `retries` times while the reply names no valid action.
fn ask_target(
    client: &dyn Chat,
    call: CallId,
    mut messages: Vec<Message>,
    buttons: &[Link],
    back: bool,
    retries: u32,
    nonce: u64,
) -> Result<TargetAnswer, ChatError> {
    let mut input = None;
    let mut output = None;
    let add = |a: &mut Option<u64>, b: Option<u64>| {
        if let Some(b) = b {
            *a = Some(a.unwrap_or(0) + b);
        }
    };
    let mut attempt = 0;
    loop {
        let r = client.chat(call, &messages, nonce ^ (u64::from(attempt) << 56))?;
        add(&mut input, r.input_tokens);
        add(&mut output, r.output_tokens);
        let decision = prompt::read_target(&r.text, buttons, back);
        if decision != Decision::Unparseable || attempt >= retries {
            return Ok(TargetAnswer {
                decision,
                input_tokens: input,
                output_tokens: output,
            });
        }
        messages.extend(prompt::reminder(&r.text, buttons.len()));
        attempt += 1;
    }
}

/// Runs jobs and reports their completions.
pub trait Exec {
    /// Starts `job` at time `now`.
    fn submit(&mut self, now: SimTime, job: Job);
    /// A completion that has arrived, with its time, without waiting.
    fn poll(&mut self) -> Option<(SimTime, Done)>;
    /// Waits until a completion arrives or the clock reaches `deadline` (at most a short
    /// while, so that the caller can check for Ctrl-C).
    fn wait(&mut self, deadline: Option<SimTime>);
    /// The executor's clock: events up to this time are due. A virtual clock is always ahead.
    fn now(&self) -> SimTime;
    /// True for a virtual clock: the run ends when no event is left, stray prefetches
    /// included; under a wall clock it ends when the last session does.
    fn is_virtual(&self) -> bool;
}

/// Real calls, each on its own thread, timed by the wall clock.
pub struct Threads {
    clients: Clients,
    origin: Instant,
    tx: Sender<(SimTime, Done)>,
    rx: Receiver<(SimTime, Done)>,
    stash: Option<(SimTime, Done)>,
}

impl Threads {
    /// An executor whose clock starts now.
    pub fn new(clients: Clients) -> Self {
        let (tx, rx) = channel();
        Threads {
            clients,
            origin: Instant::now(),
            tx,
            rx,
            stash: None,
        }
    }

    fn elapsed(origin: Instant) -> SimTime {
        SimTime(origin.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64)
    }
}

/// Longest single wait, so that Ctrl-C is noticed promptly.
const POLL: Duration = Duration::from_millis(20);

impl Exec for Threads {
    fn submit(&mut self, _now: SimTime, job: Job) {
        let clients = self.clients.clone();
        let tx = self.tx.clone();
        let origin = self.origin;
        std::thread::spawn(move || {
            let done = job.run(&clients);
            let _ = tx.send((Threads::elapsed(origin), done));
        });
    }

    fn poll(&mut self) -> Option<(SimTime, Done)> {
        self.stash.take().or_else(|| self.rx.try_recv().ok())
    }

    fn wait(&mut self, deadline: Option<SimTime>) {
        if self.stash.is_some() {
            return;
        }
        let now = self.now();
        let d = deadline.map_or(POLL, |t| Duration::from_nanos(t.since(now)).min(POLL));
        match self.rx.recv_timeout(d) {
            Ok(m) => self.stash = Some(m),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
    }

    fn now(&self) -> SimTime {
        Threads::elapsed(self.origin)
    }

    fn is_virtual(&self) -> bool {
        false
    }
}

/// Jobs run at once; each completes after `latency(job)` on a virtual clock.
pub struct Virtual<L> {
    clients: Clients,
    latency: L,
    done: VecDeque<(SimTime, Done)>,
}

impl<L: FnMut(&Job) -> Nanos> Virtual<L> {
    /// An executor calling `clients`, with delays from `latency`.
    pub fn new(clients: Clients, latency: L) -> Self {
        Virtual {
            clients,
            latency,
            done: VecDeque::new(),
        }
    }
}

impl<L: FnMut(&Job) -> Nanos> Exec for Virtual<L> {
    fn submit(&mut self, now: SimTime, job: Job) {
        let at = now + (self.latency)(&job);
        self.done.push_back((at, job.run(&self.clients)));
    }

    fn poll(&mut self) -> Option<(SimTime, Done)> {
        self.done.pop_front()
    }

    fn wait(&mut self, _deadline: Option<SimTime>) {}

    fn now(&self) -> SimTime {
        SimTime(u64::MAX)
    }

    fn is_virtual(&self) -> bool {
        true
    }
}
