//! Hostile and odd inputs: graphs past the drawing limits, files from
//! another command, bytes that do not belong in a message. Each gets a
//! message that names what is wrong, the exit code of the README's policy
//! (2 for a mistake in what was given), no panic, and no file written.

use crate::common::fails;

/// `x = 1`, then `y = x` and `steps` statements `y = y * x`: a chain of
/// `steps` products, two drawn nodes (a record and an op) each.
fn chain(steps: usize) -> String {
    let mut p = String::from("x = 1\ny = x\n");
    for _ in 0..steps {
        p.push_str("y = y * x\n");
    }
    p
}

#[test]
fn a_drawing_past_a_layout_limit_is_an_input_mistake() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::write(dir.path(), "chain.txt", chain(300));
    crate::common::write(dir.path(), "long.txt", chain(6000));
    // 600 drawn nodes: past the built-in layout's 250.
    for out in ["big.svg", "big.png"] {
        fails(
            dir.path(),
            &["draw", "-f", "chain.txt", "--layout", "builtin", "-o", out],
            2,
            "more than the built-in layout handles",
        );
    }
    // 12,000 drawn nodes: past Graphviz's 10,000 when it is installed,
    // past the built-in layout's limit when it is not.
    fails(
        dir.path(),
        &["draw", "-f", "long.txt", "-o", "big.svg"],
        2,
        "nodes to draw, more than",
    );
    // The page's limit has the same exit code.
    fails(
        dir.path(),
        &["draw", "-f", "long.txt", "-o", "big.html"],
        2,
        "more than the page's limit of 2000",
    );
}
