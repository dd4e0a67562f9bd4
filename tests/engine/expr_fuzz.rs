//! Fuzzing the parser: no input may panic or overflow the stack. Arbitrary
//! strings, token soup from the language's own vocabulary, and valid
//! programs with one random edit. Every program that parses also
//! evaluates, differentiates and draws without panicking.

use backprop::Graph;
use backprop::expr::{Program, parse_override};
use backprop::viz::{DotOptions, to_dot};
use proptest::prelude::*;

/// Parses and, if that works, runs everything downstream.
fn exercise(src: &str) {
    let Ok(p) = Program::parse(src) else { return };
    let g = Graph::new();
    let ev = p
        .eval(&g, &[] as &[(&str, f64)])
        .expect("no override, no error");
    ev.output.backward();
    let _ = ev.named();
    if g.len() < 2000 {
        let _ = to_dot(&g, ev.output.id(), &DotOptions::default());
    }
}

const VOCAB: &[&str] = &[
    "x", "y", "a1", "_b", "out", "tanh", "exp", "log", "ln", "relu", "sigmoid", "sqrt", "foo", "0",
    "1", "2.5", ".5", "1e-3", "1e", "3.", "1.2.3", "+", "-", "*", "/", "**", "(", ")", ",", "=",
    "+=", "-=", "*=", "/=", ";", "\n", "#c\n", " ", "\t", "@", "é", "\r\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..60).prop_map(|t| t.join(" "))
}

/// Near-valid programs: statements built from a small grammar.
fn expr_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(&["x", "y", "1", "2.5", ".5", "1e-3", "0"][..]).prop_map(String::from),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["+", "-", "*", "/", "**"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (
                prop::sample::select(&["tanh", "exp", "log", "relu", "sigmoid", "sqrt"][..]),
                inner
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
        ]
    })
}

fn program() -> impl Strategy<Value = String> {
    (
        -5.0f64..5.0,
        -5.0f64..5.0,
        prop::collection::vec(
            (
                prop::sample::select(&["x", "y", "z", "w"][..]),
                prop::sample::select(&["=", "+=", "-=", "*=", "/="][..]),
                expr_text(),
            ),
            1..6,
        ),
    )
        .prop_map(|(x, y, stmts)| {
            let mut s = format!("x = {x}\ny = {y}\n");
            for (name, op, e) in stmts {
                s.push_str(&format!("{name} {op} {e}\n"));
            }
            s
        })
}

/// A valid program with one character deleted, inserted or replaced.
fn mutated() -> impl Strategy<Value = String> {
    (
        program(),
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(&['(', ')', '*', '=', ';', '\n', '-', '.', 'e', '#', '2'][..]),
    )
        .prop_map(|(p, at, how, c)| {
            let mut chars: Vec<char> = p.chars().collect();
            let i = at.index(chars.len());
            match how {
                0 => {
                    chars.remove(i);
                }
                1 => chars.insert(i, c),
                _ => chars[i] = c,
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_do_not_panic(s in any::<String>()) {
        exercise(&s);
        let _ = parse_override(&s);
    }

    #[test]
    fn token_soup_does_not_panic(s in token_soup()) {
        exercise(&s);
    }

    #[test]
    fn near_valid_programs_do_not_panic(s in program()) {
        // The grammar only uses assigned names, but `+=` on `z`/`w` before
        // any `=` is an unknown name: errors are fine, panics are not.
        exercise(&s);
    }

    #[test]
    fn mutated_programs_do_not_panic(s in mutated()) {
        exercise(&s);
    }

    #[test]
    fn errors_point_inside_the_source(s in token_soup()) {
        if let Err(e) = Program::parse(&s) {
            let lines = s.split('\n').count().max(1);
            prop_assert!(e.span.line >= 1 && e.span.line <= lines, "{e:?}");
            prop_assert!(e.span.col >= 1);
            let _ = e.snippet();
        }
    }
}
