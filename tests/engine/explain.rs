//! `explain`: the notebook's hand-worked backward pass, the `+=` of reused
//! nodes, and, for random graphs over every op, agreement with
//! `backward()`.

use backprop::Graph;
use backprop::explain::{explain, explain_with_leaves};
use backprop::expr::Program;
use proptest::prelude::*;

use crate::common::{NEURON, Neuron, labelled_neuron};
use crate::programs::{build, instr};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

/// The notebook's "Calculating the gradients manually" cell: o.grad = 1,
/// n.grad = 1 - o**2 = 0.5, each `+` passes 0.5 on, and the products
/// multiply by the other operand: w1.grad = 0.5 * x1 = 1, x1.grad = 0.5 *
/// w1 = -1.5, x2.grad = 0.5 * w2 = 0.5, w2.grad = 0.5 * x2 = 0,
/// b.grad = 0.5.
#[test]
fn the_neuron_steps_are_the_notebooks() {
    let p = Program::parse(NEURON).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    let e = explain_with_leaves(ev.output, &ev.inputs);
    let s = &e.steps;
    // o = tanh(n), n = ((x1*w1) + (x2*w2)) + b, then the sum, then the two products.
    assert_eq!(s.len(), 5);
    assert_eq!((s[0].node.as_str(), s[0].upstream), ("o", 1.0));
    assert_eq!(s[0].terms[0].operand, "n");
    assert_eq!(s[0].terms[0].formula, "1 - o**2");
    assert!((s[0].terms[0].local - 0.5).abs() < 1e-12);
    assert_eq!(s[1].node, "n");
    assert!((s[1].upstream - 0.5).abs() < 1e-12);
    for step in &s[1..3] {
        assert_eq!(step.op, "+");
        for t in &step.terms {
            assert_eq!((t.formula.as_str(), t.local), ("1", 1.0));
            assert!((t.contribution - 0.5).abs() < 1e-12, "{t:?}");
        }
    }
    let b = s[1].terms.iter().find(|t| t.operand == "b").unwrap();
    assert!((b.contribution - 0.5).abs() < 1e-12);
    // (x1*w1): x1's local derivative is w1.data = -3, w1's is x1.data = 2.
    let x1w1 = s.iter().find(|s| s.node == "(x1*w1)").unwrap();
    assert!((x1w1.upstream - 0.5).abs() < 1e-12);
    assert_eq!(x1w1.terms[0].operand, "x1");
    assert_eq!(x1w1.terms[0].formula, "w1.data");
    assert_eq!(x1w1.terms[0].local, -3.0);
    assert_eq!(x1w1.terms[1].formula, "x1.data");
    assert_eq!(x1w1.terms[1].local, 2.0);
    let want = [
        ("x1", -1.5),
        ("x2", 0.5),
        ("w1", 1.0),
        ("w2", 0.0),
        ("b", 0.5),
    ];
    for (name, grad) in want {
        assert!((e.grad(name).unwrap() - grad).abs() < 1e-12, "{name}");
    }
    assert!((e.node("o").unwrap().grad - 1.0).abs() == 0.0);
    assert!((e.node("n").unwrap().grad - 0.5).abs() < 1e-12);
    // No operand is used twice: nothing accumulates.
    assert!(s.iter().flat_map(|s| &s.terms).all(|t| !t.accumulates));
    let text = e.to_string();
    assert!(
        text.contains("n.grad = o.grad * (1 - o**2) = 1 * 0.5 = 0.5"),
        "{text}"
    );
    assert!(
        text.contains("w1.grad = (x1*w1).grad * x1.data = 0.5 * 2 = 1"),
        "{text}"
    );
    assert!(
        text.contains("x1.grad = (x1*w1).grad * w1.data = 0.5 * (-3) = -1.5"),
        "{text}"
    );
}

/// The same neuron built by hand, with the notebook's labels, gives the
/// same steps under those labels.
#[test]
fn a_hand_built_graph_uses_its_labels() {
    let g = Graph::new();
    let Neuron { x1, o, .. } = labelled_neuron(&g);
    let e = explain(o);
    let names: Vec<&str> = e.steps.iter().map(|s| s.node.as_str()).collect();
    assert_eq!(names, ["o", "n", "x1*w1 + x2*w2", "x2*w2", "x1*w1"]);
    assert!((e.grad("x1").unwrap() + 1.5).abs() < 1e-12);
    assert!((e.grad("w1").unwrap() - 1.0).abs() < 1e-12);
    // explain reads the graph only.
    assert_eq!(x1.grad(), 0.0);
}

/// micrograd's fixed bug: `b = a + a` must give a.grad 2, as two `+= 1`.
#[test]
fn a_reused_operand_gets_two_contributions() {
    let p = Program::parse("a = 3.0; b = a + a").unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    let e = explain_with_leaves(ev.output, &ev.inputs);
    assert_eq!(e.steps.len(), 1);
    let t = &e.steps[0].terms;
    assert_eq!(t.len(), 2);
    for (k, term) in t.iter().enumerate() {
        assert_eq!(term.operand, "a");
        assert!(term.accumulates);
        assert_eq!((term.local, term.contribution), (1.0, 1.0));
        assert_eq!(term.total, (k + 1) as f64);
    }
    assert_eq!(e.grad("a"), Some(2.0));
    let text = e.to_string();
    assert_eq!(
        text.matches("a.grad += b.grad * 1 = 1 * 1 = 1").count(),
        2,
        "{text}"
    );
}

#[test]
fn a_twice_reused_chain_gives_four() {
    let p = Program::parse("a = 1; b = a + a; c = b + b").unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    let e = explain_with_leaves(ev.output, &ev.inputs);
    assert_eq!(e.steps.len(), 2);
    assert_eq!(e.steps[0].node, "c");
    assert!(
        e.steps[0]
            .terms
            .iter()
            .all(|t| t.operand == "b" && t.contribution == 1.0)
    );
    assert_eq!(e.steps[1].upstream, 2.0);
    assert!(
        e.steps[1]
            .terms
            .iter()
            .all(|t| t.operand == "a" && t.contribution == 2.0)
    );
    assert_eq!(e.grad("a"), Some(4.0));
}

/// PyTorch masks the derivative of `0 ** p` cases to 0 instead of NaN:
/// d(x**0)/dx = 0 and d(0**b)/db = 0 for b >= 0.
#[test]
fn masked_zero_power_cases_follow_backward() {
    let g = Graph::new();
    let x = g.value(0.0).with_label("x");
    let b = g.value(2.0).with_label("b");
    let y = (x.powf(0.0) + x.pow(b) + (x + 0.0).pow(g.value(0.0))).with_label("y");
    let e = explain(y);
    y.backward();
    for (name, grad) in &e.grads {
        let leaf = if name == "x" { x } else { b };
        assert_eq!(*grad, leaf.grad(), "{name}");
        assert!(grad.is_finite());
    }
}

#[test]
fn fused_nodes_list_each_term() {
    let g = Graph::new();
    let w = [g.value(1.0).with_label("w1"), g.value(2.0).with_label("w2")];
    let x = [g.value(3.0).with_label("x1"), g.value(4.0).with_label("x2")];
    let b = g.value(0.5).with_label("b");
    let y = g.linear(&w, &x, b).with_label("y");
    let s = g.sum([y, w[0], x[1]]).with_label("s");
    let e = explain(s);
    assert_eq!(e.steps[0].terms.len(), 3);
    let dot = &e.steps[1];
    assert_eq!(dot.op, "dot");
    let formulas: Vec<&str> = dot.terms.iter().map(|t| t.formula.as_str()).collect();
    assert_eq!(formulas, ["x1.data", "x2.data", "w1.data", "w2.data", "1"]);
    let locals: Vec<f64> = dot.terms.iter().map(|t| t.local).collect();
    assert_eq!(locals, [3.0, 4.0, 1.0, 2.0, 1.0]);
    // w1 is used by the dot node and by the sum: its terms accumulate.
    assert_eq!(e.grad("w1"), Some(4.0));
    assert!(dot.terms[0].accumulates && !dot.terms[1].accumulates);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// For random graphs over every op: each contribution is upstream ×
    /// local; each node's contributions add up to backward()'s gradient
    /// (the engine's own local derivatives), so the local derivatives
    /// agree with the engine's.
    #[test]
    fn contributions_add_up_to_backward(
        inputs in prop::collection::vec(-2.0f64..2.0, 1..4),
        prog in prop::collection::vec(instr(), 1..12),
    ) {
        let g = Graph::new();
        let xs: Vec<_> = inputs
            .iter()
            .enumerate()
            .map(|(i, &x)| g.value(x).with_label(format!("x{i}")))
            .collect();
        let out = build(&g, &xs, &prog);
        let e = explain(out);
        let ids = g.trace(out.id()).nodes;
        out.backward();
        let all_finite = e.nodes.iter().all(|n| n.data.is_finite() && n.grad.is_finite());
        prop_assume!(all_finite);
        let mut sums = vec![0.0f64; e.nodes.len()];
        let mut count = vec![0usize; e.nodes.len()];
        for s in &e.steps {
            prop_assert_eq!(s.upstream, e.nodes[s.node_index].grad);
            for t in &s.terms {
                prop_assert_eq!(t.contribution, s.upstream * t.local);
                sums[t.operand_index] += t.contribution;
                count[t.operand_index] += 1;
                prop_assert!(close(t.total, sums[t.operand_index]));
            }
        }
        for n in &e.nodes {
            let backward = g.get(ids[n.index]).grad();
            prop_assert!(close(n.grad, backward), "{}: explain {} backward {}", n.name, n.grad, backward);
            if n.index + 1 < e.nodes.len() {
                prop_assert!(close(sums[n.index], backward), "{}: contributions {} backward {}", n.name, sums[n.index], backward);
            }
            prop_assert_eq!(count[n.index], n.uses);
        }
        for (i, x) in xs.iter().enumerate() {
            let name = format!("x{i}");
            if let Some(grad) = e.grad(&name) {
                prop_assert!(close(grad, x.grad()));
            }
        }
    }
}

/// One statement of a random expression program over the names defined so
/// far (`v0`, `v1`, ... with the inputs first), in the program language.
fn statement(k: usize) -> impl Strategy<Value = String> {
    let name = move || (0..k).prop_map(|i| format!("v{i}"));
    let pos = |n: String| format!("({n}*{n} + 0.5)");
    prop_oneof![
        (name(), name()).prop_map(|(a, b)| format!("{a} + {b}")),
        (name(), name()).prop_map(|(a, b)| format!("{a} - {b}")),
        (name(), name()).prop_map(|(a, b)| format!("{a} * {b}")),
        (name(), name()).prop_map(move |(a, b)| format!("{a} / {}", pos(b))),
        name().prop_map(|a| format!("-{a}")),
        (
            name(),
            prop::sample::select(vec!["2", "3", "0", "-1", "0.5"])
        )
            .prop_map(move |(a, p)| format!("{} ** {p}", pos(a))),
        (name(), name()).prop_map(move |(a, b)| format!("{} ** tanh({b})", pos(a))),
        name().prop_map(|a| format!("exp(tanh({a}))")),
        name().prop_map(move |a| format!("ln{}", pos(a))),
        name().prop_map(|a| format!("tanh({a})")),
        name().prop_map(|a| format!("relu({a})")),
        name().prop_map(|a| format!("sigmoid({a})")),
        name().prop_map(move |a| format!("sqrt{}", pos(a))),
        (name(), name()).prop_map(|(a, b)| format!("{a} * {a} + {b}")),
    ]
}

fn program_text() -> impl Strategy<Value = String> {
    (1usize..4, prop::collection::vec(-2.0f64..2.0, 3))
        .prop_flat_map(|(n_stmts, xs)| {
            let stmts: Vec<_> = (0..n_stmts * 3).map(|i| statement(3 + i)).collect();
            (Just(xs), stmts)
        })
        .prop_map(|(xs, stmts)| {
            let mut p = format!("v0 = {}; v1 = {}; v2 = {}\n", xs[0], xs[1], xs[2]);
            for (i, s) in stmts.iter().enumerate() {
                p.push_str(&format!("v{} = {s}\n", 3 + i));
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// For random programs in the expression language: each input's
    /// contributions add up to its gradient from backward().
    #[test]
    fn program_contributions_add_up_to_backward(src in program_text()) {
        let p = Program::parse(&src).unwrap();
        let g = Graph::new();
        let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
        let e = explain_with_leaves(ev.output, &ev.inputs);
        ev.output.backward();
        for (name, v) in &ev.inputs {
            let backward = v.grad();
            let sum: f64 = e
                .steps
                .iter()
                .flat_map(|s| &s.terms)
                .filter(|t| t.operand == *name)
                .map(|t| t.contribution)
                .sum();
            let mine = e.grad(name).unwrap();
            prop_assume!(backward.is_finite());
            prop_assert!(close(mine, backward), "{src}\n{name}: explain {mine} backward {backward}");
            let used = e.node(name).is_some();
            if used && *name != e.output {
                prop_assert!(close(sum, backward), "{src}\n{name}: contributions {sum} backward {backward}");
            }
        }
    }
}

/// micrograd's README example (relu(x) for x.relu()), which rebinds `c`,
/// `d` and `g` with `+=`.
const MICROGRAD: &str = include_str!("../../data/programs/micrograd.txt");

fn explained(src: &str) -> backprop::explain::Explanation {
    let p = Program::parse(src).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    explain_with_leaves(ev.output, &ev.inputs)
}

/// Every node has its own name, and no step names one node on both sides.
fn assert_one_name_per_node(e: &backprop::explain::Explanation) {
    let mut seen = std::collections::HashSet::new();
    for n in &e.nodes {
        assert!(seen.insert(n.name.as_str()), "`{}` names two nodes", n.name);
    }
    for s in &e.steps {
        for t in &s.terms {
            assert_ne!(t.operand, s.node, "step {} names one node twice", s.number);
            assert_eq!(t.operand, e.nodes[t.operand_index].name);
        }
        assert_eq!(s.node, e.nodes[s.node_index].name);
    }
}

/// micrograd's published results (g = 24.7041, a.grad = 138.8338,
/// b.grad = 645.5773), and one name per node: the three bindings of `c`
/// are c₁ c₂ c₃, in program order, each its own node.
#[test]
fn micrograds_example_names_each_binding_once() {
    let e = explained(MICROGRAD);
    assert!((e.value - 24.7041).abs() < 1e-4);
    assert!((e.grad("a").unwrap() - 138.8338).abs() < 1e-4);
    assert!((e.grad("b").unwrap() - 645.5773).abs() < 1e-4);
    assert_one_name_per_node(&e);
    for (label, versions) in [
        ("c", vec!["c₁", "c₂", "c₃"]),
        ("d", vec!["d₁", "d₂", "d₃"]),
        ("g", vec!["g₁", "g₂"]),
    ] {
        let names: Vec<&str> = e
            .nodes
            .iter()
            .filter(|n| n.label.as_deref() == Some(label))
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, versions);
    }
    // Names bound once stay plain.
    for plain in ["a", "b", "e", "f"] {
        assert!(e.nodes.iter().any(|n| n.name == plain), "{plain}");
    }
    assert_eq!(e.output, "g₂");
    // By hand: c₃ = -1 and d₃ = 6, so e = -7, and the first step is
    // g₂ = g₁ + 10/f: both operands get upstream 1 through the `+`.
    assert_eq!(e.node("c₃").unwrap().data, -1.0);
    assert_eq!(e.node("d₃").unwrap().data, 6.0);
    let first = &e.steps[0];
    assert_eq!(first.node, "g₂");
    assert_eq!(first.terms[0].operand, "g₁");
    // `c += c + 1`: c₂ = c₁ + (c₁ + 1), so c₁ gets d(c₂)/d(c₁) = 2 from that
    // statement; c₂ gets 1 + 1 = 2 from c₃ = c₂ + (1 + c₂ - a), and c₃'s
    // grad is de/dc₃ = 1 times dg/de. So c₁.grad = 4 * c₃.grad.
    let c3 = e.node("c₃").unwrap().grad;
    let c1 = e.node("c₁").unwrap().grad;
    assert!((c1 - 4.0 * c3).abs() < 1e-9, "{c1} vs 4 * {c3}");
    let text = e.to_string();
    for line in text
        .lines()
        .filter(|l| l.contains(".grad") && l.contains(" * "))
    {
        let (lhs, rhs) = line
            .split_once(" += ")
            .or_else(|| line.split_once(" = "))
            .unwrap();
        let upstream = rhs.split(".grad").next().unwrap().trim();
        assert_ne!(lhs.trim().trim_end_matches(".grad"), upstream, "{line}");
    }
    assert!(
        text.contains("c₁ c₂ c₃ are the values bound to c"),
        "{text}"
    );
}

/// The notebook's numbers for a constant operand: d(10/f)/df =
/// -10/f**2 and d(f/2)/df = 1/2, with f = e**2 = 49 by hand. A constant
/// appears as its number, and only `--all` gives it a gradient line.
#[test]
fn constants_appear_as_numbers() {
    let e = explained(MICROGRAD);
    let div = e.steps.iter().find(|s| s.node == "(10/f)").unwrap();
    let to_f = div.terms.iter().find(|t| t.operand == "f").unwrap();
    assert_eq!(to_f.formula, "-10/f.data**2");
    assert!((to_f.local - (-10.0 / (49.0f64 * 49.0))).abs() < 1e-15);
    let to_ten = div.terms.iter().find(|t| t.operand != "f").unwrap();
    assert!(to_ten.constant && e.nodes[to_ten.operand_index].is_constant());
    let half = e.steps.iter().find(|s| s.node == "g₁").unwrap();
    assert_eq!(half.terms[0].formula, "1/2");
    assert_eq!(half.terms[0].local, 0.5);
    let text = e.to_string();
    assert!(
        text.contains("f.grad += (10/f).grad * (-10/f.data**2)"),
        "{text}"
    );
    assert!(
        text.contains("f.grad += g₁.grad * 1/2 = 1 * 0.5 = 0.5"),
        "{text}"
    );
    for constant in ["10", "2", "1", "3"] {
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{constant}.grad"))
                    || l.trim_start().starts_with(&format!("{constant}₁.grad"))),
            "{constant} has a gradient line:\n{text}"
        );
    }
    let all = e.to_text(&backprop::explain::TextOptions {
        constants: true,
        ..Default::default()
    });
    // d(f/2)/d2 = -f/2**2 = -49/4.
    assert!(
        all.contains("-f.data/2**2) = 1 * (-12.25) = -12.25"),
        "{all}"
    );
    // Inputs keep their lines.
    assert!(text.contains("  a.grad += ") && text.contains("  b.grad += "));
}

/// A program may rebind its input: the input keeps its plain name (the
/// one `--at`, `--leaf`, the checks and `grad` use), its later bindings
/// are numbered from 2.
#[test]
fn a_rebound_input_is_found_by_its_name() {
    let e = explained("a = 2; a = a * 3; b = a*a + a*a");
    assert_one_name_per_node(&e);
    let a: Vec<&str> = e
        .nodes
        .iter()
        .filter(|n| n.label.as_deref() == Some("a"))
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(a, ["a", "a₂"]);
    assert!(e.nodes[0].is_leaf() && !e.nodes[0].is_versioned());
    // b = 2 * (3a)² = 18 a², db/da = 36 a = 72.
    assert_eq!(e.grad("a"), Some(72.0));
    let checked = e.clone().with_checks(1e-6);
    assert!((checked.checks[0].central - 72.0).abs() < 1e-5);
    let focused = e.clone().focus("a").unwrap();
    assert_eq!(focused.grads, vec![("a".to_string(), 72.0)]);
    let text = e.to_string();
    assert!(
        text.contains("(a a₂ are the values bound to a, in program order)"),
        "{text}"
    );
    assert!(
        text.contains("  a.grad = a₂.grad * 3 = 24 * 3 = 72"),
        "{text}"
    );
}

/// A random program that rebinds names (`v1 += ...`, `v0 = v0 * 2`) and
/// uses constants.
fn rebinding_program() -> impl Strategy<Value = String> {
    let stmt = (0usize..3, 0usize..3, 0usize..6, -2.0f64..2.0).prop_map(|(t, a, op, k)| {
        let k = format!("{:.2}", k);
        let (t, a) = (format!("v{t}"), format!("v{a}"));
        match op {
            0 => format!("{t} += {a} * {k}"),
            1 => format!("{t} = {t} * {a} + {k}"),
            2 => format!("{t} -= tanh({a}) / 2"),
            3 => format!("{t} = {k} / ({a}*{a} + 1) + {t}"),
            4 => format!("{t} *= exp(-{a}*{a}) + 0.5"),
            _ => format!("{t} = relu({a} + {k}) + {a}**2"),
        }
    });
    (prop::collection::vec(-2.0f64..2.0, 3), prop::collection::vec(stmt, 1..10)).prop_map(
        |(xs, stmts)| {
            format!(
                "x0 = {}; x1 = {}; x2 = {}\nv0 = x0 + 0; v1 = x1 * 1; v2 = x2 - 0\n{}\ny = v0 + v1 * v2",
                xs[0],
                xs[1],
                xs[2],
                stmts.join("\n")
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// For random programs with rebinding and constants: one name per
    /// node; each contribution is upstream × local; each node's
    /// contributions add up to backward()'s gradient of that node.
    #[test]
    fn rebinding_programs_add_up_to_backward(src in rebinding_program()) {
        let p = Program::parse(&src).unwrap();
        let g = Graph::new();
        let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
        let e = explain_with_leaves(ev.output, &ev.inputs);
        let ids = g.trace(ev.output.id()).nodes;
        ev.output.backward();
        prop_assume!(e.nodes.iter().all(|n| n.data.is_finite() && n.grad.is_finite()));
        assert_one_name_per_node(&e);
        let mut sums = vec![0.0f64; e.nodes.len()];
        for s in &e.steps {
            for t in &s.terms {
                prop_assert_eq!(t.contribution, s.upstream * t.local);
                sums[t.operand_index] += t.contribution;
            }
        }
        for n in &e.nodes[..e.nodes.len() - 1] {
            let backward = g.get(ids[n.index]).grad();
            prop_assert!(close(sums[n.index], backward), "{src}\n{}: {} vs {backward}", n.name, sums[n.index]);
        }
        for (name, v) in &ev.inputs {
            prop_assert!(close(e.grad(name).unwrap(), v.grad()), "{src}\n{name}");
        }
    }
}

/// A label holding a newline, a tab or a bidirectional control is named
/// by it with the character as its code point (`aU+000Ab`): the explain
/// text keeps one line per node with its `=` in the column of the others',
/// and the node can still be found by the label as written.
#[test]
fn hidden_characters_in_labels_are_shown_as_code_points() {
    let g = Graph::new();
    let a = g.value(2.0).with_label("a\nb");
    let t = g.value(-1.0).with_label("t\t\u{202e}x");
    let o = (a * t).with_label("o");
    let e = explain(o);
    let names: Vec<&str> = e.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["aU+000Ab", "tU+0009U+202Ex", "o"]);
    assert_eq!(e.nodes[0].label.as_deref(), Some("aU+000Ab"));
    assert_eq!(e.node("a\nb").map(|n| n.index), Some(0));
    assert_eq!(e.node("aU+000Ab").map(|n| n.index), Some(0));
    assert_eq!(e.grad("t\t\u{202e}x"), Some(2.0));
    let text = e.to_string();
    assert!(
        !text
            .chars()
            .any(|c| c != '\n' && backprop::format::is_hidden(c)),
        "{text:?}"
    );
    // The forward pass: one line per node, `=` aligned.
    let forward: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("forward pass"))
        .skip(1)
        .take(3)
        .collect();
    assert!(forward[0].starts_with("  aU+000Ab "), "{text}");
    assert!(forward[1].starts_with("  tU+0009U+202Ex "), "{text}");
    assert!(forward[2].starts_with("  o "), "{text}");
    let column: Vec<usize> = forward
        .iter()
        .map(|l| l.chars().position(|c| c == '=').unwrap())
        .collect();
    assert!(column.iter().all(|&c| c == column[0]), "{text}");
}

/// The step-through page shows such a label and a title the same way: the
/// page's text holds `aU+000Ab`, never the raw characters (nor the JSON
/// escape `a\nb` that the page's script would turn back into a newline).
#[test]
fn hidden_characters_in_labels_reach_the_page_as_code_points() {
    let g = Graph::new();
    let a = g.value(2.0).with_label("a\nb");
    let o = (a * 3.0).with_label("o\u{202e}k");
    let e = explain(o);
    let html = backprop::explain::to_html(&e, None, "o\u{202e}k").unwrap();
    assert!(html.contains("aU+000Ab"));
    assert!(html.contains("<title>backprop: oU+202Ek</title>"), "{html}");
    assert!(!html.contains(r"a\nb"));
    assert!(!html.contains('\u{202e}'));
}
