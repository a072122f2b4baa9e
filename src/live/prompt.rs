//! What the target and the drafts are asked, and how their replies are read.
//!
//! A page is offered WebWalker-style: the task, the page's URL, title and text (cut to
//! `max_page_chars`), then numbered buttons `[n] label`, one per link. When the session has a
//! page to go back to, a `Back: yes` line offers the back action. The target replies
//! `CLICK [n]`, `BACK` or `ANSWER: ...`; a draft replies with up to `k` lines `[n] label` (or
//! `BACK`), most likely first. Replies are read leniently (see [`read_target`] and
//! [`read_draft`]); a target reply that names no valid action is [`Decision::Unparseable`].

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
    /// Whether the back action is offered (there is an earlier page).
    pub back: bool,
    /// Most characters of text shown.
    pub max_chars: usize,
}

const TARGET_SYSTEM: &str = "You are a web agent solving a task by browsing a website. \
Each turn you see the current page and its buttons. Reply with exactly one line: \
`CLICK [n]` to press button n, `BACK` to return to the previous page (when the page says \
`Back: yes`), or `ANSWER: <your answer>` once you can answer the task.";

fn page_message(v: &View<'_>) -> String {
    let text = match v.text.char_indices().nth(v.max_chars) {
        Some((i, _)) => &v.text[..i],
        None => v.text,
    };
    let mut s = format!(
        "Task: {}\nStep: {}\nURL: {}\nTitle: {}\nPage text:\n{}\n\nButtons:\n",
        v.task, v.step, v.url, v.title, text
    );
    if v.back {
        // Before the buttons, so that readers of the button list are not disturbed.
        s.insert_str(
            s.len() - "\nButtons:\n".len(),
            "Back: yes (BACK returns to the previous page)\n",
        );
    }
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
    /// Go back to the previous page.
    Back,
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

/// Whether a line is the back action (`BACK`, `CLICK BACK`, `[back]`, any case).
fn is_back(line: &str) -> bool {
    let l = strip_decoration(line);
    let l = l
        .strip_prefix("CLICK")
        .or_else(|| l.strip_prefix("click"))
        .unwrap_or(l)
        .trim_start_matches([':', ' '])
        .trim_matches(['[', ']', '.']);
    l.eq_ignore_ascii_case("back")
}

/// One entry of a draft's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Button `n`.
    Button(usize),
    /// The back action.
    Back,
}

/// Reads the target's reply: `ANSWER...` on a line answers; otherwise the first line naming a
/// valid button clicks it, or the back action when `back` is offered; otherwise
/// [`Decision::Unparseable`].
pub fn read_target(reply: &str, buttons: &[Link], back: bool) -> Decision {
    for line in reply.lines() {
        let l = strip_decoration(line);
        if l.get(..6).is_some_and(|h| h.eq_ignore_ascii_case("answer")) {
            let text = l[6..].trim_start_matches([':', ' ']).trim();
            return Decision::Answer(text.to_string());
        }
    }
    reply
        .lines()
        .find_map(|l| {
            if back && is_back(l) {
                Some(Decision::Back)
            } else {
                button_of(l, buttons).map(Decision::Click)
            }
        })
        .unwrap_or(Decision::Unparseable)
}

/// Reads a draft's reply: up to `k` distinct valid actions (buttons, and the back action when
/// `back` is offered), in the order given. Lines that name no valid action are skipped.
pub fn read_draft(reply: &str, buttons: &[Link], back: bool, k: usize) -> Vec<Pick> {
    let mut out = Vec::with_capacity(k);
    for l in reply.lines() {
        if out.len() == k {
            break;
        }
        let pick = if back && is_back(l) {
            Some(Pick::Back)
        } else {
            button_of(l, buttons).map(Pick::Button)
        };
        if let Some(p) = pick.filter(|p| !out.contains(p)) {
            out.push(p);
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
        assert_eq!(read_target("CLICK [2]", &b, false), Decision::Click(2));
        assert_eq!(
            read_target("I think...\n`CLICK 1`", &b, false),
            Decision::Click(1)
        );
        assert_eq!(
            read_target("click: about us", &b, false),
            Decision::Click(1)
        );
        assert_eq!(
            read_target("ANSWER: March 3", &b, true),
            Decision::Answer("March 3".into())
        );
        assert_eq!(read_target("CLICK [7]", &b, false), Decision::Unparseable);
        assert_eq!(read_target("12 monkeys", &b, false), Decision::Unparseable);
        assert_eq!(read_target("", &b, false), Decision::Unparseable);
        assert_eq!(read_target("BACK", &b, true), Decision::Back);
        assert_eq!(read_target("`click [back]`", &b, true), Decision::Back);
        assert_eq!(
            read_target("BACK", &b, false),
            Decision::Unparseable,
            "back is only read when offered"
        );
    }

    #[test]
    fn draft_lists_are_ranked_distinct_and_capped() {
        let b = buttons();
        assert_eq!(
            read_draft(
                "[2] Admissions\n[2] again\nnonsense\n0. Home\n[1] About us",
                &b,
                false,
                2
            ),
            vec![Pick::Button(2), Pick::Button(0)]
        );
        assert_eq!(
            read_draft("BACK\n[1] About us\nback", &b, true, 3),
            vec![Pick::Back, Pick::Button(1)]
        );
        assert_eq!(read_draft("{\"garbage\": true}", &b, true, 3), Vec::new());
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
            back: true,
            max_chars: 3,
        };
        let m = target_messages(&v);
        assert!(m[1]
            .content
            .contains("Step: 4\nURL: http://x/\nTitle: T\nPage text:\nabc\nBack: yes (BACK returns to the previous page)\n\nButtons:\n[0] Home\n[1] About us\n[2] Admissions\n"));
        assert!(draft_messages(&v, 3)[1]
            .content
            .ends_with("List exactly 3 buttons, most likely first."));
    }
}
