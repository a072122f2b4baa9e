//! Replaying recorded runs: a trace turned into a site and trajectories the model can run.
//!
//! The site is what the trace knows of the web: every page it names, with the out-links it
//! recorded (`root_links`, `links`, or the header's graph file). A page whose links were not
//! recorded but whose `out_degree` was gets placeholder pages so its action space has the
//! recorded size (the true next page among them): random prefetching and a draft's wrong
//! guesses then choose among as many links as the real agent did. A page with neither keeps
//! the pages the trace saw the agent click from it.
//!
//! Every latency the trace recorded is attached to its iteration ([`Recorded`]) and
//! replayed as is; the model draws the rest from the scenario's distributions and counts
//! both (`values_replayed`, `values_drawn` in the report).

use std::collections::BTreeMap;
use std::path::Path;

use crate::io::trace::{
    read_trace, DraftCall, Header, IterationLine, PageRef, Trace, TraceAction, TraceError,
};
use crate::scenario::limits::MAX_PAGES;
use crate::scenario::problems::Problems;
use crate::sim::site::{GraphFile, Page, PageId, Site};
use crate::sim::time::{secs_to_nanos, Nanos};
use crate::sim::trajectory::{Action, Recorded, RecordedDraft, Step, Trajectory};

/// A trace ready to replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The trace's header.
    pub header: Header,
    /// The pages and links the trace knows of.
    pub site: Site,
    /// One trajectory per session, in trace order.
    pub trajectories: Vec<Trajectory>,
    /// Session ids, parallel to `trajectories`.
    pub sessions: Vec<String>,
    /// What the trace recorded and what the replay had to make up.
    pub stats: ReplayStats,
}

/// Counts of what a trace recorded and what its replay filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplayStats {
    /// Sessions.
    pub sessions: u64,
    /// Iterations (clicks + backs + answers).
    pub iterations: u64,
    /// `click` iterations.
    pub clicks: u64,
    /// `back` iterations.
    pub backs: u64,
    /// `answer` iterations.
    pub answers: u64,
    /// Pages the trace (or its graph) names.
    pub pages: u64,
    /// Placeholder pages added to reach recorded out-degrees.
    pub placeholder_pages: u64,
    /// Pages whose out-links were recorded (a list, or the graph).
    pub pages_with_links: u64,
    /// Pages whose out-degree only was recorded.
    pub pages_with_degree_only: u64,
    /// Pages the agent left by a click whose links and degree are unknown (their links
    /// are only the clicks seen from them).
    pub pages_unknown_degree: u64,
    /// Clicks to a page missing from the recorded links of the page they left (added).
    pub clicks_off_links: u64,
    /// Iterations with a recorded target latency.
    pub recorded_target: u64,
    /// Page visits with a recorded fetch latency.
    pub recorded_fetch: u64,
    /// Sessions with a recorded root fetch latency.
    pub recorded_root_fetch: u64,
    /// Iterations with recorded extra stages.
    pub recorded_stages: u64,
    /// Recorded draft calls.
    pub recorded_drafts: u64,
    /// Recorded draft calls with predictions.
    pub recorded_predictions: u64,
    /// Iterations with a recorded `other_s` (time neither LLM nor web).
    pub recorded_other: u64,
}

/// Reads, validates and builds a replay of the trace at `path`.
pub fn load_trace(path: &Path) -> Result<Replay, TraceError> {
    let trace = read_trace(path)?;
    Replay::from_trace(&trace, path.parent())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Nothing,
    Degree(u32),
    Links,
}

/// Pages by trace reference, links per page, and what is known of each page's links.
struct Builder {
    pages: Vec<Page>,
    by_ref: BTreeMap<PageRef, PageId>,
    by_name: BTreeMap<String, PageId>,
    graph_pages: u32,
    links: Vec<Vec<PageId>>,
    known: Vec<Known>,
    fetch_overrides: Vec<crate::sim::dist::Dist>,
}

impl Builder {
    fn page(
        &mut self,
        r: &PageRef,
        file: &str,
        line: usize,
        field: &str,
    ) -> Result<PageId, TraceError> {
        if let Some(&id) = self.by_ref.get(r) {
            return Ok(id);
        }
        let id = match r {
            PageRef::Id(i) if self.graph_pages > 0 => {
                if *i >= self.graph_pages {
                    return Err(TraceError::at(
                        file,
                        line,
                        field,
                        format!(
                            "page {i} does not exist in the header's graph (pages 0..{})",
                            self.graph_pages - 1
                        ),
                    ));
                }
                *i
            }
            PageRef::Name(n) if self.by_name.contains_key(n) => self.by_name[n],
            _ => {
                let name = match r {
                    PageRef::Id(i) => i.to_string(),
                    PageRef::Name(n) => n.clone(),
                };
                self.new_page(name)
            }
        };
        self.by_ref.insert(r.clone(), id);
        Ok(id)
    }

    fn new_page(&mut self, name: String) -> PageId {
        let id = self.pages.len() as PageId;
        self.pages.push(Page {
            name,
            bytes: 0,
            fetch: None,
        });
        self.links.push(Vec::new());
        self.known.push(Known::Nothing);
        id
    }

    fn add_link(&mut self, u: PageId, v: PageId) {
        let l = &mut self.links[u as usize];
        if !l.contains(&v) {
            l.push(v);
        }
    }

    fn record_links(
        &mut self,
        u: PageId,
        links: Option<&Vec<PageRef>>,
        degree: Option<u32>,
        file: &str,
        line: usize,
        field: &str,
    ) -> Result<(), TraceError> {
        if let Some(links) = links {
            for (j, r) in links.iter().enumerate() {
                let v = self.page(r, file, line, &format!("{field}[{j}]"))?;
                self.add_link(u, v);
            }
            self.known[u as usize] = Known::Links;
        } else if let Some(d) = degree {
            match self.known[u as usize] {
                Known::Links => {}
                Known::Degree(e) => self.known[u as usize] = Known::Degree(e.max(d)),
                Known::Nothing => self.known[u as usize] = Known::Degree(d),
            }
        }
        Ok(())
    }
}

fn recorded(
    it: &IterationLine,
    b: &mut Builder,
    file: &str,
    line: usize,
) -> Result<Option<Box<Recorded>>, TraceError> {
    let drafts = it
        .drafts
        .iter()
        .enumerate()
        .map(|(d, call): (usize, &DraftCall)| {
            let predictions = call
                .predictions
                .iter()
                .enumerate()
                .map(|(j, r)| b.page(r, file, line, &format!("drafts[{d}].predictions[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RecordedDraft {
                latency: secs_to_nanos(call.latency_s),
                tokens: call.output_tokens.unwrap_or(0),
                predictions,
            })
        })
        .collect::<Result<Vec<_>, TraceError>>()?;
    let r = Recorded {
        target: it
            .target
            .as_ref()
            .map(|t| (secs_to_nanos(t.latency_s), t.output_tokens.unwrap_or(0))),
        fetch: it.fetch_s.map(secs_to_nanos),
        stages: (!it.stages.is_empty()).then(|| {
            it.stages
                .iter()
                .map(|s| secs_to_nanos(s.latency_s))
                .sum::<Nanos>()
        }),
        other: it.other_s.map(secs_to_nanos),
        drafts,
    };
    Ok((r != Recorded::default()).then(|| Box::new(r)))
}

/// Where recorded other time (neither LLM nor web) goes. A visit keeps it: the model runs it
/// after the visit's stages; a visit that records other time but no stages ran none (its
/// stages are replayed as 0 rather than drawn). The answer iteration runs no stages nor other
/// work in the model, so its other time is added to its target call, or failing that to the
/// last visit's other time, or to the root fetch: every session's latency under `none` stays
/// exact.
fn place_other_time(t: &mut Trajectory) {
    for st in &mut t.steps {
        if let Some(r) = st.recorded.as_deref_mut() {
            if r.other.is_some() && r.stages.is_none() {
                r.stages = Some(0);
            }
        }
    }
    let Some(o) = t
        .answer_recorded
        .as_deref_mut()
        .and_then(|r| r.other.take())
    else {
        return;
    };
    let answer = t.answer_recorded.as_deref_mut();
    if let Some((ns, _)) = answer.and_then(|r| r.target.as_mut()) {
        *ns += o;
    } else if let Some(last) = t.steps.last_mut() {
        let r = last.recorded.get_or_insert_with(Default::default);
        r.other = Some(r.other.unwrap_or(0) + o);
        r.stages.get_or_insert(0);
    } else {
        t.root_fetch = Some(t.root_fetch.unwrap_or(0) + o);
    }
    if t.answer_recorded.as_deref() == Some(&Recorded::default()) {
        t.answer_recorded = None;
    }
}

impl Replay {
    /// Builds a replay of a validated trace; `base` resolves the header's graph path.
    pub fn from_trace(trace: &Trace, base: Option<&Path>) -> Result<Replay, TraceError> {
        let file = trace.file.as_str();
        let mut b = Builder {
            pages: Vec::new(),
            by_ref: BTreeMap::new(),
            by_name: BTreeMap::new(),
            graph_pages: 0,
            links: Vec::new(),
            known: Vec::new(),
            fetch_overrides: Vec::new(),
        };
        if let Some(g) = &trace.header.graph {
            let path = match base {
                Some(d) if Path::new(g).is_relative() => d.join(g),
                _ => Path::new(g).to_path_buf(),
            };
            let bad =
                |m: String| TraceError::at(file, 1, "graph", format!("{}: {m}", path.display()));
            let gf = GraphFile::read(&path).map_err(|e| bad(e.to_string()))?;
            let mut p = Problems::new();
            let site = gf.build("graph", &mut p).ok_or_else(|| {
                let msgs: Vec<String> = p.items().iter().map(|x| x.to_string()).collect();
                bad(msgs.join("; "))
            })?;
            for u in 0..site.page_count() as PageId {
                let mut page = site.page(u).clone();
                if let Some(d) = site.fetch_override(u) {
                    b.fetch_overrides.push(d.clone());
                    page.fetch = Some(b.fetch_overrides.len() as u32 - 1);
                }
                if !page.name.is_empty() {
                    b.by_name.entry(page.name.clone()).or_insert(u);
                }
                b.pages.push(page);
                b.links.push(site.links(u).to_vec());
                b.known.push(Known::Links);
            }
            b.graph_pages = site.page_count() as u32;
        }
        let mut stats = ReplayStats::default();
        let mut trajectories = Vec::with_capacity(trace.sessions.len());
        let mut sessions = Vec::with_capacity(trace.sessions.len());
        // (from, to) of every click, checked once all links are known.
        let mut clicks: Vec<(PageId, PageId)> = Vec::new();
        for ts in &trace.sessions {
            let s = &ts.session;
            let root = b.page(&s.root, file, ts.line, "root")?;
            b.record_links(
                root,
                s.root_links.as_ref(),
                s.root_out_degree,
                file,
                ts.line,
                "root_links",
            )?;
            let mut steps = Vec::with_capacity(ts.iterations.len());
            let mut answer = None;
            let mut final_answer = false;
            let mut here = root;
            for (line, it) in &ts.iterations {
                let rec = recorded(it, &mut b, file, *line)?;
                if let Some(r) = &rec {
                    stats.recorded_target += u64::from(r.target.is_some());
                    stats.recorded_fetch += u64::from(r.fetch.is_some());
                    stats.recorded_stages += u64::from(r.stages.is_some());
                    stats.recorded_other += u64::from(r.other.is_some());
                    stats.recorded_drafts += r.drafts.len() as u64;
                    stats.recorded_predictions += r
                        .drafts
                        .iter()
                        .filter(|d| !d.predictions.is_empty())
                        .count() as u64;
                }
                stats.iterations += 1;
                let action = match it.action {
                    TraceAction::Answer => {
                        stats.answers += 1;
                        final_answer = true;
                        // No observation, so no extra stages run after an answer: the model
                        // does not replay them (docs/trace.md).
                        answer = rec.and_then(|mut r| {
                            r.stages = None;
                            (*r != Recorded::default()).then_some(r)
                        });
                        continue;
                    }
                    TraceAction::Click => {
                        stats.clicks += 1;
                        Action::Click
                    }
                    TraceAction::Back => {
                        stats.backs += 1;
                        Action::Back
                    }
                };
                let page_ref = it.page.as_ref().ok_or_else(|| {
                    TraceError::at(file, *line, "page", "missing field (validated earlier)")
                })?;
                let v = b.page(page_ref, file, *line, "page")?;
                if action == Action::Click {
                    clicks.push((here, v));
                }
                b.record_links(v, it.links.as_ref(), it.out_degree, file, *line, "links")?;
                steps.push(Step {
                    page: v,
                    action,
                    recorded: rec,
                });
                here = v;
            }
            stats.recorded_root_fetch += u64::from(s.root_fetch_s.is_some());
            let mut t = Trajectory {
                root,
                root_fetch: s.root_fetch_s.map(secs_to_nanos),
                steps,
                final_answer,
                answer_recorded: answer,
            };
            place_other_time(&mut t);
            trajectories.push(t);
            sessions.push(s.session.clone());
        }
        // Every click is a link of the page it left, whatever the recording says.
        let mut left_by_click = vec![false; b.pages.len()];
        for &(u, v) in &clicks {
            left_by_click[u as usize] = true;
            if !b.links[u as usize].contains(&v) {
                if b.known[u as usize] == Known::Links {
                    stats.clicks_off_links += 1;
                }
                b.add_link(u, v);
            }
        }
        stats.pages = b.pages.len() as u64;
        for (u, &left) in left_by_click.iter().enumerate() {
            match b.known[u] {
                Known::Links => stats.pages_with_links += 1,
                Known::Degree(d) => {
                    stats.pages_with_degree_only += 1;
                    let have = b.links[u].len() as u32;
                    let wanted = b.pages.len() as u64 + u64::from(d.saturating_sub(have));
                    if wanted > MAX_PAGES {
                        return Err(TraceError::at(
                            file,
                            1,
                            "out_degree",
                            format!(
                                "the recorded out-degrees need more than {MAX_PAGES} pages with their placeholders, over the limit of this build (docs/scenario.md)"
                            ),
                        ));
                    }
                    for j in have..d {
                        let name = format!("{}#placeholder{}", b.pages[u].name, j - have);
                        let p = b.new_page(name);
                        b.links[u].push(p);
                        stats.placeholder_pages += 1;
                    }
                }
                Known::Nothing => stats.pages_unknown_degree += u64::from(left),
            }
        }
        stats.sessions = trajectories.len() as u64;
        let edges: Vec<[u32; 2]> = b
            .links
            .iter()
            .enumerate()
            .flat_map(|(u, l)| l.iter().map(move |&v| [u as u32, v]))
            .collect();
        let root = trajectories.first().map_or(0, |t| t.root);
        if b.pages.is_empty() {
            b.new_page(String::new());
        }
        let site = Site::from_parts(b.pages, &edges, root, b.fetch_overrides);
        Ok(Replay {
            header: trace.header.clone(),
            site,
            trajectories,
            sessions,
            stats,
        })
    }

    /// The trace's own end-to-end latency of session `s` under no speculation: root fetch
    /// plus, per iteration, target + fetch + stages + other, counting only recorded values. Equals
    /// the simulated session latency under policy `none` when every value was recorded.
    pub fn recorded_session_latency(&self, s: usize) -> Nanos {
        let t = &self.trajectories[s];
        let each = |r: Option<&Recorded>| {
            r.map_or(0, |r| {
                r.target.map_or(0, |x| x.0)
                    + r.fetch.unwrap_or(0)
                    + r.stages.unwrap_or(0)
                    + r.other.unwrap_or(0)
            })
        };
        t.root_fetch.unwrap_or(0)
            + t.steps
                .iter()
                .map(|st| each(st.recorded.as_deref()))
                .sum::<Nanos>()
            + each(t.answer_recorded.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::trace::{page_label, parse_trace};

    fn replay(text: &str) -> Replay {
        let t = parse_trace(text.as_bytes(), "t.jsonl").unwrap();
        Replay::from_trace(&t, None).unwrap()
    }

    const HEAD: &str = r#"{"type":"header","format":"specsim-trace","version":1}"#;

    #[test]
    fn out_degree_adds_placeholders_around_the_true_next_page() {
        let text = format!(
            "{HEAD}\n{}\n{}\n{}\n",
            r#"{"type":"session","session":"a","root":"/","root_out_degree":5}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":"/x","out_degree":3}"#,
            r#"{"type":"iteration","session":"a","iteration":1,"action":"back","page":"/"}"#,
        );
        let r = replay(&text);
        let root = r.trajectories[0].root;
        let x = r.trajectories[0].steps[0].page;
        assert_eq!(r.site.links(root).len(), 5);
        assert_eq!(r.site.links(root)[0], x, "the clicked page is a link");
        assert_eq!(r.site.links(x).len(), 3);
        assert_eq!(r.stats.placeholder_pages, 4 + 3);
        assert_eq!(r.site.page_count(), 2 + 7);
        assert_eq!(r.stats.pages_with_degree_only, 2);
        assert_eq!(r.trajectories[0].steps[1].action, Action::Back);
        assert_eq!(r.trajectories[0].steps[1].page, root);
        assert!(!r.trajectories[0].final_answer);
    }

    #[test]
    fn recorded_links_and_values_are_kept() {
        let text = format!(
            "{HEAD}\n{}\n{}\n{}\n",
            r#"{"type":"session","session":"a","root":0,"root_fetch_s":0.5,"root_links":[1,2]}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":3,"target":{"latency_s":2,"output_tokens":7},"fetch_s":1.25,"stages":[{"latency_s":0.5},{"latency_s":0.25}],"drafts":[{"latency_s":0.1,"predictions":[1,3]}]}"#,
            r#"{"type":"iteration","session":"a","iteration":1,"action":"answer","target":{"latency_s":1}}"#,
        );
        let r = replay(&text);
        let t = &r.trajectories[0];
        assert_eq!(t.root_fetch, Some(500_000_000));
        let names: Vec<&str> = r
            .site
            .links(t.root)
            .iter()
            .map(|&p| r.site.page(p).name.as_str())
            .collect();
        assert_eq!(names, vec!["1", "2", "3"], "the off-list click is added");
        assert_eq!(r.stats.clicks_off_links, 1);
        let rec = t.steps[0].recorded.as_deref().unwrap();
        assert_eq!(rec.target, Some((2_000_000_000, 7)));
        assert_eq!(rec.fetch, Some(1_250_000_000));
        assert_eq!(rec.stages, Some(750_000_000));
        assert_eq!(
            rec.drafts[0].predictions,
            vec![r.site.links(t.root)[0], t.steps[0].page]
        );
        assert!(t.final_answer);
        assert_eq!(
            t.answer_recorded.as_deref().unwrap().target,
            Some((1_000_000_000, 0))
        );
        assert_eq!(r.recorded_session_latency(0), 5_500_000_000);
    }

    #[test]
    fn other_time_is_kept_in_the_session_latency() {
        let text = format!(
            "{HEAD}\n{}\n{}\n{}\n{}\n",
            r#"{"type":"session","session":"a","root":"/","root_fetch_s":0.5}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":"/x","target":{"latency_s":2},"fetch_s":1,"other_s":0.25}"#,
            r#"{"type":"iteration","session":"a","iteration":1,"action":"click","page":"/y","target":{"latency_s":2},"fetch_s":1,"stages":[{"latency_s":0.5}],"other_s":0.125}"#,
            r#"{"type":"iteration","session":"a","iteration":2,"action":"answer","target":{"latency_s":1},"stages":[{"latency_s":9}],"other_s":0.0625}"#,
        );
        let r = replay(&text);
        assert_eq!(r.stats.recorded_other, 3);
        let t = &r.trajectories[0];
        let split: Vec<(Option<Nanos>, Option<Nanos>)> = t
            .steps
            .iter()
            .map(|s| {
                let r = s.recorded.as_deref().unwrap();
                (r.stages, r.other)
            })
            .collect();
        // A visit keeps its other time (and runs no stages when none are recorded); the
        // answer's joins its target call.
        assert_eq!(
            split,
            vec![
                (Some(0), Some(250_000_000)),
                (Some(500_000_000), Some(125_000_000))
            ]
        );
        let answer = t.answer_recorded.as_deref().unwrap();
        assert_eq!(answer.target, Some((1_062_500_000, 0)));
        // 0.5 + (2 + 1 + 0.25) + (2 + 1 + 0.5 + 0.125) + (1 + 0.0625); the answer's stages
        // are not replayed.
        assert_eq!(r.recorded_session_latency(0), 8_437_500_000);
    }

    #[test]
    fn an_answer_without_target_puts_its_other_time_on_the_last_visit() {
        let text = format!(
            "{HEAD}\n{}\n{}\n{}\n",
            r#"{"type":"session","session":"a","root":"/"}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":"/x"}"#,
            r#"{"type":"iteration","session":"a","iteration":1,"action":"answer","other_s":0.5}"#,
        );
        let t = &replay(&text).trajectories[0];
        let r = t.steps[0].recorded.as_deref().unwrap();
        assert_eq!((r.stages, r.other), (Some(0), Some(500_000_000)));
        assert!(t.answer_recorded.is_none());
        let text = format!(
            "{HEAD}\n{}\n{}\n",
            r#"{"type":"session","session":"a","root":"/","root_fetch_s":1}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"answer","other_s":0.5}"#,
        );
        assert_eq!(
            replay(&text).trajectories[0].root_fetch,
            Some(1_500_000_000)
        );
    }

    #[test]
    fn ids_outside_the_graph_are_rejected_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("g.json"), r#"{"edges":[[0,1],[1,2]]}"#).unwrap();
        let text = format!(
            "{}\n{}\n{}\n",
            r#"{"type":"header","format":"specsim-trace","version":1,"graph":"g.json"}"#,
            r#"{"type":"session","session":"a","root":0}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":7}"#,
        );
        let t = parse_trace(text.as_bytes(), "t.jsonl").unwrap();
        let e = Replay::from_trace(&t, Some(dir.path())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.jsonl:3: page: page 7 does not exist in the header's graph (pages 0..2)"
        );
        let ok = format!(
            "{}\n{}\n{}\n",
            r#"{"type":"header","format":"specsim-trace","version":1,"graph":"g.json"}"#,
            r#"{"type":"session","session":"a","root":0}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":1}"#,
        );
        let t = parse_trace(ok.as_bytes(), "t.jsonl").unwrap();
        let r = Replay::from_trace(&t, Some(dir.path())).unwrap();
        assert_eq!(r.site.page_count(), 3);
        assert_eq!(r.site.links(1), &[2]);
        assert_eq!(r.stats.pages_with_links, 3);
        assert_eq!(page_label(&PageRef::Id(7)), "page 7");
    }

    #[test]
    fn the_example_trace_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl");
        let r = load_trace(&path).unwrap();
        assert_eq!(r.sessions, vec!["q1", "q2"]);
        let s = &r.stats;
        assert_eq!((s.iterations, s.clicks, s.backs, s.answers), (7, 4, 1, 2));
        assert_eq!(
            (s.recorded_target, s.recorded_fetch, s.recorded_root_fetch),
            (7, 4, 2)
        );
        assert_eq!(
            (s.recorded_stages, s.recorded_drafts, s.recorded_predictions),
            (3, 3, 3)
        );
        // /departments/physics (35) and /admissions (40) have a recorded degree only.
        assert_eq!(s.pages_with_degree_only, 2);
        assert_eq!(s.placeholder_pages, 35 + 39);
        // Every page left by a click has recorded links or a recorded degree.
        assert_eq!(s.pages_unknown_degree, 0);
    }
}
