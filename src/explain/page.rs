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

use super::{Estimate, Explanation, text::number};
use crate::viz::escape_record;

/// The most nodes (values, not counting op nodes) a page draws. Graphviz
/// lays out a graph this size in a few seconds in the browser; past it,
/// [`to_html`] refuses with [`PageError::TooLarge`] instead of writing a
/// page that would freeze while it lays out.
pub const PAGE_MAX_NODES: usize = 1000;

/// The version of the embedded Viz.js (`@viz-js/viz` on npm; Graphviz
/// 16.1.0 inside).
pub const VIZ_JS_VERSION: &str = "3.31.0";

/// The step `h` of the finite-difference estimates the page's inspector
/// shows.
pub const PAGE_FD_STEP: f64 = 1e-6;

const VIZ_JS: &str = include_str!("../../assets/viz-js/viz-global.js");
const LICENSES: &str = include_str!("../../assets/viz-js/LICENSE");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

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
/// `{ name | data | grad }` per node (left to right), an op node between
/// each op's operands and its result, one edge per operand use (`a + a`
/// gets two). Records of fan-out nodes (used more than once) are drawn
/// bold and orange. Node and edge ids (`n3`, `op3`, `e3_0` for operand 0
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
    let mut s = String::with_capacity(e.nodes.len() * 160);
    s.push_str(
        "digraph G {\n  rankdir=LR;\n  bgcolor=\"transparent\";\n  nodesep=0.25;\n  ranksep=0.4;\n  \
         node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=14];\n  \
         edge [arrowsize=0.7, color=\"#555555\"];\n",
    );
    for n in &e.nodes {
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
    for n in &e.nodes {
        for (j, &o) in n.operands.iter().enumerate() {
            let _ = writeln!(s, "  n{o} -> op{k} [id=\"e{k}_{j}\"];", k = n.index);
        }
    }
    s.push_str("}\n");
    s
}

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
    dot: String,
}

/// The interactive page for `full`'s graph, or for the paths from its
/// output to the input `focus` when given: one self-contained HTML file
/// (see the [module docs](self)) with step controls (next, previous,
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
/// focusing); a [`super::FocusError`] message, as
/// [`PageError::TooLarge`] cannot carry it, is the caller's to check
/// first with [`Explanation::focus`].
///
/// # Panics
/// If `full` is already focused, or `focus` is not one of its leaves.
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
    let data = PageData {
        title,
        explanation: &shown,
        estimates,
        estimate_step: PAGE_FD_STEP,
        dot: to_dot(&shown),
    };
    let json = serde_json::to_string(&data).expect("page data always serializes");
    Ok(assemble(title, &json, &shown))
}

/// `<` as the JSON escape `\u003c`, so that no `</script>` can end the
/// data block early (`<` only occurs inside JSON strings).
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn html_escape(text: &str) -> String {
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

fn assemble(title: &str, json: &str, e: &Explanation) -> String {
    let mut s = String::with_capacity(VIZ_JS.len() + json.len() + SCRIPT.len() + 40_000);
    let title = html_escape(title);
    let _ = write!(
        s,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; worker-src 'none'">
<title>backprop: {title}</title>
<style>
{STYLE}
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <div id="controls" role="toolbar" aria-label="step controls">
    <button id="first" title="first step (Home)">|&#x25C0;</button>
    <button id="prev" title="previous step (&#x2190;)">&#x25C0; prev</button>
    <button id="play" title="play / pause (space)">&#x25B6; play</button>
    <button id="next" title="next step (&#x2192;)">next &#x25B6;</button>
    <button id="last" title="last step (End)">&#x25B6;|</button>
    <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
    <span id="stepinfo">step 0</span>
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
      <p>Edges show the local derivative d(node)/d(operand) during the backward pass.</p>
    </section>
  </aside>
</main>
<footer><details><summary>About this page</summary><p>Written by <code>backprop draw</code>. Layout by Graphviz {gv} compiled to WebAssembly (Viz.js {VIZ_JS_VERSION}), embedded in this file.</p><pre>{licenses}</pre></details></footer>
<script type="application/json" id="explanation">{data}</script>
<script>
{VIZ_JS}
</script>
<script>
{SCRIPT}
</script>
</body>
</html>
"#,
        nodes = e.nodes.len(),
        gv = "16.1.0",
        licenses = html_escape(LICENSES),
        data = script_safe(json),
    );
    let _ = number;
    s
}
