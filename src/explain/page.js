// The page's script: lays out the graph with Viz.js, then replays the
// forward pass (one node per step) and the backward pass (one op node per
// step, in the order backward() runs) on it. Everything it shows comes
// from the JSON in #explanation, written by `backprop draw`.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('explanation').textContent);
  var nodes = D.nodes, steps = D.steps;
  var N = nodes.length, B = steps.length, TOTAL = N + B;
  var cur = 0, timer = null, zoom = 1, base = null, svg = null, selected = null;
  var rec = [];           // per node: { g, op, texts }
  var received = [];      // per node: [{ step, term }]
  var stepOf = [];        // per node: its backward step, or null
  var labels = [];        // the local-derivative labels drawn on edges
  var $ = function (id) { return document.getElementById(id); };

  function isNum(x) { return typeof x === 'number'; }
  var val = BP_NUMBERS.val, num = BP_NUMBERS.num, esc = BP_NUMBERS.esc;
  function factor(x) { var s = num(x); return s[0] === '-' ? '(' + s + ')' : s; }
  // The notebook's `%.4f`.
  function f4(x) { x = val(x); return isFinite(x) ? x.toFixed(4) : num(x); }
  // The same rule as `backprop explain`: a name that is not a plain name
  // or already bracketed gets parentheses inside a formula.
  function grouped(n) {
    if (/^[\p{L}\p{N}_.]+$/u.test(n)) return n;
    // A version mark after the brackets, `(a*b)₂`, keeps them enough.
    var core = n.replace(/[\u2080-\u2089]+$/, '');
    if (core !== n) { var g = grouped(core); return (g === core ? n : '(' + n + ')'); }
    if (n[0] === '(' && n[n.length - 1] === ')') {
      var d = 0;
      for (var i = 0; i < n.length; i++) {
        if (n[i] === '(') d++; else if (n[i] === ')') d--;
        if (d === 0) return i === n.length - 1 ? n : '(' + n + ')';
      }
    }
    return '(' + n + ')';
  }
  // A constant (an unlabelled leaf) is shown as its number and has no
  // grad field: it is not a parameter.
  function isConst(k) { return nodes[k].op === '' && nodes[k].label == null; }
  function paren(f) { return (f.indexOf(' ') >= 0 || f[0] === '-') ? '(' + f + ')' : f; }

  function termLine(step, t) {
    var op = t.accumulates ? '+=' : '=';
    var line = grouped(t.operand) + '.grad ' + op + ' ' + grouped(step.node) + '.grad * ' + paren(t.formula) +
      ' = ' + factor(step.upstream) + ' * ' + factor(t.local) + ' = ' + num(t.contribution);
    if (t.accumulates) line += '    -> ' + grouped(t.operand) + '.grad = ' + num(t.total);
    return line;
  }

  for (var k = 0; k < N; k++) { received.push([]); stepOf.push(null); }
  steps.forEach(function (s, i) {
    stepOf[s.node_index] = i;
    s.terms.forEach(function (t) { received[t.operand_index].push({ step: i, term: t }); });
  });

  function setup(el) {
    svg = el;
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    var vb = svg.viewBox.baseVal;
    base = { w: vb.width, h: vb.height };
    var g = $('graph');
    $('status').remove();
    g.appendChild(svg);
    for (var k = 0; k < N; k++) {
      var node = svg.getElementById((isConst(k) ? 'c' : 'n') + k);
      var texts = node ? node.querySelectorAll('text') : [];
      rec.push({ g: node, op: svg.getElementById('op' + k), texts: texts, copies: [] });
      if (node) hook(node, k);
      var op = svg.getElementById('op' + k);
      if (op) hook(op, k);
      if (nodes[k].uses > 1 && node) node.classList.add('fan');
    }
    // Dashed copies of a leaf, next to its far uses.
    steps.forEach(function (st) {
      st.terms.forEach(function (t, j) {
        var c = svg.getElementById('g' + st.node_index + '_' + j);
        if (c) { rec[t.operand_index].copies.push(c.querySelectorAll('text')); hook(c, t.operand_index); }
      });
    });
    // Titles would show Graphviz's node names on hover.
    svg.querySelectorAll('title').forEach(function (t) { t.remove(); });
    // 100% draws Graphviz's points as pixels: 14 px text. A graph that
    // fits the window at 75% or more opens whole; bigger ones open at
    // 100% (the view follows the active node; zoom out to see all).
    var fit = Math.min((g.clientWidth - 8) / base.w, (g.clientHeight - 8) / base.h);
    setZoom(fit >= 0.75 && fit < 1 ? fit : 1);
    panning(g);
    $('slider').max = TOTAL;
  }

  function hook(el, k) {
    el.addEventListener('mouseenter', function () { if (selected === null) inspect(k); });
    el.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (selected !== null && rec[selected].g) rec[selected].g.classList.remove('selected');
      selected = selected === k ? null : k;
      if (selected !== null && rec[k].g) rec[k].g.classList.add('selected');
      inspect(k);
    });
  }

  function setZoom(z) {
    zoom = Math.min(4, Math.max(0.05, z));
    svg.setAttribute('width', (base.w * zoom).toFixed(1));
    svg.setAttribute('height', (base.h * zoom).toFixed(1));
    $('zoomlevel').textContent = Math.round(zoom * 100) + '%';
  }

  function panning(g) {
    var drag = null;
    g.addEventListener('mousedown', function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, l: g.scrollLeft, t: g.scrollTop };
      g.classList.add('dragging');
    });
    window.addEventListener('mousemove', function (e) {
      if (!drag) return;
      g.scrollLeft = drag.l - (e.clientX - drag.x);
      g.scrollTop = drag.t - (e.clientY - drag.y);
    });
    window.addEventListener('mouseup', function () { drag = null; g.classList.remove('dragging'); });
    g.addEventListener('wheel', function (e) {
      if (!e.ctrlKey) return;
      e.preventDefault();
      var r = g.getBoundingClientRect();
      var fx = (g.scrollLeft + e.clientX - r.left) / zoom, fy = (g.scrollTop + e.clientY - r.top) / zoom;
      setZoom(zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
      g.scrollLeft = fx * zoom - (e.clientX - r.left);
      g.scrollTop = fy * zoom - (e.clientY - r.top);
    }, { passive: false });
    g.addEventListener('click', function () {
      if (selected !== null && rec[selected].g) rec[selected].g.classList.remove('selected');
      selected = null;
    });
  }

  function edgeLabel(id, text, now) {
    var e = svg.getElementById(id);
    if (!e) return;
    var p = e.querySelector('path');
    if (!p) return;
    var len = p.getTotalLength();
    var pt = p.getPointAtLength(len * 0.5);
    var t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
    t.setAttribute('x', pt.x);
    t.setAttribute('y', pt.y - 3);
    t.setAttribute('text-anchor', 'middle');
    t.setAttribute('class', now ? 'local now' : 'local');
    t.textContent = text;
    e.parentNode.appendChild(t);
    labels.push(t);
  }

  function setText(t, s, pending) {
    if (!t) return;
    if (t.textContent !== s) t.textContent = s;
    t.classList.toggle('pending', pending);
  }

  // Draws the state after `s` steps: the first min(s, N) nodes have their
  // data; the first s - N backward steps have passed on their gradients.
  function render(s) {
    cur = Math.max(0, Math.min(TOTAL, s));
    var f = Math.min(cur, N), b = Math.max(0, cur - N);
    var grad = {};
    if (N > 0 && (b >= 1 || (B === 0 && cur === TOTAL))) grad[N - 1] = 1;
    for (var i = 0; i < b; i++) {
      steps[i].terms.forEach(function (t, q) {
        // Try it: the step being asked about shows no answer yet.
        if (!hidden(i, q, 'c')) grad[t.operand_index] = t.total;
      });
    }
    svg.querySelectorAll('.active, .target').forEach(function (el) { el.classList.remove('active', 'target'); });
    labels.forEach(function (t) { t.remove(); });
    labels = [];
    for (var k = 0; k < N; k++) {
      var r = rec[k];
      if (!r.g) continue;
      var hasData = k < f, hasGrad = Object.prototype.hasOwnProperty.call(grad, k);
      if (isConst(k)) { r.g.classList.toggle('fwd', hasData); continue; }
      [r.texts].concat(r.copies).forEach(function (tx) {
        setText(tx[1], hasData ? 'data ' + f4(nodes[k].data) : 'data', !hasData);
        setText(tx[2], hasGrad ? 'grad ' + f4(grad[k]) : 'grad', !hasGrad);
      });
      r.g.setAttribute('data-grad', hasGrad ? String(grad[k]) : '');
      r.g.classList.toggle('fwd', hasData && !hasGrad);
      r.g.classList.toggle('bwd', hasGrad);
      if (r.op) r.op.classList.toggle('opdone', hasData);
    }
    for (var j = 0; j < b; j++) {
      var st = steps[j];
      st.terms.forEach(function (t, q) {
        if (!t.constant && !hidden(j, q, 'l')) edgeLabel('e' + st.node_index + '_' + q, num(t.local), j === b - 1);
      });
    }
    var active = null, html = '', info = 'step 0 of ' + TOTAL;
    if (cur === TOTAL && B === 0 && N > 0) {
      active = N - 1;
      info = 'the output is an input: its grad is 1';
      html = '<span class="head">Done</span>\n' + esc(D.output) + '.grad = 1\n' + gradTable();
    } else if (cur === 0) {
      html = '<span class="head">Start</span>\nPress → (or next) to run the forward pass, one node at a time; then the backward pass.';
    } else if (cur <= N) {
      var n = nodes[f - 1];
      active = f - 1;
      info = 'forward ' + f + ' of ' + N + ': ' + n.name;
      html = '<span class="head">Forward ' + f + ' of ' + N + '</span>\n';
      if (isConst(f - 1)) {
        html += esc(num(n.data)) + '    (a constant: not a parameter, so it gets no grad)';
      } else if (n.op === '') {
        html += esc(n.name) + ' = ' + esc(num(n.data)) + '    (an input)';
      } else {
        if (n.label) html += esc(n.name) + ' = ' + esc(n.expr) + '\n';
        else html += esc(n.name) + '\n';
        var seen = {};
        var ops = n.operands.filter(function (o) { var d = seen[o]; seen[o] = true; return !d; });
        ops = ops.filter(function (o) { return !isConst(o); });
        ops.slice(0, 12).forEach(function (o) { html += '  ' + esc(nodes[o].name) + ' = ' + esc(num(nodes[o].data)) + '\n'; });
        if (ops.length > 12) html += '  … and ' + (ops.length - 12) + ' more operands\n';
        html += '= ' + esc(num(n.data));
      }
      ['eo' + active].concat(n.operands.map(function (o, q) { return 'e' + active + '_' + q; })).forEach(function (id) {
        var e = svg.getElementById(id); if (e) e.classList.add('active');
      });
    } else {
      var st2 = steps[b - 1];
      active = st2.node_index;
      info = 'backward ' + b + ' of ' + B + ': ' + st2.node;
      html = '<span class="head">Backward ' + b + ' of ' + B + ': ' + esc(st2.node) + '</span>\n';
      if (b === 1) html += esc(D.output) + '.grad = 1    (d' + esc(D.output) + '/d' + esc(D.output) + ')\n';
      var sn = nodes[st2.node_index];
      if (sn.label) html += esc(sn.name) + ' = ' + esc(sn.expr) + '\n';
      html += esc(st2.node) + '.grad = ' + esc(num(st2.upstream)) + '\n\n';
      var asking = quizOn && asks(b - 1);
      if (asking) html += quizPanel(b - 1);
      st2.terms.forEach(function (t, q) {
        var e = svg.getElementById('e' + st2.node_index + '_' + q); if (e) e.classList.add('active');
        if (t.constant) return;
        if (!asking) {
          var line = esc(termLine(st2, t));
          html += (t.accumulates ? '<span class="acc">' + line + '</span>' : line) + '\n';
        }
        if (rec[t.operand_index].g) rec[t.operand_index].g.classList.add('target');
      });
      if (st2.terms.length && st2.terms.every(function (t) { return t.constant; })) {
        html += '(its operands are constants: no gradient to pass on)\n';
      }
      if (b === B && !(asking && pending(b - 1))) html += '\nThe backward pass is over: every gradient is in place.\n' + gradTable();
    }
    if (active !== null) {
      if (rec[active].g) rec[active].g.classList.add('active');
      if (rec[active].op) rec[active].op.classList.add('active');
      follow(rec[active].g);
    }
    $('arith').innerHTML = html;
    quizAfterRender(b);
    $('stepinfo').textContent = info;
    $('slider').value = cur;
    document.body.setAttribute('data-step', cur);
    if (selected !== null) inspect(selected);
  }

  // Every input's gradient, including inputs the output does not use.
  function gradTable() {
    var h = '\ngradients of the inputs:\n';
    Object.keys(D.grads).forEach(function (k) { h += '  ' + esc(grouped(k)) + '.grad = ' + esc(num(D.grads[k])) + '\n'; });
    return h;
  }

  function follow(el) {
    if (!el) return;
    var g = $('graph'), r = el.getBoundingClientRect(), v = g.getBoundingClientRect();
    if (r.left < v.left || r.right > v.right || r.top < v.top || r.bottom > v.bottom) {
      g.scrollLeft += (r.left + r.right) / 2 - (v.left + v.right) / 2;
      g.scrollTop += (r.top + r.bottom) / 2 - (v.top + v.bottom) / 2;
    }
  }

  function inspect(k) {
    var n = nodes[k];
    if (isConst(k)) {
      $('inspect').innerHTML = '<span class="head">' + esc(num(n.data)) + '</span>\n' +
        'a constant: its value is ' + esc(String(n.data)) + '.\nIt is not a parameter, so it gets no grad; formulas show it as its number.\n';
      return;
    }
    var h = '<span class="head">' + esc(n.name) + '</span>\n';
    if (n.label && n.label !== n.name) h += 'the program\'s ' + esc(n.label) + ', bound more than once: this is binding ' + esc(n.name) + '\n';
    h += 'op: ' + (n.op === '' ? (n.label ? 'none (an input)' : 'none (a constant)') : esc(n.op)) + '\n';
    if (n.op !== '') h += 'computes: ' + esc(n.expr) + '\n';
    h += 'data: ' + esc(String(n.data)) + '\n';
    // Try it: the inspector keeps the answers until the backward pass is over.
    if (quizOn && cur < TOTAL) {
      $('inspect').innerHTML = h + '\nTry it is on: the gradients, local derivatives and contributions show here once the backward pass is over.\n';
      return;
    }
    h += 'grad: ' + esc(String(n.grad)) + '  (after the backward pass)\n';
    if (n.uses > 1) h += 'used ' + n.uses + ' times: its grad is the sum (+=) of ' + n.uses + ' contributions\n';
    var si = stepOf[k];
    if (si !== null) {
      h += '\nlocal derivatives d(' + esc(n.name) + ')/d(operand):\n';
      steps[si].terms.forEach(function (t) {
        if (!t.constant) h += '  ' + esc(t.operand) + ': ' + esc(t.formula) + ' = ' + esc(num(t.local)) + '\n';
      });
    }
    if (received[k].length) {
      h += '\ncontributions received:\n';
      received[k].forEach(function (r) {
        var s = steps[r.step];
        h += '  step ' + s.number + ' from ' + esc(s.node) + ': ' + esc(factor(s.upstream)) + ' * ' + esc(factor(r.term.local)) + ' = ' + esc(num(r.term.contribution)) + '\n';
      });
    } else if (k === N - 1) {
      h += '\nthe output: its grad is 1 (d' + esc(n.name) + '/d' + esc(n.name) + ')\n';
    }
    var est = D.estimates && D.estimates[k];
    if (est) {
      h += '\nfinite differences, h = ' + D.estimate_step + ':\n';
      h += '  (f(x+h) - f(x))/h    = ' + esc(String(est.forward)) + '\n';
      h += '  (f(x+h) - f(x-h))/2h = ' + esc(String(est.central)) + '\n';
      h += '  backprop             = ' + esc(String(n.grad)) + '\n';
    }
    $('inspect').innerHTML = h;
  }

  function play() {
    if (timer) { clearInterval(timer); timer = null; $('play').innerHTML = '&#x25B6; play'; return; }
    if (cur >= TOTAL) render(0);
    $('play').innerHTML = '&#x23F8; pause';
    timer = setInterval(function () {
      if (cur >= TOTAL) { play(); return; }
      render(cur + 1);
    }, 700);
  }

  function controls() {
    $('next').onclick = function () { render(cur + 1); };
    $('prev').onclick = function () { render(cur - 1); };
    $('first').onclick = function () { render(0); };
    $('last').onclick = function () { render(TOTAL); };
    $('play').onclick = play;
    $('slider').addEventListener('input', function () { render(parseInt(this.value, 10)); });
    $('zoomin').onclick = function () { setZoom(zoom * 1.25); };
    $('zoomout').onclick = function () { setZoom(zoom / 1.25); };
    $('fit').onclick = function () {
      var g = $('graph');
      setZoom(Math.min((g.clientWidth - 8) / base.w, (g.clientHeight - 8) / base.h));
    };
    $('quiz').onclick = toggleQuiz;
    quizControls();
    document.addEventListener('keydown', function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (quizKey(e)) return;
      var handled = true;
      switch (e.key) {
        case 'q': toggleQuiz(); break;
        case 'ArrowRight': case 'ArrowDown': render(cur + 1); break;
        case 'ArrowLeft': case 'ArrowUp': render(cur - 1); break;
        case 'Home': render(0); break;
        case 'End': render(TOTAL); break;
        case ' ': play(); break;
        case '+': case '=': setZoom(zoom * 1.25); break;
        case '-': setZoom(zoom / 1.25); break;
        case '0': $('fit').onclick(); break;
        default: handled = false;
      }
      if (handled) e.preventDefault();
    });
  }

  // ---- Try it: the page asks before it tells --------------------------
  // With the "try it" button, `q`, or `#quiz` in the address, each
  // backward step asks, per operand (constants aside), for the local
  // derivative d(node)/d(operand) and then the contribution
  // node.grad * local, before the panel, the edges and the records show
  // them. An answer is right within 1e-3 relative, or as the value printed
  // to 4 decimals or 4 significant digits. Answers and the score stay
  // while stepping back and forth.
  var quizOn = /(^#|[&;,])quiz(?![\w-])/.test(location.hash);
  var answers = {};       // 'step:term:part' (part l or c) -> { text, right }
  var QUESTIONS = 0;
  steps.forEach(function (st) { st.terms.forEach(function (t) { if (!t.constant) QUESTIONS += 2; }); });

  function qkey(i, q, part) { return i + ':' + q + ':' + part; }
  // Whether step i asks anything (a step whose operands are all
  // constants has nothing to pass on).
  function asks(i) { return steps[i].terms.some(function (t) { return !t.constant; }); }
  // Whether part of term q of step i is still to be answered on screen:
  // only the current backward step hides anything.
  function hidden(i, q, part) {
    if (!quizOn || i !== cur - N - 1 || steps[i].terms[q].constant) return false;
    return !answers[qkey(i, q, part)];
  }
  function pending(i) {
    return steps[i].terms.some(function (t, q) { return hidden(i, q, 'l') || hidden(i, q, 'c'); });
  }

  // A typed answer as a number: `0.5`, `-1e-3`, `.25`, or a fraction
  // `1/49`; null when it is none of these.
  function parseAnswer(text) {
    var s = String(text).trim().replace(/\u2212/g, '-');
    if (s === '') return null;
    var m = /^([^/]+)\/([^/]+)$/.exec(s);
    var x = m ? Number(m[1]) / Number(m[2]) : Number(s);
    return isNaN(x) && !/^nan$/i.test(s) ? null : x;
  }
  function accepts(x, v) {
    v = val(v);
    if (!isFinite(v) || !isFinite(x)) return x === v || (isNaN(x) && isNaN(v));
    var d = Math.abs(x - v), slack = 1 + 1e-9;
    if (d <= 1e-3 * Math.abs(v)) return true;
    if (d <= 0.5e-4 * slack) return true;                    // printed as %.4f
    if (v !== 0 && d <= 0.5 * Math.pow(10, Math.floor(Math.log10(Math.abs(v))) - 3) * slack) return true;
    return false;                                            // (4 significant digits)
  }

  function field(i, q, part, label) {
    var k = qkey(i, q, part), a = answers[k];
    if (a) {
      return '<input class="answer ' + (a.right ? 'right' : 'wrong') + '" data-key="' + k + '" value="' + esc(a.text) +
        '" readonly size="10" aria-label="' + esc(label) + '"> ' +
        (a.right ? '<span class="ok">\u2713 right</span>' : '<span class="no">\u2717 wrong</span>');
    }
    return '<input class="answer" data-key="' + k + '" inputmode="decimal" autocomplete="off" spellcheck="false" size="10" aria-label="' +
      esc(label) + '"> <button class="check" data-key="' + k + '">check</button>';
  }

  // The questions of step i, with the worked line under each answer.
  function quizPanel(i) {
    var st = steps[i], node = grouped(st.node);
    var h = '<span class="quiz-intro">Try it: for each operand, its local derivative, then its contribution ' +
      esc(node) + '.grad * local. Enter (or check) checks an answer.</span>\n';
    st.terms.forEach(function (t, q) {
      if (t.constant) return;
      var op = grouped(t.operand), d = 'd(' + st.node + ')/d(' + t.operand + ')';
      h += '<span class="q">' + esc(d + ' = ') + field(i, q, 'l', 'the local derivative ' + d);
      if (answers[qkey(i, q, 'l')]) h += '\n    <span class="worked">' + esc('= ' + paren(t.formula) + ' = ' + num(t.local)) + '</span>';
      h += '\n' + esc(op + '.grad ' + (t.accumulates ? '+=' : '=') + ' ' + node + '.grad * local = ') +
        field(i, q, 'c', 'the contribution to ' + t.operand + '.grad');
      if (answers[qkey(i, q, 'c')]) h += '\n    <span class="worked">' + esc(termLine(st, t)) + '</span>';
      h += '</span>\n';
    });
    return h;
  }

  function check(input) {
    if (!input || input.readOnly) return;
    var k = input.getAttribute('data-key'), x = parseAnswer(input.value);
    if (x === null) {
      input.classList.add('invalid');
      input.setAttribute('title', 'type a number, such as 0.5, -3 or 1/49');
      return;
    }
    var p = k.split(':'), t = steps[+p[0]].terms[+p[1]];
    answers[k] = { text: input.value.trim(), right: accepts(x, p[2] === 'l' ? t.local : t.contribution) };
    render(cur);
  }

  function score() {
    var right = 0, answered = 0;
    Object.keys(answers).forEach(function (k) { answered++; if (answers[k].right) right++; });
    return { on: quizOn, right: right, answered: answered, total: QUESTIONS };
  }

  // After each render: the score, and the keyboard's place in the
  // questions (the first one still open; none while playing).
  function quizAfterRender(b) {
    var sc = score(), el = $('score');
    el.hidden = !quizOn;
    el.textContent = 'score: ' + sc.right + ' right of ' + sc.answered + ' answered (' + sc.total + ' questions)';
    $('quiz').setAttribute('aria-pressed', quizOn ? 'true' : 'false');
    document.body.classList.toggle('quiz', quizOn);
    if (!quizOn || b < 1 || timer) return;
    var open = $('arith').querySelector('input.answer:not([readonly])');
    if (open) open.focus();
    else if (document.activeElement && document.activeElement.classList.contains('answer')) $('graph').focus();
  }

  function toggleQuiz() {
    quizOn = !quizOn;
    render(cur);
    if (!quizOn) $('quiz').focus();
  }

  // Keys typed into an answer are the answer's: Enter checks it, Escape
  // leaves it; the arrow keys step the page only while it is empty.
  function quizKey(e) {
    var t = e.target;
    if (!t || !t.classList || !t.classList.contains('answer')) return false;
    if (e.key === 'Enter') { e.preventDefault(); check(t); return true; }
    if (e.key === 'Escape') { e.preventDefault(); $('graph').focus(); return true; }
    var moves = { ArrowRight: 1, ArrowLeft: 1, ArrowUp: 1, ArrowDown: 1, Home: 1, End: 1 };
    if (moves[e.key] && t.value === '') { t.blur(); return false; }
    return true;
  }

  function quizControls() {
    $('arith').addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('button.check');
      if (b) check($('arith').querySelector('input[data-key="' + b.getAttribute('data-key') + '"]'));
    });
    $('arith').addEventListener('input', function (e) { if (e.target.classList) e.target.classList.remove('invalid'); });
  }
  // ---- end of try it ----------------------------------------------------

  function fail(msg) {
    var s = $('status');
    if (s) { s.textContent = msg; s.classList.add('error'); }
  }

  function start(svgText) {
    var el = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement;
    setup(document.importNode(el, true));
    controls();
    // `page.html#step=12` opens at step 12.
    var m = /step=(\d+)/.exec(location.hash);
    render(m ? parseInt(m[1], 10) : 0);
    window.backpropPage = { ready: true, readyMs: performance.now(), total: TOTAL, forward: N, backward: B, step: function () { return cur; }, quiz: score };
    document.body.setAttribute('data-ready', 'true');
  }

  // Graphviz runs in a worker, so that the page stays responsive and a
  // layout that takes too long is stopped with a message instead of
  // freezing the tab.
  var LIMIT = D.layout_seconds;
  var WORKER = 'self.onmessage = function (e) { Viz.instance().then(function (viz) {' +
    ' postMessage(viz.render(e.data, { format: "svg" })); }).catch(function (err) {' +
    ' postMessage({ status: "failure", errors: [{ level: "error", message: String(err) }] }); }); };';
  function onPage(src) {
    var sc = document.createElement('script');
    sc.textContent = src;
    document.head.appendChild(sc);
    Viz.instance().then(function (viz) { start(viz.renderString(D.dot, { format: 'svg' })); })
      .catch(function (e) { fail('Could not lay out the graph: ' + e); });
  }
  function layout() {
    var src = document.getElementById('viz-js').textContent;
    // Small graphs lay out in about a second: on the page itself.
    if (!D.layout_in_worker) { onPage(src); return; }
    var worker;
    try {
      worker = new Worker(URL.createObjectURL(new Blob([src, '\n', WORKER], { type: 'text/javascript' })));
    } catch (err) {
      onPage(src);
      return;
    }
    var t0 = performance.now();
    var tick = setInterval(function () {
      var s = (performance.now() - t0) / 1000;
      if (s > LIMIT) {
        clearInterval(tick);
        worker.terminate();
        fail('Graphviz could not lay out these ' + N + ' nodes within ' + LIMIT + ' s. Draw the ' +
          'paths to one input instead: backprop draw ... --leaf NAME -o page.html (' + Object.keys(D.grads).slice(0, 5).join(', ') + ' ...).');
        return;
      }
      var st = $('status');
      if (st) st.textContent = 'Laying out ' + N + ' nodes… ' + Math.floor(s) + ' s';
    }, 250);
    worker.onmessage = function (e) {
      clearInterval(tick);
      worker.terminate();
      var r = e.data;
      if (r.status !== 'success') {
        fail('Could not lay out the graph: ' + (r.errors || []).map(function (x) { return x.message; }).join('; '));
        return;
      }
      start(r.output);
    };
    worker.onerror = function (e) { clearInterval(tick); fail('Could not lay out the graph: ' + e.message); };
    worker.postMessage(D.dot);
  }
  setTimeout(layout, 20);
})();
