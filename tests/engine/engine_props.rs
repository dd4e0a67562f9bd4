//! Property tests: the engine's gradients against central differences, for
//! every op and for random compositions of them; and its second derivatives
//! (gradients taken as graph values, differentiated again) against central
//! differences of the gradient.

use backprop::gradcheck::{Tolerances, gradcheck, gradgradcheck};
use backprop::{Graph, Op, Value};
use proptest::prelude::*;

use crate::programs::{build, instr};

/// Whether finite differences are meaningful here: every value moderate,
/// and no relu argument within reach of its kink.
fn well_conditioned(g: &Graph, out: Value<'_>) -> bool {
    let t = g.trace(out.id());
    t.nodes.iter().all(|&id| {
        let v = g.get(id);
        let ok = v.data().is_finite() && v.data().abs() < 1e4;
        let kink = v.op() == Op::Relu && v.children()[0].data().abs() < 1e-3;
        ok && !kink
    })
}

/// A unary op as a plain function.
type Unary = fn(Value<'_>) -> Value<'_>;
/// A binary op as a plain function.
type Binary = for<'a> fn(Value<'a>, Value<'a>) -> Value<'a>;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_programs_match_central_differences(
        inputs in prop::collection::vec(-2.0f64..2.0, 1..4),
        prog in prop::collection::vec(instr(), 1..12),
    ) {
        let g = Graph::new();
        let xs: Vec<_> = inputs.iter().map(|&x| g.value(x)).collect();
        let out = build(&g, &xs, &prog);
        prop_assume!(well_conditioned(&g, out));
        let report = gradcheck(|g, xs| build(g, xs, &prog), &inputs, Tolerances::default());
        prop_assert!(report.passed(), "{:?}\n{}", prog, report);
    }

    #[test]
    fn random_programs_hessians_match_differences_of_the_gradient(
        inputs in prop::collection::vec(-2.0f64..2.0, 1..4),
        prog in prop::collection::vec(instr(), 1..10),
    ) {
        let g = Graph::new();
        let xs: Vec<_> = inputs.iter().map(|&x| g.value(x)).collect();
        let out = build(&g, &xs, &prog);
        prop_assume!(well_conditioned(&g, out));
        let report = gradgradcheck(|g, xs| build(g, xs, &prog), &inputs, Tolerances::default());
        prop_assert!(report.passed(), "{:?}\n{}", prog, report);
    }

    #[test]
    fn binary_ops_match_closed_form(a in -3.0f64..3.0, b in -3.0f64..3.0) {
        prop_assume!(b.abs() > 0.1);
        let cases: [(Binary, f64, f64); 4] = [
            (|x, y| x + y, 1.0, 1.0),
            (|x, y| x - y, 1.0, -1.0),
            (|x, y| x * y, b, a),
            (|x, y| x / y, 1.0 / b, -a / (b * b)),
        ];
        for (f, da, db) in cases {
            let g = Graph::new();
            let (x, y) = (g.value(a), g.value(b));
            f(x, y).backward();
            prop_assert!((x.grad() - da).abs() <= 1e-12 * (1.0 + da.abs()));
            prop_assert!((y.grad() - db).abs() <= 1e-12 * (1.0 + db.abs()));
        }
    }

    #[test]
    fn unary_ops_match_closed_form(x in -5.0f64..5.0) {
        let t = x.tanh();
        let s = 1.0 / (1.0 + (-x).exp());
        let cases: Vec<(Unary, f64, f64)> = vec![
            (|v| -v, -x, -1.0),
            (|v| v.exp(), x.exp(), x.exp()),
            (|v| v.tanh(), t, 1.0 - t * t),
            (|v| v.sigmoid(), s, s * (1.0 - s)),
            (|v| v.relu(), x.max(0.0), if x > 0.0 { 1.0 } else { 0.0 }),
            (|v| v.powf(3.0), x.powi(3), 3.0 * x * x),
        ];
        for (f, want, dwant) in cases {
            let g = Graph::new();
            let v = g.value(x);
            let y = f(v);
            y.backward();
            prop_assert!((y.data() - want).abs() <= 1e-12 * (1.0 + want.abs()));
            prop_assert!((v.grad() - dwant).abs() <= 1e-12 * (1.0 + dwant.abs()));
        }
        let p = x.abs() + 0.1;
        let positive: Vec<(Unary, f64, f64)> = vec![
            (|v| v.ln(), p.ln(), 1.0 / p),
            (|v| v.sqrt(), p.sqrt(), 0.5 / p.sqrt()),
            (|v| v.powf(-1.5), p.powf(-1.5), -1.5 * p.powf(-2.5)),
        ];
        for (f, want, dwant) in positive {
            let g = Graph::new();
            let v = g.value(p);
            let y = f(v);
            y.backward();
            prop_assert!((y.data() - want).abs() <= 1e-12 * (1.0 + want.abs()));
            prop_assert!((v.grad() - dwant).abs() <= 1e-10 * (1.0 + dwant.abs()));
        }
    }

    #[test]
    fn linear_matches_closed_form(ws in prop::collection::vec(-2.0f64..2.0, 1..20), shift in -1.0f64..1.0) {
        // Contiguous (fresh leaves) and gathered (interleaved) layouts.
        for interleaved in [false, true] {
            let g = Graph::new();
            let (w, x): (Vec<_>, Vec<_>) = if interleaved {
                ws.iter().map(|&v| (g.value(v), g.value(v + shift))).unzip()
            } else {
                let w: Vec<_> = ws.iter().map(|&v| g.value(v)).collect();
                (w, ws.iter().map(|&v| g.value(v + shift)).collect())
            };
            let b = g.value(shift);
            let y = g.linear(&w, &x, b);
            let want: f64 = ws.iter().map(|&v| v * (v + shift)).sum::<f64>() + shift;
            prop_assert!((y.data() - want).abs() <= 1e-12 * (1.0 + want.abs()));
            y.backward();
            for (k, &v) in ws.iter().enumerate() {
                prop_assert_eq!(w[k].grad(), v + shift);
                prop_assert_eq!(x[k].grad(), v);
            }
            prop_assert_eq!(b.grad(), 1.0);
            prop_assert_eq!(y.children().len(), 2 * ws.len() + 1);
        }
    }

    #[test]
    fn pow_with_value_exponent(a in 0.1f64..4.0, b in -3.0f64..3.0) {
        let g = Graph::new();
        let (x, y) = (g.value(a), g.value(b));
        x.pow(y).backward();
        let da = b * a.powf(b - 1.0);
        let db = a.powf(b) * a.ln();
        prop_assert!((x.grad() - da).abs() <= 1e-10 * (1.0 + da.abs()));
        prop_assert!((y.grad() - db).abs() <= 1e-10 * (1.0 + db.abs()));
    }

    #[test]
    fn saturating_functions_are_finite_and_correct_at_extremes(x in prop_oneof![-1e300f64..-20.0, 20.0f64..1e300]) {
        let g = Graph::new();
        let v = g.value(x);
        let t = v.tanh();
        let s = v.sigmoid();
        (t + s).backward();
        prop_assert!(t.data().is_finite() && s.data().is_finite() && v.grad().is_finite());
        // |tanh x - sign x| = 2 / (e^2|x| + 1) < 1e-17 for |x| >= 20.
        prop_assert!((t.data() - x.signum()).abs() < 1e-16);
        // σ(x) → 1 for x > 0 and ≈ e^x for x < 0.
        if x > 0.0 {
            prop_assert!((s.data() - 1.0).abs() < 1e-8);
        } else {
            prop_assert!((s.data() - x.exp()).abs() <= 1e-8 * x.exp());
        }
        let e = g.value(x).exp().data();
        prop_assert!(!e.is_nan());
        prop_assert_eq!(e, x.exp());
    }
}
