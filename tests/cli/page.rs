//! The page `backprop draw PROGRAM -o graph.html` writes, tested in a
//! real headless Chromium over the DevTools protocol, the way a person
//! uses it: it opens from disk with no network request and no console
//! error; the keyboard steps it to the end, where it shows the same
//! gradients as `backprop grad --json`; the buttons and the slider move
//! the step; a screenshot is not blank.
//!
//! Needs the `chromium` binary (Debian package `chromium`, which `.ci/run`
//! installs; or set `BACKPROP_CHROMIUM`). Without it the tests say so and
//! pass without checking.

use std::path::PathBuf;

use crate::common::cdp::{Browser, chromium};
use crate::common::{NEURON, Run, backprop};
use serde_json::json;

/// A program with reuse (`a` feeds three nodes), a constant and several ops.
const REUSE: &str = "a = -1.5; b = 0.5
c = a * b + a
d = tanh(c) ** 2 + exp(a) / (1 + b*b)
e = d * a + sigmoid(c - b)";

/// Writes the page for `program` into a fresh directory (kept alive by
/// the returned guard).
fn page(program: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.html");
    backprop()
        .args(["draw", program, "-o", file.to_str().unwrap()])
        .succeeds();
    (dir, file)
}

fn browser() -> Option<Browser> {
    match chromium() {
        Some(exe) => Some(Browser::launch(&exe)),
        None => {
            eprintln!(
                "SKIPPED: no chromium on PATH (install the Debian package `chromium`, or set \
                 BACKPROP_CHROMIUM); the page was not tested"
            );
            None
        }
    }
}

/// Each leaf's record: its name, the grad field as shown, and the full
/// number the page holds for it.
fn shown_grads(b: &mut Browser) -> Vec<(String, String, String)> {
    let v = b.eval(
        "Array.from(document.querySelectorAll('g.node[id^=\"n\"]')).map(g => { \
           const t = g.querySelectorAll('text'); \
           return [t[0].textContent, t[2].textContent, g.getAttribute('data-grad')]; })",
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
                r[2].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn keyboard_steps_to_the_gradients_of_grad_json() {
    let Some(mut b) = browser() else { return };
    for program in [NEURON, REUSE, "x = 1; unused = 3; y = x * 2 + x"] {
        let (_dir, file) = page(program);
        b.events.clear();
        b.open(&file);
        let total = b.eval("window.backpropPage.total").as_u64().unwrap();
        // Before any step, no gradient is shown.
        assert!(shown_grads(&mut b).iter().all(|(_, g, _)| g == "grad"));
        for _ in 0..total {
            b.key("ArrowRight", 39);
        }
        assert_eq!(b.step(), total);
        let grad = backprop().args(["grad", program, "--json"]).stdout_json();
        let shown = shown_grads(&mut b);
        let want = grad["grads"].as_object().unwrap();
        assert!(!want.is_empty());
        // The last step's panel lists every input's gradient, used or not.
        let panel = b.eval("document.getElementById('arith').textContent");
        let listed: Vec<(String, f64)> = panel
            .as_str()
            .unwrap()
            .lines()
            .filter_map(|l| l.trim().split_once(".grad = "))
            .filter_map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
            .collect();
        for (name, g) in want {
            let g = g.as_f64().unwrap();
            let (_, p) = listed
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is not in the final panel: {panel}"));
            assert!(
                (p - g).abs() <= 1e-5 * (1.0 + g.abs()),
                "{name}: panel {p}, grad --json {g}"
            );
            let Some((_, text, full)) = shown.iter().find(|(n, _, _)| n == name) else {
                // Not drawn: the output does not depend on it.
                assert_eq!(g, 0.0, "{name}");
                continue;
            };
            let on_screen: f64 = text.strip_prefix("grad ").unwrap().parse().unwrap();
            assert!(
                (on_screen - g).abs() <= 0.5e-4 + 1e-12,
                "{name}: the page shows `{text}`, grad --json says {g}"
            );
            let full: f64 = full.parse().unwrap();
            assert!(
                (full - g).abs() <= 1e-12 * (1.0 + g.abs()),
                "{name}: page {full}, grad --json {g}"
            );
        }
        // Past the end, the right arrow does nothing; the left goes back.
        b.key("ArrowRight", 39);
        assert_eq!(b.step(), total);
        b.key("ArrowLeft", 37);
        assert_eq!(b.step(), total - 1);
        b.key("Home", 36);
        assert_eq!(b.step(), 0);
        let errors = b.errors();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        let requests = b.requests(&file);
        assert!(requests.is_empty(), "network requests: {requests:?}");
    }
}

#[test]
fn buttons_and_slider_move_the_step() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(NEURON);
    b.open(&file);
    let total = b.eval("window.backpropPage.total").as_u64().unwrap();
    assert_eq!(b.step(), 0);
    b.click("#next", 0.5);
    b.click("#next", 0.5);
    assert_eq!(b.step(), 2);
    b.click("#prev", 0.5);
    assert_eq!(b.step(), 1);
    b.click("#last", 0.5);
    assert_eq!(b.step(), total);
    b.click("#first", 0.5);
    assert_eq!(b.step(), 0);
    // A click three quarters along the slider lands in the backward pass.
    b.click("#slider", 0.75);
    let s = b.step();
    assert!(
        s > total / 2 && s < total,
        "slider at 3/4 gave step {s} of {total}"
    );
    let panel = b.eval("document.getElementById('arith').textContent");
    assert!(panel.as_str().unwrap().contains("Backward"), "{panel}");
    assert_eq!(b.eval("+document.getElementById('slider').value"), json!(s));
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[test]
fn the_backward_panel_shows_the_notebooks_arithmetic() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(NEURON);
    b.open(&file);
    let forward = b.eval("window.backpropPage.forward").as_u64().unwrap();
    for _ in 0..forward + 1 {
        b.key("ArrowRight", 39);
    }
    let panel = b.eval("document.getElementById('arith').textContent");
    let panel = panel.as_str().unwrap();
    assert!(
        panel.contains("n.grad = o.grad * (1 - o**2) = 1 * 0.5 = 0.5"),
        "{panel}"
    );
    // The edge from n into tanh carries its local derivative.
    let local =
        b.eval("Array.from(document.querySelectorAll('text.local')).map(t => t.textContent)");
    assert_eq!(local, json!(["0.5"]));
    // Hovering the inspector over x1 shows its finite-difference estimate.
    b.eval("document.getElementById('n0').dispatchEvent(new MouseEvent('mouseenter')); 0");
    let inspect = b.eval("document.getElementById('inspect').textContent");
    let inspect = inspect.as_str().unwrap();
    assert!(
        inspect.contains("x1") && inspect.contains("(f(x+h) - f(x))/h"),
        "{inspect}"
    );
    let est: f64 = inspect
        .lines()
        .find(|l| l.contains("(f(x+h) - f(x-h))/2h"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((est + 1.5).abs() < 1e-6, "{inspect}");
}

/// The screenshot in the README comes from this test:
/// `BACKPROP_SCREENSHOT=docs/watch-backprop.png cargo test --test cli page::a_screenshot`.
#[test]
fn a_screenshot_is_not_blank() {
    let Some(exe) = chromium() else {
        eprintln!("SKIPPED: no chromium on PATH; the page was not tested");
        return;
    };
    // Wide enough for the whole neuron at 100%.
    let mut b = Browser::launch_sized(&exe, 1800, 760);
    let (_dir, file) = page(NEURON);
    b.open(&file);
    // The third backward step: the `+` that passes 0.5 to both products.
    let forward = b.eval("window.backpropPage.forward").as_u64().unwrap();
    for _ in 0..forward + 3 {
        b.key("ArrowRight", 39);
    }
    // Let the highlight's colour transition finish.
    b.eval("new Promise(r => setTimeout(r, 400))");
    let img = b.screenshot();
    let (w, h) = img.dimensions();
    assert!(w >= 800 && h >= 500, "{w}x{h}");
    let white = img.pixels().filter(|p| p.0[..3] == [255, 255, 255]).count();
    let dark = img
        .pixels()
        .filter(|p| p.0[..3].iter().all(|&c| c < 100))
        .count();
    let total = (w * h) as usize;
    // Text and boxes (dark pixels) on a mostly light page, and the
    // active node's yellow.
    assert!(dark > total / 500, "only {dark} dark pixels of {total}");
    assert!(
        white < total * 99 / 100,
        "{white} of {total} pixels are white"
    );
    let yellow = img
        .pixels()
        .filter(|p| p.0[..3] == [0xff, 0xe0, 0x66])
        .count();
    assert!(
        yellow > 500,
        "the active node is not highlighted ({yellow} yellow pixels)"
    );
    if let Some(path) = std::env::var_os("BACKPROP_SCREENSHOT") {
        img.save(&path).unwrap();
    }
}

/// The checks above can fail: a console error, an exception and a
/// network request in the page are all seen.
#[test]
fn the_harness_sees_errors_and_requests() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page("x = 1; y = x * 2");
    b.open(&file);
    assert!(b.errors().is_empty());
    b.eval("console.error('boom'); setTimeout(() => { throw new Error('bang'); }); 0");
    b.eval("fetch('http://127.0.0.1:9/x').catch(() => 0); new Promise(r => setTimeout(r, 200))");
    let errors = b.errors();
    assert!(errors.iter().any(|e| e.contains("boom")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("bang")), "{errors:?}");
    assert!(!b.requests(&file).is_empty() || errors.iter().any(|e| e.contains("127.0.0.1")));
}

/// A program of about 200 nodes: twenty tanh units on two shared inputs
/// (fan-out), summed with weights into a squared loss.
fn program_200() -> String {
    let mut p = String::from("x1 = 0.5\nx2 = -1.2\n");
    let c = |i: i32, m: i32, r: i32| f64::from((i * m) % r - r / 2) / 10.0;
    for i in 1..=20 {
        p += &format!(
            "w{i}a = {}; w{i}b = {}; b{i} = {}; v{i} = {}\n",
            c(i, 37, 19),
            c(i, 53, 17),
            c(i, 29, 13),
            c(i, 41, 23)
        );
    }
    for i in 1..=20 {
        p += &format!("h{i} = tanh(x1*w{i}a + x2*w{i}b + b{i})\n");
    }
    let terms: Vec<String> = (1..=20).map(|i| format!("h{i}*v{i}")).collect();
    p += &format!("out = {}\nloss = (out - 1)**2\n", terms.join(" + "));
    p
}

/// At 100 % zoom the 200-node page keeps 14 px text, and no edge passes
/// through a node it does not connect (sampled every 2 px along each
/// edge, against every node's box shrunk by 1 px).
#[test]
fn a_200_node_page_is_legible() {
    let Some(mut b) = browser() else { return };
    let program = program_200();
    let (_dir, file) = page(&program);
    b.open(&file);
    let nodes = b.eval("window.backpropPage.forward").as_u64().unwrap();
    assert!((200..=260).contains(&nodes), "{nodes} nodes");
    assert_eq!(
        b.eval("document.getElementById('zoomlevel').textContent"),
        json!("100%")
    );
    let size = b.eval(
        "parseFloat(getComputedStyle(document.querySelector('g.node text')).fontSize) * \
         document.querySelector('#graph svg').getScreenCTM().a",
    );
    assert!(size.as_f64().unwrap() >= 13.0, "text is {size} px");
    let crossings = b.eval(
        r#"(() => {
          const D = JSON.parse(document.getElementById('explanation').textContent);
          const svg = document.querySelector('#graph svg');
          const boxes = {};
          svg.querySelectorAll('g.node').forEach(g => {
            const r = g.querySelector('polygon, ellipse').getBBox();
            boxes[g.id] = r;
          });
          const bad = [];
          svg.querySelectorAll('g.edge').forEach(e => {
            let ends;
            let m = /^e(\d+)_(\d+)$/.exec(e.id);
            if (m) ends = ['n' + D.nodes[+m[1]].operands[+m[2]], 'c' + D.nodes[+m[1]].operands[+m[2]], 'g' + m[1] + '_' + m[2], 'op' + m[1]];
            else { m = /^eo(\d+)$/.exec(e.id); ends = ['op' + m[1], 'n' + m[1]]; }
            const p = e.querySelector('path');
            const len = p.getTotalLength();
            for (let s = 0; s <= len; s += 2) {
              const pt = p.getPointAtLength(s);
              for (const id in boxes) {
                if (ends.includes(id)) continue;
                const r = boxes[id];
                if (pt.x > r.x + 1 && pt.x < r.x + r.width - 1 && pt.y > r.y + 1 && pt.y < r.y + r.height - 1) {
                  bad.push(e.id + ' through ' + id);
                  s = len + 1;
                  break;
                }
              }
            }
          });
          return bad;
        })()"#,
    );
    assert_eq!(crossings, json!([]), "edges through other nodes");
}

/// The quiz's state, as the page reports it.
fn quiz_score(b: &mut Browser) -> (u64, u64, u64) {
    let s = b.eval("window.backpropPage.quiz()");
    (
        s["right"].as_u64().unwrap(),
        s["answered"].as_u64().unwrap(),
        s["total"].as_u64().unwrap(),
    )
}

fn panel(b: &mut Browser) -> String {
    b.eval("document.getElementById('arith').textContent")
        .as_str()
        .unwrap()
        .to_string()
}

/// Try it, on the notebook's neuron, with the keyboard only: each backward
/// step asks for the local derivatives and contributions before it shows
/// them; the answers typed are the notebook's hand-worked numbers (tanh's
/// 1 - o**2 = 0.5, each `+` passes 0.5 on, each `*` multiplies by the
/// other operand: w1 = -3, x1 = 2, w2 = 1, x2 = 0), except two typed wrong
/// on purpose; one answer is checked with the mouse instead. The score
/// after the run is what was typed, and it stays while stepping back.
#[test]
fn try_it_asks_before_it_tells() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(NEURON);
    b.open_at(&file, "#quiz");
    let forward = b.eval("window.backpropPage.forward").as_u64().unwrap();
    for _ in 0..forward + 1 {
        b.key("ArrowRight", 39);
    }
    // Step 1, o = tanh(n): asked, not told.
    let p = panel(&mut b);
    assert!(p.contains("Try it") && !p.contains("1 - o**2"), "{p}");
    assert_eq!(
        b.eval("document.querySelectorAll('text.local').length"),
        json!(0)
    );
    assert_eq!(
        b.eval("document.activeElement.className"),
        json!("answer"),
        "the first question has the keyboard"
    );
    // Nor does the inspector tell, until the backward pass is over.
    b.eval("document.getElementById('n9').dispatchEvent(new MouseEvent('mouseenter')); 0");
    let inspect = b.eval("document.getElementById('inspect').textContent");
    assert!(
        inspect.as_str().unwrap().contains("Try it is on")
            && !inspect.as_str().unwrap().contains("1 - o**2"),
        "{inspect}"
    );
    // (local, contribution) per term, in the order of the steps; `true`
    // where the typed answer is right.
    let typed: [(&str, bool); 18] = [
        ("0.7", false), // tanh's local derivative is 1 - o**2 = 0.5
        ("0.5", true),
        ("1", true),
        ("0.5", true),
        ("1", true),
        ("1/2", true), // a fraction is a number too
        ("1", true),
        ("0.5", true),
        ("1", true),
        ("0.5", true),
        ("1", true),
        ("0.5", true),
        ("0", true),
        ("0", true),
        ("3", false), // d(x1*w1)/dx1 is w1 = -3
        ("-1.5", true),
        ("2", true),
        ("1.0004", true), // within 1e-3 relative of w1.grad = 1
    ];
    let mut k = 0;
    for step in 0..5 {
        let questions = b
            .eval("document.querySelectorAll('#arith input.answer').length")
            .as_u64()
            .unwrap();
        for _ in 0..questions {
            let (text, _) = typed[k];
            b.type_text(text);
            if k == 4 {
                // The mouse works as well as Enter.
                b.click("#arith button.check", 0.5);
            } else {
                b.key("Enter", 13);
            }
            k += 1;
        }
        if step == 0 {
            // Checked: marked right or wrong, with the worked line.
            let p = panel(&mut b);
            assert!(
                p.contains("✗ wrong") && p.contains("= (1 - o**2) = 0.5"),
                "{p}"
            );
            assert!(
                p.contains("✓ right") && p.contains("n.grad = o.grad * (1 - o**2) = 1 * 0.5 = 0.5"),
                "{p}"
            );
            assert_eq!(
                b.eval("document.querySelector('#arith input.answer').classList.contains('wrong')"),
                json!(true)
            );
            assert_eq!(quiz_score(&mut b), (1, 2, 18));
            // The README's picture of try it comes from here:
            // `BACKPROP_QUIZ_SCREENSHOT=docs/try-it.png cargo test --test cli page::try_it`.
            if let Some(path) = std::env::var_os("BACKPROP_QUIZ_SCREENSHOT") {
                b.eval("new Promise(r => setTimeout(r, 400))");
                b.screenshot().save(&path).unwrap();
            }
            // The score stays while stepping back and forth.
            b.key("ArrowLeft", 37);
            assert_eq!(quiz_score(&mut b), (1, 2, 18));
            let score = b.eval("document.getElementById('score').textContent");
            assert_eq!(score, json!("score: 1 right of 2 answered (18 questions)"));
            b.key("ArrowRight", 39);
            assert!(panel(&mut b).contains("✗ wrong"));
        }
        b.key("ArrowRight", 39);
    }
    assert_eq!(k, typed.len());
    let right = typed.iter().filter(|(_, r)| *r).count() as u64;
    assert_eq!(quiz_score(&mut b), (right, 18, 18));
    assert_eq!(
        b.step(),
        b.eval("window.backpropPage.total").as_u64().unwrap()
    );
    // The end shows every gradient: the notebook's x1.grad = -1.5.
    assert!(
        panel(&mut b).contains("x1.grad = -1.5"),
        "{}",
        panel(&mut b)
    );
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// micrograd's README example on the page: one name per record (c₁ c₂ c₃
/// for the three bindings of c, explained in the legend), constants as
/// boxes with their number and no grad field, and at the end micrograd's
/// published a.grad = 138.8338 and b.grad = 645.5773.
#[test]
fn micrograds_example_page_names_each_node_once() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(crate::common::MICROGRAD);
    b.open(&file);
    let names = b.eval(
        "Array.from(document.querySelectorAll('g.node[id^=\"n\"]')).map(g => g.querySelector('text').textContent)",
    );
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for want in [
        "c₁", "c₂", "c₃", "d₁", "d₂", "d₃", "g₁", "g₂", "a", "b", "e", "f",
    ] {
        assert_eq!(
            names.iter().filter(|n| **n == want).count(),
            1,
            "{want}: {names:?}"
        );
    }
    assert!(!names.contains(&"c"), "{names:?}");
    let legend = b.eval("document.getElementById('versions').textContent");
    assert!(
        legend
            .as_str()
            .unwrap()
            .contains("c₁ c₂ c₃ are the values bound to c"),
        "{legend}"
    );
    // Constants: their number, no grad field.
    let constants = b.eval(
        "Array.from(document.querySelectorAll('g.node[id^=\"c\"]')).map(g => \
           Array.from(g.querySelectorAll('text')).map(t => t.textContent).join('|'))",
    );
    let constants: Vec<&str> = constants
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(constants, ["1", "1", "2", "3", "2", "10"]);
    let total = b.eval("window.backpropPage.total").as_u64().unwrap();
    let forward = b.eval("window.backpropPage.forward").as_u64().unwrap();
    for s in 0..total {
        b.key("ArrowRight", 39);
        // The README's picture: backward step 20, c₂ = c₁ + (c₁ + 1),
        // from `BACKPROP_MICROGRAD_SCREENSHOT=docs/micrograd-page.png
        // cargo test --test cli page::micrograds_example_page`.
        if s + 1 == forward + 20
            && let Some(path) = std::env::var_os("BACKPROP_MICROGRAD_SCREENSHOT")
        {
            b.eval("new Promise(r => setTimeout(r, 400))");
            b.screenshot().save(&path).unwrap();
        }
        if s >= forward {
            // No line of the step names one node on both sides.
            for line in panel(&mut b)
                .lines()
                .filter(|l| l.contains(".grad") && l.contains(" * "))
            {
                let (lhs, rhs) = line
                    .split_once(" += ")
                    .or_else(|| line.split_once(" = "))
                    .unwrap();
                let upstream = rhs.split(".grad").next().unwrap().trim();
                assert_ne!(lhs.trim().trim_end_matches(".grad"), upstream, "{line}");
                assert!(
                    !line.contains("10.grad") && !line.contains("2.grad"),
                    "{line}"
                );
            }
        }
    }
    let grads = shown_grads(&mut b);
    for (name, want) in [("a", 138.8338), ("b", 645.5773)] {
        let (_, _, full) = grads.iter().find(|(n, _, _)| n == name).unwrap();
        let full: f64 = full.parse().unwrap();
        assert!((full - want).abs() < 1e-4, "{name}: {full}");
    }
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// Try it on odd programs (a step whose operands are all constants, an
/// output that is an input, a rebound input, a page drawn with --leaf):
/// the arrow keys step through the questions left empty, to the end,
/// with no error; nothing answered scores nothing.
#[test]
fn try_it_steps_through_unanswered_questions() {
    let Some(mut b) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (k, (program, leaf)) in [
        ("x = 1; y = x + 2*3", None),
        ("x = 2", None),
        ("a = 2; a = a * 3; b = a*a + a*a", None),
        (crate::common::MICROGRAD, Some("a")),
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir.path().join(format!("p{k}.html"));
        let mut cmd = backprop();
        cmd.args(["draw", program, "-o", file.to_str().unwrap()]);
        if let Some(leaf) = leaf {
            cmd.args(["--leaf", leaf]);
        }
        cmd.succeeds();
        b.events.clear();
        b.open_at(&file, "#quiz");
        let total = b.eval("window.backpropPage.total").as_u64().unwrap();
        for _ in 0..total {
            b.key("ArrowRight", 39);
        }
        assert_eq!(b.step(), total, "{program}");
        let (right, answered, _) = quiz_score(&mut b);
        assert_eq!((right, answered), (0, 0), "{program}");
        b.key("Home", 36);
        assert_eq!(b.step(), 0, "{program}");
        let errors = b.errors();
        assert!(errors.is_empty(), "{program}: console errors: {errors:#?}");
    }
}

/// Try it accepts the value as the records print it (4 decimals) even
/// where that is more than 1e-3 off: micrograd's d(10/f)/df = -10/f² with
/// f = 49 is -0.00416493, so `-0.0042` is right and `-0.0041` wrong.
#[test]
fn try_it_accepts_the_value_printed_to_4_digits() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(crate::common::MICROGRAD);
    b.open_at(&file, "#quiz");
    let forward = b.eval("window.backpropPage.forward").as_u64().unwrap();
    for _ in 0..forward + 1 {
        b.key("ArrowRight", 39);
    }
    // Step 1, g₂ = g₁ + 10/f: pass it by with the arrow key.
    b.key("ArrowRight", 39);
    let p = panel(&mut b);
    assert!(
        p.contains("Backward 2 of") && p.contains("d((10/f))/d(f) = "),
        "{p}"
    );
    // Only f is asked about: 10 is a constant.
    assert_eq!(
        b.eval("document.querySelectorAll('#arith input.answer').length"),
        json!(2)
    );
    let local = -10.0 / (49.0f64 * 49.0);
    assert!(((-0.0042 - local) / local).abs() > 1e-3);
    b.type_text("-0.0042");
    b.key("Enter", 13);
    b.type_text("-0.0041");
    b.key("Enter", 13);
    assert_eq!(quiz_score(&mut b).0, 1);
    assert_eq!(quiz_score(&mut b).1, 2);
    let marks = b
        .eval("Array.from(document.querySelectorAll('#arith input.answer')).map(i => i.className)");
    assert_eq!(marks, json!(["answer right", "answer wrong"]));
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// Both pages show numbers by one rule (src/explain/numbers.js), and it is
/// `backprop explain`'s: the page's text for each number is the text
/// `explain` prints for the same input, `-0` included (JavaScript's own
/// `String(-0)` is `0`).
#[test]
fn the_pages_numbers_read_as_explain_prints_them() {
    let Some(mut b) = browser() else { return };
    let (_dir, file) = page(NEURON);
    b.open(&file);
    for x in [
        -0.0,
        0.0,
        2.5,
        -1.5,
        0.1 + 0.2,
        0.8813735870195432,
        6.881_373_587_019_543,
        -1234.5678901,
        1e-7,
        -3.25e-5,
        123_456_789_012.0,
        1e300,
        5e-324,
    ] {
        let text = backprop()
            .args(["explain", &format!("x = {x:?}; y = x * 2")])
            .stdout_text();
        let want = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("x = "))
            .unwrap_or_else(|| panic!("no `x = ` line in:\n{text}"))
            .to_string();
        let shown = b.eval(&format!("BP_NUMBERS.num({x:?})"));
        assert_eq!(shown.as_str(), Some(want.as_str()), "x = {x:?}");
    }
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
