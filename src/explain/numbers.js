// Numbers as both pages show them (the graph page and the training page),
// by the rule `backprop explain` prints them with (`number` in
// src/explain/text.rs): integers and short decimals as they are, others to
// six significant digits. The pages' JSON holds non-finite numbers as the
// strings "inf", "-inf" and "NaN", as Rust writes them.
var BP_NUMBERS = (function () {
  'use strict';
  function val(x) { return typeof x === 'number' ? x : (x === 'inf' ? Infinity : x === '-inf' ? -Infinity : NaN); }
  function num(x) {
    x = val(x);
    // Rust prints -0.0 as "-0"; JavaScript's String(-0) is "0".
    if (x === 0 && 1 / x < 0) return '-0';
    if (!isFinite(x)) return isNaN(x) ? 'NaN' : (x > 0 ? 'inf' : '-inf');
    // Rust never prints an exponent here; JavaScript's String does past
    // 1e21 and below 1e-6 ("1e+300"), so those take the longer way.
    var plain = String(x);
    if (plain.length <= 8 && plain.indexOf('e') < 0) return plain;
    var a = Math.abs(x);
    if (a >= 1e-4 && a < 1e9) {
      var d = Math.min(12, Math.max(0, 5 - Math.floor(Math.log10(a))));
      var s = x.toFixed(d);
      if (s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
      return s === '-0' ? '0' : s;
    }
    var e = x.toExponential(5).split('e');
    var m = e[0].indexOf('.') >= 0 ? e[0].replace(/0+$/, '').replace(/\.$/, '') : e[0];
    return m + 'e' + (e[1][0] === '+' ? e[1].slice(1) : e[1]);
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  return { val: val, num: num, esc: esc };
})();
