//! A small DevTools-protocol client for a headless Chromium: enough to
//! open a page from disk, press keys, click, evaluate JavaScript, watch
//! console errors and network requests, and take a screenshot. Shared by
//! the page tests and the page benchmark.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The Chromium binary: `BACKPROP_CHROMIUM`, or `chromium`,
/// `chromium-browser` or `google-chrome` on the `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BACKPROP_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A headless Chromium and one page, driven over the DevTools protocol.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every protocol event received so far.
    pub events: Vec<Value>,
}

impl Browser {
    /// Starts Chromium with a 1400 x 800 window.
    pub fn launch(exe: &Path) -> Browser {
        Browser::launch_sized(exe, 1400, 800)
    }

    /// Starts Chromium with a window of `width` x `height` pixels.
    pub fn launch_sized(exe: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromium");
        // Chromium writes its port and the browser's endpoint here.
        let port_file = profile.path().join("DevToolsActivePort");
        let start = Instant::now();
        let text = loop {
            if let Ok(t) = std::fs::read_to_string(&port_file)
                && t.lines().count() >= 2
            {
                break t;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromium did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = text.lines();
        let port = lines.next().unwrap().trim();
        let path = lines.next().unwrap().trim();
        let (ws, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}{path}")).unwrap();
        let mut b = Browser {
            child,
            _profile: profile,
            ws,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime", "Log", "Network", "Page"] {
            b.call(&format!("{domain}.enable"), json!({}));
        }
        b
    }

    /// Sends a command (to the page once attached) and waits for its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let reply = match self.ws.read().unwrap() {
                Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).unwrap(),
                _ => continue,
            };
            if reply["id"] == json!(id) {
                assert!(
                    reply.get("error").is_none(),
                    "{method} failed: {}",
                    reply["error"]
                );
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "`{expr}` threw: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Opens `file` and waits until the page has laid out its graph.
    pub fn open(&mut self, file: &Path) {
        self.open_at(file, "");
    }

    /// Opens `file` with `fragment` (such as `#quiz`) in its address and
    /// waits until the page has laid out its graph.
    pub fn open_at(&mut self, file: &Path, fragment: &str) {
        let url = format!("file://{}{fragment}", file.display());
        self.call("Page.navigate", json!({ "url": url }));
        let start = Instant::now();
        loop {
            let ready =
                self.eval("document.body ? document.body.getAttribute('data-ready') : null");
            if ready == json!("true") {
                return;
            }
            let status = self.eval("(document.getElementById('status') || {}).textContent || ''");
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the page was not ready within 30 s (status: {status})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn key(&mut self, key: &str, code: u32) {
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            );
        }
    }

    /// Types `text` into the focused element, as a keyboard would.
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// A real mouse click at the centre of the element `selector`, or at
    /// `fraction` of its width.
    pub fn click(&mut self, selector: &str, fraction: f64) {
        let r = self.eval(&format!(
            "(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]; }})()"
        ));
        let x = r[0].as_f64().unwrap() + r[2].as_f64().unwrap() * fraction;
        let y = r[1].as_f64().unwrap() + r[3].as_f64().unwrap() / 2.0;
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    pub fn step(&mut self) -> u64 {
        self.eval("window.backpropPage.step()").as_u64().unwrap()
    }

    /// Console errors, uncaught exceptions and error log entries so far
    /// (collects pending events first).
    pub fn errors(&mut self) -> Vec<String> {
        self.eval("0");
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Runtime.consoleAPICalled" if p["type"] == "error" || p["type"] == "assert" => {
                    out.push(format!("console.error: {}", p["args"]))
                }
                "Runtime.exceptionThrown" => {
                    out.push(format!("exception: {}", p["exceptionDetails"]))
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    out.push(format!("log: {}", p["entry"]["text"]))
                }
                _ => {}
            }
        }
        out
    }

    /// URLs the page requested besides itself and in-memory `blob:` and
    /// `data:` URLs (the page starts its layout worker from a blob).
    pub fn requests(&mut self, page: &Path) -> Vec<String> {
        self.eval("0");
        let me = format!("file://{}", page.display());
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .filter(|u| *u != me && !u.starts_with(&format!("{me}#")))
            .filter(|u| !u.starts_with("blob:") && !u.starts_with("data:"))
            .collect()
    }

    pub fn screenshot(&mut self) -> image::RgbaImage {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        image::load_from_memory(&bytes).unwrap().to_rgba8()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
