//! The expression language: a lexer, a parser and evaluation onto a [`Graph`](crate::Graph).
