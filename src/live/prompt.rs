//! What the target and the drafts are asked, and how their replies are read.
//!
//! A page is offered WebWalker-style: the task, the page's URL, title and text (cut to
//! `max_page_chars`), then numbered buttons `[n] label`, one per link. The target replies
//! `CLICK [n]` or `ANSWER: ...`; a draft replies with up to `k` lines `[n] label`, most
//! likely first. Replies are read leniently (see [`read_target`] and [`read_draft`]); a
//! target reply that names no valid button is [`Decision::Unparseable`].

use super::chat::Message;
use super::html::Link;

/// What the model sees of one page.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The session's task.
    pub task: &'a str,
    /// Iteration index.
    pub step: u32,
    /// Page URL.
    pub url: &'a str,
    /// Page title.
    pub title: &'a str,
    /// Page text.
    pub text: &'a str,
    /// The buttons.
    pub buttons: &'a [Link],
    /// Most characters of text shown.
    pub max_chars: usize,
}

const TARGET_SYSTEM: &str = "You are a web agent solving a task by browsing a website. \
Each turn you see the current page and its buttons. Reply with exactly one line: \
`CLICK [n]` to press button n, or `ANSWER: <your answer>` once you can answer the task.";

fn page_message(v: &View<'_>) -> String {
    let text = match v.text.char_indices().nth(v.max_chars) {
        Some((i, _)) => &v.text[..i],
        None => v.text,
    };
    let mut s = format!(
        "Task: {}\nStep: {}\nURL: {}\nTitle: {}\nPage text:\n{}\n\nButtons:\n",
        v.task, v.step, v.url, v.title, text
    );
    for (i, b) in v.buttons.iter().enumerate() {
        s.push_str(&format!("[{i}] {}\n", b.label));
    }
    if v.buttons.is_empty() {
        s.push_str("(none: this page has no links)\n");
    }
    s
}

/// The target's messages for a page.
pub fn target_messages(v: &View<'_>) -> Vec<Message> {
    vec![
        Message::new("system", TARGET_SYSTEM),
        Message::new("user", page_message(v)),
    ]
}

/// The reminder appended when the target's reply named no valid button.
pub fn reminder(reply: &str, buttons: usize) -> Vec<Message> {
    vec![
        Message::new("assistant", reply),
        Message::new(
            "user",
            format!(
                "That reply names no valid button. Reply with exactly one line: `CLICK [n]` with n from 0 to {}, or `ANSWER: <your answer>`.",
                buttons.saturating_sub(1)
            ),
        ),
    ]
}

/// A draft's messages for a page.
pub fn draft_messages(v: &View<'_>, k: usize) -> Vec<Message> {
    vec![
        Message::new(
            "system",
            format!(
                "You predict which buttons a web agent will press next. Reply with exactly {k} lines, most likely first, each `[n] label`, and nothing else."
            ),
        ),
        Message::new(
            "user",
            format!("{}\nList exactly {k} buttons, most likely first.", page_message(v)),
        ),
    ]
}

/// What the target decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Press button `n`.
    Click(usize),
    /// Answer the task.
    Answer(String),
    /// The reply names no valid button and does not answer.
    Unparseable,
}

/// The first `[n]` in `s` with `n < buttons`.
fn bracketed(s: &str, buttons: usize) -> Option<usize> {
    let mut rest = s;
    while let Some(i) = rest.find('[') {
        rest = &rest[i + 1..];
        if let Some(j) = rest.find(']') {
            if let Ok(n) = rest[..j].trim().parse::<usize>() {
                if n < buttons {
                    return Some(n);
                }
            }
        }
    }
    None
}

fn strip_decoration(line: &str) -> &str {
    line.trim()
        .trim_start_matches(['-', '*', '`', '>', '#'])
        .trim_end_matches('`')
        .trim()
}

/// Reads one line as a button: `[n] ...`, `CLICK n`, `n`, `n. label` or an exact label.
fn button_of(line: &str, buttons: &[Link]) -> Option<usize> {
    let line = strip_decoration(line);
    if line.is_empty() {
        return None;
    }
    if let Some(n) = bracketed(line, buttons.len()) {
        return Some(n);
    }
    let upper = line.to_ascii_uppercase();
    let rest = if upper.starts_with("CLICK") {
        line[5..].trim_start_matches([':', ' '])
    } else {
        line
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        let after = rest[digits.len()..].chars().next();
        if after.is_none_or(|c| !c.is_alphanumeric()) {
            if let Ok(n) = digits.parse::<usize>() {
                if n < buttons.len() {
                    return Some(n);
                }
            }
        }
    }
    let rest = rest.trim().trim_matches('"');
    buttons
        .iter()
        .position(|b| b.label.eq_ignore_ascii_case(rest))
}

/// Reads the target's reply: `ANSWER...` on a line answers; otherwise the first line naming a
/// valid button clicks it; otherwise [`Decision::Unparseable`].
pub fn read_target(reply: &str, buttons: &[Link]) -> Decision {
    for line in reply.lines() {
        let l = strip_decoration(line);
        if l.get(..6).is_some_and(|h| h.eq_ignore_ascii_case("answer")) {
            let text = l[6..].trim_start_matches([':', ' ']).trim();
            return Decision::Answer(text.to_string());
        }
    }
    reply
        .lines()
        .find_map(|l| button_of(l, buttons))
        .map_or(Decision::Unparseable, Decision::Click)
}

/// Reads a draft's reply: up to `k` distinct valid buttons, in the order given. Lines that
/// name no valid button are skipped.
pub fn read_draft(reply: &str, buttons: &[Link], k: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(k);
    for l in reply.lines() {
        if out.len() == k {
            break;
        }
        if let Some(n) = button_of(l, buttons) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons() -> Vec<Link> {
        ["Home", "About us", "Admissions"]
            .iter()
            .enumerate()
            .map(|(i, l)| Link {
                url: format!("http://x/{i}"),
                label: l.to_string(),
            })
            .collect()
    }

    #[test]
    fn target_replies_in_many_shapes() {
        let b = buttons();
        assert_eq!(read_target("CLICK [2]", &b), Decision::Click(2));
        assert_eq!(read_target("I think...\n`CLICK 1`", &b), Decision::Click(1));
        assert_eq!(read_target("click: about us", &b), Decision::Click(1));
        assert_eq!(
            read_target("ANSWER: March 3", &b),
            Decision::Answer("March 3".into())
        );
        assert_eq!(read_target("CLICK [7]", &b), Decision::Unparseable);
        assert_eq!(read_target("12 monkeys", &b), Decision::Unparseable);
        assert_eq!(read_target("", &b), Decision::Unparseable);
    }

    #[test]
    fn draft_lists_are_ranked_distinct_and_capped() {
        let b = buttons();
        assert_eq!(
            read_draft(
                "[2] Admissions\n[2] again\nnonsense\n0. Home\n[1] About us",
                &b,
                2
            ),
            vec![2, 0]
        );
        assert_eq!(
            read_draft("{\"garbage\": true}", &b, 3),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn prompts_number_buttons_and_cut_text() {
        let b = buttons();
        let v = View {
            task: "t",
            step: 4,
            url: "http://x/",
            title: "T",
            text: "abcdef",
            buttons: &b,
            max_chars: 3,
        };
        let m = target_messages(&v);
        assert!(m[1]
            .content
            .contains("Step: 4\nURL: http://x/\nTitle: T\nPage text:\nabc\n\nButtons:\n[0] Home\n[1] About us\n[2] Admissions\n"));
        assert!(draft_messages(&v, 3)[1]
            .content
            .ends_with("List exactly 3 buttons, most likely first."));
    }
}
