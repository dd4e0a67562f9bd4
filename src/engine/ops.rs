//! Arithmetic operators on [`Value`]: `Value op Value`, `Value op n` and
//! `n op Value` for `+ - * /` with `n` an `f64` or an `i32` (`2 * x`,
//! `x - 1`), unary `-`, the compound assignments, and `Sum`. A number
//! operand becomes a leaf node holding the constant, as in micrograd.
//!
//! Local derivatives: `a + b`: (1, 1); `a - b`: (1, -1); `a * b`: (b, a);
//! `a / b`: (1/b, -a/b²); `-a`: -1. Division by zero gives ±inf or NaN,
//! like `f64`.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::Value;
use super::tape::Node;

macro_rules! binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident, $op:expr) => {
        impl<'g> $trait for Value<'g> {
            type Output = Value<'g>;
            #[inline]
            fn $method(self, rhs: Value<'g>) -> Value<'g> {
                self.binary(rhs, $op)
            }
        }

        number_op!($trait, $method, $assign_trait, $assign_method, $op, f64);
        number_op!($trait, $method, $assign_trait, $assign_method, $op, i32);

        impl<'g> $assign_trait for Value<'g> {
            #[inline]
            fn $assign_method(&mut self, rhs: Value<'g>) {
                *self = self.binary(rhs, $op);
            }
        }
    };
}

/// The operators between a value and a number of type `$n` (converted to
/// `f64` exactly).
macro_rules! number_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident, $op:expr, $n:ty) => {
        impl<'g> $trait<$n> for Value<'g> {
            type Output = Value<'g>;
            #[inline]
            fn $method(self, rhs: $n) -> Value<'g> {
                self.binary(self.graph().value(f64::from(rhs)), $op)
            }
        }

        impl<'g> $trait<Value<'g>> for $n {
            type Output = Value<'g>;
            #[inline]
            fn $method(self, rhs: Value<'g>) -> Value<'g> {
                rhs.graph().value(f64::from(self)).binary(rhs, $op)
            }
        }

        impl<'g> $assign_trait<$n> for Value<'g> {
            #[inline]
            fn $assign_method(&mut self, rhs: $n) {
                *self = self.binary(self.graph().value(f64::from(rhs)), $op);
            }
        }
    };
}

binary_op!(Add, add, AddAssign, add_assign, Node::Add);
binary_op!(Sub, sub, SubAssign, sub_assign, Node::Sub);
binary_op!(Mul, mul, MulAssign, mul_assign, Node::Mul);
binary_op!(Div, div, DivAssign, div_assign, Node::Div);

impl<'g> Neg for Value<'g> {
    type Output = Value<'g>;
    /// `-a`, one node with derivative -1.
    #[inline]
    fn neg(self) -> Value<'g> {
        self.graph().push(Node::Neg(self.index))
    }
}

impl<'g> Sum<Value<'g>> for Value<'g> {
    /// One n-ary [`Op::Sum`](super::Op::Sum) node over all the values.
    ///
    /// # Panics
    /// On an empty iterator (there is no graph to put the 0 in: use
    /// [`Graph::sum`](super::Graph::sum)).
    fn sum<I: Iterator<Item = Value<'g>>>(iter: I) -> Value<'g> {
        Value::sum(iter)
    }
}

impl<'a, 'g> Sum<&'a Value<'g>> for Value<'g> {
    /// One n-ary [`Op::Sum`](super::Op::Sum) node over all the values.
    ///
    /// # Panics
    /// On an empty iterator.
    fn sum<I: Iterator<Item = &'a Value<'g>>>(iter: I) -> Value<'g> {
        Value::sum(iter.copied())
    }
}
