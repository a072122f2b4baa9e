//! HTML to an observation: the page's title, its visible text and its links, parsed with a
//! real HTML5 parser (scraper / html5ever), never with regular expressions.

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

/// A link of a page: an absolute URL (fragment removed) and the text a button shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Absolute URL without fragment.
    pub url: String,
    /// Button label: the anchor's text, else its `title`/`aria-label`, else the URL path.
    pub label: String,
}

/// What the agent observes of a page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The `<title>`, whitespace collapsed.
    pub title: String,
    /// Visible text (scripts, styles and templates left out), whitespace collapsed.
    pub text: String,
    /// HTTP(S) links in document order, one per URL (the first label wins).
    pub links: Vec<Link>,
}

const HIDDEN: [&str; 5] = ["script", "style", "noscript", "template", "head"];

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `html` fetched from `base`.
pub fn parse(html: &str, base: &Url) -> Parsed {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("static selector parses");
    let title = doc
        .select(&sel("title"))
        .next()
        .map(|t| collapse(&t.text().collect::<String>()))
        .unwrap_or_default();
    // <base href> changes how relative links resolve.
    let base = doc
        .select(&sel("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| base.join(h).ok())
        .unwrap_or_else(|| base.clone());
    let mut text = String::new();
    for node in doc.tree.root().descendants() {
        let Node::Text(t) = node.value() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value()
                .as_element()
                .is_some_and(|e| HIDDEN.contains(&e.name()))
        });
        if hidden {
            continue;
        }
        for w in t.split_whitespace() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(w);
        }
    }
    let mut links: Vec<Link> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for a in doc.select(&sel("a[href]")) {
        let Some(url) = resolve(&a, &base) else {
            continue;
        };
        if !seen.insert(url.clone()) {
            continue;
        }
        let mut label = collapse(&a.text().collect::<String>());
        if label.is_empty() {
            label = ["title", "aria-label"]
                .iter()
                .find_map(|k| a.value().attr(k).map(collapse).filter(|s| !s.is_empty()))
                .unwrap_or_else(|| url.clone());
        }
        links.push(Link { url, label });
    }
    Parsed { title, text, links }
}

fn resolve(a: &ElementRef<'_>, base: &Url) -> Option<String> {
    let href = a.value().attr("href")?.trim();
    let mut url = base.join(href).ok()?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_dedupe_and_skip_non_http() {
        let base = Url::parse("http://example.org/dir/page.html").unwrap();
        let html = r#"<html><head><title> A
            page </title><script>var x = "<a href='/no'>no</a>";</script></head>
            <body><p>Hello <b>world</b></p>
            <a href="b.html#top">  Next
              page </a>
            <a href="/dir/b.html">duplicate</a>
            <a href="mailto:x@y.z">mail</a>
            <a href="javascript:void(0)">js</a>
            <a href="https://other.org/x" title="Elsewhere"></a>
            <style>p { color: red }</style></body></html>"#;
        let p = parse(html, &base);
        assert_eq!(p.title, "A page");
        assert_eq!(p.text, "Hello world Next page duplicate mail js");
        assert_eq!(
            p.links,
            vec![
                Link {
                    url: "http://example.org/dir/b.html".into(),
                    label: "Next page".into()
                },
                Link {
                    url: "https://other.org/x".into(),
                    label: "Elsewhere".into()
                },
            ]
        );
    }

    #[test]
    fn base_element_and_broken_markup() {
        let base = Url::parse("http://example.org/a/").unwrap();
        let p = parse(
            r#"<base href="/root/"><a href="x">X<a href="y">Y</div></span>"#,
            &base,
        );
        let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            vec!["http://example.org/root/x", "http://example.org/root/y"]
        );
    }
}
