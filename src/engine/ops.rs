//! Arithmetic operators on [`Value`]: `Value op Value`, `Value op f64` and
//! `f64 op Value` for `+ - * /`, unary `-`, the compound assignments, and
//! `Sum`. An `f64` operand becomes a leaf node holding the constant, as in
//! micrograd.
//!
//! Local derivatives: `a + b`: (1, 1); `a - b`: (1, -1); `a * b`: (b, a);
//! `a / b`: (1/b, -a/b²); `-a`: -1. Division by zero gives ±inf or NaN,
//! like `f64`.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::{Op, Value};

macro_rules! binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident, $op:expr, $f:expr) => {
        impl<'g> $trait for Value<'g> {
            type Output = Value<'g>;
            fn $method(self, rhs: Value<'g>) -> Value<'g> {
                self.binary(rhs, $op, $f)
            }
        }

        impl<'g> $trait<f64> for Value<'g> {
            type Output = Value<'g>;
            fn $method(self, rhs: f64) -> Value<'g> {
                self.binary(self.graph().value(rhs), $op, $f)
            }
        }

        impl<'g> $trait<Value<'g>> for f64 {
            type Output = Value<'g>;
            fn $method(self, rhs: Value<'g>) -> Value<'g> {
                rhs.graph().value(self).binary(rhs, $op, $f)
            }
        }

        impl<'g> $assign_trait for Value<'g> {
            fn $assign_method(&mut self, rhs: Value<'g>) {
                *self = self.binary(rhs, $op, $f);
            }
        }

        impl<'g> $assign_trait<f64> for Value<'g> {
            fn $assign_method(&mut self, rhs: f64) {
                *self = self.binary(self.graph().value(rhs), $op, $f);
            }
        }
    };
}

binary_op!(Add, add, AddAssign, add_assign, Op::Add, |a, b| a + b);
binary_op!(Sub, sub, SubAssign, sub_assign, Op::Sub, |a, b| a - b);
binary_op!(Mul, mul, MulAssign, mul_assign, Op::Mul, |a, b| a * b);
binary_op!(Div, div, DivAssign, div_assign, Op::Div, |a, b| a / b);

impl<'g> Neg for Value<'g> {
    type Output = Value<'g>;
    /// `-a`, one node with derivative -1.
    fn neg(self) -> Value<'g> {
        self.unary(Op::Neg, |a| -a)
    }
}

impl<'g> Sum<Value<'g>> for Value<'g> {
    /// One n-ary [`Op::Sum`] node over all the values.
    ///
    /// # Panics
    /// On an empty iterator (there is no graph to put the 0 in: use
    /// [`Graph::sum`](super::Graph::sum)).
    fn sum<I: Iterator<Item = Value<'g>>>(iter: I) -> Value<'g> {
        Value::sum(iter)
    }
}

impl<'a, 'g> Sum<&'a Value<'g>> for Value<'g> {
    /// One n-ary [`Op::Sum`] node over all the values.
    ///
    /// # Panics
    /// On an empty iterator.
    fn sum<I: Iterator<Item = &'a Value<'g>>>(iter: I) -> Value<'g> {
        Value::sum(iter.copied())
    }
}
