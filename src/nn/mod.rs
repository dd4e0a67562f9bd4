//! Neural networks on the engine: modules, layers, MLPs and losses.
