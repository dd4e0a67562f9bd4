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
