//! The page `backprop train --page train.html` writes: its decision
//! boundary checked against `predict --json` on the saved model, its
//! sample graphs against `explain --model --json` of a model saved at
//! that step, and the page itself in a headless Chromium (offline, no
//! console error, the slider, the keys, a click on a point, a screenshot
//! that is not blank). Bad `--page` arguments fail with exit 2 and touch
//! no file.
//!
//! The browser tests need `chromium` (see tests/cli/page.rs); without it
//! they say so and pass without checking.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::cdp::{Browser, chromium};
use crate::common::{Run, backprop_in, fails, write};

/// The JSON the page embeds for its script.
fn page_data(file: &Path) -> Value {
    let html = std::fs::read_to_string(file).unwrap();
    let start = r#"<script type="application/json" id="training">"#;
    let at = html.find(start).unwrap() + start.len();
    let end = html[at..].find("</script>").unwrap();
    serde_json::from_str(&html[at..at + end]).unwrap()
}

fn browser() -> Option<Browser> {
    match chromium() {
        Some(exe) => Some(Browser::launch_sized(&exe, 1400, 900)),
        None => {
            eprintln!(
                "SKIPPED: no chromium on PATH (install the Debian package `chromium`, or set \
                 BACKPROP_CHROMIUM); the training page was not tested"
            );
            None
        }
    }
}

/// Two classes of points with word labels, as `data/points` has them.
const WORDS: &str = "length,weight,class
0.35,0.17,cat
0.47,0.19,dog
-0.20,0.55,cat
0.90,-0.40,dog
-0.75,0.10,cat
0.15,-0.85,dog
0.60,0.65,cat
-0.30,-0.45,dog
";

fn assert_close(what: &str, page: f64, want: f64) {
    assert!(
        (page - want).abs() <= 1e-12 * (1.0 + want.abs()),
        "{what}: page {page}, explain --json {want}"
    );
}

/// The explanation of `explain --model MODEL --point X,Y --label C --json`.
fn explain_grads(dir: &Path, model: &str, point: &[f64], label: usize) -> Value {
    let p = format!("{},{}", point[0], point[1]);
    backprop_in(dir)
        .args(["explain", "--model", model, "--point", &p, "--label"])
        .arg(label.to_string())
        .arg("--json")
        .stdout_json()
}

/// Compares the page's explanation of a point with `explain --json`'s:
/// every input's gradient, the output's value and each node's data.
fn compare(what: &str, page: &Value, want: &Value) {
    assert_close(
        &format!("{what}: value"),
        page["value"].as_f64().unwrap(),
        want["value"].as_f64().unwrap(),
    );
    let (pg, wg) = (
        page["grads"].as_object().unwrap(),
        want["grads"].as_object().unwrap(),
    );
    assert_eq!(pg.len(), wg.len(), "{what}: the same inputs");
    for (name, g) in wg {
        assert_close(
            &format!("{what}: {name}.grad"),
            pg[name].as_f64().unwrap(),
            g.as_f64().unwrap(),
        );
    }
    let (pn, wn) = (
        page["nodes"].as_array().unwrap(),
        want["nodes"].as_array().unwrap(),
    );
    assert_eq!(pn.len(), wn.len(), "{what}: the same nodes");
    for (a, b) in pn.iter().zip(wn) {
        assert_eq!(a["name"], b["name"], "{what}");
        assert_eq!(a["expr"], b["expr"], "{what}");
        assert_close(
            &format!("{what}: {}.data", b["name"]),
            a["data"].as_f64().unwrap(),
            b["data"].as_f64().unwrap(),
        );
    }
    let (ps, ws) = (
        page["steps"].as_array().unwrap(),
        want["steps"].as_array().unwrap(),
    );
    assert_eq!(ps.len(), ws.len(), "{what}: the same steps");
    for (a, b) in ps.iter().zip(ws) {
        for (s, t) in a["terms"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["terms"].as_array().unwrap())
        {
            assert_eq!(s["formula"], t["formula"], "{what}");
            assert_close(
                &format!("{what}: local of {} in {}", t["operand"], b["node"]),
                s["local"].as_f64().unwrap(),
                t["local"].as_f64().unwrap(),
            );
        }
    }
}

/// The last snapshot's boundary is what `predict --json` says of the
/// saved model at each cell of the page's grid.
#[test]
fn the_last_boundary_is_predict_on_the_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let summary = backprop_in(d)
        .args([
            "train",
            "-q",
            "--no-plot",
            "--steps",
            "30",
            "--samples",
            "40",
        ])
        .args([
            "--page",
            "p.html",
            "--page-snapshots",
            "3",
            "--page-grid",
            "24",
        ])
        .args(["--save", "m.json", "--json"])
        .stdout_json();
    assert_eq!(summary["page"], "p.html");
    let data = page_data(&d.join("p.html"));
    let grid = &data["grid"];
    let (xs, ys) = (
        grid["xs"].as_array().unwrap(),
        grid["ys"].as_array().unwrap(),
    );
    assert_eq!((xs.len(), ys.len()), (24, 24));
    let mut csv = String::new();
    for y in ys {
        for x in xs {
            csv += &format!("{},{}\n", x.as_f64().unwrap(), y.as_f64().unwrap());
        }
    }
    write(d, "grid.csv", csv);
    let predicted = backprop_in(d)
        .args([
            "predict", "--model", "m.json", "--csv", "grid.csv", "--json",
        ])
        .stdout_json();
    let snaps = data["snapshots"].as_array().unwrap();
    let steps: Vec<u64> = snaps.iter().map(|s| s["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [0, 15, 30], "evenly spaced, first and last");
    let cells = snaps[2]["cells"].as_array().unwrap();
    let predicted = predicted.as_array().unwrap();
    assert_eq!(cells.len(), predicted.len());
    let mut classes = [0; 2];
    for (c, p) in cells.iter().zip(predicted) {
        assert_eq!(c, &p["class"], "at {}", p["point"]);
        classes[c.as_u64().unwrap() as usize] += 1;
    }
    assert!(classes.iter().all(|&n| n > 0), "both classes on the map");
    // The first snapshot is another network: the initial one.
    assert_ne!(snaps[0]["params"], snaps[2]["params"]);
}

/// A point's graph at step k has the numbers that `explain --model` gives
/// for the model saved after k steps (constant learning rate, so that a
/// run of k steps is the start of the longer one): for word labels with
/// the hinge loss, for a 3-class spiral with cross-entropy (whose shift by
/// the largest logit is a constant named by its value), and for tanh
/// neurons with the BCE loss (whose graph branches on the output's sign).
#[test]
fn a_points_graph_at_step_k_is_explain_of_the_model_saved_at_k() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "words.csv", WORDS);
    let runs: [(&str, &[&str]); 3] = [
        (
            "words",
            &[
                "--dataset",
                "csv:words.csv",
                "--label-column",
                "class",
                "--hidden",
                "4,3",
            ],
        ),
        (
            "spiral",
            &["--dataset", "spiral", "--samples", "30", "--hidden", "5"],
        ),
        (
            "bce",
            &[
                "--samples",
                "20",
                "--hidden",
                "6",
                "--activation",
                "tanh",
                "--loss",
                "bce",
                "--standardize",
            ],
        ),
    ];
    for (name, args) in runs {
        let page = format!("{name}.html");
        backprop_in(d)
            .args([
                "train",
                "-q",
                "--no-plot",
                "--schedule",
                "constant",
                "--steps",
                "12",
            ])
            .args(args)
            .args(["--page", &page, "--page-snapshots", "4"])
            .succeeds();
        for k in [4, 8] {
            let model = format!("{name}{k}.json");
            backprop_in(d)
                .args([
                    "train",
                    "-q",
                    "--no-plot",
                    "--schedule",
                    "constant",
                    "--steps",
                ])
                .arg(k.to_string())
                .args(args)
                .args(["--save", &model])
                .succeeds();
        }
        let data = page_data(&d.join(&page));
        // A point's names are stored in the page, or derived by the
        // script from the shape's by replacing the constants that differ
        // (when Rust has checked that this gives the engine's names
        // exactly): either way the comparison below checks them.
        b.open(&d.join(&page));
        let points = data["points"].as_array().unwrap();
        for (snapshot, k) in [(1, 4), (2, 8)] {
            assert_eq!(data["snapshots"][snapshot]["step"], k);
            for (i, p) in points.iter().enumerate().step_by(3) {
                let point = [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()];
                let label = p[2].as_u64().unwrap() as usize;
                let shown = b.eval(&format!("window.backpropTrain.build({snapshot}, {i})"));
                let want = explain_grads(d, &format!("{name}{k}.json"), &point, label);
                compare(&format!("{name}, point {i} at step {k}"), &shown, &want);
            }
        }
        assert!(b.errors().is_empty(), "{name}: {:?}", b.errors());
    }
}

/// Waits until `expr` is true in the page.
fn wait_for(b: &mut Browser, expr: &str, what: &str) {
    let start = Instant::now();
    while b.eval(expr) != Value::Bool(true) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Opens offline with no request and no console error, interactive within
/// 3 s; the slider, the buttons and the keys move the step; a click on a
/// point shows its graph (the `draw` page, laid out, in a frame); a
/// screenshot is not blank.
#[test]
fn the_page_opens_offline_and_a_click_shows_a_points_graph() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    backprop_in(d)
        .args([
            "train",
            "-q",
            "--no-plot",
            "--steps",
            "40",
            "--samples",
            "50",
        ])
        .args(["--page", "train.html", "--page-snapshots", "5"])
        .succeeds();
    let file: PathBuf = d.join("train.html");
    b.call("Network.enable", serde_json::json!({}));
    b.open(&file);
    let ready = b.eval("window.backpropTrain.readyMs").as_f64().unwrap();
    assert!(ready < 3000.0, "interactive after {ready} ms");
    assert_eq!(b.eval("window.backpropTrain.snapshots"), 5);
    // It opens at the trained network.
    assert_eq!(b.eval("window.backpropTrain.step()"), 40);
    b.key("Home", 36);
    assert_eq!(b.eval("window.backpropTrain.step()"), 0);
    b.key("ArrowRight", 39);
    assert_eq!(b.eval("window.backpropTrain.step()"), 10);
    b.click("#next", 0.5);
    assert_eq!(b.eval("window.backpropTrain.step()"), 20);
    b.eval("(() => { const s = document.getElementById('slider'); s.value = 3; s.dispatchEvent(new Event('input')); })()");
    assert_eq!(b.eval("window.backpropTrain.step()"), 30);
    assert!(
        b.eval("document.getElementById('stepinfo').textContent")
            .as_str()
            .unwrap()
            .starts_with("step 30 of 40")
    );
    // A real click on point 7.
    let at = b.eval(
        "(() => { const r = document.getElementById('map').getBoundingClientRect(); \
         const p = window.backpropTrain.pointAt(7); return [r.left + p[0] + 1, r.top + p[1] + 1]; })()",
    );
    for kind in ["mousePressed", "mouseReleased"] {
        b.call(
            "Input.dispatchMouseEvent",
            serde_json::json!({"type": kind, "x": at[0], "y": at[1], "button": "left", "clickCount": 1}),
        );
    }
    assert_eq!(b.eval("document.body.getAttribute('data-sample')"), "7@3");
    wait_for(
        &mut b,
        "(() => { const f = document.getElementById('graphframe').contentDocument; \
         return !!(f && f.body && f.body.getAttribute('data-ready') === 'true'); })()",
        "the point's graph is laid out",
    );
    let title = b.eval(
        "document.getElementById('graphframe').contentDocument.querySelector('h1').textContent",
    );
    assert!(title.as_str().unwrap().starts_with("point 8 ("), "{title}");
    assert!(
        title.as_str().unwrap().ends_with("loss at step 30"),
        "{title}"
    );
    // The frame's graph steps like the `draw` page.
    let total = b.eval("document.getElementById('graphframe').contentWindow.backpropPage.total");
    assert!(total.as_u64().unwrap() > 100);
    // A neuron of the diagram opens its step in the graph.
    b.click("#net circle[data-neuron=\"1.3\"]", 0.5);
    let step = b
        .eval("document.getElementById('graphframe').contentWindow.backpropPage.step()")
        .as_u64()
        .unwrap();
    let shown = b.eval("document.getElementById('graphframe').contentDocument.getElementById('stepinfo').textContent");
    assert!(
        step > 0 && shown.as_str().unwrap().contains("L1.N3"),
        "{shown}"
    );
    assert!(b.errors().is_empty(), "{:?}", b.errors());
    assert!(b.requests(&file).is_empty(), "{:?}", b.requests(&file));
    let shot = b.screenshot();
    let first = *shot.get_pixel(0, 0);
    let differing = shot.pixels().filter(|p| **p != first).count();
    assert!(
        differing > shot.pixels().len() / 10,
        "the screenshot is blank"
    );
    // `#snapshot=2&point=3` opens at the second snapshot with the third
    // point's graph; numbers past the ends are ignored.
    b.call("Page.navigate", serde_json::json!({"url": "about:blank"}));
    b.open(&d.join("train.html#snapshot=2&point=3"));
    assert_eq!(b.eval("window.backpropTrain.step()"), 10);
    assert_eq!(b.eval("document.body.getAttribute('data-sample')"), "2@1");
    // A new hash on the open page moves it too.
    b.eval("location.hash = '#snapshot=4'; new Promise(r => setTimeout(r, 100))");
    assert_eq!(b.eval("window.backpropTrain.step()"), 30);
    b.call("Page.navigate", serde_json::json!({"url": "about:blank"}));
    b.open(&d.join("train.html#snapshot=99&point=0"));
    assert_eq!(b.eval("window.backpropTrain.step()"), 40);
    assert_eq!(
        b.eval("document.body.getAttribute('data-sample')"),
        Value::Null
    );
    assert!(b.errors().is_empty(), "{:?}", b.errors());
}

/// Bad `--page` arguments: exit 2, the flag and the limit named, no file
/// touched; an unwritable page: exit 1.
#[test]
fn bad_page_arguments_fail_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "three.csv", "a,b,c,label\n1,2,3,0\n2,3,4,1\n3,1,2,0\n");
    write(d, "wide.csv", "a,b,label\n-1e308,0,0\n1e308,1,1\n");
    let with = |extra: &[&str]| -> Vec<String> {
        let steps: &[&str] = if extra.contains(&"--steps") {
            &[]
        } else {
            &["--steps", "2"]
        };
        ["train", "-q", "--no-plot"]
            .iter()
            .chain(steps)
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    for (extra, message) in [
        (
            &["--page", "p.png"][..],
            "--page p.png: use a .html file name",
        ),
        (&["--page", "-"][..], "use a .html file name"),
        (
            &["--page", "p.html", "--page-snapshots", "1"][..],
            "--page-snapshots",
        ),
        (
            &["--page", "p.html", "--page-snapshots", "102"][..],
            "must be at most 101",
        ),
        (
            &["--page", "p.html", "--page-snapshots", "-3"][..],
            "must be at least 2",
        ),
        (
            &["--page", "p.html", "--page-grid", "3"][..],
            "must be at least 4",
        ),
        (
            &["--page", "p.html", "--page-grid", "201"][..],
            "must be at most 200",
        ),
        (
            &["--page", "p.html", "--page-grid", "1e9"][..],
            "--page-grid",
        ),
        (
            &[
                "--page",
                "p.html",
                "--dataset",
                "csv:three.csv",
                "--label-column",
                "label",
            ][..],
            "over 2 features, but three has 3 features",
        ),
        (
            &["--page", "p.html", "--samples", "2001"][..],
            "more than the page's limit of 2000",
        ),
        (
            &[
                "--page",
                "p.html",
                "--samples",
                "1000",
                "--steps",
                "100",
                "--page-snapshots",
                "60",
            ][..],
            "sample graphs, more than the page's limit of 50000",
        ),
        (
            &["--page", "p.html", "--hidden", "40,40"][..],
            "more than the page's limit of 1500",
        ),
        (&["--page", "m.html", "--save", "m.html"][..], "both write"),
        (
            &[
                "--page",
                "p.html",
                "--dataset",
                "csv:wide.csv",
                "--label-column",
                "label",
            ][..],
            "--page p.html: wide's features span too wide a range to draw",
        ),
        (
            &["--page", "three.csv", "--dataset", "csv:three.csv"][..],
            "use a .html file name",
        ),
    ] {
        let args = with(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(d, &args, 2, message);
    }
    let args = with(&["--page", "no/such/dir/p.html"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails(d, &args, 1, "cannot write the page to no/such/dir/p.html");
}

/// `draw --model`'s page gets the layer diagram: one circle per input and
/// neuron, one edge per weight coloured by the sign of the weight in the
/// model file, and a click on a neuron goes to its `linear` node's
/// backward step. A program's page has no diagram.
#[test]
fn the_draw_model_page_shows_the_layers() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    backprop_in(d)
        .args([
            "train",
            "-q",
            "--no-plot",
            "--steps",
            "5",
            "--hidden",
            "5,4",
        ])
        .args(["--save", "m.json"])
        .succeeds();
    backprop_in(d)
        .args([
            "draw", "--model", "m.json", "--point", "0.5,0.2", "--label", "1",
        ])
        .args(["-o", "mlp.html"])
        .succeeds();
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    b.open(&d.join("mlp.html"));
    assert_eq!(
        b.eval("window.backpropNetwork.sizes"),
        serde_json::json!([2, 5, 4, 1])
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#netview circle').length"),
        12
    );
    // Edges in order: layer, neuron, weight; blue for w >= 0, red below.
    let colours = b.eval(
        "Array.from(document.querySelectorAll('#netview line')).map(l => l.getAttribute('stroke'))",
    );
    let mut want = Vec::new();
    for layer in model["layers"].as_array().unwrap() {
        for neuron in layer["neurons"].as_array().unwrap() {
            for w in neuron["weights"].as_array().unwrap() {
                let blue = w.as_f64().unwrap() >= 0.0;
                want.push(if blue { "#1c7ed6" } else { "#e03131" });
            }
        }
    }
    assert_eq!(colours, serde_json::json!(want));
    b.click("#netview circle[data-neuron=\"2.3\"]", 0.5);
    let info = b.eval("document.getElementById('stepinfo').textContent");
    assert!(
        info.as_str().unwrap().contains(": L2.N3.n"),
        "the click goes to L2.N3's linear node: {info}"
    );
    let on = b.eval("document.querySelector('#netview circle.on').getAttribute('data-neuron')");
    assert_eq!(on, "2.3");
    assert!(b.errors().is_empty(), "{:?}", b.errors());
    backprop_in(d)
        .args(["draw", "x = 2; y = x * x", "-o", "prog.html"])
        .succeeds();
    b.open(&d.join("prog.html"));
    assert_eq!(b.eval("document.getElementById('netview') === null"), true);
}

/// The default run's page (micrograd's demo, 21 snapshots of 100 points,
/// a 60 × 60 grid) stays under 5 MB and is interactive within 3 s. The
/// README's picture comes from this test:
/// `BACKPROP_TRAIN_SCREENSHOT=docs/train-page.png cargo test --test cli default_page`.
#[test]
fn the_default_page_is_under_5_mb_and_opens_within_3_s() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    backprop_in(d)
        .args(["train", "-q", "--no-plot", "--page", "train.html"])
        .args(["--save", "m.json"])
        .succeeds();
    let file = d.join("train.html");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 5_000_000, "the page has {size} bytes");
    let data = page_data(&file);
    assert_eq!(data["snapshots"].as_array().unwrap().len(), 21);
    assert_eq!(data["points"].as_array().unwrap().len(), 100);
    let Some(mut b) = browser() else { return };
    b.open(&file);
    let ready = b.eval("window.backpropTrain.readyMs").as_f64().unwrap();
    assert!(ready < 3000.0, "interactive after {ready} ms");
    // At the last snapshot the diagram's edges are the saved model's
    // weights: blue for w >= 0, red below, the widest the largest |w|.
    let lines = b.eval(
        "Array.from(document.querySelectorAll('#net line')).map(l => \
         [l.getAttribute('stroke'), parseFloat(l.getAttribute('stroke-width'))])",
    );
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    let weights: Vec<f64> = model["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["neurons"].as_array().unwrap().clone())
        .flat_map(|n| n["weights"].as_array().unwrap().clone())
        .map(|w| w.as_f64().unwrap())
        .collect();
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), weights.len());
    let widest = lines
        .iter()
        .map(|l| l[1].as_f64().unwrap())
        .fold(0.0, f64::max);
    let largest = (0..weights.len())
        .max_by(|&a, &b| weights[a].abs().total_cmp(&weights[b].abs()))
        .unwrap();
    assert_eq!(lines[largest][1].as_f64().unwrap(), widest);
    for (line, w) in lines.iter().zip(&weights) {
        assert_eq!(
            line[0],
            if *w >= 0.0 { "#1c7ed6" } else { "#e03131" },
            "w = {w}"
        );
    }
    // The README's picture: step 30, a point's graph at a neuron's step.
    b.eval("window.backpropTrain.go(6); window.backpropTrain.select(31)");
    wait_for(
        &mut b,
        "(() => { const f = document.getElementById('graphframe').contentDocument; \
         return !!(f && f.body && f.body.getAttribute('data-ready') === 'true'); })()",
        "the point's graph is laid out",
    );
    b.click("#net circle[data-neuron=\"2.9\"]", 0.5);
    b.eval("new Promise(r => setTimeout(r, 400))");
    assert!(b.errors().is_empty(), "{:?}", b.errors());
    if let Some(path) = std::env::var_os("BACKPROP_TRAIN_SCREENSHOT") {
        save_indexed(&b.screenshot(), Path::new(&path));
    }
}

/// Saves `img` as a PNG of at most 256 colours (the most frequent ones, at
/// 5 bits per channel; each pixel gets its nearest): a screenshot of flat
/// colours and text at about a third of its RGBA size.
fn save_indexed(img: &image::RgbaImage, path: &Path) {
    let bin = |p: &image::Rgba<u8>| {
        ((p[0] as usize >> 3) << 10) | ((p[1] as usize >> 3) << 5) | (p[2] as usize >> 3)
    };
    let mut count = vec![(0usize, [0u64; 3]); 1 << 15];
    for p in img.pixels() {
        let c = &mut count[bin(p)];
        c.0 += 1;
        for k in 0..3 {
            c.1[k] += p[k] as u64;
        }
    }
    let mut bins: Vec<usize> = (0..count.len()).filter(|&b| count[b].0 > 0).collect();
    bins.sort_by_key(|&b| std::cmp::Reverse(count[b].0));
    bins.truncate(256);
    let palette: Vec<[u8; 3]> = bins
        .iter()
        .map(|&b| {
            let (n, sum) = count[b];
            [0, 1, 2].map(|k| (sum[k] / n as u64) as u8)
        })
        .collect();
    let nearest: Vec<u8> = (0..count.len())
        .map(|b| {
            let c = [
                (b >> 10) << 3 | 4,
                ((b >> 5) & 31) << 3 | 4,
                (b & 31) << 3 | 4,
            ];
            let d = |q: &[u8; 3]| {
                (0..3)
                    .map(|k| (c[k] as i64 - q[k] as i64).pow(2))
                    .sum::<i64>()
            };
            (0..palette.len()).min_by_key(|&i| d(&palette[i])).unwrap() as u8
        })
        .collect();
    let indices: Vec<u8> = img.pixels().map(|p| nearest[bin(p)]).collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, img.width(), img.height());
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(palette.concat());
    enc.set_compression(png::Compression::High);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&indices).unwrap();
}

/// Class names and column names that are HTML or script are shown as
/// text: the page opens without error, and a point's graph says its class.
#[test]
fn hostile_names_are_text_on_the_page() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "evil.csv",
        "\"<img src=x onerror=alert(1)>\",b\"&,class\n\
         0.1,0.2,</script><b>x\n0.9,0.1,a\"b&c\n0.2,0.8,</script><b>x\n0.7,0.6,a\"b&c\n",
    );
    backprop_in(d)
        .args(["train", "-q", "--no-plot", "--steps", "3", "--hidden", "3"])
        .args(["--dataset", "csv:evil.csv", "--label-column", "class"])
        .args(["--page", "evil.html", "--page-snapshots", "2"])
        .succeeds();
    b.open(&d.join("evil.html"));
    let legend = b.eval("document.getElementById('legend').textContent");
    let legend = legend.as_str().unwrap();
    assert!(
        legend.contains("</script><b>x") && legend.contains("a\"b&c"),
        "{legend}"
    );
    assert!(legend.contains("<img src=x onerror=alert(1)>"), "{legend}");
    b.eval("window.backpropTrain.select(0)");
    wait_for(
        &mut b,
        "(() => { const f = document.getElementById('graphframe').contentDocument; \
         return !!(f && f.body && f.body.getAttribute('data-ready') === 'true'); })()",
        "the point's graph is laid out",
    );
    let title = b.eval(
        "document.getElementById('graphframe').contentDocument.querySelector('h1').textContent",
    );
    assert!(
        title.as_str().unwrap().contains("class </script><b>x"),
        "{title}"
    );
    assert_eq!(b.eval("document.querySelectorAll('img, b').length"), 0);
    assert!(b.errors().is_empty(), "{:?}", b.errors());
}

/// Hidden characters in a CSV's class names and column names (a right-to-
/// left override, which reverses the text after it, and a newline in a
/// quoted cell) reach the training page, `eval`, `predict` and `explain`
/// as their code points, `U+202E`, and never raw.
#[test]
fn hidden_characters_in_class_and_column_names_are_shown_as_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "f.csv",
        "\"x\u{202e}1\",\"x\n2\",cls\n0,0,a\u{202e}b\n1,1,cd\n0.1,0,a\u{202e}b\n0.9,1,cd\n",
    );
    backprop_in(d)
        .args(["train", "--dataset", "csv:f.csv", "--label-column", "cls"])
        .args([
            "--steps",
            "3",
            "--no-plot",
            "--page",
            "h.html",
            "--save",
            "m.json",
        ])
        .succeeds();
    let html = std::fs::read_to_string(d.join("h.html")).unwrap();
    assert!(!html.contains('\u{202e}'), "a raw U+202E on the page");
    let data = page_data(&d.join("h.html"));
    assert_eq!(data["class_names"], serde_json::json!(["aU+202Eb", "cd"]));
    assert_eq!(
        data["features"],
        serde_json::json!(["xU+202E1", "xU+000A2"])
    );

    let hidden = |s: &str| {
        s.chars()
            .any(|c| c != '\n' && backprop::format::is_hidden(c))
    };
    let eval = backprop_in(d)
        .args([
            "eval",
            "--model",
            "m.json",
            "--dataset",
            "csv:f.csv",
            "--label-column",
            "cls",
        ])
        .stdout_text();
    assert!(eval.contains("(classes aU+202Eb, cd)"), "{eval}");
    assert!(!hidden(&eval), "{eval:?}");
    let predict = backprop_in(d)
        .args(["predict", "--model", "m.json", "--point", "0,0"])
        .stdout_text();
    assert!(
        predict.contains("class aU+202Eb\t") || predict.contains("class cd\t"),
        "{predict}"
    );
    assert!(!hidden(&predict.replace('\t', " ")), "{predict:?}");
    let explain = backprop_in(d)
        .args([
            "explain",
            "--model",
            "m.json",
            "--point",
            "0,0",
            "--label",
            "a\u{202e}b",
        ])
        .stdout_text();
    assert!(
        explain.contains("with label aU+202Eb (class 0)"),
        "{explain}"
    );
    assert!(!hidden(&explain), "{explain:?}");
}
