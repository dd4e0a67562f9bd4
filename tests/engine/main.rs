//! The engine, the expression language, `explain` and the drawings, tested
//! through the library (one test binary; each module was its own file).

mod common;
mod engine_behaviour;
mod engine_compact;
mod engine_golden;
mod engine_higher;
mod engine_ids;
mod engine_props;
mod engine_second_order;
mod engine_skip_zeros;
mod engine_tanh;
mod explain;
mod expr;
mod expr_fuzz;
mod programs;
mod viz;
