// The training page's script: the decision boundary at each snapshot,
// the curves, the network's layers, and a clicked point's graph, which it
// rebuilds from the snapshot's parameters and the numbers `backprop train
// --page` stored for that point (see src/explain/train_page.rs), then
// shows in a frame as the `draw` page.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('training').textContent);
  var SHELL = JSON.parse(document.getElementById('draw-page').textContent);
  var S = D.snapshots.length, cur = S - 1, timer = null, selected = null, shown = null, sample = null;
  var pending = null;
  var VIZ = function () { return document.getElementById('viz-js').textContent; };
  // `text` with its first `marker` replaced by `by` (taken as it is).
  function fill(text, marker, by) {
    var at = text.indexOf(marker);
    return text.slice(0, at) + by + text.slice(at + marker.length);
  }
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var $ = function (id) { return document.getElementById(id); };
  function color(c) { return COLORS[c % COLORS.length]; }
  var val = BP_NUMBERS.val, num = BP_NUMBERS.num, esc = BP_NUMBERS.esc;
  // A number in the page's JSON: non-finite ones as strings, as Rust writes them.
  function jn(x) { return isFinite(x) ? x : (isNaN(x) ? 'NaN' : (x > 0 ? 'inf' : '-inf')); }
  function escRecord(s) { return String(s).replace(/[|{}<>"\\]/g, function (c) { return '\\' + c; }).replace(/\n/g, '\\n').replace(/\r/g, ''); }
  function pct(a) { return (100 * a).toFixed(1) + '%'; }

  // The engine's dot_kernel: eight lanes, a fixed pairwise tree, then the
  // tail in order; the same sums, so the same bits.
  function dotKernel(a, b) {
    var n = a.length, m = n - n % 8, s = [0, 0, 0, 0, 0, 0, 0, 0], i, k;
    for (i = 0; i < m; i += 8) for (k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    var t = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
    for (i = m; i < n; i++) t += a[i] * b[i];
    return t;
  }

  // Point `i`'s explanation at snapshot `k`, as `backprop explain --model
  // --point --label --json` gives it for that snapshot's model.
  function build(k, i) {
    var P = D.pairs[k][i], T = D.templates[P[0]], E = T.explanation;
    var vals = P[1], locs = P[2], vi = 0, li = 0;
    var inputs = D.inputs[i].map(val), params = D.snapshots[k].params.map(val), nin = inputs.length;
    var N = E.nodes.length, data = new Array(N), n, j;
    for (n = 0; n < N; n++) {
      var s = T.src[n], ops = E.nodes[n].operands;
      if (s >= 0) data[n] = s < nin ? inputs[s] : params[s - nin];
      else if (s === -1) data[n] = val(vals[vi++]);
      else if (s === -2) {
        var pairs = Math.floor(ops.length / 2), w = [], x = [];
        for (j = 0; j < pairs; j++) { w.push(data[ops[j]]); x.push(data[ops[pairs + j]]); }
        var d = dotKernel(w, x);
        data[n] = ops.length % 2 === 1 ? d + data[ops[2 * pairs]] : d;
      } else {
        var xr = data[ops[0]];
        data[n] = xr < 0 ? 0 : xr;
      }
    }
    var nodes = E.nodes.map(function (t, q) {
      var c = Object.assign({}, t);
      c.data = data[q];
      if (c.op === '') c.expr = num(data[q]);
      return c;
    });
    var oldNames = {}, subs = [];
    P[3].forEach(function (o) {
      var old = nodes[o[0]].name;
      if (P[5] === 1 && old !== o[1] && !subs.some(function (r) { return r[0] === old; })) subs.push([old, o[1]]);
      oldNames[o[0]] = old;
      nodes[o[0]].name = o[1];
      nodes[o[0]].expr = o[2];
    });
    // The names and formulas that follow from the constants' names.
    var derive = function (t) { subs.forEach(function (r) { t = t.split(r[0]).join(r[1]); }); return t; };
    if (subs.length) {
      nodes.forEach(function (c, q) {
        if (c.op === '') return;
        var name = derive(c.name);
        if (name !== c.name) { oldNames[q] = c.name; c.name = name; }
        c.expr = derive(c.expr);
      });
    }
    var grad = new Array(N).fill(0);
    if (N > 0) grad[N - 1] = 1;
    var steps = E.steps.map(function (st) {
      var node = nodes[st.node_index], ops = node.operands, pairs = Math.floor(ops.length / 2);
      var up = grad[st.node_index];
      var terms = st.terms.map(function (t, tj) {
        var local;
        if (node.op === 'dot') local = tj < pairs ? data[ops[pairs + tj]] : tj < 2 * pairs ? data[ops[tj - pairs]] : 1;
        else if (node.op === 'relu') local = data[st.node_index] > 0 ? 1 : 0;
        else local = val(locs[li++]);
        var c = up * local;
        grad[t.operand_index] += c;
        return Object.assign({}, t, { operand: nodes[t.operand_index].name, formula: subs.length ? derive(t.formula) : t.formula,
          local: local, contribution: c, total: grad[t.operand_index] });
      });
      return Object.assign({}, st, { node: node.name, upstream: up, terms: terms });
    });
    P[4].forEach(function (f) { steps[f[0]].terms[f[1]].formula = f[2]; });
    nodes.forEach(function (c, q) { c.grad = grad[q]; });
    var grads = {};
    T.grad_names.forEach(function (name, q) {
      var at = T.grad_nodes[q];
      grads[name] = at < N ? grad[at] : 0;
    });
    var dot = T.dot;
    Object.keys(oldNames).forEach(function (q) {
      var head = 'n' + q + ' [id="n' + q + '", label="{';
      dot = dot.split(head + escRecord(oldNames[q]) + '|').join(head + escRecord(nodes[q].name) + '|');
    });
    var p = D.points[i];
    return {
      title: 'point ' + (i + 1) + ' (' + num(val(p[0])) + ', ' + num(val(p[1])) + '), class ' + D.class_names[p[2]] +
        ': its ' + D.loss + ' loss at step ' + D.snapshots[k].step,
      output: nodes[N - 1].name, value: data[N - 1], nodes: nodes, steps: steps, grads: grads,
      steps_left_out: 0, focus: null, estimates: nodes.map(function () { return null; }),
      estimate_step: D.estimate_step, layout_seconds: D.layout_seconds, layout_in_worker: T.layout_in_worker, dot: dot
    };
  }

  // The explanation as the `draw` page reads it (non-finite numbers as strings).
  function toJson(e) {
    return JSON.stringify(e, function (key, v) { return typeof v === 'number' ? jn(v) : v; });
  }

  // ---- the heat map ----
  var map = $('map'), mctx = map.getContext('2d'), W = map.width, H = map.height, G = D.grid;
  function px(x) { return (x - G.x0) / (G.x1 - G.x0) * W; }
  function py(y) { return H - (y - G.y0) / (G.y1 - G.y0) * H; }
  // A class's colour mixed with white: `a` of the colour, opaque.
  function tint(c, a) {
    var h = color(c), rgb = [1, 3, 5].map(function (k) { return parseInt(h.substr(k, 2), 16); });
    return 'rgb(' + rgb.map(function (v) { return Math.round(255 - a * (255 - v)); }).join(',') + ')';
  }
  function drawMap() {
    var snap = D.snapshots[cur], n = G.n;
    mctx.clearRect(0, 0, W, H);
    for (var r = 0; r < n; r++) {
      var ya = Math.round(H - (r + 1) * H / n), yb = Math.round(H - r * H / n);
      for (var c = 0; c < n; c++) {
        var q = r * n + c, xa = Math.round(c * W / n), xb = Math.round((c + 1) * W / n);
        mctx.fillStyle = tint(snap.cells[q], 0.16 + 0.1 * (snap.levels.charCodeAt(q) - 48));
        mctx.fillRect(xa, ya, xb - xa, yb - ya);
      }
    }
    D.points.forEach(function (p, i) {
      mctx.beginPath();
      mctx.arc(px(val(p[0])), py(val(p[1])), i === selected ? 7 : 4.5, 0, 2 * Math.PI);
      mctx.fillStyle = color(p[2]);
      mctx.fill();
      mctx.lineWidth = i === selected ? 3 : 1;
      mctx.strokeStyle = i === selected ? '#000' : '#222';
      mctx.stroke();
    });
  }
  function legend() {
    var h = D.class_names.map(function (name, c) { return '<span class="sw" style="background:' + color(c) + '"></span>' + esc(name); }).join('');
    $('legend').innerHTML = 'classes:' + h + ' &nbsp; axes: ' + esc(D.features[0]) + ', ' + esc(D.features[1]) + '; shading: the predicted class, darker where surer';
  }

  // ---- the curves ----
  var cv = $('curves'), cctx = cv.getContext('2d');
  function drawCurves() {
    var w = cv.width, h = cv.height, m = 30, last = D.snapshots[S - 1].step || 1;
    var hist = D.history.map(function (r) { return [r[0], val(r[1]), val(r[2])]; });
    var maxL = 0;
    hist.forEach(function (r) { if (isFinite(r[1]) && r[1] > maxL) maxL = r[1]; });
    if (maxL <= 0) maxL = 1;
    var X = function (s) { return m + s / last * (w - 2 * m); };
    cctx.clearRect(0, 0, w, h);
    cctx.fillStyle = '#fff';
    cctx.fillRect(0, 0, w, h);
    cctx.strokeStyle = '#ccc';
    cctx.strokeRect(m, 10, w - 2 * m, h - 40);
    function line(idx, scale, col) {
      cctx.beginPath();
      cctx.strokeStyle = col;
      cctx.lineWidth = 1.5;
      hist.forEach(function (r, q) {
        var y = 10 + (h - 40) * (1 - Math.max(0, Math.min(1, r[idx] / scale)));
        if (q === 0) cctx.moveTo(X(r[0]), y); else cctx.lineTo(X(r[0]), y);
      });
      cctx.stroke();
    }
    line(1, maxL, '#d62728');
    line(2, 1, '#1f77b4');
    var s = D.snapshots[cur].step;
    cctx.strokeStyle = '#e67700';
    cctx.lineWidth = 2;
    cctx.beginPath();
    cctx.moveTo(X(s), 8);
    cctx.lineTo(X(s), h - 28);
    cctx.stroke();
    cctx.fillStyle = '#333';
    cctx.font = '12px Helvetica, Arial, sans-serif';
    cctx.fillText('0', m - 4, h - 14);
    cctx.fillText(String(last), w - m - 20, h - 14);
    cctx.fillStyle = '#d62728';
    cctx.fillText('loss (0 to ' + num(maxL) + ')', m + 4, h - 2);
    cctx.fillStyle = '#1f77b4';
    cctx.fillText('accuracy (0 to 100%)', m + 170, h - 2);
    cctx.fillStyle = '#e67700';
    cctx.fillText('step ' + s, Math.min(X(s) + 4, w - m - 60), 22);
  }

  // ---- the network's layers ----
  var net = $('net'), SVGNS = 'http://www.w3.org/2000/svg';
  function el(name, attrs) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  // Node index of each neuron's dot product and activation in the sample's graph.
  function neuronNodes(e) {
    var byName = {}, out = {};
    e.nodes.forEach(function (n, q) { byName[n.name] = q; });
    e.nodes.forEach(function (n, q) {
      if (n.op !== 'dot') return;
      var b = e.nodes[n.operands[n.operands.length - 1]];
      var m = /^L(\d+)\.N(\d+)\.b$/.exec(b ? b.name : '');
      if (!m) return;
      var key = m[1] + '.' + m[2];
      var act = byName['L' + key + '.o'];
      out[key] = { dot: q, act: act === undefined ? q : act };
    });
    return out;
  }
  function drawNet() {
    var L = D.layers, w = net.clientWidth || 700, h = net.clientHeight || 170, mx = 40, my = 14;
    var params = D.snapshots[cur].params.map(val);
    while (net.firstChild) net.removeChild(net.firstChild);
    var pos = L.map(function (n, l) {
      var x = L.length > 1 ? mx + l * (w - 2 * mx) / (L.length - 1) : w / 2;
      var gap = Math.min(22, (h - 2 * my) / Math.max(1, n));
      var top = h / 2 - gap * (n - 1) / 2;
      var col = [];
      for (var j = 0; j < n; j++) col.push([x, top + j * gap]);
      return col;
    });
    var maxW = 0;
    params.forEach(function (p) { if (isFinite(p)) maxW = Math.max(maxW, Math.abs(p)); });
    var at = 0, edges = el('g', {}), circles = el('g', {});
    for (var l = 1; l < L.length; l++) {
      for (var j = 0; j < L[l]; j++) {
        for (var i = 0; i < L[l - 1]; i++) {
          var wv = params[at++];
          edges.appendChild(el('line', {
            x1: pos[l - 1][i][0], y1: pos[l - 1][i][1], x2: pos[l][j][0], y2: pos[l][j][1],
            stroke: wv >= 0 ? '#1c7ed6' : '#e03131', 'stroke-width': (0.2 + 3.5 * Math.abs(wv) / (maxW || 1)).toFixed(2),
            'stroke-opacity': 0.55
          }));
        }
        at++; // the bias
      }
    }
    net.appendChild(edges);
    var nn = sample ? neuronNodes(sample) : {};
    var acts = {};
    var maxA = 0;
    Object.keys(nn).forEach(function (k) { var a = Math.abs(val(sample.nodes[nn[k].act].data)); acts[k] = a; if (a > maxA) maxA = a; });
    pos.forEach(function (col, l) {
      col.forEach(function (p, j) {
        var key = l + '.' + (j + 1), info = nn[key];
        var fill = '#fff';
        if (l === 0) fill = '#e9ecef';
        else if (info) {
          var f = maxA > 0 ? acts[key] / maxA : 0;
          fill = 'rgba(43, 138, 62,' + (0.08 + 0.85 * f).toFixed(3) + ')';
        }
        var c = el('circle', { cx: p[0], cy: p[1], r: 5, fill: fill, stroke: '#333', 'stroke-width': 1, 'data-neuron': key });
        var t = el('title', {});
        if (l === 0) t.textContent = 'input x' + (j + 1) + (sample ? ' = ' + num(val(sample.nodes.filter(function (n) { return n.name === 'x' + (j + 1); })[0].data)) : '');
        else if (info) {
          var an = sample.nodes[info.act];
          t.textContent = 'L' + key.replace('.', '.N') + ': activation ' + an.name + ' = ' + num(val(an.data)) + ', grad ' + num(val(an.grad)) + ' (click: its step in the graph)';
        } else t.textContent = 'L' + key.replace('.', '.N') + ' (click a data point first)';
        c.appendChild(t);
        if (l > 0) c.addEventListener('click', function () { openNeuron(key); });
        circles.appendChild(c);
      });
    });
    net.appendChild(circles);
    $('netinfo').textContent = D.layers.join('-') + ' (' + D.activations.join(', ') + '); edges: blue positive, red negative weights, width by |w|' +
      (sample ? '; neurons shaded by their activation for the selected point' : '');
  }
  // Jumps the sample's graph to the neuron's backward step (its linear node).
  function openNeuron(key) {
    if (!sample) { $('samplehint').textContent = 'Click a data point first: the neuron is shown in its graph.'; return; }
    var info = neuronNodes(sample)[key];
    if (!info) return;
    var b = -1;
    sample.steps.forEach(function (st, q) { if (st.node_index === info.dot) b = q; });
    var fw = $('graphframe').contentWindow, fd = fw && fw.document;
    var sl = fd && fd.getElementById('slider');
    if (!sl || !fw.backpropPage) { pendingNeuron = key; return; }
    sl.value = String(sample.nodes.length + b + 1);
    sl.dispatchEvent(new Event('input'));
    net.querySelectorAll('circle.active').forEach(function (c) { c.classList.remove('active'); });
    var c = net.querySelector('circle[data-neuron="' + key + '"]');
    if (c) c.classList.add('active');
  }
  var pendingNeuron = null;

  // ---- a point's graph ----
  function showSample() {
    if (selected === null) return;
    shown = { k: cur, i: selected };
    sample = build(cur, selected);
    var json = toJson(sample).replace(/</g, '\\u003c');
    var page = fill(fill(SHELL, D.marker, json), D.viz_marker, VIZ());
    $('graphframe').srcdoc = page.split(D.title_marker).join(esc(sample.title));
    $('samplehead').textContent = 'Point ' + (selected + 1) + ' at step ' + D.snapshots[cur].step;
    $('samplehint').textContent = sample.title + ' = ' + num(val(sample.value)) + '. Step through it in the frame (→, ←, play).';
    document.body.setAttribute('data-sample', selected + '@' + cur);
    drawNet();
  }
  // Once the frame's graph is laid out: a neuron clicked meanwhile, or
  // the first forward step, so that the view shows where the graph starts.
  $('graphframe').addEventListener('load', function () {
    var fw = $('graphframe').contentWindow, t0 = performance.now();
    var poll = setInterval(function () {
      var page = fw && fw.backpropPage;
      if (!page || !page.ready) {
        if (performance.now() - t0 > 60000) clearInterval(poll);
        return;
      }
      clearInterval(poll);
      if (pendingNeuron !== null) { var k = pendingNeuron; pendingNeuron = null; openNeuron(k); return; }
      if (page.step() === 0) {
        var sl = fw.document.getElementById('slider');
        sl.value = '1';
        sl.dispatchEvent(new Event('input'));
      }
    }, 100);
  });
  function select(i) {
    selected = i;
    drawMap();
    showSample();
  }
  map.addEventListener('click', function (ev) {
    var r = map.getBoundingClientRect();
    var x = (ev.clientX - r.left) * W / r.width, y = (ev.clientY - r.top) * H / r.height;
    var best = null, bd = 12 * 12;
    D.points.forEach(function (p, i) {
      var dx = px(val(p[0])) - x, dy = py(val(p[1])) - y, d = dx * dx + dy * dy;
      if (d <= bd) { bd = d; best = i; }
    });
    if (best !== null) select(best);
  });

  // ---- steps ----
  function go(k) {
    cur = Math.max(0, Math.min(S - 1, k));
    var snap = D.snapshots[cur];
    $('slider').value = cur;
    $('stepinfo').textContent = 'step ' + snap.step + ' of ' + D.snapshots[S - 1].step + ' (snapshot ' + (cur + 1) + ' of ' + S +
      '): accuracy ' + pct(snap.accuracy) + ', data loss ' + num(val(snap.loss));
    document.body.setAttribute('data-snapshot', cur);
    drawMap();
    drawCurves();
    if (selected !== null && !timer) {
      clearTimeout(pending);
      pending = setTimeout(function () { if (!shown || shown.k !== cur || shown.i !== selected) showSample(); }, 250);
    } else drawNet();
  }
  function play() {
    if (timer) {
      clearInterval(timer); timer = null; $('play').innerHTML = '&#x25B6; play';
      go(cur);
      return;
    }
    if (cur >= S - 1) go(0);
    $('play').innerHTML = '&#x23F8; pause';
    timer = setInterval(function () { if (cur >= S - 1) { play(); return; } go(cur + 1); }, 500);
  }
  $('slider').max = S - 1;
  $('slider').addEventListener('input', function () { go(parseInt(this.value, 10)); });
  $('next').onclick = function () { go(cur + 1); };
  $('prev').onclick = function () { go(cur - 1); };
  $('first').onclick = function () { go(0); };
  $('last').onclick = function () { go(S - 1); };
  $('play').onclick = play;
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var handled = true;
    switch (e.key) {
      case 'ArrowRight': case 'ArrowUp': go(cur + 1); break;
      case 'ArrowLeft': case 'ArrowDown': go(cur - 1); break;
      case 'Home': go(0); break;
      case 'End': go(S - 1); break;
      case ' ': play(); break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
  window.addEventListener('resize', function () { drawNet(); });
  legend();
  // `train.html#snapshot=3&point=7` opens at snapshot 3 with point 7's
  // graph (both counted from 1, as the page shows them).
  function fromHash() {
    var hs = /snapshot=(\d+)/.exec(location.hash), hp = /point=(\d+)/.exec(location.hash);
    go(hs ? parseInt(hs[1], 10) - 1 : cur);
    if (hp && parseInt(hp[1], 10) >= 1 && parseInt(hp[1], 10) <= D.points.length) select(parseInt(hp[1], 10) - 1);
  }
  fromHash();
  window.addEventListener('hashchange', fromHash);
  window.backpropTrain = {
    ready: true, readyMs: performance.now(), snapshots: S,
    snapshot: function () { return cur; }, step: function () { return D.snapshots[cur].step; },
    go: go, select: select, build: function (k, i) { return JSON.parse(toJson(build(k, i))); },
    sample: function () { return sample ? JSON.parse(toJson(sample)) : null; },
    pointAt: function (i) { var p = D.points[i], r = map.getBoundingClientRect(); return [px(val(p[0])) * r.width / W, py(val(p[1])) * r.height / H]; }
  };
  document.body.setAttribute('data-ready', 'true');
})();
