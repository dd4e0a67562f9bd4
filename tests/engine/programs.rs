//! Random programs over every op, for the property tests of the engine
//! and of `explain`: instructions whose operands index earlier values, and
//! a builder that keeps every op inside its domain.

use backprop::{Graph, Value};
use proptest::prelude::*;

/// One instruction of a random program; operands index earlier values
/// (taken modulo the number of values so far).
#[derive(Clone, Debug)]
pub enum Instr {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Neg(usize),
    PowF(usize, f64),
    Pow(usize, usize),
    Exp(usize),
    Ln(usize),
    Tanh(usize),
    Relu(usize),
    Sigmoid(usize),
    Sqrt(usize),
    Sum(Vec<usize>),
    Dot(Vec<(usize, usize)>),
    /// `linear` over runs of consecutive nodes (the contiguous layout).
    Linear(Vec<(usize, usize)>, usize),
    /// `linear(w, w, b)`: one run as both weights and inputs.
    SelfDot(Vec<usize>, usize),
}

pub fn instr() -> impl Strategy<Value = Instr> {
    let i = || 0usize..64;
    prop_oneof![
        (i(), i()).prop_map(|(a, b)| Instr::Add(a, b)),
        (i(), i()).prop_map(|(a, b)| Instr::Sub(a, b)),
        (i(), i()).prop_map(|(a, b)| Instr::Mul(a, b)),
        (i(), i()).prop_map(|(a, b)| Instr::Div(a, b)),
        i().prop_map(Instr::Neg),
        (
            i(),
            prop::sample::select(vec![-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
        )
            .prop_map(|(a, p)| Instr::PowF(a, p)),
        (i(), i()).prop_map(|(a, b)| Instr::Pow(a, b)),
        i().prop_map(Instr::Exp),
        i().prop_map(Instr::Ln),
        i().prop_map(Instr::Tanh),
        i().prop_map(Instr::Relu),
        i().prop_map(Instr::Sigmoid),
        i().prop_map(Instr::Sqrt),
        prop::collection::vec(i(), 1..5).prop_map(Instr::Sum),
        prop::collection::vec((i(), i()), 1..4).prop_map(Instr::Dot),
        (prop::collection::vec((i(), i()), 1..9), i()).prop_map(|(p, b)| Instr::Linear(p, b)),
        (prop::collection::vec(i(), 1..6), i()).prop_map(|(p, b)| Instr::SelfDot(p, b)),
    ]
}

/// Builds the program; ops with a restricted domain get arguments mapped
/// into it (`x² + 0.25` is positive), so every derivative exists.
pub fn build<'g>(g: &'g Graph, inputs: &[Value<'g>], prog: &[Instr]) -> Value<'g> {
    let mut vals: Vec<Value<'g>> = inputs.to_vec();
    let positive = |v: Value<'g>| v * v + 0.25;
    for ins in prog {
        let n = vals.len();
        let at = |i: usize| vals[i % n];
        let v = match ins {
            Instr::Add(a, b) => at(*a) + at(*b),
            Instr::Sub(a, b) => at(*a) - at(*b),
            Instr::Mul(a, b) => at(*a) * at(*b),
            Instr::Div(a, b) => at(*a) / positive(at(*b)),
            Instr::Neg(a) => -at(*a),
            Instr::PowF(a, p) if p.fract() == 0.0 && *p >= 0.0 => at(*a).powf(*p),
            Instr::PowF(a, p) => positive(at(*a)).powf(*p),
            Instr::Pow(a, b) => positive(at(*a)).pow(at(*b).tanh()),
            Instr::Exp(a) => at(*a).tanh().exp(),
            Instr::Ln(a) => positive(at(*a)).ln(),
            Instr::Tanh(a) => at(*a).tanh(),
            Instr::Relu(a) => at(*a).relu(),
            Instr::Sigmoid(a) => at(*a).sigmoid(),
            Instr::Sqrt(a) => positive(at(*a)).sqrt(),
            Instr::Sum(xs) => g.sum(xs.iter().map(|&i| at(i))),
            Instr::Dot(ps) => {
                let (w, x): (Vec<_>, Vec<_>) = ps.iter().map(|&(a, b)| (at(a), at(b))).unzip();
                g.dot(&w, &x)
            }
            Instr::Linear(ps, b) => {
                // tanh of each operand, one after the other: consecutive ids.
                let w: Vec<_> = ps.iter().map(|&(a, _)| at(a).tanh()).collect();
                let x: Vec<_> = ps.iter().map(|&(_, b)| at(b).sigmoid()).collect();
                g.linear(&w, &x, at(*b))
            }
            Instr::SelfDot(ps, b) => {
                let w: Vec<_> = ps.iter().map(|&a| at(a).tanh()).collect();
                g.linear(&w, &w, at(*b))
            }
        };
        vals.push(v);
    }
    *vals.last().unwrap()
}
