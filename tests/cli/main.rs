//! The `backprop` command line end to end, and the page `draw` writes in
//! a headless Chromium (one test binary).

mod common;

mod cli_draw_regressions;
mod cli_errors;
mod cli_explain;
mod cli_gpt;
mod cli_grad_draw;
mod cli_grad_regressions;
mod cli_hessian;
mod cli_hostile;
mod cli_predict_csv;
mod cli_readme;
mod cli_train;
mod cli_train_inputs;
mod page;
mod train_page;
