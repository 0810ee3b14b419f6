//! Markdown to safe HTML on the server, with pulldown-cmark.
//!
//! pulldown-cmark escapes every text and attribute value it writes; the only
//! ways markup could get through are raw HTML and link or image URLs. So raw
//! HTML in the source is turned into visible text, links keep only http,
//! https, mailto and relative targets (anything else points at `#`), and
//! images only relative ones (others show their alt text; the CSP would block
//! a remote image anyway). A sanitiser over the output (ammonia) would do the
//! same work again and, through html5ever's tables, add ~10,000 relocations to
//! every command's start-up, so it is not used.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// The scheme of `url` (lowercase), if it has one; control characters and
/// whitespace are dropped first, as browsers do (`java\tscript:`).
#[allow(clippy::string_slice)] // `end` is where find() met an ASCII delimiter, a char boundary
fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let end = cleaned.find([':', '/', '?', '#'])?;
    (cleaned.as_bytes()[end] == b':').then(|| cleaned[..end].to_ascii_lowercase())
}

fn link_ok(url: &str) -> bool {
    match scheme(url) {
        None => true,
        Some(s) => matches!(s.as_str(), "http" | "https" | "mailto"),
    }
}

/// Render untrusted markdown as safe HTML.
pub fn render(text: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut dropped_images = 0usize;
    let events = Parser::new_ext(text, opts).filter_map(move |e| match e {
        // Raw HTML becomes visible text rather than markup.
        Event::Html(t) | Event::InlineHtml(t) => Some(Event::Text(t)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if link_ok(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::Start(Tag::Image { ref dest_url, .. }) if scheme(dest_url).is_some() => {
            dropped_images += 1;
            None
        }
        Event::End(TagEnd::Image) if dropped_images > 0 => {
            dropped_images -= 1;
            None
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        let h = render("# Title\n\n- [x] done\n- [ ] open\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[plan](plan.md) [site](https://example.com)\n");
        assert!(h.contains("<h1>Title</h1>"), "{h}");
        assert!(h.contains("<table>"), "{h}");
        assert!(h.contains("checkbox"), "{h}");
        assert!(h.contains("href=\"plan.md\""), "{h}");
        assert!(h.contains("href=\"https://example.com\""), "{h}");
    }

    #[test]
    fn raw_html_and_scripts_never_survive() {
        let h = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) \
             <a href=\"javascript:alert(2)\">y</a> [t](java\tscript:alert(5)) [e](&#106;avascript:alert(6)) \
             [u](JAVASCRIPT:alert(7))\n\n![i](data:text/html,boom) ![r](https://tracker.example/p.png)\n\n\
             [q](x \"a\\\" onmouseover=\\\"alert(8)\")",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img src=\"x\""), "{h}");
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"), "{h}");
        assert!(!h.contains("<a href=\"javascript"), "{h}");
        assert!(!h.to_lowercase().contains("<a href=\"javascript"), "{h}");
        assert!(
            !h.contains("src=\"data:") && !h.contains("tracker.example"),
            "{h}"
        );
        assert!(
            h.contains(">i<") || h.contains("i "),
            "the alt text stays: {h}"
        );
        assert!(
            !h.contains("\" onmouseover"),
            "attribute values are escaped: {h}"
        );
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }
}
