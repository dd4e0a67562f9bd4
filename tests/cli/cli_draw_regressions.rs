//! `backprop draw`: regressions from the QA report (layouts that must not
//! hang, usage errors, Graphviz failures that say what to do).

use std::time::{Duration, Instant};

use crate::common::{Run, backprop};
use predicates::prelude::*;

/// The report's program: `y{i}` uses `y{i-1}` to `y{i-3}` and `x`, so the
/// number of paths through the graph grows exponentially.
fn dense(n: usize) -> String {
    let mut s = String::from("x = 1\ny0 = x\n");
    for i in 1..n {
        let terms: Vec<String> = (i.saturating_sub(3)..i).map(|j| format!("y{j}")).collect();
        s.push_str(&format!("y{i} = y{}*x + {}\n", i - 1, terms.join(" + ")));
    }
    s
}

#[test]
fn the_builtin_layout_refuses_a_tangled_graph_at_once() {
    // 187 drawn nodes, under the node limit: this used to run for minutes.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("d.svg");
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "-o", svg.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .write_stdin(dense(25))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2) // a graph past a layout's size limit, like every limit
        .stderr(predicate::str::contains("built-in layout"))
        .stderr(predicate::str::contains("apt-get install graphviz"))
        .stderr(predicate::str::contains(".dot"));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(!svg.exists());
    // Nor does it leave a temporary file behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_layout_gives_up_at_the_timeout() {
    // About 100 drawn nodes and 1e9 path steps: well under a second in a
    // release build, far more than a millisecond.
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "--format", "svg", "--layout", "builtin"])
        .args(["--timeout", "0.001"])
        .write_stdin(dense(14))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the built-in layout did not finish drawing the graph within 0.001 s",
        ));
    assert!(start.elapsed() < Duration::from_secs(10));
    for bad in ["0", "-1", "nan", "abc"] {
        backprop()
            .args(["draw", "x = 1; y = x", "--timeout", bad])
            .assert()
            .code(2);
    }
}

/// The texts of the built-in layout's SVG with where their glyphs are
/// centred, in SVG units: `x` is the centre (`text-anchor="middle"`), and
/// the `tspan` moves the line down by `dy="1.0em"` (14 px) to its middle
/// (`dominant-baseline="middle"`).
fn svg_text_centres(svg: &str) -> Vec<(String, f64, f64)> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, opts).expect("valid XML");
    doc.descendants()
        // Edge labels (empty, along a path) have no position of their own.
        .filter(|n| n.has_tag_name("text") && n.has_attribute("x"))
        .map(|n| {
            let text: String = n
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect();
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let y: f64 = n.attribute("y").unwrap().parse().unwrap();
            (text.trim().to_string(), x, y + 14.0)
        })
        .collect()
}

#[test]
fn png_without_graphviz_is_drawn_by_the_builtin_layout() {
    let dir = tempfile::tempdir().unwrap();
    let program = "x = 2; y = x*3 + 1";
    let png = dir.path().join("x.png");
    // No `dot` on this PATH: the built-in layout draws, resvg rasterizes.
    backprop()
        .args(["draw", program, "-o", png.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .assert()
        .success();
    let svg = backprop()
        .args(["draw", program, "--format", "svg"])
        .env("PATH", "/nonexistent")
        .stdout_text();

    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .expect("a PNG that decodes")
        .to_luma8();
    // Two pixels per SVG unit, the size the SVG declares.
    let doc = roxmltree::Document::parse_with_options(
        &svg,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let root = doc.root_element();
    let size = |a: &str| root.attribute(a).unwrap().parse::<f64>().unwrap();
    assert_eq!(img.width(), (size("width") * 2.0).round() as u32);
    assert_eq!(img.height(), (size("height") * 2.0).round() as u32);
    // A white page: most pixels are background.
    let dark = |x: f64, y: f64, rx: f64, ry: f64| {
        let (x0, x1) = (((x - rx) * 2.0) as u32, ((x + rx) * 2.0) as u32);
        let (y0, y1) = (((y - ry) * 2.0) as u32, ((y + ry) * 2.0) as u32);
        (x0..x1)
            .flat_map(|px| (y0..y1).map(move |py| (px, py)))
            .filter(|&(px, py)| img.get_pixel(px, py)[0] < 100)
            .count()
    };
    let all_dark = img.pixels().filter(|p| p[0] < 100).count();
    let total = (img.width() * img.height()) as usize;
    assert!(
        all_dark > 0 && all_dark < total / 5,
        "{all_dark} of {total}"
    );

    // Every text's place has ink, and every blank field's has none.
    let texts = svg_text_centres(&svg);
    for want in [
        "x",
        "data 2.0000",
        "grad 3.0000",
        "*",
        "+",
        "y",
        "data 7.0000",
    ] {
        assert!(texts.iter().any(|(t, ..)| t == want), "{want} in {texts:?}");
    }
    for (text, x, y) in &texts {
        let ink = dark(*x, *y, 3.0, 5.0);
        if text.is_empty() {
            assert_eq!(ink, 0, "blank field at ({x}, {y})");
        } else {
            assert!(
                ink >= 4,
                "no ink for `{text}` at ({x}, {y}): {ink} dark pixels"
            );
        }
    }
}

#[test]
fn invalid_utf8_is_a_usage_error() {
    backprop()
        .args(["draw", "-"])
        .write_stdin(&b"x = 1\ny = x\xfe"[..])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>:2:6:"))
        .stderr(predicate::str::contains("not UTF-8"));
}

#[test]
fn graphviz_missing_suggests_the_builtin_layout() {
    backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--layout",
            "graphviz",
            "--format",
            "svg",
        ])
        .env("PATH", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--layout builtin"))
        .stderr(predicate::str::contains("write .svg").not());
    let dir = tempfile::tempdir().unwrap();
    backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--format",
            "png",
            "--layout",
            "graphviz",
            "-o",
        ])
        .arg(dir.path().join("graph.png"))
        .env("PATH", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--layout builtin"));
}

#[test]
fn too_large_with_the_builtin_layout_points_to_an_installed_graphviz() {
    let mut src = String::from("x = 1; w = 0.5\ny = x\n");
    for _ in 0..100 {
        src.push_str("y = tanh(y * w + 0.1)\n");
    }
    let assert = backprop()
        .args(["draw", "-", "--layout", "builtin", "--format", "svg"])
        .write_stdin(src)
        .assert()
        .code(2); // a graph past a layout's size limit, like every limit
    if backprop::viz::graphviz_available() {
        assert.stderr(predicate::str::contains(
            "Graphviz is installed: use --layout auto",
        ));
    } else {
        assert.stderr(predicate::str::contains("Graphviz is installed").not());
    }
}

#[test]
fn graphviz_refuses_huge_graphs_at_once() {
    let mut src = String::from("x0 = 1\n");
    for i in 1..5000 {
        src.push_str(&format!("x{i} = x{} + 1\n", i - 1));
    }
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "--layout", "graphviz", "--format", "svg"])
        .write_stdin(src)
        .assert()
        .code(2) // a graph past a layout's size limit, like every limit
        .stderr(predicate::str::contains("more than Graphviz draws"))
        .stderr(predicate::str::contains(".dot"));
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// A `dot` that crashes without a word, as Graphviz does on huge graphs.
#[test]
#[cfg(unix)]
fn a_crashing_graphviz_is_reported_with_what_to_do() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let dot = dir.path().join("dot");
    std::fs::write(&dot, "#!/bin/sh\nkill -SEGV $$\n").unwrap();
    std::fs::set_permissions(&dot, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--layout",
            "graphviz",
            "--format",
            "svg",
        ])
        .env("PATH", dir.path())
        .stderr_with_code(1);
    assert!(err.contains("graphviz `dot -Tsvg` failed ("), "{err}");
    assert!(
        !err.contains("): \n") && !err.trim_end().ends_with(':'),
        "{err}"
    );
    assert!(err.contains(".dot"), "{err}");
}
