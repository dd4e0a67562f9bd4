//! Drawing: the notebook's neuron as DOT (expected text written by hand
//! from the notebook's `draw_dot`), SVG from the built-in layout parsed as
//! XML, and Graphviz accepting our DOT when it is installed.

use backprop::Graph;
use backprop::expr::Program;
use backprop::viz::{
    self, BUILTIN_MAX_NODES, DotOptions, Format, RankDir, Renderer, VizError, render_svg_builtin,
    to_dot,
};

use crate::common::NEURON;

/// The neuron built by hand with the engine, as in the notebook.
fn neuron(g: &Graph) -> backprop::Value<'_> {
    let x1 = g.value(2.0).with_label("x1");
    let x2 = g.value(0.0).with_label("x2");
    let w1 = g.value(-3.0).with_label("w1");
    let w2 = g.value(1.0).with_label("w2");
    let b = g.value(6.8813735870195432).with_label("b");
    let n = (x1 * w1 + x2 * w2 + b).with_label("n");
    let o = n.tanh().with_label("o");
    o.backward();
    o
}

/// Written by hand: the notebook's record label `{%s|data %.4f|grad %.4f}`
/// for each of the 10 values (the 5 inputs, the 3 unnamed intermediate
/// results, n and o) with the notebook's numbers, an op node per computed
/// value with an edge to it, then one edge per operand into the op node.
const NEURON_DOT: &str = r#"digraph {
  graph [rankdir=LR];
  n0 [label="{x1|data 2.0000|grad -1.5000}", shape=record];
  n1 [label="{x2|data 0.0000|grad 0.5000}", shape=record];
  n2 [label="{w1|data -3.0000|grad 1.0000}", shape=record];
  n3 [label="{w2|data 1.0000|grad 0.0000}", shape=record];
  n4 [label="{b|data 6.8814|grad 0.5000}", shape=record];
  n5 [label="{|data -6.0000|grad 0.5000}", shape=record];
  n5_op [label="*"];
  n5_op -> n5;
  n6 [label="{|data 0.0000|grad 0.5000}", shape=record];
  n6_op [label="*"];
  n6_op -> n6;
  n7 [label="{|data -6.0000|grad 0.5000}", shape=record];
  n7_op [label="+"];
  n7_op -> n7;
  n8 [label="{n|data 0.8814|grad 0.5000}", shape=record];
  n8_op [label="+"];
  n8_op -> n8;
  n9 [label="{o|data 0.7071|grad 1.0000}", shape=record];
  n9_op [label="tanh"];
  n9_op -> n9;
  n0 -> n5_op;
  n2 -> n5_op;
  n1 -> n6_op;
  n3 -> n6_op;
  n5 -> n7_op;
  n6 -> n7_op;
  n7 -> n8_op;
  n4 -> n8_op;
  n8 -> n9_op;
}
"#;

/// The text of every `<text>` element of an SVG document (parsed as XML;
/// Graphviz's output has a DTD).
fn svg_texts(svg: &str) -> Vec<String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, opts).expect("valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn neuron_dot_matches_the_notebook() {
    let g = Graph::new();
    let o = neuron(&g);
    assert_eq!(to_dot(&g, o.id(), &DotOptions::default()), NEURON_DOT);
    // The expression language draws the same picture.
    let p = Program::parse(NEURON).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    ev.output.backward();
    assert_eq!(
        to_dot(&g, ev.output.id(), &DotOptions::default()),
        NEURON_DOT
    );
}

#[test]
fn dot_options() {
    let g = Graph::new();
    let o = neuron(&g);
    let opts = DotOptions {
        rankdir: RankDir::TopToBottom,
        show_grad: false,
    };
    let dot = to_dot(&g, o.id(), &opts);
    assert!(dot.contains("graph [rankdir=TB];"));
    assert!(dot.contains(r#"n9 [label="{o|data 0.7071}", shape=record];"#));
    assert!(!dot.contains("grad"));
    assert_eq!("tb".parse::<RankDir>(), Ok(RankDir::TopToBottom));
    assert!("XY".parse::<RankDir>().is_err());
}

#[test]
fn op_labels_show_exponents_and_nary_ops() {
    let g = Graph::new();
    let x = g.value(3.0).with_label("x");
    let y = g.sum([x.powf(2.0), x.powf(-0.5), x.pow(x)]);
    let z = g.dot(&[y], &[x]).with_label("z");
    let dot = to_dot(&g, z.id(), &DotOptions::default());
    for want in [
        r#"[label="**2"]"#,
        r#"[label="**-0.5"]"#,
        r#"[label="**"]"#,
        r#"[label="Σ"]"#,
        r#"[label="dot"]"#,
    ] {
        assert!(dot.contains(want), "{want} in\n{dot}");
    }
}

#[test]
fn labels_are_escaped_for_records() {
    let g = Graph::new();
    let x = g.value(1.0).with_label(r#"a|b{c}<d>"e\"#);
    let dot = to_dot(&g, x.id(), &DotOptions::default());
    assert!(
        dot.contains(r#"label="{a\|b\{c\}\<d\>\"e\\|data 1.0000|grad 0.0000}""#),
        "{dot}"
    );
}

#[test]
fn hidden_characters_in_labels_are_shown_escaped_and_graphviz_accepts_them() {
    let g = Graph::new();
    let x = g.value(1.0).with_label("a\0b\u{202e}c");
    let dot = to_dot(&g, x.id(), &DotOptions::default());
    assert!(dot.contains("aU+0000bU+202Ec|data"), "{dot}");
    assert!(!dot.contains('\0') && !dot.contains('\u{202e}'));
    if viz::graphviz_available() {
        let svg = viz::graphviz(&dot, Format::Svg).expect("Graphviz accepts the escaped label");
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}

#[test]
fn builtin_svg_is_xml_with_the_labels() {
    let g = Graph::new();
    let o = neuron(&g);
    let svg = render_svg_builtin(&g, o.id(), &DotOptions::default()).unwrap();
    let texts = svg_texts(&svg);
    for want in [
        "x1",
        "w1",
        "b",
        "n",
        "o",
        "data 0.7071",
        "grad -1.5000",
        "grad 0.5000",
        "tanh",
        "*",
        "+",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
    }
}

#[test]
fn builtin_layout_refuses_big_graphs_quickly() {
    let g = Graph::new();
    let w = g.value(0.5);
    let mut x = g.value(1.0);
    for _ in 0..2000 {
        x = (x * w + 0.1).tanh();
    }
    let start = std::time::Instant::now();
    let err = render_svg_builtin(&g, x.id(), &DotOptions::default()).unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 1.0);
    assert!(matches!(err, VizError::TooLarge { max, .. } if max == BUILTIN_MAX_NODES));
    let msg = err.to_string();
    assert!(
        msg.contains("apt-get install graphviz") && msg.contains(".dot"),
        "{msg}"
    );
    // DOT is always fine.
    let dot = viz::render(
        &g,
        x.id(),
        &DotOptions::default(),
        Format::Dot,
        Renderer::Builtin,
    )
    .unwrap();
    assert!(dot.starts_with(b"digraph {"));
}

#[test]
fn png_on_the_builtin_layout_is_the_svg_rasterized() {
    let g = Graph::new();
    let o = neuron(&g);
    let opts = DotOptions::default();
    let png = viz::render(&g, o.id(), &opts, Format::Png, Renderer::Builtin).unwrap();
    let svg = viz::render(&g, o.id(), &opts, Format::Svg, Renderer::Builtin).unwrap();
    assert_eq!(
        png,
        viz::svg_to_png(std::str::from_utf8(&svg).unwrap(), 2.0).unwrap()
    );
    let img = image::load_from_memory(&png).unwrap();
    assert!(img.width() > 1000 && img.height() > 200);
}

#[test]
fn svg_to_png_rejects_what_is_not_svg() {
    let err = viz::svg_to_png("<html/>", 1.0).unwrap_err();
    assert!(matches!(err, VizError::Raster(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot rasterize the SVG to PNG: ")
    );
}

#[test]
fn graphviz_accepts_our_dot() {
    if !viz::graphviz_available() {
        println!("note: Graphviz `dot` is not on the PATH; skipping the Graphviz checks");
        return;
    }
    let g = Graph::new();
    let o = neuron(&g);
    let svg = viz::graphviz(&to_dot(&g, o.id(), &DotOptions::default()), Format::Svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    let texts = svg_texts(&svg);
    for want in [
        "x1",
        "data 2.0000",
        "grad -1.5000",
        "tanh",
        "o",
        "data 0.7071",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
    }
    // Escaped labels come out as the original text.
    let x = g.value(1.0).with_label(r#"a|b{c}<d>"e\"#);
    let svg = viz::graphviz(&to_dot(&g, x.id(), &DotOptions::default()), Format::Svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg_texts(&svg).iter().any(|t| t == r#"a|b{c}<d>"e\"#),
        "{svg}"
    );
    let png = viz::graphviz(&to_dot(&g, o.id(), &DotOptions::default()), Format::Png).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn write_atomic_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.dot");
    viz::write_atomic(&path, b"one").unwrap();
    viz::write_atomic(&path, b"two").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"two");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(viz::write_atomic(&dir.path().join("missing/x.dot"), b"x").is_err());
}

/// `y{i} = y{i-1}*x + y{i-1} + y{i-2} + y{i-3}`: few nodes, but the number
/// of paths through them doubles about every step.
fn tangled(g: &Graph, n: usize) -> backprop::Value<'_> {
    let x = g.value(1.0).with_label("x");
    let mut ys = vec![x];
    for i in 1..n {
        let mut y = ys[i - 1] * x;
        for &earlier in &ys[i.saturating_sub(3)..i] {
            y += earlier;
        }
        ys.push(y);
    }
    ys[n - 1]
}

#[test]
fn builtin_layout_refuses_tangled_graphs_quickly() {
    let g = Graph::new();
    let y = tangled(&g, 25);
    let start = std::time::Instant::now();
    let err = render_svg_builtin(&g, y.id(), &DotOptions::default()).unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 1.0);
    match err {
        VizError::TooTangled { nodes, work, max } => {
            assert!(nodes < BUILTIN_MAX_NODES, "{nodes}");
            assert!(work > max && max == viz::BUILTIN_MAX_WORK);
        }
        other => panic!("{other}"),
    }
    // A few steps of it are drawn.
    let g = Graph::new();
    let y = tangled(&g, 6);
    let svg = render_svg_builtin(&g, y.id(), &DotOptions::default()).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
}

#[test]
fn render_within_gives_up_at_the_limit() {
    let g = Graph::new();
    let y = tangled(&g, 14);
    let start = std::time::Instant::now();
    let err = viz::render_within(
        &g,
        y.id(),
        &DotOptions::default(),
        Format::Svg,
        Renderer::Builtin,
        std::time::Duration::from_millis(1),
    )
    .unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 1.0);
    assert!(
        matches!(err, VizError::Timeout { engine, .. } if engine.contains("built-in")),
        "{err}"
    );
    // With time enough, the same call draws.
    let g = Graph::new();
    let o = neuron(&g);
    let svg = viz::render_within(
        &g,
        o.id(),
        &DotOptions::default(),
        Format::Svg,
        Renderer::Builtin,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    assert!(String::from_utf8(svg).unwrap().contains("grad -1.5000"));
}

#[test]
fn graphviz_is_not_given_huge_graphs() {
    let g = Graph::new();
    let mut x = g.value(1.0);
    for _ in 0..viz::GRAPHVIZ_MAX_NODES / 3 + 1 {
        x += 1.0;
    }
    let err = viz::render(
        &g,
        x.id(),
        &DotOptions::default(),
        Format::Svg,
        Renderer::Graphviz,
    )
    .unwrap_err();
    assert!(
        matches!(err, VizError::TooLargeForGraphviz { nodes, max } if nodes > max),
        "{err}"
    );
    assert!(err.to_string().contains(".dot"));
}

#[test]
fn graphviz_failures_without_a_message_end_cleanly() {
    let err = VizError::Graphviz {
        format: "svg",
        status: "signal: 11 (SIGSEGV)".into(),
        stderr: String::new(),
    };
    assert_eq!(
        err.to_string(),
        "graphviz `dot -Tsvg` failed (signal: 11 (SIGSEGV)); write .dot instead"
    );
}

/// Every kind of hidden character a label may hold: C0 controls (newline,
/// carriage return, tab, escape, NUL), DEL, the bidirectional embeddings,
/// overrides and isolates, the marks LRM/RLM and the Arabic letter mark.
const HIDDEN: [(char, &str); 12] = [
    ('\n', "U+000A"),
    ('\r', "U+000D"),
    ('\t', "U+0009"),
    ('\x1b', "U+001B"),
    ('\0', "U+0000"),
    ('\x7f', "U+007F"),
    ('\u{202a}', "U+202A"),
    ('\u{202e}', "U+202E"),
    ('\u{2066}', "U+2066"),
    ('\u{2069}', "U+2069"),
    ('\u{200f}', "U+200F"),
    ('\u{061c}', "U+061C"),
];

/// A label holding a hidden character is drawn with it as its code
/// point: the record keeps its three fields on one line (a raw newline
/// would end the DOT line inside the string, a bidi control would reorder
/// the fields), and no hidden character reaches the DOT text.
#[test]
fn hidden_characters_in_labels_are_drawn_as_code_points() {
    for (c, code) in HIDDEN {
        let g = Graph::new();
        let a = g.value(2.0).with_label(format!("a{c}b"));
        let o = (a * 3.0).with_label("o");
        o.backward();
        let dot = to_dot(&g, o.id(), &DotOptions::default());
        let want =
            format!("  n0 [label=\"{{a{code}b|data 2.0000|grad 3.0000}}\", shape=record];\n");
        assert!(dot.contains(&want), "{code}: {dot}");
        assert!(
            !dot.chars()
                .any(|x| x != '\n' && backprop::format::is_hidden(x)),
            "{code}: {dot:?}"
        );
        let plain = {
            let g = Graph::new();
            let a = g.value(2.0).with_label("ab");
            let o = (a * 3.0).with_label("o");
            to_dot(&g, o.id(), &DotOptions::default())
        };
        assert_eq!(
            dot.lines().count(),
            plain.lines().count(),
            "{code}: one line per statement: {dot}"
        );
    }
}

/// The built-in layout's SVG shows the same text as the DOT record.
#[test]
fn hidden_characters_in_labels_reach_the_svg_as_code_points() {
    let g = Graph::new();
    let a = g.value(2.0).with_label("a\n\u{202e}b");
    let o = (a * 3.0).with_label("o");
    o.backward();
    let svg = render_svg_builtin(&g, o.id(), &DotOptions::default()).unwrap();
    assert!(svg.contains("aU+000AU+202Eb"), "{svg}");
    assert!(!svg.contains('\u{202e}'));
}
