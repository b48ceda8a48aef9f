
(function () {
  var group = document.getElementById('f-group');
  var verdict = document.getElementById('f-verdict');
  var text = document.getElementById('f-text');
  var shown = document.getElementById('shown');
  function apply() {
    var g = group.value, v = verdict.value, t = text.value.toLowerCase(), n = 0, all = 0;
    document.querySelectorAll('[data-id]').forEach(function (el) {
      var keep = (!g || el.dataset.group === g) && (!v || el.dataset.verdict === v) &&
        (!t || el.dataset.id.toLowerCase().indexOf(t) >= 0);
      el.hidden = !keep;
      if (el.tagName === 'TR') { all += 1; if (keep) { n += 1; } }
    });
    shown.textContent = 'showing ' + n + ' of ' + all + ' scenarios';
  }
  [group, verdict, text].forEach(function (el) { el.addEventListener('input', apply); });
  // A link may preset the filters: report.html#verdict=FAIL&group=result
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var kv = pair.split('='), el = { group: group, verdict: verdict, id: text }[kv[0]];
    if (el && kv.length === 2) { el.value = decodeURIComponent(kv[1]); }
  });
  apply();
})();
