//! Models, losses, optimizers, datasets, training and the file writer,
//! tested through the library (one test binary). The allocation count
//! (`tests/nn_alloc.rs`) stays a binary of its own: its global allocator
//! would count every test running beside it.

mod common;
mod data;
mod files;
mod nn_gpt;
mod nn_gpt_lanes;
mod nn_lanes;
mod nn_loss;
mod nn_model;
mod nn_parallel;
mod nn_snapshots;
mod nn_train;
mod optim;
mod reliability;
