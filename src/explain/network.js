// The network at a glance, for the `draw` page of a network's graph
// (`backprop draw --model`): the classic layer diagram (inputs, neurons as
// circles in columns, edges by weight: width by |w|, blue positive, red
// negative), each neuron's activation as the forward pass reaches it and
// its gradient once the backward pass has, the neuron of the active node
// ringed, and a click on a neuron going to its `linear` node's backward
// step. It reads the same JSON as page.js and drives page.js only through
// the slider, so the two stay independent. Graphs without the names
// `network_graph` gives (L1.N3.w2, L1.N3.b, x1, ...) get no diagram.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('explanation').textContent);
  if (D.focus) return;
  var nodes = D.nodes, N = nodes.length, byName = {};
  nodes.forEach(function (n, k) { byName[n.name] = k; });
  var neurons = {}, sizes = [], inputs = 0, m, k;
  for (k = 0; k < N; k++) {
    var name = nodes[k].name;
    if ((m = /^x(\d+)$/.exec(name)) && nodes[k].op === '') inputs = Math.max(inputs, +m[1]);
    if ((m = /^L(\d+)\.N(\d+)\.b$/.exec(name))) {
      var l = +m[1], j = +m[2];
      sizes[l] = Math.max(sizes[l] || 0, j);
      neurons[l + '.' + j] = { bias: k };
    }
  }
  if (!inputs || !sizes.length) return;
  sizes[0] = inputs;
  for (k = 0; k < sizes.length; k++) if (!sizes[k]) return;
  // Each neuron's dot product (the `linear` node: its last operand is the
  // bias) and activation.
  var stepOf = {};
  D.steps.forEach(function (s, i) { stepOf[s.node_index] = i; });
  var owner = {};   // node index -> neuron key
  nodes.forEach(function (n, q) {
    if (n.op !== 'dot') return;
    var b = n.operands[n.operands.length - 1];
    var mm = /^L(\d+)\.N(\d+)\.b$/.exec(nodes[b] ? nodes[b].name : '');
    if (!mm) return;
    var key = mm[1] + '.' + mm[2], act = byName['L' + mm[1] + '.N' + mm[2] + '.o'];
    neurons[key].dot = q;
    neurons[key].act = act === undefined ? q : act;
    owner[q] = key;
    owner[neurons[key].act] = key;
  });
  nodes.forEach(function (n, q) {
    var mm = /^L(\d+)\.N(\d+)\./.exec(n.name);
    if (mm && owner[q] === undefined) owner[q] = mm[1] + '.' + mm[2];
    if ((mm = /^x(\d+)$/.exec(n.name)) && n.op === '') owner[q] = '0.' + mm[1];
  });
  for (var key in neurons) if (neurons[key].dot === undefined) return;

  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    return e;
  }
  var style = document.createElement('style');
  style.textContent = '#netview svg { display: block; width: 100%; background: #fff; border: 1px solid #ddd; }' +
    '#netview circle { cursor: pointer; } #netview circle.on { stroke: #e67700; stroke-width: 3.5; }' +
    '#netnote { font-size: 12px; color: #444; min-height: 2.8em; white-space: pre-wrap; }';
  document.head.appendChild(style);
  var section = document.createElement('section');
  section.id = 'netview';
  section.innerHTML = '<h2>The network</h2>';
  var aside = document.querySelector('aside');
  aside.insertBefore(section, aside.firstChild);
  var W = 356, H = Math.max(120, Math.min(260, 16 * Math.max.apply(null, sizes) + 20)), mx = 18, my = 10;
  var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'the network: click a neuron to go to its step' });
  section.appendChild(svg);
  var note = document.createElement('div');
  note.id = 'netnote';
  section.appendChild(note);
  var pos = sizes.map(function (n, l) {
    var x = mx + l * (W - 2 * mx) / (sizes.length - 1);
    var gap = Math.min(22, (H - 2 * my) / Math.max(1, n));
    var col = [];
    for (var j = 0; j < n; j++) col.push([x, H / 2 - gap * (n - 1) / 2 + j * gap]);
    return col;
  });
  var maxW = 0, edges = [];
  for (var l2 = 1; l2 < sizes.length; l2++) {
    for (var j2 = 1; j2 <= sizes[l2]; j2++) {
      for (var i2 = 1; i2 <= sizes[l2 - 1]; i2++) {
        var wk = byName['L' + l2 + '.N' + j2 + '.w' + i2];
        if (wk === undefined) continue;
        var w = nodes[wk].data;
        if (typeof w === 'number') maxW = Math.max(maxW, Math.abs(w));
        edges.push([l2, j2, i2, w]);
      }
    }
  }
  var g = el('g', {});
  edges.forEach(function (e) {
    var a = pos[e[0] - 1][e[2] - 1], b = pos[e[0]][e[1] - 1], w = typeof e[3] === 'number' ? e[3] : 0;
    g.appendChild(el('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: w >= 0 ? '#1c7ed6' : '#e03131',
      'stroke-width': (0.2 + 3 * Math.abs(w) / (maxW || 1)).toFixed(2), 'stroke-opacity': 0.5 }));
  });
  svg.appendChild(g);
  var circles = {};
  pos.forEach(function (col, l) {
    col.forEach(function (p, j) {
      var key = l + '.' + (j + 1);
      var c = el('circle', { cx: p[0], cy: p[1], r: 6, fill: '#fff', stroke: '#333', 'stroke-width': 1, 'data-neuron': key });
      c.appendChild(el('title', {}));
      c.addEventListener('click', function (ev) { ev.stopPropagation(); goTo(key); });
      svg.appendChild(c);
      circles[key] = c;
    });
  });
  function node(key) {
    if (key[0] === '0') return byName['x' + key.slice(2)];
    return neurons[key].act;
  }
  function short(x) { return typeof x === 'number' && isFinite(x) ? String(+x.toPrecision(4)) : String(x); }
  function label(key) { return key[0] === '0' ? 'x' + key.slice(2) : 'L' + key.replace('.', '.N'); }
  // Forward: the first `cur` nodes have data; backward step b: the nodes
  // whose own step ran (and the leaves after the end) have their grad.
  function update() {
    var cur = parseInt(document.body.getAttribute('data-step') || '0', 10), B = D.steps.length;
    var f = Math.min(cur, N), b = Math.max(0, cur - N);
    var maxA = 0, maxG = 0, vals = {};
    Object.keys(circles).forEach(function (key) {
      var q = node(key);
      if (q === undefined) return;
      var hasData = q < f, hasGrad = b > 0 && (stepOf[q] !== undefined ? stepOf[q] < b : b === B);
      var data = typeof nodes[q].data === 'number' ? nodes[q].data : NaN;
      var grad = hasGrad ? (stepOf[q] !== undefined ? D.steps[stepOf[q]].upstream : nodes[q].grad) : null;
      if (typeof grad !== 'number') grad = hasGrad ? NaN : null;
      vals[key] = { q: q, data: hasData ? data : null, grad: grad };
      if (hasData && isFinite(data)) maxA = Math.max(maxA, Math.abs(data));
      if (grad !== null && isFinite(grad)) maxG = Math.max(maxG, Math.abs(grad));
    });
    var active = null;
    var act = document.querySelector('#graph g.node.active');
    if (act && /^(n|op)(\d+)$/.test(act.id)) active = owner[+/(\d+)$/.exec(act.id)[1]];
    Object.keys(circles).forEach(function (key) {
      var c = circles[key], v = vals[key], fill = '#fff', t = label(key);
      if (v && v.grad !== null) {
        var s = maxG > 0 && isFinite(v.grad) ? Math.abs(v.grad) / maxG : 0;
        fill = 'rgba(95, 61, 196,' + (0.1 + 0.85 * s).toFixed(3) + ')';
        t += ': ' + nodes[v.q].name + ' = ' + short(v.data) + ', grad ' + short(v.grad);
      } else if (v && v.data !== null) {
        var a = maxA > 0 && isFinite(v.data) ? Math.abs(v.data) / maxA : 0;
        fill = 'rgba(43, 138, 62,' + (0.1 + 0.85 * a).toFixed(3) + ')';
        t += ': ' + nodes[v.q].name + ' = ' + short(v.data);
      }
      c.setAttribute('fill', fill);
      c.classList.toggle('on', key === active);
      c.firstChild.textContent = t + (key[0] === '0' ? '' : ' (click: its step)');
    });
    var v = active && vals[active];
    note.textContent = (cur === 0 ? 'press → to run the forward pass; the ring follows the active node' : active ? 'active: ' + label(active) + (v && v.data !== null ? ', ' + nodes[v.q].name + ' = ' + short(v.data) : '') +
      (v && v.grad !== null ? ', grad ' + short(v.grad) : '') : 'active: outside the layers (the loss)') +
      '\ngreen: activation, purple: gradient (darker: larger); edges: blue w > 0, red w < 0, width |w|';
  }
  // Goes to the neuron's `linear` node: its backward step, or for an
  // input its place in the forward pass.
  function goTo(key) {
    var slider = document.getElementById('slider');
    var target;
    if (key[0] === '0') target = node(key) + 1;
    else target = N + stepOf[neurons[key].dot] + 1;
    if (target === undefined || isNaN(target)) return;
    slider.value = String(target);
    slider.dispatchEvent(new Event('input'));
  }
  new MutationObserver(update).observe(document.body, { attributes: true, attributeFilter: ['data-step'] });
  update();
  window.backpropNetwork = { sizes: sizes, goTo: goTo, update: update };
})();
