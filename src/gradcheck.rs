//! Numerical derivatives and gradient checking.
//!
//! The notebook estimates derivatives with the forward difference
//! `(f(x + h) - f(x)) / h`; [`central_difference`] is the more accurate
//! `(f(x + h) - f(x - h)) / 2h` (error O(h²) instead of O(h)).
//! [`gradcheck`] compares the engine's gradients with central differences,
//! with the same tolerances as PyTorch's `torch.autograd.gradcheck`;
//! [`gradgradcheck`] does the same for second derivatives (PyTorch's
//! `torch.autograd.gradgradcheck`).
//!
//! ```
//! use backprop::gradcheck::{Tolerances, gradcheck};
//!
//! // f(a, b) = tanh(a * b) + a / b
//! let report = gradcheck(|_, x| (x[0] * x[1]).tanh() + x[0] / x[1], &[0.3, -1.7], Tolerances::default());
//! assert!(report.passed(), "{report}");
//! ```

use std::fmt;

use crate::{Graph, Value};

/// The notebook's forward difference `(f(x + h) - f(x)) / h`.
///
/// ```
/// // f(x) = 4x² - 2x + 5 at x = 3: f'(3) = 22
/// let d = backprop::gradcheck::forward_difference(|x| 4.0 * x * x - 2.0 * x + 5.0, 3.0, 0.001);
/// assert!((d - 22.004).abs() < 1e-9);
/// ```
pub fn forward_difference(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x)) / h
}

/// The central difference `(f(x + h) - f(x - h)) / 2h`.
///
/// ```
/// let d = backprop::gradcheck::central_difference(|x| 4.0 * x * x - 2.0 * x + 5.0, 3.0, 0.001);
/// assert!((d - 22.0).abs() < 1e-9);
/// ```
pub fn central_difference(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// The step and tolerances of [`gradcheck`]. The defaults are PyTorch's:
/// `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`. An input passes when
/// `|analytic - numeric| <= atol + rtol * |numeric|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// The finite-difference step `h`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Tolerances {
    /// Checks that the step is a positive finite number and the
    /// tolerances finite numbers of at least 0.
    ///
    /// ```
    /// use backprop::gradcheck::Tolerances;
    /// assert!(Tolerances::default().check().is_ok());
    /// let zero = Tolerances { eps: 0.0, ..Default::default() };
    /// assert_eq!(zero.check().unwrap_err(), "eps is 0, expected a positive finite number");
    /// ```
    ///
    /// # Errors
    /// A message naming the field and its value.
    pub fn check(&self) -> Result<(), String> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(format!(
                "eps is {}, expected a positive finite number",
                self.eps
            ));
        }
        for (name, v) in [("atol", self.atol), ("rtol", self.rtol)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!(
                    "{name} is {v}, expected a finite number of at least 0"
                ));
            }
        }
        Ok(())
    }
}

impl Default for Tolerances {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// How one input's gradient compared.
#[derive(Clone, Debug, PartialEq)]
pub struct InputCheck {
    /// The input's position in the `inputs` slice.
    pub index: usize,
    /// The input's name, when the function's inputs have names (a
    /// [`Program`](crate::expr::Program)'s); `None` from [`gradcheck`].
    pub name: Option<String>,
    /// The input's value.
    pub value: f64,
    /// The engine's gradient (from [`Graph::gradients`], which keeps the sign of a zero gradient).
    pub analytic: f64,
    /// The central-difference estimate.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_error: f64,
    /// `|analytic - numeric| / |numeric|` (the absolute error when
    /// `numeric` is 0).
    pub rel_error: f64,
    /// Whether the error is within the tolerances (NaN never is).
    pub passed: bool,
}

/// The result of [`gradcheck`]: one [`InputCheck`] per input.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// The function's value at the inputs.
    pub output: f64,
    /// One entry per input, in order.
    pub inputs: Vec<InputCheck>,
    /// The tolerances the check used.
    pub tolerances: Tolerances,
}

impl GradcheckReport {
    /// Whether every input passed.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|c| c.passed)
    }

    /// The largest absolute error over the inputs (0 with no inputs; NaN if
    /// any error is NaN).
    pub fn max_abs_error(&self) -> f64 {
        max_nan(self.inputs.iter().map(|c| c.abs_error))
    }

    /// The largest relative error over the inputs (0 with no inputs; NaN if
    /// any error is NaN).
    pub fn max_rel_error(&self) -> f64 {
        max_nan(self.inputs.iter().map(|c| c.rel_error))
    }
}

fn max_nan(it: impl Iterator<Item = f64>) -> f64 {
    it.fold(0.0, |m, e| {
        if e.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(e)
        }
    })
}

/// The absolute and relative error of `analytic` against `numeric`, and
/// whether it passes: `|analytic - numeric| <= atol + rtol * |numeric|`
/// (PyTorch's rule; the relative error of a zero `numeric` is the
/// absolute one).
fn compare(analytic: f64, numeric: f64, t: Tolerances) -> (f64, f64, bool) {
    let abs_error = (analytic - numeric).abs();
    let rel_error = if numeric == 0.0 {
        abs_error
    } else {
        abs_error / numeric.abs()
    };
    (
        abs_error,
        rel_error,
        abs_error <= t.atol + t.rtol * numeric.abs(),
    )
}

/// A checked entry's cells: analytic and numeric exactly, the errors to 4
/// significant digits, and `ok` or `FAIL`.
fn result_cells(analytic: f64, numeric: f64, abs: f64, rel: f64, passed: bool) -> [String; 5] {
    [
        crate::format::exact(analytic),
        crate::format::exact(numeric),
        format!("{abs:.3e}"),
        format!("{rel:.3e}"),
        if passed { "ok" } else { "FAIL" }.to_string(),
    ]
}

/// A report's last line: `passed (eps 1e-6, atol 1e-5, rtol 1e-3)`, or
/// `FAILED (...)`.
fn write_verdict(f: &mut fmt::Formatter<'_>, passed: bool, t: Tolerances) -> fmt::Result {
    write!(
        f,
        "{} (eps {:e}, atol {:e}, rtol {:e})",
        if passed { "passed" } else { "FAILED" },
        t.eps,
        t.atol,
        t.rtol
    )
}

/// The report as `backprop grad --check` prints it: inputs by name (or
/// position), numbers as [`exact`](crate::format::exact) writes them (the
/// shortest text that reads back to the same number, as `grad` prints
/// data and gradients), errors to 4 significant digits.
impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = vec![
            [
                "input", "analytic", "numeric", "abs err", "rel err", "result",
            ]
            .map(String::from),
        ];
        for c in &self.inputs {
            let [a, n, abs, rel, result] =
                result_cells(c.analytic, c.numeric, c.abs_error, c.rel_error, c.passed);
            let name = c.name.clone().unwrap_or_else(|| c.index.to_string());
            rows.push([name, a, n, abs, rel, result]);
        }
        f.write_str(&crate::format::table(&rows))?;
        write_verdict(f, self.passed(), self.tolerances)
    }
}

/// Checks the engine's gradient of `f` at `inputs` against central
/// differences.
///
/// `f` builds its output from the input values on the graph it is given;
/// it is called once for the gradient and twice per input for the
/// differences, each time on a fresh graph: the check costs `2n + 1`
/// evaluations of `f` for `n` inputs.
///
/// ```
/// use backprop::gradcheck::{Tolerances, gradcheck};
///
/// let report = gradcheck(|_, x| x[0].powf(3.0).sqrt(), &[2.0], Tolerances::default());
/// assert!(report.passed());
/// assert!(report.max_rel_error() < 1e-6);
/// ```
///
/// # Panics
/// If `tolerances` do not pass [`Tolerances::check`] (a step of 0 would
/// report NaN for every input): a programmer error. Check tolerances from
/// users with [`Tolerances::check`] first.
pub fn gradcheck<F>(f: F, inputs: &[f64], tolerances: Tolerances) -> GradcheckReport
where
    F: for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g>,
{
    if let Err(e) = tolerances.check() {
        panic!("gradcheck: {e}");
    }
    let mut g = Graph::new();
    let (output, analytic) = {
        let xs: Vec<Value<'_>> = inputs.iter().map(|&x| g.value(x)).collect();
        let y = f(&g, &xs);
        // Fresh gradients, not added to 0.0: the sign of a zero gradient
        // is kept, as PyTorch and `backprop grad`'s table keep it.
        (y.data(), g.gradients(y, &xs))
    };
    let mut eval = |xs: &[f64]| {
        g.clear();
        let vals: Vec<Value<'_>> = xs.iter().map(|&x| g.value(x)).collect();
        f(&g, &vals).data()
    };
    let eps = tolerances.eps;
    let mut xs = inputs.to_vec();
    let checks = analytic
        .into_iter()
        .enumerate()
        .map(|(index, analytic)| {
            let x = inputs[index];
            xs[index] = x + eps;
            let plus = eval(&xs);
            xs[index] = x - eps;
            let minus = eval(&xs);
            xs[index] = x;
            let numeric = (plus - minus) / (2.0 * eps);
            let (abs_error, rel_error, passed) = compare(analytic, numeric, tolerances);
            InputCheck {
                index,
                name: None,
                value: x,
                analytic,
                numeric,
                abs_error,
                rel_error,
                passed,
            }
        })
        .collect();
    GradcheckReport {
        output,
        inputs: checks,
        tolerances,
    }
}

/// How one Hessian entry compared (see [`gradgradcheck`]).
#[derive(Clone, Debug, PartialEq)]
pub struct HessianCheck {
    /// The row: the input of the first derivative.
    pub row: usize,
    /// The column: the input the first derivative is differentiated by.
    pub col: usize,
    /// The engine's second derivative (the gradient, taken as graph values
    /// by [`Graph::grad`], differentiated again).
    pub analytic: f64,
    /// The central difference of the engine's gradient.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_error: f64,
    /// `|analytic - numeric| / |numeric|` (the absolute error when
    /// `numeric` is 0).
    pub rel_error: f64,
    /// Whether the error is within the tolerances (NaN never is).
    pub passed: bool,
}

/// The result of [`gradgradcheck`]: every Hessian entry, row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct GradgradcheckReport {
    /// The function's value at the inputs.
    pub output: f64,
    /// `n × n` entries for `n` inputs, row-major.
    pub entries: Vec<HessianCheck>,
    /// The tolerances the check used.
    pub tolerances: Tolerances,
}

impl GradgradcheckReport {
    /// Whether every entry passed.
    pub fn passed(&self) -> bool {
        self.entries.iter().all(|c| c.passed)
    }

    /// The largest absolute error (0 with no inputs; NaN if any is NaN).
    pub fn max_abs_error(&self) -> f64 {
        max_nan(self.entries.iter().map(|c| c.abs_error))
    }
}

impl fmt::Display for GradgradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = vec![
            [
                "row", "col", "analytic", "numeric", "abs err", "rel err", "result",
            ]
            .map(String::from),
        ];
        for c in &self.entries {
            let [a, n, abs, rel, result] =
                result_cells(c.analytic, c.numeric, c.abs_error, c.rel_error, c.passed);
            rows.push([c.row.to_string(), c.col.to_string(), a, n, abs, rel, result]);
        }
        f.write_str(&crate::format::table(&rows))?;
        write_verdict(f, self.passed(), self.tolerances)
    }
}

/// Checks the engine's second derivatives of `f` at `inputs` against
/// central differences of its gradient, like PyTorch's
/// `torch.autograd.gradgradcheck`: entry `(i, j)` compares `d²f/dx_i dx_j`
/// from [`Graph::hessian`] (the gradient built as graph values, then
/// differentiated) with `(∂_i f(x + h e_j) - ∂_i f(x - h e_j)) / 2h`, the
/// gradients taken by the engine's first-order backward. Pass/fail as in
/// [`gradcheck`].
///
/// ```
/// use backprop::gradcheck::{Tolerances, gradgradcheck};
///
/// let report = gradgradcheck(|_, x| (x[0] * x[1]).tanh() + x[0].powf(3.0) / x[1], &[0.3, -1.7], Tolerances::default());
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.entries.len(), 4);
/// // As text: one row per entry, under the same words as gradcheck's.
/// let text = report.to_string();
/// assert!(text.starts_with("row  col  analytic"), "{text}");
/// assert!(text.ends_with("passed (eps 1e-6, atol 1e-5, rtol 1e-3)"), "{text}");
/// ```
///
/// # Panics
/// As [`gradcheck`]: if `tolerances` do not pass [`Tolerances::check`].
pub fn gradgradcheck<F>(f: F, inputs: &[f64], tolerances: Tolerances) -> GradgradcheckReport
where
    F: for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g>,
{
    if let Err(e) = tolerances.check() {
        panic!("gradgradcheck: {e}");
    }
    let mut g = Graph::new();
    let (output, analytic) = {
        let xs: Vec<Value<'_>> = inputs.iter().map(|&x| g.value(x)).collect();
        let y = f(&g, &xs);
        (y.data(), g.hessian(y, &xs))
    };
    let mut gradient = |xs: &[f64]| {
        g.clear();
        let vals: Vec<Value<'_>> = xs.iter().map(|&x| g.value(x)).collect();
        g.gradients(f(&g, &vals), &vals)
    };
    let eps = tolerances.eps;
    let n = inputs.len();
    let mut xs = inputs.to_vec();
    // Column j of the numeric Hessian: the gradient's central difference
    // along input j.
    let mut numeric = vec![vec![0.0; n]; n];
    for j in 0..n {
        xs[j] = inputs[j] + eps;
        let plus = gradient(&xs);
        xs[j] = inputs[j] - eps;
        let minus = gradient(&xs);
        xs[j] = inputs[j];
        for i in 0..n {
            numeric[i][j] = (plus[i] - minus[i]) / (2.0 * eps);
        }
    }
    let mut entries = Vec::with_capacity(n * n);
    for (row, (a_row, n_row)) in analytic.iter().zip(&numeric).enumerate() {
        for (col, (&analytic, &numeric)) in a_row.iter().zip(n_row).enumerate() {
            let (abs_error, rel_error, passed) = compare(analytic, numeric, tolerances);
            entries.push(HessianCheck {
                row,
                col,
                analytic,
                numeric,
                abs_error,
                rel_error,
                passed,
            });
        }
    }
    GradgradcheckReport {
        output,
        entries,
        tolerances,
    }
}
