/**
 * The status page (GET /status): one self-contained HTML document, its styles and script inline,
 * no outside fonts or assets, so the compiled binary carries it and a locked-down network serves
 * it whole. It holds no data: its script asks for an admin key (kept in sessionStorage, for this
 * tab only) and polls GET /admin/status with it. A module rather than an .html file, so that Bun
 * and Deno import it alike and `bun build --compile` bundles it with no loader configuration.
 */
export const STATUS_PAGE = String.raw`
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>azure-proxy status</title>
<style>
:root{--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d6dbe1;--track:#e6e9ed;
--ok:#0b6e4f;--warn:#8a5300;--bad:#b3261e;--info:#0059a0;
--c1:#0072b2;--c2:#d55e00;--c3:#009e73;--c4:#cc79a7;--c5:#e69f00;--c6:#56b4e9;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#1a1e24;--fg:#e7eaee;--muted:#a0a9b4;--line:#333a43;--track:#2a3038;
--ok:#4cc38a;--warn:#f0b84a;--bad:#ff8a80;--info:#7cc4ff;--c1:#56b4e9;--c2:#f08a4b;--c3:#3fc79a;--c4:#e0a0c8;--c5:#f0c040;--c6:#a6d8f5}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;font-variant-numeric:tabular-nums}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:1.15rem;margin:0}h2{font-size:1rem;margin:0 0 .5rem}h3{font-size:.95rem;margin:0 0 .4rem}
.meta{color:var(--muted);margin:0;flex:1 1 20rem;min-height:1.45em}
main{padding:1rem;max-width:1400px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.75rem}
.cols{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,1fr);gap:0 1rem}
.cols>section{margin-bottom:1rem}
#upstreams{grid-template-columns:repeat(auto-fill,minmax(380px,1fr))}
.charts{grid-template-columns:repeat(auto-fill,minmax(250px,1fr))}
.keys{grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:0 1.5rem}
.tiles{grid-template-columns:1fr}
@media (max-width:900px){.cols{grid-template-columns:1fr}.tiles{grid-template-columns:repeat(3,1fr)}.tiles div{display:block}}
@media (max-width:420px){main{padding:.5rem}section{padding:.6rem}.grid,#upstreams,.keys{grid-template-columns:1fr}}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.3rem .4rem;border-top:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.8rem;border-top:0}
small,.small{color:var(--muted);font-size:.8rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:4px;border:2px solid currentColor;font-weight:600;font-size:.8rem;white-space:nowrap}
.s-ok{color:var(--ok)}.s-cooling{color:var(--warn);border-style:dashed}.s-no_headroom{color:var(--info);border-style:double;border-width:3px}.s-unreachable{color:var(--bad);background:color-mix(in srgb,var(--bad) 14%,transparent)}
.countdown{display:inline-block;min-width:3.5em;font-weight:600}
.tiles{display:grid;gap:.5rem;margin:0}
.tiles div{border:1px solid var(--line);border-radius:6px;padding:.3rem .6rem;display:flex;justify-content:space-between;align-items:baseline;gap:.5rem}.tiles dt{color:var(--muted);font-size:.8rem}.tiles dd{margin:0;font-size:1.5rem;font-weight:600;line-height:1.2}
.chart{border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem}
.chart h3{display:flex;justify-content:space-between;gap:.5rem}.chart h3 span{font-weight:400;color:var(--muted)}
.chart svg{display:block;width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:.2rem .8rem;min-height:1.2em;font-size:.8rem;color:var(--muted)}
.legend i{display:inline-block;width:1.4em;border-top:3px solid;vertical-align:middle;margin-right:.3em}
.axis{display:flex;justify-content:space-between;font-size:.75rem;color:var(--muted)}
.key{padding:.4rem 0;border-top:1px solid var(--line)}
.key h3{display:flex;justify-content:space-between;margin:0}
.usage{display:grid;grid-template-columns:4em 1fr;gap:.15rem .5rem;align-items:center;font-size:.85rem}
.bar{height:.7rem;background:var(--track);border-radius:4px;overflow:hidden}.bar b{display:block;height:100%;background:var(--c1)}
.bar.near b{background:var(--c5)}.bar.over b{background:var(--bad)}
.usage p{grid-column:2;margin:0 0 .2rem;color:var(--muted);font-size:.8rem;line-height:1.3}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;max-width:40rem}
input{font:inherit;padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);flex:1 1 14rem}
button{font:inherit;padding:.4rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer}
:focus-visible{outline:3px solid var(--c1);outline-offset:2px}
.alert{border:2px solid var(--bad);color:var(--bad);border-radius:6px;padding:.5rem .75rem;margin:0 0 1rem;font-weight:600}
.notice{border-color:var(--warn);color:var(--warn)}
[hidden]{display:none!important}
</style>
</head>
<body>
<header>
<h1>azure-proxy status</h1>
<p class="meta" id="meta">Not signed in</p>
<button type="button" id="signout" hidden>Change key</button>
</header>
<main>
<p id="alert" class="alert" role="alert" hidden></p>
<section id="login" hidden>
<h2>Admin key</h2>
<form id="login-form">
<label for="key" class="small">An admin key of this proxy (keys[].admin). It stays in this tab only.</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<button type="submit">Show status</button>
</form>
</section>
<div id="board" hidden>
<div class="cols">
<section aria-labelledby="h-up"><h2 id="h-up">Upstreams</h2><div id="upstreams" class="grid"></div></section>
<section aria-labelledby="h-now"><h2 id="h-now">In flight now</h2>
<dl class="tiles"><div><dt>Requests</dt><dd id="if-requests">0</dd></div><div><dt>Streams</dt><dd id="if-streams">0</dd></div><div><dt>Realtime sessions</dt><dd id="if-realtime">0</dd></div></dl>
</section>
</div>
<section aria-labelledby="h-hour"><h2 id="h-hour">Last 60 minutes, per minute</h2><div id="charts" class="grid charts"></div></section>
<section aria-labelledby="h-keys"><h2 id="h-keys">Keys, by spend this month</h2><div id="keys" class="grid keys"></div></section>
</div>
</main>
<script>
"use strict";
(function () {
  var STORE = "azure-proxy-admin-key", EVERY_MS = 3000;
  var $ = function (id) { return document.getElementById(id); };
  var key = sessionStorage.getItem(STORE), timer = 0, offset = 0, last = null;
  var WORD = { ok: "\u2713 ok", cooling: "\u25d4 cooling", no_headroom: "\u25b2 no headroom", unreachable: "\u2715 unreachable" };
  var KINDS = { rate_limited: "429 rate limited", upstream: "5xx upstream", timeout: "timeout", broken_stream: "broken stream", auth: "401/403 key", client: "other 4xx" };
  var COLORS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"], DASH = ["", "6 3", "2 3", "8 3 2 3", "", "4 2"];
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  // long deployment names break after their dashes on a phone, not anywhere
  function breakable(s) { return esc(s).replace(/([-_.])/g, "$1<wbr>"); }
  function num(n) { return Math.round(n).toLocaleString("en-US"); }
  function short(n) { return n >= 1e6 ? +(n / 1e6).toFixed(1) + "M" : n >= 1e4 ? Math.round(n / 1e3) + "k" : num(n); }
  function usd(n) { return "$" + (n < 1 ? n.toFixed(4) : n.toFixed(2)); }
  function ms(n) { return n >= 1000 ? (n / 1000).toFixed(n >= 10000 ? 0 : 1) + " s" : Math.round(n) + " ms"; }
  function clock(t) { return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
  function ago(t) { var s = Math.max(0, Math.round((Date.now() + offset - t) / 1000)); return s < 90 ? s + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago"; }

  function showLogin(message) {
    clearTimeout(timer); last = null;
    $("board").hidden = true; $("signout").hidden = true; $("login").hidden = false;
    $("meta").textContent = "Not signed in";
    alertBox(message || "");
    $("key").focus();
  }
  function alertBox(message, notice) {
    var a = $("alert"); a.hidden = !message; a.textContent = message || ""; a.className = notice ? "alert notice" : "alert";
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    key = $("key").value.trim();
    if (!key) return;
    sessionStorage.setItem(STORE, key); $("key").value = "";
    poll();
  });
  $("signout").addEventListener("click", function () { sessionStorage.removeItem(STORE); key = null; showLogin(""); });

  function poll() {
    clearTimeout(timer);
    fetch("/admin/status", { headers: { authorization: "Bearer " + key }, cache: "no-store" }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        var why = body && body.error && body.error.message;
        if (r.status === 401 || r.status === 403) {
          sessionStorage.removeItem(STORE); key = null;
          return showLogin((r.status === 401 ? "This key was refused: " : "This key is not an admin key: ") + (why || "HTTP " + r.status));
        }
        if (!r.ok || !body) throw new Error("the proxy answered HTTP " + r.status + (why ? ": " + why : ""));
        alertBox("");
        render(body);
        timer = setTimeout(poll, EVERY_MS);
      });
    }).catch(function (err) {
      alertBox("Cannot refresh (" + err.message + "); showing the last figures, trying again.", true);
      timer = setTimeout(poll, EVERY_MS);
    });
  }

  function render(s) {
    offset = s.now - Date.now(); last = s;
    $("login").hidden = true; $("board").hidden = false; $("signout").hidden = false;
    var reload = s.config.last_reload;
    $("meta").textContent = "v" + s.version + " \u00b7 " + s.workers + (s.workers === 1 ? " worker" : " workers") +
      " \u00b7 config loaded " + clock(s.config.loaded_at) + " \u00b7 last reload: " +
      (reload ? (reload.ok ? "ok at " + clock(reload.at) : "FAILED at " + clock(reload.at) + (reload.issues ? " (" + reload.issues.join("; ") + ")" : "")) : "none since start") +
      " \u00b7 updated " + clock(s.now);
    $("if-requests").textContent = num(s.inflight.requests);
    $("if-streams").textContent = num(s.inflight.streams);
    $("if-realtime").textContent = num(s.inflight.realtime_sessions);
    $("upstreams").innerHTML = s.upstreams.map(upstream).join("");
    $("charts").innerHTML = charts(s.series);
    $("keys").innerHTML = s.keys.length ? keys(s.keys) : "<p class=small>No client keys are configured.</p>";
    tick();
  }

  function upstream(u) {
    var rows = u.deployments.map(function (d) {
      var h = d.headroom, room = "\u2014";
      if (h) {
        var parts = [];
        if (h.requests !== undefined) parts.push(short(h.requests) + " req");
        if (h.tokens !== undefined) parts.push(short(h.tokens) + " tok");
        if (h.utilization !== undefined) parts.push(h.utilization + "% PTU");
        room = parts.join(" \u00b7 ") + "<br><small>" + ago(h.at) + "</small>";
      }
      var when = d.until ? ' <span class="countdown" data-until="' + d.until + '"></span>' + (d.soft ? " <small>(our guess)</small>" : "") : "";
      return '<tr data-deployment="' + esc(d.deployment) + '" data-state="' + d.state + '"><td>' + breakable(d.deployment) +
        (d.models.length && d.models.join() !== d.deployment ? "<br><small>as " + esc(d.models.join(", ")) + "</small>" : "") + '</td><td><span class="badge s-' + d.state + '">' +
        WORD[d.state] + "</span>" + when + "</td><td>" + room + "</td></tr>";
    }).join("");
    return '<article class="upstream" data-upstream="' + esc(u.name) + '"><h3>' + esc(u.name) + " <small>priority " + u.priority + "</small></h3>" +
      "<table><thead><tr><th>Deployment</th><th>State</th><th>Headroom</th></tr></thead><tbody>" +
      (rows || '<tr><td colspan="3"><small>no deployments listed</small></td></tr>') + "</tbody></table></article>";
  }

  function tick() {
    var now = Date.now() + offset, cells = document.querySelectorAll("[data-until]");
    for (var i = 0; i < cells.length; i++) {
      var left = Math.ceil((Number(cells[i].getAttribute("data-until")) - now) / 1000);
      cells[i].textContent = left > 0 ? left + " s left" : "ending";
    }
  }
  setInterval(tick, 1000);

  function total(values) { return values.reduce(function (a, b) { return a + b; }, 0); }
  function latest(values) { for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null) return ms(values[i]); return "\u2014"; }
  function charts(x) {
    var errorCount = Object.keys(KINDS).reduce(function (n, k) { return n + total(x.errors[k]); }, 0);
    var errs = Object.keys(KINDS).filter(function (k) { return x.errors[k].some(function (v) { return v > 0; }); });
    return [
      chart("Requests", num(total(x.requests)) + " in the hour", [{ name: "requests", values: x.requests }], num),
      chart("Errors", num(errorCount) + " in the hour, by kind", errs.length ? errs.map(function (k) { return { name: KINDS[k], values: x.errors[k] }; }) : [{ name: "none", values: x.errors.upstream }], num),
      chart("Latency", "p50 " + latest(x.latency_p50_ms) + " \u00b7 p99 " + latest(x.latency_p99_ms), [{ name: "p50", values: x.latency_p50_ms }, { name: "p99", values: x.latency_p99_ms }], ms),
      chart("Time to first token", "p50 " + latest(x.ttft_p50_ms), [{ name: "p50", values: x.ttft_p50_ms }, { name: "p99", values: x.ttft_p99_ms }], ms),
    ].join("");
  }

  // one SVG line per series over 60 minutes; a minute without samples is a gap, a lone minute a dot
  function chart(title, sub, lines, fmt) {
    var W = 300, H = 72, P = 3, max = 0, n = lines[0].values.length;
    lines.forEach(function (l) { l.values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
    var top = max > 0 ? max : 1, step = (W - 2 * P) / (n - 1);
    var y = function (v) { return (H - P - (v / top) * (H - 2 * P)).toFixed(1); };
    var svg = lines.map(function (l, i) {
      var color = "var(" + COLORS[i % COLORS.length] + ")", runs = [], run = [];
      l.values.forEach(function (v, j) {
        if (v === null) { if (run.length) runs.push(run); run = []; } else run.push((P + j * step).toFixed(1) + "," + y(v));
      });
      if (run.length) runs.push(run);
      return runs.map(function (r) {
        return r.length === 1
          ? '<circle cx="' + r[0].split(",")[0] + '" cy="' + r[0].split(",")[1] + '" r="2.5" fill="' + color + '"/>'
          : '<polyline fill="none" stroke="' + color + '" stroke-width="1.8" stroke-linejoin="round"' + (DASH[i] ? ' stroke-dasharray="' + DASH[i] + '"' : "") + ' points="' + r.join(" ") + '"/>';
      }).join("");
    }).join("");
    var now = lines.map(function (l) { var v = l.values[n - 1]; return l.name + " " + (v === null ? "\u2014" : fmt(v)); }).join(", ");
    var legend = lines.map(function (l, i) {
      return '<span><i style="border-top-color:var(' + COLORS[i % COLORS.length] + ");border-top-style:" + (DASH[i] ? "dashed" : "solid") + '"></i>' + esc(l.name) + "</span>";
    }).join("");
    return '<figure class="chart" style="margin:0"><h3>' + title + " <span>" + sub + "</span></h3>" +
      '<svg viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(title + ", last 60 minutes; this minute: " + now) + '">' +
      '<line x1="0" x2="' + W + '" y1="' + (H - P) + '" y2="' + (H - P) + '" stroke="var(--line)"/><line x1="0" x2="' + W + '" y1="' + P + '" y2="' + P + '" stroke="var(--line)" stroke-dasharray="3 4"/>' +
      svg + "</svg>" +
      '<div class="axis"><span>60 min ago</span><span>' + (max > 0 ? "top " + esc(fmt(max)) : "no data yet") + "</span><span>now</span></div>" + '<div class="legend">' + legend + "</div></figure>";
  }

  function keys(list) {
    var most = { today: 0, month: 0 };
    list.forEach(function (k) { most.today = Math.max(most.today, k.today.tokens); most.month = Math.max(most.month, k.month.tokens); });
    return list.map(function (k) {
      return '<div class="key" data-key="' + esc(k.name) + '" data-today-tokens="' + k.today.tokens + '" data-month-tokens="' + k.month.tokens + '"><h3>' + esc(k.name) +
        " <small>" + num(k.month.requests) + (k.month.requests === 1 ? " request" : " requests") + " this month</small></h3><div class=usage>" +
        period("Today", k.today, k.budget, "day", most.today) + period("Month", k.month, k.budget, "month", most.month) + "</div></div>";
    }).join("");
  }

  // the bar shows the budget nearest to its end; without a budget, the share of the biggest spender
  function period(label, t, budget, per, most) {
    var caps = [];
    if (budget && budget["tokens_per_" + per]) caps.push({ used: t.tokens, cap: budget["tokens_per_" + per], text: num(budget["tokens_per_" + per]) + " tokens/" + per });
    if (budget && budget["usd_per_" + per]) caps.push({ used: t.cost_usd, cap: budget["usd_per_" + per], text: usd(budget["usd_per_" + per]) + "/" + per });
    var ratio, note;
    if (caps.length) {
      caps.sort(function (a, b) { return b.used / b.cap - a.used / a.cap; });
      ratio = caps[0].used / caps[0].cap;
      note = Math.round(ratio * 100) + "% of " + caps[0].text + (ratio >= 1 ? " \u2014 over budget" : ratio >= 0.8 ? " \u2014 near budget" : "");
    } else {
      ratio = most > 0 ? t.tokens / most : 0;
      note = "no budget";
    }
    var cls = caps.length && ratio >= 1 ? "bar over" : caps.length && ratio >= 0.8 ? "bar near" : "bar";
    var pct = Math.min(100, Math.round(ratio * 100));
    return "<span>" + label + '</span><div class="' + cls + '" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + pct + '" aria-label="' + label + ": " + esc(note) + '"><b style="width:' + pct + '%"></b></div>' +
      "<p>" + num(t.tokens) + " tokens \u00b7 " + usd(t.cost_usd) + " \u00b7 " + esc(note) + "</p>";
  }

  if (key) poll(); else showLogin("");
})();
</script>
</body>
</html>
`;
