//! The explanation as text, in the notebook's notation.

use std::fmt::Write as _;

use super::Explanation;

/// The default cap on backward steps (and forward lines) that
/// `backprop explain` prints.
pub const DEFAULT_MAX_STEPS: usize = 2000;

/// How [`Explanation::to_text`] writes.
///
/// ```
/// use backprop::explain::{TextOptions, explain};
///
/// let g = backprop::Graph::new();
/// let x = g.value(3.0).with_label("x");
/// let y = (x * 2.0).with_label("y");
/// let e = explain(y);
/// let text = e.to_text(&TextOptions::default());
/// assert!(text.contains("x.grad = y.grad * 2 = 1 * 2 = 2"));
/// assert!(!text.contains("2.grad")); // a constant is not a parameter
/// let all = e.to_text(&TextOptions { constants: true, ..TextOptions::default() });
/// assert!(all.contains("2.grad = y.grad * x.data = 1 * 3 = 3"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextOptions {
    /// At most this many lines of the forward pass; the rest are counted.
    pub max_forward: usize,
    /// Whether constants get lines of their own: in the forward pass and a
    /// gradient line in each backward step (`backprop explain --all`).
    /// Without it they appear only as numbers inside formulas.
    pub constants: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            max_forward: DEFAULT_MAX_STEPS,
            constants: false,
        }
    }
}

/// A number as a person reads it: integers and short decimals as they are
/// (`2`, `-1.5`, `0.25`), others to six significant digits
/// (`0.4999999999999999` is `0.5`, `6.8813735870195432` is `6.88137`).
pub(crate) fn number(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let plain = format!("{x}");
    if plain.len() <= 8 {
        return plain;
    }
    let a = x.abs();
    if (1e-4..1e9).contains(&a) {
        let decimals = (5 - a.log10().floor() as i32).clamp(0, 12) as usize;
        let s = format!("{x:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s == "-0" { "0".into() } else { s }
    } else {
        let s = format!("{x:.5e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{e}")
    }
}

/// A name as it appears inside a formula: as it is when it is a plain
/// name (`x1`, `L1.N3.w2`) or already bracketed (`(x1*w1)`), otherwise in
/// parentheses (a label such as `x1*w1 + b` becomes `(x1*w1 + b)`), so that
/// `NAME.grad` reads right.
pub(crate) fn grouped(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    // A version mark after the brackets, `(a*b)₂`, keeps them enough.
    let core = name.trim_end_matches(|c: char| ('₀'..='₉').contains(&c));
    let bracketed = core.starts_with('(') && core.ends_with(')') && balanced_outer(core);
    if plain || bracketed {
        name.to_string()
    } else {
        format!("({name})")
    }
}

/// Whether the first `(` of `s` closes at its last character.
fn balanced_outer(s: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return i == s.len() - 1;
        }
    }
    false
}

/// The lines that say what the version marks mean, one per name bound
/// more than once, with its versions (`c₁ c₂ c₃ are the values bound to
/// c`); empty when every name is bound once.
pub(crate) fn versions_note(e: &Explanation) -> Vec<String> {
    const MAX_LABELS: usize = 8;
    let marked: std::collections::HashSet<&str> = e
        .nodes
        .iter()
        .filter(|n| n.is_versioned())
        .filter_map(|n| n.label.as_deref())
        .collect();
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for n in &e.nodes {
        let Some(label) = n.label.as_deref().filter(|l| marked.contains(l)) else {
            continue;
        };
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, names)) => names.push(&n.name),
            None => groups.push((label, vec![&n.name])),
        }
    }
    let mut lines: Vec<String> = groups
        .iter()
        .take(MAX_LABELS)
        .map(|(label, names)| {
            let names = if names.len() > 4 {
                format!("{} {} … {}", names[0], names[1], names[names.len() - 1])
            } else {
                names.join(" ")
            };
            format!("{names} are the values bound to {label}, in program order")
        })
        .collect();
    if groups.len() > MAX_LABELS {
        lines.push(format!(
            "... and {} more names bound more than once",
            groups.len() - MAX_LABELS
        ));
    }
    lines
}

/// Wraps a number in parentheses when it is negative, for products:
/// `0.5 * (-3)`.
fn factor(x: f64) -> String {
    let s = number(x);
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

pub(super) fn render(e: &Explanation, options: &TextOptions) -> String {
    let mut s = String::new();
    let focus = match &e.focus {
        Some(leaf) => format!(" (only the paths from {} to {leaf})", e.output),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "forward pass{focus}: each node's value, in the order computed"
    );
    let shown: Vec<&super::Node> = e
        .nodes
        .iter()
        .filter(|n| options.constants || !n.is_constant())
        .collect();
    for line in versions_note(e) {
        let _ = writeln!(s, "  ({line})");
    }
    let width = shown
        .iter()
        .take(options.max_forward)
        .map(|n| n.name.chars().count())
        .max()
        .unwrap_or(0);
    for n in shown.iter().take(options.max_forward) {
        let pad = width - n.name.chars().count();
        let pad = " ".repeat(pad);
        if n.is_constant() {
            let _ = writeln!(s, "  {}{pad} = {}    (a constant)", n.name, number(n.data));
        } else if n.is_leaf() || n.label.is_none() || n.expr == n.name {
            let _ = writeln!(s, "  {}{pad} = {}", n.name, number(n.data));
        } else {
            let _ = writeln!(s, "  {}{pad} = {} = {}", n.name, n.expr, number(n.data));
        }
    }
    if shown.len() > options.max_forward {
        let n = shown.len() - options.max_forward;
        let noun = if n == 1 { "node" } else { "nodes" };
        let _ = writeln!(s, "  ... {n} more {noun} not shown");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "backward pass: the chain rule from the output back, in the order backward() runs"
    );
    let _ = writeln!(s, "  {}.grad = 1", grouped(&e.output));
    for step in &e.steps {
        let node = &e.nodes[step.node_index];
        let what = if node.label.is_some() {
            if node.expr == node.name {
                node.name.clone()
            } else {
                format!("{} = {}", node.name, node.expr)
            }
        } else {
            node.name.clone()
        };
        let _ = writeln!(
            s,
            "step {}: {what}    grad {}",
            step.number,
            number(step.upstream)
        );
        if !options.constants && !step.terms.is_empty() && step.terms.iter().all(|t| t.constant) {
            let _ = writeln!(s, "  (its operands are constants: no gradient to pass on)");
        }
        for t in step
            .terms
            .iter()
            .filter(|t| options.constants || !t.constant)
        {
            let assign = if t.accumulates { "+=" } else { "=" };
            let local = if t.formula.contains(' ') || t.formula.starts_with('-') {
                format!("({})", t.formula)
            } else {
                t.formula.clone()
            };
            let _ = write!(
                s,
                "  {}.grad {assign} {}.grad * {local} = {} * {} = {}",
                grouped(&t.operand),
                grouped(&step.node),
                factor(step.upstream),
                factor(t.local),
                number(t.contribution)
            );
            if t.accumulates {
                let _ = write!(
                    s,
                    "    -> {}.grad = {}",
                    grouped(&t.operand),
                    number(t.total)
                );
            }
            let _ = writeln!(s);
        }
    }
    if e.steps_left_out > 0 {
        let n = e.steps_left_out;
        let noun = if n == 1 { "step" } else { "steps" };
        let _ = writeln!(
            s,
            "... {n} more {noun} not shown (raise --max-steps, or follow one input with --leaf NAME)"
        );
    }
    let _ = writeln!(s);
    if e.checks.is_empty() {
        let _ = writeln!(s, "gradients of the inputs");
        let width = e
            .grads
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0);
        for (name, g) in &e.grads {
            let pad = " ".repeat(width - name.chars().count());
            let _ = write!(s, "  {}.grad{pad} = {}", grouped(name), number(*g));
            // An input that the program rebinds is shown by its version
            // in the steps above.
            if let Some(n) = e.leaf_index(name).map(|k| &e.nodes[k])
                && n.name != *name
            {
                let _ = write!(s, "    ({} above)", n.name);
            }
            let _ = writeln!(s);
        }
    } else {
        let h = e.checks[0].h;
        let _ = writeln!(
            s,
            "gradients of the inputs, checked by finite differences with h = {h:e}"
        );
        let rows: Vec<[String; 4]> = e
            .checks
            .iter()
            .map(|c| {
                [
                    c.name.clone(),
                    c.backprop.to_string(),
                    c.forward.to_string(),
                    c.central.to_string(),
                ]
            })
            .collect();
        let header = [
            "input".to_string(),
            "backprop".to_string(),
            "(f(x+h)-f(x))/h".to_string(),
            "(f(x+h)-f(x-h))/2h".to_string(),
        ];
        let mut width = [0usize; 4];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::from(" ");
            for (c, w) in row.iter().zip(width) {
                line.push(' ');
                line.push_str(c);
                line.push_str(&" ".repeat(w - c.chars().count() + 1));
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_read_like_the_notebook() {
        assert_eq!(number(2.0), "2");
        assert_eq!(number(-1.5), "-1.5");
        assert_eq!(number(0.4999999999999999), "0.5");
        assert_eq!(number(-1.4999999999999996), "-1.5");
        assert_eq!(number(6.8813735870195432), "6.88137");
        assert_eq!(number(0.5f64.sqrt()), "0.707107");
        assert_eq!(number(1e-20), "1e-20");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn names_are_grouped_inside_formulas() {
        use super::grouped;
        assert_eq!(grouped("x1"), "x1");
        assert_eq!(grouped("L1.N3.w2"), "L1.N3.w2");
        assert_eq!(grouped("(x1*w1)"), "(x1*w1)");
        assert_eq!(grouped("x1*w1"), "(x1*w1)");
        assert_eq!(grouped("(a)*(b)"), "((a)*(b))");
        assert_eq!(grouped("tanh(n)"), "(tanh(n))");
        assert_eq!(grouped("c₂"), "c₂");
        assert_eq!(grouped("(a*b)₂"), "(a*b)₂");
    }
}
