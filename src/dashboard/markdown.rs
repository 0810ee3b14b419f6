//! Markdown to safe HTML on the server: pulldown-cmark renders, raw HTML in the
//! source is shown as text, and ammonia sanitises the result (only http,
//! https and mailto links; nothing that runs).

use pulldown_cmark::{html, Event, Options, Parser};

/// Render untrusted markdown as sanitised HTML.
pub fn render(text: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    // Raw HTML becomes visible text rather than markup.
    let events = Parser::new_ext(text, opts).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tags(["input"])
        .clean(&out)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        let h = render("# Title\n\n- [x] done\n- [ ] open\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(h.contains("<h1>Title</h1>"), "{h}");
        assert!(h.contains("<table>"), "{h}");
        assert!(h.contains("checkbox"), "{h}");
    }

    #[test]
    fn raw_html_and_scripts_never_survive() {
        let h = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) \
             <a href=\"javascript:alert(2)\">y</a>\n\n![i](data:text/html,boom)",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img src=\"x\""), "{h}");
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"), "{h}");
        assert!(!h.contains("<a href=\"javascript"), "{h}");
        assert!(!h.contains("src=\"data:"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }
}
