//! The expression language against hand-computed values: Python's
//! precedence rules, closed-form derivatives, micrograd's README example
//! and the notebook's neuron, and every kind of bad input.

use backprop::Graph;
use backprop::expr::{EvalError, ParseErrorKind, Program, parse_override};
use backprop::gradcheck::Tolerances;

use crate::common::NEURON;

/// The output value of a program.
fn value(src: &str) -> f64 {
    let p = Program::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let g = Graph::new();
    p.eval(&g, &[] as &[(&str, f64)]).unwrap().output.data()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn precedence_follows_python() {
    // Expected values worked out by hand with Python's rules.
    let cases: &[(&str, f64)] = &[
        ("-2**2", -4.0),
        ("2**3**2", 512.0),
        ("2**-1", 0.5),
        ("10-3-2", 5.0),
        ("2*3**2", 18.0),
        ("8/2/2", 2.0),
        ("-(-3)", 3.0),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("-3 * 2", -6.0),
        ("2 - -3", 5.0),
        ("+-+2", -2.0),
        ("(-2)**2", 4.0),
        ("-2**-2", -0.25),
        ("2**-1**2", 0.5),
        ("4**0.5 * 3", 6.0),
        ("1 - 2 + 3", 2.0),
        ("12 / 3 * 2", 8.0),
        ("2 * (3 + 4) ** 2 / 7", 14.0),
        ("3.", 3.0),
        ("2E+2", 200.0),
        ("x = 3\n-x**2", -9.0),
        ("x = 2; 2**x**x", 16.0),
        ("x = 2; y = (x +\n 1) * 2", 6.0),
    ];
    for &(src, want) in cases {
        assert_eq!(value(src), want, "{src}");
    }
}

#[test]
fn functions_have_their_closed_form_values() {
    let x = 0.7f64;
    let cases: &[(&str, f64)] = &[
        ("tanh(0.7)", x.tanh()),
        ("exp(0.7)", x.exp()),
        ("log(0.7)", x.ln()),
        ("ln(0.7)", x.ln()),
        ("relu(0.7)", 0.7),
        ("relu(-0.7)", 0.0),
        ("sigmoid(0.7)", 1.0 / (1.0 + (-x).exp())),
        ("sqrt(0.7)", x.sqrt()),
    ];
    for &(src, want) in cases {
        assert!(close(value(src), want, 1e-15), "{src}");
    }
}

/// d/dx of `y = f(x)` at x, by the engine.
fn derivative(body: &str, x: f64) -> f64 {
    let p = Program::parse(&format!("x = {x}\ny = {body}")).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[("x", x)]).unwrap();
    ev.output.backward();
    ev.grad("x").unwrap()
}

#[test]
fn gradients_match_closed_form_derivatives() {
    let x = 0.7f64;
    let s = 1.0 / (1.0 + (-x).exp());
    let cases: &[(&str, f64)] = &[
        ("tanh(x)", 1.0 - x.tanh().powi(2)),
        ("exp(x)", x.exp()),
        ("log(x)", 1.0 / x),
        ("relu(x)", 1.0),
        ("sigmoid(x)", s * (1.0 - s)),
        ("sqrt(x)", 0.5 / x.sqrt()),
        ("x**3", 3.0 * x * x),
        ("x**-1", -1.0 / (x * x)),
        ("2**x", 2f64.powf(x) * 2f64.ln()),
        ("x**x", x.powf(x) * (x.ln() + 1.0)),
        ("1/x", -1.0 / (x * x)),
        ("-x*x", -2.0 * x),
        ("x*x*x - 2*x", 3.0 * x * x - 2.0),
        ("tanh(x)**2", 2.0 * x.tanh() * (1.0 - x.tanh().powi(2))),
    ];
    for &(body, want) in cases {
        let got = derivative(body, x);
        assert!(close(got, want, 1e-12), "{body}: {got} vs {want}");
    }
    assert_eq!(derivative("relu(x)", -0.5), 0.0);
}

#[test]
fn gradients_pass_gradcheck() {
    let programs = [
        "x = 0.7; y = tanh(x)",
        "x = 0.7; y = exp(x)",
        "x = 0.7; y = log(x)",
        "x = 0.7; y = relu(x)",
        "x = 0.7; y = sigmoid(x)",
        "x = 0.7; y = sqrt(x)",
        "x = 0.7; z = 1.3; y = x**z + z**x - x / z",
        "a = -4.0; b = 2.0; c = a + b; d = a * b + b**3; y = tanh(c * d / 10)",
    ];
    for src in programs {
        let p = Program::parse(src).unwrap();
        let r = p
            .gradcheck(&[] as &[(&str, f64)], Tolerances::default())
            .unwrap();
        assert!(r.passed(), "{src}\n{r}");
    }
}

const MICROGRAD: &str = "a = -4.0
b = 2.0
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + relu(b + a)
d += 3 * d + relu(b - a)
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
";

#[test]
fn micrograd_readme_example() {
    // The numbers published in micrograd's README.
    let p = Program::parse(MICROGRAD).unwrap();
    assert_eq!(p.inputs(), vec![("a", -4.0), ("b", 2.0)]);
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    ev.output.backward();
    assert_eq!(ev.output_name, "g");
    assert!((ev.output.data() - 24.70408163265306).abs() < 1e-6);
    assert!((ev.grad("a").unwrap() - 138.83381924198252).abs() < 1e-6);
    assert!((ev.grad("b").unwrap() - 645.5772594752186).abs() < 1e-6);
    // The table holds the last binding of each name, the output first.
    let names: Vec<&str> = ev.named().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["g", "a", "b", "c", "d", "e", "f"]);
    // `c += ...` made new nodes labelled `c`.
    assert_eq!(ev.bindings.iter().filter(|(n, _)| n == "c").count(), 3);
}

#[test]
fn notebook_neuron() {
    let p = Program::parse(NEURON).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    ev.output.backward();
    assert!((ev.output.data() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-8); // the notebook: 0.7071
    let grads = [
        ("x1", -1.5),
        ("w1", 1.0),
        ("x2", 0.5),
        ("w2", 0.0),
        ("b", 0.5),
    ];
    for (name, want) in grads {
        assert!((ev.grad(name).unwrap() - want).abs() < 1e-9, "{name}");
    }
    let n = ev.named().into_iter().find(|(n, _)| *n == "n").unwrap().1;
    assert!((n.grad() - 0.5).abs() < 1e-9);
    assert_eq!(n.label().as_deref(), Some("n"));
}

#[test]
fn overrides_and_bare_outputs() {
    let p = Program::parse("x = 1; y = 2; x * y + 1").unwrap();
    assert_eq!(p.output_name(), "out");
    let g = Graph::new();
    let ev = p.eval(&g, &[("y", 5.0), ("x", 3.0)]).unwrap();
    assert_eq!(ev.output.data(), 16.0);
    // A bare name keeps its own name and makes no node.
    let p = Program::parse("x = 1; y = x * 3\ny").unwrap();
    assert_eq!(p.output_name(), "y");
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    assert_eq!(g.len(), 3);
    assert_eq!(ev.output.data(), 3.0);
    // A negated literal is an input; an alias is not.
    let p = Program::parse("a = -4.0; b = a; c = +2; d = b * c").unwrap();
    assert_eq!(p.inputs(), vec![("a", -4.0), ("c", 2.0)]);
    let err = p.input_values(&[("b", 1.0)]).unwrap_err();
    assert!(matches!(err, EvalError::NotAnInput { ref name, .. } if name == "b"));
    assert_eq!(
        err.to_string(),
        "`b` is not an input: it is another name for the input `a` (at 1:11); set `a` instead"
    );
    // Also through a chain of aliases.
    let err = Program::parse("a = 1; b = a; c = b; y = c * 2")
        .unwrap()
        .input_values(&[("c", 1.0)])
        .unwrap_err();
    assert!(
        matches!(err, EvalError::NotAnInput { ref alias_of, .. } if alias_of.as_deref() == Some("a"))
    );
    // A computed name lists the inputs.
    let err = p.input_values(&[("d", 1.0)]).unwrap_err();
    assert!(err.to_string().contains("computed at 1:26"), "{err}");
    assert!(err.to_string().contains("a, c"), "{err}");
}

#[test]
fn non_finite_results_are_not_errors() {
    assert!(value("x = -1; y = log(x)").is_nan());
    assert_eq!(value("x = 0; y = 1 / x"), f64::INFINITY);
    assert_eq!(value("x = 1e300; y = x * x"), f64::INFINITY);
}

/// Below the smallest subnormal a number rounds to 0, as Python's
/// `float("1e-400")` and `1e-400` do (IEEE 754 round to nearest).
#[test]
fn numbers_below_the_smallest_subnormal_read_as_zero() {
    assert_eq!(value("y = 2.5e-400"), 0.0);
    assert_eq!(value("x = 1e-400; y = x + 1"), 1.0);
    assert_eq!(parse_override("x=1e-400").unwrap().1, 0.0);
    // Half the smallest subnormal rounds to even (0), a bit more to it.
    assert_eq!(value("y = 2.4703282292062327e-324"), 0.0);
    assert_eq!(value("y = 2.4703282292062328e-324"), 5e-324);
}

#[test]
fn numbers_an_f64_cannot_hold_are_errors() {
    use ParseErrorKind as K;
    assert_eq!(
        error("x = 1\ny = x * 1e999"),
        (K::NumberOutOfRange("1e999".into()), 2, 9)
    );
    let e = Program::parse("y = 1e999").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("1:5: number `1e999` is out of range"),
        "{e}"
    );
    // The edges of the range, and zero written with a big exponent, are fine.
    assert_eq!(value("y = 1.7976931348623157e308"), f64::MAX);
    assert_eq!(value("y = 5e-324"), 5e-324);
    assert_eq!(value("y = 0e999"), 0.0);
    // The same for --at values; inf is spelled out.
    assert!(parse_override("x=1e999").is_err());
    assert_eq!(parse_override("x=-1e-999").unwrap().1, 0.0);
    assert_eq!(parse_override("x=-inf").unwrap().1, f64::NEG_INFINITY);
}

#[test]
fn hints_for_functions_and_values_mixed_up() {
    use ParseErrorKind as K;
    assert_eq!(
        error("x = 2; y = tanh x"),
        (K::FunctionWithoutParens("tanh".into()), 1, 12)
    );
    assert_eq!(
        error("x = 2; y = x(2)"),
        (K::NotAFunction("x".into()), 1, 12)
    );
    // An unknown name that is no function, and a function name used as a
    // variable, are as before.
    assert_eq!(
        error("y = foo(2)"),
        (K::UnknownFunction("foo".into()), 1, 5)
    );
    assert_eq!(value("exp = 2; y = exp * 3"), 6.0);
}

#[test]
fn cr_only_line_endings_are_newlines() {
    assert_eq!(value("x = 2\ry = x * 3\r"), 6.0);
    assert_eq!(value("x = 2\r\ny = x * 3 # note\rz = y + 1"), 7.0);
    let e = Program::parse("x = 2\ry = x +\rz = 1").unwrap_err();
    assert_eq!((e.span.line, e.span.col), (2, 8));
    assert_eq!(e.source_line, "y = x +");
}

#[test]
fn snippets_are_escaped_and_cut() {
    let e = Program::parse("y = 1 \u{1b}[2J").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnexpectedChar('\u{1b}'));
    assert_eq!(e.to_string(), r"1:7: unexpected character `\u{1b}`");
    assert!(!e.snippet().contains('\u{1b}'));
    // A 100,000-character line: the snippet keeps a window around the spot.
    let src = format!("x = 1; y = {}x @ 2", "x + ".repeat(25_000));
    let e = Program::parse(&src).unwrap_err();
    assert_eq!(e.span.col, 100_014);
    let snippet = e.snippet();
    assert!(
        snippet.chars().count() < 3 * backprop::expr::SNIPPET_WIDTH,
        "{snippet}"
    );
    let lines: Vec<&str> = snippet.lines().collect();
    assert!(lines[1].starts_with("1 | …"), "{snippet}");
    let at = lines[1].chars().position(|c| c == '@').unwrap();
    assert_eq!(lines[2].chars().position(|c| c == '^'), Some(at));
    // Long names in messages are cut too.
    let e = Program::parse(&format!("y = {}", "n".repeat(10_000))).unwrap_err();
    assert!(e.to_string().len() < 200, "{e}");
}

/// The error's kind, line and column.
fn error(src: &str) -> (ParseErrorKind, usize, usize) {
    let e = Program::parse(src).unwrap_err();
    (e.kind, e.span.line, e.span.col)
}

#[test]
fn errors_say_what_and_where() {
    use ParseErrorKind as K;
    assert_eq!(
        error("x = 1\ny = x + zz"),
        (K::UnknownName("zz".into()), 2, 9)
    );
    assert_eq!(
        error("y = foo(1)"),
        (K::UnknownFunction("foo".into()), 1, 5)
    );
    assert_eq!(
        error("x = 1; y = exp(x, x)"),
        (
            K::ArgCount {
                name: "exp".into(),
                got: 2
            },
            1,
            12
        )
    );
    assert_eq!(
        error("y = tanh()"),
        (
            K::ArgCount {
                name: "tanh".into(),
                got: 0
            },
            1,
            5
        )
    );
    assert!(matches!(error("y = (1 + 2"), (K::Unclosed { .. }, 1, 5)));
    assert!(matches!(
        error("y = 2 * (1 + (2)\nz = 3"),
        (K::Unclosed { .. }, 1, 9)
    ));
    assert_eq!(error("y = 1 + 2)"), (K::Unmatched, 1, 10));
    assert_eq!(error("y = )"), (K::Unmatched, 1, 5));
    assert_eq!(error("y = 1 2"), (K::Stray("number `2`".into()), 1, 7));
    assert_eq!(error("y = 1 x"), (K::Stray("name `x`".into()), 1, 7));
    assert_eq!(error(""), (K::Empty, 1, 1));
    assert_eq!(error("  # nothing\n;;\n"), (K::Empty, 1, 1));
    assert_eq!(error("y = 1 @ 2"), (K::UnexpectedChar('@'), 1, 7));
    assert_eq!(error("y = 1.2.3"), (K::BadNumber("1.2.3".into()), 1, 5));
    assert_eq!(
        error("y = "),
        (K::ExpectedExpression("the end of the program".into()), 1, 5)
    );
    assert_eq!(
        error("y = * 2"),
        (K::ExpectedExpression("`*`".into()), 1, 5)
    );
    assert_eq!(error("= 2"), (K::ExpectedExpression("`=`".into()), 1, 1));
    assert_eq!(error("x = 1; x + 1; y = 2"), (K::BareNotLast, 1, 8));
    assert_eq!(error("c += 1"), (K::UnknownName("c".into()), 1, 1));
    assert!(matches!(
        error("a = 1\na = 2"),
        (K::InputReassigned { .. }, 2, 1)
    ));
    // The message carries the values and positions.
    let e = Program::parse("y = (1 + 2").unwrap_err();
    assert_eq!(
        e.to_string(),
        "1:5: unbalanced parenthesis: this `(` is never closed (found the end of the program at 1:11)"
    );
    let e = Program::parse("y = foo(1)").unwrap_err();
    for f in ["tanh", "exp", "log", "relu", "sigmoid", "sqrt"] {
        assert!(e.to_string().contains(f));
    }
    assert_eq!(e.snippet(), "  |\n1 | y = foo(1)\n  |     ^^^");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for n in [256, 10_000] {
        let parens = format!("y = {}1{}", "(".repeat(n), ")".repeat(n));
        let unary = format!("y = {}1", "-".repeat(n));
        let pow = format!("y = 2{}", "**2".repeat(n));
        let calls = format!("y = {}1{}", "tanh(".repeat(n), ")".repeat(n));
        for src in [parens, unary, pow, calls] {
            let e = Program::parse(&src).unwrap_err();
            assert_eq!(e.kind, ParseErrorKind::TooDeep(backprop::expr::MAX_DEPTH));
            assert!(e.to_string().contains("nested too deeply"));
        }
    }
    // Just under the limit is fine.
    let ok = format!("y = {}1{}", "(".repeat(150), ")".repeat(150));
    assert_eq!(value(&ok), 1.0);
}

#[test]
fn long_flat_programs_are_fine() {
    // A left-deep chain of 100,000 terms and 20,000 statements: flat code,
    // nothing recursive to evaluate or to drop.
    let src = format!("x = 1\ny = x{}", " + x".repeat(100_000));
    assert_eq!(value(&src), 100_001.0);
    let mut src = String::from("x = 1.0001\ny = x\n");
    for _ in 0..20_000 {
        src.push_str("y *= x\n");
    }
    let p = Program::parse(&src).unwrap();
    let g = Graph::new();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    ev.output.backward();
    assert!(close(ev.output.data(), 1.0001f64.powi(20_001), 1e-9));
}

#[test]
fn overrides_parse_with_positions() {
    assert_eq!(parse_override("x1=2").unwrap(), ("x1".into(), 2.0));
    assert_eq!(parse_override(" w = -3.5e1 ").unwrap(), ("w".into(), -35.0));
    assert!(parse_override("x=nan").unwrap().1.is_nan());
    assert_eq!(parse_override("x=-inf").unwrap().1, f64::NEG_INFINITY);
    for (bad, col) in [
        ("x1", 3),
        ("=2", 1),
        ("1x=2", 1),
        ("x=", 3),
        ("x=2a", 3),
        ("x = abc", 5),
    ] {
        let e = parse_override(bad).unwrap_err();
        assert!(
            matches!(e.kind, ParseErrorKind::BadOverride { .. }),
            "{bad}"
        );
        assert_eq!((e.span.line, e.span.col), (1, col), "{bad}: {e}");
    }
}

#[test]
fn function_closure_matches_eval() {
    let p = Program::parse(MICROGRAD).unwrap();
    let f = p.function();
    let g = Graph::new();
    let xs = [g.value(-4.0), g.value(2.0)];
    let y = f(&g, &xs);
    y.backward();
    assert!((xs[0].grad() - 138.83381924198252).abs() < 1e-6);
}

/// A program's gradient-check report names its inputs and prints numbers
/// as `f64`'s `Display` does (`-1.5`, not `-1.500000000000000e0`): d(x*y)/dx = y.
#[test]
fn gradcheck_report_names_inputs() {
    let p = backprop::expr::Program::parse("x = 2; y = -1.5; z = x * y").unwrap();
    let report = p
        .gradcheck(&[] as &[(&str, f64)], Default::default())
        .unwrap();
    let text = report.to_string();
    let row = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}: {text}"))
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(row("x"), "-1.5", "{text}");
    assert_eq!(row("y"), "2", "{text}");
    assert!(
        text.ends_with("passed (eps 1e-6, atol 1e-5, rtol 1e-3)"),
        "{text}"
    );
}

/// A letter outside ASCII gets a hint that names are ASCII; other
/// characters do not.
#[test]
fn non_ascii_letters_hint_at_ascii_names() {
    for (program, col, c) in [("é = 1", 1, 'é'), ("x = 2; θ = x", 8, 'θ')] {
        let e = Program::parse(program).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::UnexpectedChar(c));
        assert_eq!(e.span.col, col);
        assert!(e.to_string().contains("names are ASCII letters"), "{e}");
    }
    let e = Program::parse("y = 1 @ 2").unwrap_err();
    assert!(!e.to_string().contains("names are"), "{e}");
}
