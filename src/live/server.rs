//! The HTTP server under the stand-ins: `tiny_http` with a pool of worker threads, and a timer
//! that sends each delayed response when it is due, so thousands of delayed responses can
//! wait at once without holding a worker each.
//!
//! A handler reads the request (and its body) and returns the [`Reply`] with the instant it
//! is due. A reply due now is sent by the worker; a later one waits in the timer's queue and
//! is sent by the next free worker when its instant comes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use tiny_http::{Header, Request, Response, Server};

use super::LiveError;

/// A response: status, headers and the whole body (sent with its `Content-Length`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers (name, value); `Date`, `Server` and the length are added when sent.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A reply with a `Content-Type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
        }
    }

    /// The same reply with one more header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    fn send(self, req: Request) {
        let mut resp = Response::from_data(self.body)
            .with_status_code(self.status)
            .with_chunked_threshold(usize::MAX);
        for (name, value) in self.headers {
            if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                resp.add_header(h);
            }
        }
        // A client that has gone away is not the server's problem.
        let _ = req.respond(resp);
    }
}

/// The path of a request target, without its query (`/a/b` of `/a/b?x=1`).
pub fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or("")
}

/// The value of a request header (names compared without case).
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Reads a request (and its body) and answers it: the reply and the instant it is due.
type Handler = dyn Fn(&mut Request) -> (Reply, Instant) + Send + Sync;

enum Job {
    /// A request to handle.
    Handle(Request),
    /// A delayed reply now due.
    Send(Request, Reply),
}

struct Pending {
    at: Instant,
    seq: u64,
    req: Request,
    reply: Reply,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Earliest first out of a max-heap: reversed, ties in arrival order.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct Queue {
    due: BinaryHeap<Pending>,
    seq: u64,
    /// Requests accepted and neither answered nor queued yet.
    handling: usize,
    /// The acceptor has stopped: no new requests.
    closed: bool,
}

#[derive(Default)]
struct Timer {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, f: impl FnOnce(&mut Queue)) {
        f(&mut self.lock());
        self.wake.notify_one();
    }

    /// Hands due replies to the workers until the server is stopped and nothing is left.
    fn run(&self, jobs: Sender<Job>) {
        let mut q = self.lock();
        loop {
            let now = Instant::now();
            while q.due.peek().is_some_and(|p| p.at <= now) {
                if let Some(p) = q.due.pop() {
                    let _ = jobs.send(Job::Send(p.req, p.reply));
                }
            }
            if q.closed && q.handling == 0 && q.due.is_empty() {
                return;
            }
            q = match q.due.peek().map(|p| p.at.saturating_duration_since(now)) {
                Some(wait) => {
                    self.wake
                        .wait_timeout(q, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.wake.wait(q).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

fn work(jobs: &Mutex<Receiver<Job>>, timer: &Timer, handler: &Handler) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(Job::Handle(mut req)) => {
                let (reply, at) = handler(&mut req);
                if at > Instant::now() {
                    timer.update(|q| {
                        q.seq += 1;
                        let seq = q.seq;
                        q.due.push(Pending {
                            at,
                            seq,
                            req,
                            reply,
                        });
                        q.handling -= 1;
                    });
                } else {
                    reply.send(req);
                    timer.update(|q| q.handling -= 1);
                }
            }
            Ok(Job::Send(req, reply)) => reply.send(req),
            Err(_) => return,
        }
    }
}

/// A running server: its address and the thread accepting its requests.
pub struct Running {
    addr: SocketAddr,
    server: Arc<Server>,
    acceptor: Option<JoinHandle<()>>,
}

impl Running {
    /// Binds `bind` (`127.0.0.1:0` picks a free port) and serves with `workers` threads,
    /// each request answered by `handler`.
    pub fn start(
        bind: &str,
        workers: usize,
        handler: impl Fn(&mut Request) -> (Reply, Instant) + Send + Sync + 'static,
    ) -> Result<Running, LiveError> {
        let fail = |source: std::io::Error| LiveError::Listen {
            bind: bind.to_string(),
            source,
        };
        let listener = TcpListener::bind(bind).map_err(fail)?;
        let addr = listener.local_addr().map_err(fail)?;
        let server = Arc::new(
            Server::from_listener(listener, None)
                .map_err(|e| fail(std::io::Error::other(e.to_string())))?,
        );
        let handler: Arc<Handler> = Arc::new(handler);
        let timer = Arc::new(Timer::default());
        let (tx, rx) = channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers.clamp(1, 64) {
            let (rx, timer, handler) = (Arc::clone(&rx), Arc::clone(&timer), Arc::clone(&handler));
            std::thread::spawn(move || work(&rx, &timer, handler.as_ref()));
        }
        let (t, jobs) = (Arc::clone(&timer), tx.clone());
        std::thread::spawn(move || t.run(jobs));
        let s = Arc::clone(&server);
        let acceptor = std::thread::spawn(move || {
            // recv fails only once unblocked by `stop`.
            while let Ok(req) = s.recv() {
                timer.update(|q| q.handling += 1);
                let _ = tx.send(Job::Handle(req));
            }
            timer.update(|q| q.closed = true);
        });
        Ok(Running {
            addr,
            server,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }

    /// Stops accepting connections; requests in progress finish in the background.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Requests already received are answered first (the queue is in order); the listener
        // closes when the acceptor lets go of the server.
        self.server.unblock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Duration;

    /// Answers `/<ms>` after that many milliseconds with the path as the body.
    fn sleepy(req: &mut Request) -> (Reply, Instant) {
        let ms: u64 = req.url().trim_start_matches('/').parse().unwrap_or(0);
        let reply = Reply::new(200, "text/plain", req.url()).with("X-Ms", ms.to_string());
        (reply, Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn delayed_replies_hold_no_worker_and_leave_in_due_order() {
        // One worker, 40 requests of 300 ms at once: all done in about 300 ms, not 12 s.
        let running = Running::start("127.0.0.1:0", 1, sleepy).unwrap();
        let base = format!("http://{}", running.addr());
        let t0 = Instant::now();
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let url = format!("{base}/300");
                std::thread::spawn(move || ureq::get(&url).call().unwrap())
            })
            .collect();
        for t in threads {
            let r = t.join().unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.header("x-ms"), Some("300"));
            assert_eq!(r.header("content-length"), Some("4"));
            assert_eq!(r.into_string().unwrap(), "/300");
        }
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
        // A later request due sooner is answered sooner.
        let (slow, fast) = (format!("{base}/400"), format!("{base}/0"));
        let slow = std::thread::spawn(move || {
            ureq::get(&slow).call().unwrap();
            Instant::now()
        });
        std::thread::sleep(Duration::from_millis(50));
        ureq::get(&fast).call().unwrap();
        assert!(Instant::now() < slow.join().unwrap());
        running.stop();
    }

    #[test]
    fn stop_answers_what_is_pending_and_closes_the_port() {
        let running = Running::start("127.0.0.1:0", 2, sleepy).unwrap();
        let addr = running.addr();
        let pending = std::thread::spawn(move || {
            let mut body = String::new();
            ureq::get(&format!("http://{addr}/200"))
                .call()
                .unwrap()
                .into_reader()
                .read_to_string(&mut body)
                .unwrap();
            body
        });
        std::thread::sleep(Duration::from_millis(50));
        running.stop();
        assert_eq!(pending.join().unwrap(), "/200");
        let t0 = Instant::now();
        while std::net::TcpStream::connect(addr).is_ok() {
            assert!(t0.elapsed() < Duration::from_secs(5), "still listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_port_in_use_is_a_listen_error() {
        let running = Running::start("127.0.0.1:0", 1, sleepy).unwrap();
        let bind = running.addr().to_string();
        match Running::start(&bind, 1, sleepy) {
            Err(LiveError::Listen { bind: b, .. }) => assert_eq!(b, bind),
            Err(e) => panic!("expected a listen error, got {e}"),
            Ok(_) => panic!("bound twice"),
        }
    }

    #[test]
    fn paths_drop_the_query() {
        assert_eq!(path_of("/p/3?x=1"), "/p/3");
        assert_eq!(path_of("/"), "/");
        assert_eq!(path_of("/a#f"), "/a");
    }
}
