//! The interactive page: one self-contained HTML file that replays the
//! forward and backward pass on the notebook's picture of the graph.
//!
//! The page holds everything it needs: the explanation as JSON (in a
//! `<script type="application/json" id="explanation">`), the graph as DOT
//! text, Graphviz compiled to WebAssembly (Viz.js, [`VIZ_JS_VERSION`],
//! vendored under `assets/viz-js/` with its licenses) to lay it out, and
//! the page's own script and style. It opens from disk with no network
//! request and no server.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Estimate, Explanation};
use crate::viz::escape_record;

/// The most nodes (values, not counting op nodes) a page draws. Graphviz
/// lays out a graph this size in a few seconds in the browser; past it,
/// [`to_html`] refuses with [`PageError::TooLarge`] instead of writing a
/// page that would freeze while it lays out.
pub const PAGE_MAX_NODES: usize = 2000;

/// The version of the embedded Viz.js (`@viz-js/viz` on npm; Graphviz
/// 16.1.0 inside).
pub const VIZ_JS_VERSION: &str = "3.31.0";

/// How long the page lets Graphviz lay out the graph, in seconds, before
/// it stops and says to draw less (`--leaf`). The layout runs in a worker,
/// so the page stays responsive meanwhile.
pub const LAYOUT_SECONDS: u32 = 30;

/// The version of Graphviz inside the embedded Viz.js.
pub const GRAPHVIZ_VERSION: &str = "16.1.0";

/// The step `h` of the finite-difference estimates the page's inspector
/// shows.
pub const PAGE_FD_STEP: f64 = 1e-6;

pub(super) const VIZ_JS: &str = include_str!("../../assets/viz-js/viz-global.js");
const LICENSES: &str = include_str!("../../assets/viz-js/LICENSE");
const SCRIPT: &str = include_str!("page.js");
/// How numbers are shown, shared with the training page.
pub(super) const NUMBERS_SCRIPT: &str = include_str!("numbers.js");
const STYLE: &str = include_str!("page.css");
/// The layer diagram of a network's graph (`draw --model`); it does
/// nothing on other graphs.
const NETWORK_SCRIPT: &str = include_str!("network.js");

/// Why a page could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// More nodes than [`PAGE_MAX_NODES`].
    #[error(
        "the graph has {nodes} nodes, more than the page's limit of {max}: draw the part that \
         leads to one input with --leaf NAME, or write .svg or .dot"
    )]
    TooLarge {
        /// Nodes in the graph.
        nodes: usize,
        /// The limit.
        max: usize,
    },
}

/// The notebook's picture of an explanation's graph, as DOT: a record
/// `{ name | data | grad }` per node (left to right; a constant is a small
/// box with its number, `c3`, with no grad field), an op node between
/// each op's operands and its result, one edge per operand use (`a + a`
/// gets two). Records of fan-out nodes (used more than once) are drawn
/// bold and orange; a leaf's use far to the right of its nearest use
/// starts at a dashed copy of it (`g3_1` for operand 1 of node 3). Node
/// and edge ids (`n3`, `op3`, `e3_0` for operand 0
/// of node 3, indices into [`Explanation::nodes`]) let the page find
/// them in the SVG.
///
/// ```
/// let g = backprop::Graph::new();
/// let a = g.value(2.0).with_label("a");
/// let y = (a + a).with_label("y");
/// let dot = backprop::explain::to_dot(&backprop::explain::explain(y));
/// assert!(dot.contains(r#"n0 [id="n0", label="{a|data 2.0000|grad 2.0000}""#));
/// assert_eq!(dot.matches("n0 -> op1").count(), 2);
/// ```
pub fn to_dot(e: &Explanation) -> String {
    dot_and_work(e).0
}

/// [`to_dot`], and an estimate of Graphviz's work: the number of ranks
/// its edges cross (each one a virtual node to place).
pub(super) fn dot_and_work(e: &Explanation) -> (String, usize) {
    let mut work = 0;
    let mut s = String::with_capacity(e.nodes.len() * 160);
    s.push_str(
        "digraph G {\n  rankdir=LR;\n  bgcolor=\"transparent\";\n  nodesep=0.25;\n  ranksep=0.4;\n  \
         node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=14];\n  \
         edge [arrowsize=0.7, color=\"#555555\"];\n",
    );
    for n in &e.nodes {
        if n.is_constant() {
            // A constant is its number: no name and no grad field (it is
            // not a parameter), and an id of its own kind (`c3`).
            let _ = writeln!(
                s,
                "  c{k} [id=\"c{k}\", label=\"{}\", shape=box, style=filled, \
                 fillcolor=\"#f1f3f5\", color=\"#868e96\", margin=\"0.06,0.02\", height=0.3];",
                escape_record(&super::text::number(n.data)),
                k = n.index
            );
            continue;
        }
        let fan = if n.uses > 1 {
            ", color=\"#d9480f\", penwidth=2.5"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  n{k} [id=\"n{k}\", label=\"{{{}|data {:.4}|grad {:.4}}}\", shape=record{fan}];",
            escape_record(&n.name),
            n.data,
            n.grad,
            k = n.index
        );
        if !n.is_leaf() {
            let _ = writeln!(
                s,
                "  op{k} [id=\"op{k}\", label=\"{}\", shape=ellipse, margin=\"0.05,0.02\"];\n  \
                 op{k} -> n{k} [id=\"eo{k}\"];",
                escape_record(&n.op),
                k = n.index
            );
        }
    }
    // Where each op node would be ranked (left to right), with leaves
    // at 0: a leaf itself sits just before its nearest user.
    let mut op_rank = vec![0usize; e.nodes.len()];
    let mut rank = vec![0usize; e.nodes.len()];
    let mut nearest = vec![usize::MAX; e.nodes.len()];
    for n in &e.nodes {
        if !n.is_leaf() {
            op_rank[n.index] = n.operands.iter().map(|&o| rank[o]).max().unwrap_or(0) + 1;
            rank[n.index] = op_rank[n.index] + 1;
            for &o in &n.operands {
                nearest[o] = nearest[o].min(op_rank[n.index]);
            }
        }
    }
    for n in &e.nodes {
        for (j, &o) in n.operands.iter().enumerate() {
            let k = n.index;
            let leaf = &e.nodes[o];
            if leaf.is_constant() {
                work += op_rank[k] - nearest[o];
                let _ = writeln!(s, "  c{o} -> op{k} [id=\"e{k}_{j}\"];");
            } else if leaf.is_leaf() && op_rank[k] - nearest[o] > GHOST_SPAN {
                let _ = writeln!(
                    s,
                    "  g{k}_{j} [id=\"g{k}_{j}\", label=\"{{{}|data {:.4}|grad {:.4}}}\", \
                     shape=record, style=dashed, color=\"#d9480f\", penwidth=2];\n  \
                     g{k}_{j} -> op{k} [id=\"e{k}_{j}\"];",
                    escape_record(&leaf.name),
                    leaf.data,
                    leaf.grad,
                );
            } else {
                work += if leaf.is_leaf() {
                    op_rank[k] - nearest[o]
                } else {
                    op_rank[k] - rank[o] - 1
                };
                let _ = writeln!(s, "  n{o} -> op{k} [id=\"e{k}_{j}\"];");
            }
        }
    }
    s.push_str("}\n");
    (s, work)
}

/// How many ranks an edge from a leaf may span beyond the leaf's nearest
/// user before it starts at a dashed copy of the leaf instead. Long edges
/// are what make Graphviz slow (each rank crossed is a node to place) and
/// what makes a big picture hard to follow: a weight shared by every step
/// of a long chain gets a copy next to each use.
const GHOST_SPAN: usize = 4;

/// Graphs up to this many nodes, whose edges cross at most
/// [`MAIN_THREAD_WORK`] ranks in all, are laid out on the page itself
/// (about a second); others in a worker with a time limit.
pub(super) const MAIN_THREAD_NODES: usize = 1000;
pub(super) const MAIN_THREAD_WORK: usize = 3000;

/// What the page's script reads: the explanation and, per node, its
/// finite-difference estimate.
#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    #[serde(flatten)]
    explanation: &'a Explanation,
    /// Per node of `explanation.nodes`; absent when not computed.
    estimates: Vec<Option<Estimate>>,
    estimate_step: f64,
    /// How long the page lets Graphviz work before it gives up.
    layout_seconds: u32,
    /// Whether the layout runs in a worker (big or tangled graphs) or on
    /// the page itself (small ones: quick, and finished when the page's
    /// load event has run, which `chromium --screenshot` relies on).
    layout_in_worker: bool,
    dot: String,
}

/// The interactive page for `full`'s graph, or for the paths from its
/// output to the input `focus` when given: one self-contained HTML file
/// that opens offline from disk, with no network request (it embeds the
/// explanation as JSON in a `<script type="application/json"
/// id="explanation">`, the graph as DOT, Graphviz compiled to WebAssembly
/// (Viz.js [`VIZ_JS_VERSION`], with its licenses) and its own script),
/// with step controls (next, previous,
/// play, a slider, the arrow keys) that replay the forward pass, then the
/// backward pass, one node at a time, with the chain-rule arithmetic of
/// each step, the local derivatives on the edges, and a node inspector
/// (op, data, grad, local derivatives, contributions received, and the
/// finite-difference estimate of its gradient with step [`PAGE_FD_STEP`]).
///
/// ```
/// let g = backprop::Graph::new();
/// let x = g.value(2.0).with_label("x");
/// let y = (x * x).with_label("y");
/// let e = backprop::explain::explain(y);
/// let html = backprop::explain::to_html(&e, None, "y = x * x").unwrap();
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains(r#"<script type="application/json" id="explanation">"#));
/// ```
///
/// # Errors
/// [`PageError::TooLarge`] past [`PAGE_MAX_NODES`] nodes (counted after
/// focusing).
///
/// # Panics
/// If `full` is already focused, or `focus` is not one of its leaves
/// (check a user's name first with [`Explanation::focus`]).
pub fn to_html(full: &Explanation, focus: Option<&str>, title: &str) -> Result<String, PageError> {
    let shown = match focus {
        Some(leaf) => full
            .clone()
            .focus(leaf)
            .expect("to_html: the focus must be a leaf of the explanation"),
        None => full.clone(),
    };
    if shown.nodes.len() > PAGE_MAX_NODES {
        return Err(PageError::TooLarge {
            nodes: shown.nodes.len(),
            max: PAGE_MAX_NODES,
        });
    }
    let by_id: std::collections::HashMap<usize, usize> =
        full.nodes.iter().map(|n| (n.id, n.index)).collect();
    let estimates = shown
        .nodes
        .iter()
        .map(|n| Some(full.finite_difference(by_id[&n.id], PAGE_FD_STEP)))
        .collect();
    let (dot, work) = dot_and_work(&shown);
    // A title is usually a label: its hidden characters shown as names are.
    let title = &crate::format::shown_name(title);
    let data = PageData {
        title,
        explanation: &shown,
        estimates,
        estimate_step: PAGE_FD_STEP,
        layout_seconds: LAYOUT_SECONDS,
        layout_in_worker: shown.nodes.len() > MAIN_THREAD_NODES || work > MAIN_THREAD_WORK,
        dot,
    };
    let json = serde_json::to_string(&data).expect("page data always serializes");
    Ok(assemble(title, &json, &shown))
}

/// `<` as the JSON escape `\u003c`, so that no `</script>` can end the
/// data block early (`<` only occurs inside JSON strings).
pub(super) fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

pub(super) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The legend's lines on version marks: what `c₁ c₂ c₃` means, for each
/// name bound more than once (none when every name is bound once).
fn versions_legend(e: &Explanation) -> String {
    let lines = super::text::versions_note(e);
    if lines.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n      <p id=\"versions\">One name per node: a name bound more than once is numbered in program order.<br>",
    );
    s.push_str(
        &lines
            .iter()
            .map(|l| html_escape(l))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    s.push_str("</p>");
    s
}

/// The start every page of this crate has, up to `<body>`: the content
/// security policy that keeps it offline (no request leaves the page;
/// `frames` lets it show another page in a frame, as the training page
/// shows a sample's `draw` page), its title (already escaped) and its style
/// sheet.
pub(super) fn write_head(s: &mut String, title: &str, style: &str, frames: bool) {
    let frame_src = if frames {
        "; frame-src 'self' blob: about:"
    } else {
        ""
    };
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval' blob:; worker-src blob:; style-src 'unsafe-inline'; img-src data:{frame_src}">
<title>backprop: {title}</title>
<style>
{style}
</style>
</head>
<body>
"#
    );
}

pub(super) fn assemble(title: &str, json: &str, e: &Explanation) -> String {
    let mut s = String::with_capacity(VIZ_JS.len() + json.len() + SCRIPT.len() + 40_000);
    let title = html_escape(title);
    write_head(&mut s, &title, STYLE, false);
    let _ = write!(
        s,
        r#"<header>
  <h1>{title}</h1>
  <div id="controls" role="toolbar" aria-label="step controls">
    <button id="first" title="first step (Home)">|&#x25C0;</button>
    <button id="prev" title="previous step (&#x2190;)">&#x25C0; prev</button>
    <button id="play" title="play / pause (space)">&#x25B6; play</button>
    <button id="next" title="next step (&#x2192;)">next &#x25B6;</button>
    <button id="last" title="last step (End)">&#x25B6;|</button>
    <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
    <span id="stepinfo">step 0</span>
    <button id="quiz" aria-pressed="false" title="try it: work out each backward step before the page shows it (q)">try it</button>
    <span id="score" hidden></span>
    <span class="zoom"><button id="zoomout" title="zoom out (-)">&#x2212;</button><span id="zoomlevel">100%</span><button id="zoomin" title="zoom in (+)">+</button><button id="fit" title="fit the graph to the window (0)">fit</button></span>
  </div>
</header>
<main>
  <div id="graph" tabindex="0" aria-label="the graph: drag to pan, ctrl+wheel to zoom"><p id="status">Laying out {nodes} nodes&#x2026;</p></div>
  <aside>
    <section id="panel" aria-live="polite"><h2>Step</h2><div id="arith">Press &#x2192; (or next) to start the forward pass.</div></section>
    <section id="inspector"><h2>Node</h2><div id="inspect">Hover over or click a node to inspect it.</div></section>
    <section id="legend"><h2>Legend</h2>
      <p><span class="sw active"></span>active node &nbsp; <span class="sw fwd"></span>data computed &nbsp; <span class="sw bwd"></span>grad computed</p>
      <p><span class="sw fan"></span>fan-out: used more than once, so its grad accumulates (+=)</p>
      <p><span class="sw const"></span>a constant: its number, with no grad (it is not a parameter)</p>
      <p>Edges show the local derivative d(node)/d(operand) during the backward pass.</p>{versions}
      <p>Try it (the button, q, or <code>#quiz</code> in the address): at each backward step, type each local derivative and contribution before the page shows them; Enter checks an answer.</p>
    </section>
  </aside>
</main>
<footer><details><summary>About this page</summary><p>Written by <code>backprop draw</code>. Layout by Graphviz {GRAPHVIZ_VERSION} compiled to WebAssembly (Viz.js {VIZ_JS_VERSION}), embedded in this file.</p><pre>{licenses}</pre></details></footer>
<script type="application/json" id="explanation">{data}</script>
<script type="text/plain" id="viz-js">
{VIZ_JS}
</script>
<script>
{NUMBERS_SCRIPT}
{SCRIPT}
</script>
<script>
{NETWORK_SCRIPT}
</script>
</body>
</html>
"#,
        nodes = e.nodes.len(),
        versions = versions_legend(e),
        licenses = html_escape(LICENSES),
        data = script_safe(json),
    );
    s
}
