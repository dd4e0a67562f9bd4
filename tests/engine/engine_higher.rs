//! Higher-order gradients against closed-form derivatives: second and third
//! derivatives of every op, the fused sum/dot/linear nodes, Hessians,
//! Hessian-vector products and Jacobians.

use backprop::engine::{hessian, hvp, jacobian};
use backprop::{Graph, Value};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + b.abs())
}

/// d²f/dx² at `x` through two `Graph::grad` calls.
fn second(f: for<'g> fn(Value<'g>) -> Value<'g>, x: f64) -> f64 {
    let g = Graph::new();
    let v = g.value(x);
    let d = g.grad(f(v), &[v])[0];
    g.grad(d, &[v])[0].data()
}

#[test]
fn second_derivatives_of_every_unary_op_match_closed_forms() {
    for x in [-1.7f64, -0.3, 0.4, 1.1, 2.5] {
        let t = x.tanh();
        assert!(close(
            second(|v| v.tanh(), x),
            -2.0 * t * (1.0 - t * t),
            1e-14
        ));
        assert!(close(second(|v| v.exp(), x), x.exp(), 1e-14));
        let s = 1.0 / (1.0 + (-x).exp());
        assert!(close(
            second(|v| v.sigmoid(), x),
            s * (1.0 - s) * (1.0 - 2.0 * s),
            1e-14
        ));
        assert!(close(second(|v| -v * v, x), -2.0, 0.0));
        assert!(close(second(|v| v * 3 - 2, x), 0.0, 0.0));
        // relu is piecewise linear: 0 everywhere, kink included.
        assert_eq!(second(|v| v.relu(), x), 0.0);
        assert_eq!(
            second(|v| v.relu() * v.relu(), x),
            if x > 0.0 { 2.0 } else { 0.0 }
        );
        let p = x.abs();
        assert!(close(second(|v| v.ln(), p), -1.0 / (p * p), 1e-14));
        assert!(close(second(|v| v.log(), p), -1.0 / (p * p), 1e-14));
        assert!(close(second(|v| v.sqrt(), p), -0.25 * p.powf(-1.5), 1e-14));
        assert!(close(second(|v| 1.0 / v, p), 2.0 / (p * p * p), 1e-14));
    }
}

#[test]
fn powers_match_p_times_p_minus_1() {
    for p in [-2.5, -1.0, 0.5, 1.5, 2.0, 3.0, 4.0] {
        for x in [0.3, 1.0, 2.2] {
            let g = Graph::new();
            let v = g.value(x);
            let d = g.grad(v.powf(p), &[v])[0];
            let d2 = g.grad(d, &[v])[0].data();
            assert!(
                close(d2, p * (p - 1.0) * x.powf(p - 2.0), 1e-13),
                "p {p} x {x}: {d2}"
            );
            // The same with a Value exponent, which also has d/dp terms.
            let e = g.value(p);
            let y = v.pow(e);
            let [dx, dp] = g.grad(y, &[v, e])[..] else {
                unreachable!()
            };
            let h = g.gradients(dx, &[v, e]);
            assert!(close(h[0], p * (p - 1.0) * x.powf(p - 2.0), 1e-13));
            // d²(x^p)/dx dp = x^(p-1) (1 + p ln x)
            assert!(close(h[1], x.powf(p - 1.0) * (1.0 + p * x.ln()), 1e-13));
            let hp = g.gradients(dp, &[e])[0];
            assert!(close(hp, x.powf(p) * x.ln() * x.ln(), 1e-13));
        }
    }
}

#[test]
fn relu_kink_has_zero_second_derivative() {
    let g = Graph::new();
    let x = g.value(0.0);
    let y = x.relu() * 3.0 + x * x.relu();
    let d = g.grad(y, &[x])[0];
    assert_eq!(d.data(), 0.0); // relu'(0) = 0, as in PyTorch
    assert_eq!(g.grad(d, &[x])[0].data(), 0.0);
}

#[test]
fn third_derivatives_by_differentiating_three_times() {
    let g = Graph::new();
    let x = g.value(1.5);
    let y = x.powf(4.0) + x.tanh();
    let d1 = g.grad(y, &[x])[0];
    let d2 = g.grad(d1, &[x])[0];
    let d3 = g.grad(d2, &[x])[0];
    // y = x⁴ + tanh x: y''' = 24x + tanh''' x, tanh''' = -2 (1 - t²)(1 - 3t²)
    let t = 1.5f64.tanh();
    let want = 24.0 * 1.5 - 2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t);
    assert!(close(d3.data(), want, 1e-13), "{} vs {want}", d3.data());
}

#[test]
fn fused_nodes_have_the_right_hessians() {
    // linear: y = Σ w_i x_i + b, so d²y/dw_i dx_j = δ_ij and the rest is 0;
    // tanh on top brings in the curvature of tanh.
    for contiguous in [true, false] {
        let g = Graph::new();
        let (w, x): (Vec<_>, Vec<_>) = if contiguous {
            let w: Vec<_> = [0.5, -1.0, 2.0].iter().map(|&v| g.value(v)).collect();
            (w, [1.5, 0.25, -0.5].iter().map(|&v| g.value(v)).collect())
        } else {
            [(0.5, 1.5), (-1.0, 0.25), (2.0, -0.5)]
                .iter()
                .map(|&(a, b)| (g.value(a), g.value(b)))
                .unzip()
        };
        let b = g.value(0.1);
        let z = g.linear(&w, &x, b);
        let inputs: Vec<_> = w.iter().chain(&x).chain([&b]).copied().collect();
        let h = g.hessian(z, &inputs);
        for (i, row) in h.iter().enumerate() {
            for (j, &hij) in row.iter().enumerate() {
                let pair = (i < 3 && j == i + 3) || (j < 3 && i == j + 3);
                assert_eq!(hij, if pair { 1.0 } else { 0.0 }, "{i} {j}");
            }
        }
        // Through tanh: d²/dw_i dw_j tanh(z) = tanh''(z) x_i x_j.
        let y = z.tanh();
        let h = g.hessian(y, &w);
        let t = z.data().tanh();
        let t2 = -2.0 * t * (1.0 - t * t);
        for i in 0..3 {
            for j in 0..3 {
                let want = t2 * x[i].data() * x[j].data();
                assert!(close(h[i][j], want, 1e-14));
            }
        }
    }
    // sum and dot: f = (Σ x_i)² + x·x, H = 2 (ones) + 2 I
    let g = Graph::new();
    let xs: Vec<_> = [1.0, -2.0, 0.5].iter().map(|&v| g.value(v)).collect();
    let f = g.sum(xs.clone()).powf(2.0) + g.dot(&xs, &xs);
    let h = g.hessian(f, &xs);
    for (i, row) in h.iter().enumerate() {
        for (j, &hij) in row.iter().enumerate() {
            assert_eq!(hij, if i == j { 4.0 } else { 2.0 });
        }
    }
}

#[test]
fn rosenbrock_hessian_hvp_and_jacobian() {
    // f = (1 - x)² + 100 (y - x²)²
    fn f<'g>(_: &'g Graph, v: &[Value<'g>]) -> Value<'g> {
        (1 - v[0]).powf(2.0) + 100 * (v[1] - v[0] * v[0]).powf(2.0)
    }
    let (x, y) = (-1.2, 1.0);
    let h = hessian(f, &[x, y]);
    let want = [
        [2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x],
        [-400.0 * x, 200.0],
    ];
    for i in 0..2 {
        for j in 0..2 {
            assert!(close(h[i][j], want[i][j], 1e-14), "{h:?}");
        }
    }
    let v = [0.3, -0.7];
    let hv = hvp(f, &[x, y], &v);
    for i in 0..2 {
        assert!(close(hv[i], want[i][0] * v[0] + want[i][1] * v[1], 1e-14));
    }
    // The gradient's Jacobian is the Hessian.
    let j = jacobian(
        |g, v| {
            let out = f(g, v);
            g.grad(out, v)
        },
        &[x, y],
    );
    assert_eq!(j, h);
}

#[test]
fn grad_of_an_unrelated_input_is_a_constant_zero() {
    let g = Graph::new();
    let (x, z) = (g.value(2.0), g.value(5.0));
    let y = x * x;
    let d = g.grad(y, &[x, z]);
    assert_eq!((d[0].data(), d[1].data()), (4.0, 0.0));
    assert_eq!(g.grad(d[1], &[x])[0].data(), 0.0);
    // Gradients agree to the bit with backward's.
    y.backward();
    assert_eq!(d[0].data(), x.grad());
}

#[test]
fn gradient_penalty_differentiates_through_the_gradient() {
    // L = w² x² + (dL0/dx)² with L0 = w²x²: dL0/dx = 2w²x, so
    // L = w²x² + 4w⁴x², dL/dw = 2wx² + 16w³x².
    let g = Graph::new();
    let (w, x) = (g.value(0.7), g.value(-1.3));
    let l0 = w * w * x * x;
    let dx = g.grad(l0, &[x])[0];
    let l = l0 + dx * dx;
    l.backward();
    let want = 2.0 * 0.7 * 1.69 + 16.0 * 0.343 * 1.69;
    assert!(close(w.grad(), want, 1e-14));
}

#[test]
fn local_grads_follow_the_chain_rule() {
    let g = Graph::new();
    let (a, b) = (g.value(2.0), g.value(0.5));
    let cases: Vec<(Value<'_>, Vec<f64>)> = vec![
        (a / b, vec![2.0, -8.0]),
        (a.pow(b), vec![0.5 / 2f64.sqrt(), 2f64.sqrt() * 2f64.ln()]),
        (a.tanh(), vec![1.0 - 2f64.tanh().powi(2)]),
        (g.linear(&[a], &[b], a), vec![0.5, 2.0, 1.0]),
    ];
    for (y, want) in cases {
        let got: Vec<f64> = y.local_grads().iter().map(|&(_, d)| d).collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(close(*g, *w, 1e-15), "{got:?} vs {want:?}");
        }
        let children: Vec<_> = y.children().iter().map(|c| c.id()).collect();
        let operands: Vec<_> = y.local_grads().iter().map(|(c, _)| c.id()).collect();
        assert_eq!(children, operands);
    }
}

#[test]
fn integer_scalars_and_pow_forms() {
    let g = Graph::new();
    let a = g.value(3.0);
    assert_eq!((a * 2).data(), 6.0);
    assert_eq!((2 * a).data(), 6.0);
    assert_eq!((a - 1).data(), 2.0);
    assert_eq!((1 - a).data(), -2.0);
    assert_eq!((a / 2).data(), 1.5);
    assert_eq!((6 / a).data(), 2.0);
    assert_eq!((a + 1).data(), 4.0);
    let mut b = a;
    b *= 2;
    b += 1;
    assert_eq!(b.data(), 7.0);
    assert_eq!(a.pow(2).data(), 9.0);
    assert_eq!(a.pow(0.5).data(), 3f64.sqrt());
    assert_eq!(a.pow(g.value(2.0)).data(), 9.0);
    assert_eq!(a.pow(2).exponent(), Some(2.0));
}
