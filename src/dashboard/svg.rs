//! Dependency graphs drawn as SVG by hand: nodes in layers by longest path
//! from a root, edges as curves with arrow heads. No layout library, no script.
//! Only presentation attributes and classes are used (the page's CSP forbids
//! inline styles).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::views::esc;

/// A node: id, label, CSS class (e.g. the WP's lane), optional link.
pub struct Node<'a> {
    pub id: &'a str,
    pub label: String,
    pub class: &'a str,
    pub href: Option<String>,
}

const W: i32 = 150;
const H: i32 = 40;
const GAP_X: i32 = 60;
const GAP_Y: i32 = 18;
const PAD: i32 = 10;

/// Layer of every node: 0 for nodes without (known) predecessors, else one
/// more than the deepest predecessor. Cycles are cut where they close.
fn layers(nodes: &[Node<'_>], edges: &[(&str, &str)]) -> BTreeMap<String, usize> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (from, to) in edges {
        if let (Some(&f), Some(&t)) = (index.get(from), index.get(to)) {
            if f != t {
                preds[t].push(f);
            }
        }
    }
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; nodes.len()];
    let mut depth = vec![0usize; nodes.len()];
    fn visit(i: usize, preds: &[Vec<usize>], state: &mut [u8], depth: &mut [usize]) -> usize {
        if state[i] == 2 || state[i] == 1 {
            return depth[i];
        }
        state[i] = 1;
        let mut d = 0;
        for &p in &preds[i] {
            if state[p] != 1 {
                d = d.max(visit(p, preds, state, depth) + 1);
            }
        }
        depth[i] = d;
        state[i] = 2;
        d
    }
    for i in 0..nodes.len() {
        visit(i, &preds, &mut state, &mut depth);
    }
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.to_string(), depth[i]))
        .collect()
}

/// Draw `nodes` with `edges` (from -> to: `to` depends on `from`) left to right.
pub fn graph(title: &str, nodes: &[Node<'_>], edges: &[(&str, &str)]) -> String {
    if nodes.is_empty() {
        return String::new();
    }
    let depth = layers(nodes, edges);
    let mut columns: BTreeMap<usize, Vec<&Node<'_>>> = BTreeMap::new();
    for n in nodes {
        columns.entry(depth[n.id]).or_default().push(n);
    }
    let mut pos: BTreeMap<&str, (i32, i32)> = BTreeMap::new();
    let mut max_rows = 0;
    for (col, list) in &columns {
        max_rows = max_rows.max(list.len());
        for (row, n) in list.iter().enumerate() {
            let x = PAD + *col as i32 * (W + GAP_X);
            let y = PAD + row as i32 * (H + GAP_Y);
            pos.insert(n.id, (x, y));
        }
    }
    let width = PAD * 2 + columns.len() as i32 * (W + GAP_X) - GAP_X;
    let height = PAD * 2 + max_rows as i32 * (H + GAP_Y) - GAP_Y;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"arrowhead\"/>\
         </marker></defs>",
        esc(title)
    );
    for (from, to) in edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(from), pos.get(to)) else {
            continue;
        };
        let (sx, sy) = (x1 + W, y1 + H / 2);
        let (ex, ey) = (x2, y2 + H / 2);
        let mid = (sx + ex) / 2;
        let _ = write!(
            s,
            "<path class=\"edge\" d=\"M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}\" \
             fill=\"none\" marker-end=\"url(#arrow)\"><title>{} → {}</title></path>",
            esc(from),
            esc(to)
        );
    }
    for n in nodes {
        let (x, y) = pos[n.id];
        let label = if n.label.chars().count() > 20 {
            let mut t: String = n.label.chars().take(19).collect();
            t.push('…');
            t
        } else {
            n.label.clone()
        };
        let node = format!(
            "<g class=\"node {}\" data-node=\"{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\"/>\
             <text x=\"{}\" y=\"{}\" class=\"node-id\">{}</text><text x=\"{}\" y=\"{}\" class=\"node-label\">{}</text>\
             <title>{}</title></g>",
            esc(n.class),
            esc(n.id),
            x + 8,
            y + 16,
            esc(n.id),
            x + 8,
            y + 32,
            esc(&label),
            esc(&n.label)
        );
        match &n.href {
            Some(h) => {
                let _ = write!(s, "<a href=\"{}\">{node}</a>", esc(h));
            }
            None => s.push_str(&node),
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> Node<'_> {
        Node {
            id,
            label: format!("<{id}>"),
            class: "planned",
            href: None,
        }
    }

    #[test]
    fn layers_follow_dependencies_and_survive_cycles() {
        let nodes = [node("A"), node("B"), node("C"), node("D")];
        let d = layers(&nodes, &[("A", "B"), ("B", "C"), ("A", "C")]);
        assert_eq!((d["A"], d["B"], d["C"], d["D"]), (0, 1, 2, 0));
        let cyc = layers(&nodes, &[("A", "B"), ("B", "A")]);
        assert!(cyc["A"] <= 1 && cyc["B"] <= 1);
    }

    #[test]
    fn svg_escapes_labels_and_draws_every_edge() {
        let nodes = [node("A"), node("B")];
        let s = graph("deps", &nodes, &[("A", "B"), ("A", "missing")]);
        assert!(s.contains("&lt;A&gt;") && !s.contains("<A>"));
        assert_eq!(s.matches("class=\"edge\"").count(), 1);
        assert_eq!(s.matches("<rect").count(), 2);
    }
}
