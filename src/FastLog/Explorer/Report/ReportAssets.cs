namespace FastLog.Explorer.Report;

/// <summary>
/// The report's inline style sheet and script. The script only adds comfort (hover numbers on the timeline,
/// copy buttons, a failure filter): everything the report says is in the HTML without it. It writes untrusted
/// text with textContent only, and marks the page with data-script="ready" once it has set up without error.
/// </summary>
internal static class ReportAssets
{
    public const string Css = """
:root { --ink: #1c2230; --muted: #5d6677; --line: #dde1e8; --paper: #ffffff; --bg: #f4f5f8; --bad: #c62828;
  --bad-bg: #fdecec; --good: #1b7f3b; --good-bg: #e7f6ec; --accent: #2f5fd0; --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1420px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 0; }
h4 { font-size: 12px; margin: 0 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
code, pre { font-family: var(--mono); font-size: 12.5px; }
header#summary, #timeline, #failures > nav, section.failure { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin-bottom: 16px; }
.log code { color: var(--muted); word-break: break-all; }
.verdict { font-size: 16px; font-weight: 600; padding: 8px 12px; border-radius: 6px; margin: 10px 0 12px; }
.verdict.fail { background: var(--bad-bg); color: var(--bad); }
.verdict.pass { background: var(--good-bg); color: var(--good); }
.verdict.none { background: #f1f3f7; color: var(--muted); }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 8px; margin: 0 0 12px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.stat dt { font-size: 11.5px; color: var(--muted); }
.stat dd { margin: 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat[data-bad] dd { color: var(--bad); }
.command, .repro { display: flex; align-items: flex-start; gap: 8px; }
.repro + .repro { margin-top: 6px; }
.command code, .repro code { flex: 1; background: #f1f3f7; border: 1px solid var(--line); border-radius: 4px; padding: 5px 8px; white-space: pre-wrap; word-break: break-all; }
.label { font-size: 11.5px; color: var(--muted); padding-top: 6px; min-width: 64px; }
button.copy { font: inherit; font-size: 12px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 4px; background: var(--paper); cursor: pointer; }
button.copy:hover { border-color: var(--accent); color: var(--accent); }
.meta, .note { color: var(--muted); font-size: 12.5px; }
.meta { margin: 8px 0 0; }
.timeline-scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 4px; background: #fcfcfd; }
#timeline-svg { display: block; }
#timeline-svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
#timeline-svg .epoch-labels text { font-size: 10px; fill: #6b7385; }
#timeline-svg .lane-names text { font-size: 10px; fill: var(--muted); paint-order: stroke; stroke: #fcfcfd; stroke-width: 3px; }
#timeline-svg .axis text { fill: var(--muted); font-size: 10px; text-anchor: middle; }
#timeline-svg .axis path { stroke: #9aa1ad; }
.band-even { fill: #e6edf9; } .band-odd { fill: #f5efe1; } .band-mixed { fill: #e4e5e8; }
.bar-write { fill: #3567d6; } .bar-fua { fill: #8b3fd9; } .bar-discard { fill: #98a1ae; }
.flush { fill: #1c2230; } .cp { fill: #b7bdc8; } .cp-failed { fill: var(--bad); }
.mark-flags { fill: #e08a00; }
.crash-fail path { fill: var(--bad); stroke: #fff; stroke-width: 1; }
.crash-fail:hover path { fill: #7f0000; }
#timeline-cursor { stroke: rgba(28, 34, 48, .45); stroke-width: 1; pointer-events: none; }
#timeline-tip { position: fixed; z-index: 10; pointer-events: none; background: #1c2230; color: #f1f3f7; font-size: 12px; padding: 6px 9px; border-radius: 5px; box-shadow: 0 3px 12px rgba(0,0,0,.25); max-width: 360px; }
#timeline-tip div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#timeline-tip .bad { color: #ff9b9b; font-weight: 600; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 8px 0 0; font-size: 12px; color: var(--muted); }
ul.legend li { display: flex; align-items: center; gap: 5px; }
#failures > h2 { margin: 4px 0 10px; }
.all-passed { background: var(--good-bg); color: var(--good); font-weight: 600; padding: 8px 12px; border-radius: 6px; }
#failures > nav h3 { margin-bottom: 6px; }
.ids { margin: 0; line-height: 1.9; font-family: var(--mono); font-size: 12px; max-height: 150px; overflow: auto; }
a.fid { display: inline-block; line-height: 1.5; padding: 0 6px; border-radius: 10px; background: var(--bad-bg); color: var(--bad); text-decoration: none; margin: 0 2px 2px 0; }
a.fid:hover { background: var(--bad); color: #fff; }
.unrendered-ids { color: var(--muted); line-height: 1.6; margin-top: 6px; }
.failure-tools { margin: 0 0 12px; }
#failure-filter { font: inherit; width: min(520px, 100%); padding: 6px 10px; border: 1px solid var(--line); border-radius: 5px; }
section.failure { border-left: 4px solid var(--bad); }
section.failure:target { box-shadow: 0 0 0 3px rgba(47, 95, 208, .35); }
section.failure > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 12px; margin-bottom: 10px; }
.state-id { font-family: var(--mono); }
.tag { font-size: 11.5px; padding: 1px 8px; border-radius: 10px; background: #eef1fb; color: var(--accent); font-weight: 600; }
.where { color: var(--muted); }
.where b, .where q, .where code { color: var(--ink); }
.sets { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 10px; margin-bottom: 10px; }
.set { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.set p { margin: 0; font-family: var(--mono); font-size: 12.5px; word-break: break-word; }
.set .n { text-transform: none; letter-spacing: 0; font-weight: 400; }
.set.persisted { background: #f3f8f4; } .set.dropped { background: #fbf4f4; } .set.minimized { background: #f5f6fb; }
.set.minimized p + p { margin-top: 2px; }
ul.details { margin: 0 0 10px; padding-left: 20px; font-family: var(--mono); font-size: 12.5px; }
.output { margin-bottom: 10px; }
.output pre { margin: 0; background: #161b26; color: #e3e7ee; padding: 8px 10px; border-radius: 5px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word; }
.output details { margin-top: 4px; }
.ctl { color: #b35c00; background: rgba(255, 170, 0, .16); border-radius: 2px; }
.output pre .ctl { color: #ffc27a; background: rgba(255, 170, 0, .18); }
.output summary { cursor: pointer; color: var(--accent); font-size: 12.5px; margin-bottom: 4px; }
""";

    public const string Script = """
(function () {
  'use strict';
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }
  function copied(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? 'copied' : 'select and copy';
    setTimeout(function () { button.textContent = label; }, 1200);
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('button.copy') : null;
    if (!button) return;
    var code = button.parentElement.querySelector('code');
    if (!code) return;
    var text = code.textContent;
    if (navigator.clipboard && window.isSecureContext)
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, function () { copied(button, fallbackCopy(text)); });
    else copied(button, fallbackCopy(text));
  });

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }
  function grouped(n) { return Number(n).toLocaleString('en-US'); }

  var dataElement = document.getElementById('timeline-data');
  var svg = document.getElementById('timeline-svg');
  if (dataElement && svg) {
    var data = JSON.parse(dataElement.textContent);
    var f = {};
    data.fields.forEach(function (name, i) { f[name] = i; });
    var tip = document.getElementById('timeline-tip');
    var cursor = document.getElementById('timeline-cursor');
    var hide = function () { tip.hidden = true; cursor.setAttribute('x1', -10); cursor.setAttribute('x2', -10); };
    svg.addEventListener('mousemove', function (event) {
      var box = svg.getBoundingClientRect();
      var index = Math.floor((event.clientX - box.left) / data.columnWidth);
      var c = data.columns[index];
      if (!c) { hide(); return; }
      var lines = [];
      var one = c[f.first] === c[f.last];
      lines.push(one ? 'entry ' + grouped(c[f.first]) : 'entries ' + grouped(c[f.first]) + '\u2013' + grouped(c[f.last]));
      if (one && c[f.firstKind] !== 'Flush' && c[f.firstKind] !== 'Mark')
        lines.push(c[f.firstKind].replace('FuaWrite', 'FUA write').toLowerCase() + ' at ' + bytes(c[f.firstOffset]) +
          ', ' + bytes(c[f.bytesWritten] + c[f.bytesDiscarded]));
      else {
        var kinds = [['writes', 'writes'], ['fua', 'FUA'], ['flushes', 'flushes'], ['discards', 'discards'], ['marks', 'marks']]
          .filter(function (k) { return c[f[k[0]]] > 0; })
          .map(function (k) { return grouped(c[f[k[0]]]) + ' ' + k[1]; });
        if (kinds.length) lines.push(kinds.join(', '));
        if (c[f.bytesWritten] > 0 && !one) lines.push(bytes(c[f.bytesWritten]) + ' written');
      }
      lines.push(c[f.firstEpoch] === c[f.lastEpoch] ? 'epoch ' + c[f.firstEpoch] : 'epochs ' + c[f.firstEpoch] + '\u2013' + c[f.lastEpoch]);
      if (c[f.firstMark] !== null)
        lines.push('mark \u201c' + c[f.firstMark] + '\u201d' + (c[f.marks] > 1 ? ' and ' + (c[f.marks] - 1) + ' more' : ''));
      if (c[f.crashPoints] > 0)
        lines.push(grouped(c[f.crashPoints]) + ' crash point' + (c[f.crashPoints] > 1 ? 's' : '') + ', ' + grouped(c[f.states]) + ' states');
      tip.replaceChildren();
      lines.forEach(function (text) {
        var line = document.createElement('div');
        line.textContent = text;
        tip.appendChild(line);
      });
      if (c[f.failedStates] > 0 || c[f.failingCrashPoints] > 0) {
        var bad = document.createElement('div');
        bad.className = 'bad';
        bad.textContent = grouped(c[f.failedStates]) + ' failed states at ' + grouped(c[f.failingCrashPoints]) + ' crash point' + (c[f.failingCrashPoints] === 1 ? '' : 's');
        tip.appendChild(bad);
      }
      tip.hidden = false;
      var x = event.clientX + 14, y = event.clientY + 16;
      if (x + tip.offsetWidth > window.innerWidth - 8) x = event.clientX - tip.offsetWidth - 14;
      if (y + tip.offsetHeight > window.innerHeight - 8) y = event.clientY - tip.offsetHeight - 12;
      tip.style.left = x + 'px';
      tip.style.top = y + 'px';
      var cx = (index + 0.5) * data.columnWidth;
      cursor.setAttribute('x1', cx);
      cursor.setAttribute('x2', cx);
    });
    svg.addEventListener('mouseleave', hide);
  }

  var filter = document.getElementById('failure-filter');
  if (filter) {
    var sections = Array.prototype.slice.call(document.querySelectorAll('section.failure'));
    var texts = sections.map(function (s) { return s.textContent.toLowerCase(); });
    var count = document.getElementById('filter-count');
    filter.addEventListener('input', function () {
      var query = filter.value.trim().toLowerCase(), shown = 0;
      sections.forEach(function (section, i) {
        var match = !query || texts[i].indexOf(query) >= 0;
        section.hidden = !match;
        if (match) shown++;
      });
      count.textContent = query ? shown + ' of ' + sections.length + ' shown' : '';
    });
  }
  // The full output repeats the preview's lines: show one of them at a time.
  document.querySelectorAll('.output details').forEach(function (details) {
    var preview = details.parentElement.querySelector('.output-preview');
    if (preview) details.addEventListener('toggle', function () { preview.hidden = details.open; });
  });
  document.documentElement.setAttribute('data-script', 'ready');
})();
""";
}
