/* Rapport — shared helpers: API calls, escaping, DOM building, storage,
 * evidence highlighting and score-card rendering.
 * Plain ES2017, no dependencies. Every piece of user or patient text is put
 * into the page with textContent (or escapeHtml), never as raw HTML. */
(function (global) {
  'use strict';

  var MAX_CHARS = 2000;
  var RECENT_KEY = 'rapport.recentSessions';
  var NAME_KEY = 'rapport.displayName';

  /* ---------- escaping & DOM ---------- */

  function escapeHtml(value) {
    return String(value == null ? '' : value)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  }

  /* h('div', {class: 'x', onclick: fn}, 'text', childNode, [more]) */
  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var val = attrs[key];
        if (val == null || val === false) return;
        if (key === 'class') node.className = val;
        else if (key === 'text') node.textContent = val;
        else if (key.slice(0, 2) === 'on' && typeof val === 'function') {
          node.addEventListener(key.slice(2), val);
        } else if (val === true) node.setAttribute(key, '');
        else node.setAttribute(key, String(val));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    if (typeof child === 'string' || typeof child === 'number') {
      node.appendChild(document.createTextNode(String(child)));
    } else {
      node.appendChild(child);
    }
  }

  function clear(node) {
    while (node && node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function qs(name) {
    try { return new URLSearchParams(window.location.search).get(name); } catch (e) { return null; }
  }

  /* ---------- API ---------- */

  /* Resolves to {ok, status, data, error}; error = {code, message}. Never throws. `headers` is optional. */
  function api(method, path, body, headers) {
    var opts = { method: method, headers: { 'Accept': 'application/json' }, credentials: 'same-origin' };
    if (headers) Object.keys(headers).forEach(function (k) { opts.headers[k] = headers[k]; });
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (raw) {
        var data = null;
        if (raw) { try { data = JSON.parse(raw); } catch (e) { data = null; } }
        if (res.ok) return { ok: true, status: res.status, data: data, error: null };
        var err = data && data.error ? data.error : null;
        if (!err || !err.message) {
          err = {
            code: (err && err.code) || 'http_' + res.status,
            message: 'The server answered with an unexpected error (HTTP ' + res.status + '). Please try again.'
          };
        }
        return { ok: false, status: res.status, data: data, error: err };
      });
    }, function () {
      return {
        ok: false, status: 0, data: null,
        error: { code: 'network', message: 'Could not reach the Rapport server. Check your connection and try again.' }
      };
    });
  }

  /* A fresh idempotency key for one message (its retries reuse it). */
  function newKey() {
    if (global.crypto && typeof global.crypto.randomUUID === 'function') return global.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    if (global.crypto && global.crypto.getRandomValues) global.crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  /* ---------- error notice (#error-notice, role="alert") ---------- */

  function showError(message) {
    var box = document.getElementById('error-notice');
    if (!box) { window.alert(message); return; }
    var text = box.querySelector('.notice-text');
    text.textContent = message;
    box.hidden = false;
  }

  function hideError() {
    var box = document.getElementById('error-notice');
    if (box) box.hidden = true;
  }

  function initErrorNotice() {
    var box = document.getElementById('error-notice');
    if (!box) return;
    var btn = box.querySelector('.notice-dismiss');
    if (btn) btn.addEventListener('click', hideError);
  }

  /* ---------- storage ---------- */

  function storageGet(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw == null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }

  function storageSet(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: ignore */ }
  }

  function getDisplayName() { var v = storageGet(NAME_KEY, ''); return typeof v === 'string' ? v : ''; }
  function setDisplayName(name) { storageSet(NAME_KEY, String(name || '')); }

  function getRecent() {
    var list = storageGet(RECENT_KEY, []);
    return Array.isArray(list) ? list.filter(function (s) { return s && s.id; }) : [];
  }

  /* Add or update a session in the "recent sessions" list (newest first, max 12). */
  function rememberSession(session) {
    if (!session || !session.id) return;
    var list = getRecent();
    var existing = null;
    list = list.filter(function (s) {
      if (s.id === session.id) { existing = s; return false; }
      return true;
    });
    var entry = {
      id: session.id,
      scenario_title: session.scenario_title || (existing && existing.scenario_title) || 'Practice session',
      difficulty: session.difficulty || (existing && existing.difficulty) || null,
      status: session.status || (existing && existing.status) || 'active',
      created_at: session.created_at || (existing && existing.created_at) || new Date().toISOString(),
      display_name: session.display_name || (existing && existing.display_name) || ''
    };
    list.unshift(entry);
    storageSet(RECENT_KEY, list.slice(0, 12));
  }

  function forgetRecent() { storageSet(RECENT_KEY, []); }

  /* ---------- formatting ---------- */

  function formatDate(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    try {
      return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) { return d.toLocaleString(); }
  }

  function formatNumber(n, digits) {
    if (n == null || typeof n !== 'number' || !isFinite(n)) return null;
    var d = digits == null ? 1 : digits;
    var s = n.toFixed(d);
    if (s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
    return s;
  }

  /* The length the server checks against MAX_CHARS: it normalises text first (bot/text.py: Unicode NFKC; control,
     format and private-use characters dropped; runs of spaces collapsed, each line trimmed, at most one blank
     line in a row) and counts code points, so an emoji is one character and a ligature such as "\ufb01" two. */
  var DROPPED = /[\p{Cc}\p{Cf}\p{Co}]/gu;
  function serverText(text) {
    var s = String(text || '');
    if (s.normalize) s = s.normalize('NFKC');
    s = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g, '$1');  // lone surrogates
    s = s.replace(/\t/g, ' ').replace(DROPPED, function (c) { return c === '\n' ? c : ''; });
    return s.split('\n').map(function (line) { return line.replace(/[^\S\n]+/g, ' ').trim(); })
      .join('\n').replace(/\n{3,}/g, '\n\n').trim();
  }
  function charCount(text) { return Array.from(serverText(text)).length; }

  function capitalise(s) { s = String(s || ''); return s.charAt(0).toUpperCase() + s.slice(1); }

  /* ---------- acts, cues and their valence ---------- */

  var DIMENSIONS = [
    { key: 'empathy', label: 'Empathy' },
    { key: 'collaboration', label: 'Collaboration' },
    { key: 'shared_decision', label: 'Shared decision' }
  ];

  /* Costly acts/cues. "bad" = red (confront, persuade), "warn" = amber. */
  var BAD = { confront_blame: 1, confront: 1, persuade_warn: 1, persuade: 1, blame: 1 };
  var WARN = {
    jargon: 1, premature_reassurance: 1, reassurance: 1, advise_without_permission: 1,
    advice_without_permission: 1, advice: 1, rescue_take_over: 1, rescue: 1
  };
  var GOOD_ACTS = {
    open_question: 1, simple_reflection: 1, complex_reflection: 1, affirm_strength: 1,
    nurse_name: 1, nurse_understand: 1, nurse_respect: 1, nurse_support: 1, nurse_explore: 1,
    seek_collaboration: 1, emphasise_autonomy: 1, warning_shot: 1, perception_check: 1,
    invitation: 1, check_understanding: 1, summarise: 1, option_talk: 1, decision_talk: 1, team_talk: 1
  };

  function nameValence(name) {
    if (!name) return null;
    var n = String(name).replace(/^cue:/, '');
    if (BAD[n]) return 'bad';
    if (WARN[n]) return 'warn';
    if (GOOD_ACTS[n]) return 'good';
    return null;
  }

  /* Python counts offsets in code points; JS strings are UTF-16. Work in code points. */
  function resolveSpan(chars, text, span) {
    var len = chars.length;
    var start = typeof span.start === 'number' ? span.start : -1;
    var end = typeof span.end === 'number' ? span.end : -1;
    var want = typeof span.text === 'string' ? span.text : null;
    var ok = start >= 0 && end > start && end <= len;
    if (ok && want && chars.slice(start, end).join('') !== want) ok = false;
    if (ok) return { start: start, end: end };
    if (want) {
      // fall back to locating the quoted text
      var idx = text.indexOf(want);
      if (idx < 0) idx = text.toLowerCase().indexOf(want.toLowerCase());
      if (idx >= 0) {
        var cpStart = Array.from(text.slice(0, idx)).length;
        return { start: cpStart, end: cpStart + Array.from(want).length };
      }
    }
    if (start >= 0 && end > start) {
      end = Math.min(end, len);
      if (end > start) return { start: start, end: end };
    }
    return null;
  }

  /* Collect every highlightable span in a score with a valence and a label. */
  function collectSpans(text, score) {
    var chars = Array.from(String(text || ''));
    var spans = [];
    if (!score) return { chars: chars, spans: spans };
    var evidence = [];
    var dims = score.dimensions || {};
    Object.keys(dims).forEach(function (k) {
      var d = dims[k];
      (d && d.evidence || []).forEach(function (ev) { evidence.push(ev); });
    });

    function evidenceEffect(r, label) {
      var eff = null;
      evidence.forEach(function (ev) {
        var er = resolveSpan(chars, text, ev);
        if (!er) return;
        var overlaps = er.start < r.end && r.start < er.end;
        var sameLabel = label && ev.label && String(ev.label).toLowerCase() === String(label).toLowerCase();
        if ((er.start === r.start && er.end === r.end) || (sameLabel && overlaps)) {
          if (ev.effect === '-') eff = '-';
          else if (ev.effect === '+' && eff !== '-') eff = '+';
        }
      });
      return eff;
    }

    function add(item, kind, name) {
      var r = resolveSpan(chars, text, item);
      if (!r) return;
      var label = item.label || name || kind;
      var val = nameValence(name);
      var eff = evidenceEffect(r, label);
      if (eff === '-' && val !== 'bad') val = 'warn';
      else if (eff === '+' && !val) val = 'good';
      spans.push({ start: r.start, end: r.end, label: label, kind: kind, valence: val || 'neutral' });
    }

    (score.acts || []).forEach(function (a) { add(a, 'act', a.act); });
    (score.cues || []).forEach(function (c) { add(c, 'cue', c.cue); });
    evidence.forEach(function (ev) {
      var r = resolveSpan(chars, text, ev);
      if (!r) return;
      var covered = spans.some(function (s) { return s.start === r.start && s.end === r.end && s.label === ev.label; });
      if (covered) return;
      var val = ev.effect === '-' ? 'warn' : ev.effect === '+' ? 'good' : 'neutral';
      if (ev.effect === '-' && nameValence(String(ev.label || '').toLowerCase().replace(/\s+/g, '_')) === 'bad') val = 'bad';
      spans.push({ start: r.start, end: r.end, label: ev.label || 'Evidence', kind: 'evidence', valence: val });
    });
    return { chars: chars, spans: spans };
  }

  var RANK = { bad: 4, warn: 3, good: 2, neutral: 1 };
  var VALENCE_TEXT = { bad: 'costly', warn: 'costly', good: 'earned points', neutral: 'noted' };

  /* Render text with evidence spans highlighted; returns a <p> element. */
  function renderHighlighted(text, score, className) {
    var p = h('p', { class: className || 'highlighted-text' });
    var res = collectSpans(text, score);
    var chars = res.chars, spans = res.spans;
    if (!spans.length) { p.textContent = chars.join(''); return p; }
    var cuts = [0, chars.length];
    spans.forEach(function (s) { cuts.push(s.start, s.end); });
    cuts = cuts.filter(function (v, i, arr) { return arr.indexOf(v) === i; }).sort(function (a, b) { return a - b; });
    for (var i = 0; i < cuts.length - 1; i++) {
      var a = cuts[i], b = cuts[i + 1];
      if (b <= a) continue;
      var piece = chars.slice(a, b).join('');
      var covering = spans.filter(function (s) { return s.start <= a && s.end >= b; });
      if (!covering.length) { append(p, piece); continue; }
      var top = covering.reduce(function (m, s) { return RANK[s.valence] > RANK[m.valence] ? s : m; }, covering[0]);
      var labels = [];
      covering.forEach(function (s) {
        var l = s.label + ' (' + VALENCE_TEXT[s.valence] + ')';
        if (labels.indexOf(l) < 0) labels.push(l);
      });
      append(p, h('mark', { class: 'hl hl-' + top.valence, title: labels.join('; '), 'data-labels': labels.join('; ') }, piece));
    }
    return p;
  }

  function highlightLegend() {
    return h('p', { class: 'legend', 'aria-hidden': 'true' },
      h('span', { class: 'hl hl-good' }, 'earned points'), ' ',
      h('span', { class: 'hl hl-warn' }, 'cost points'), ' ',
      h('span', { class: 'hl hl-bad' }, 'confront / persuade'), ' ',
      h('span', { class: 'hl hl-neutral' }, 'noted'));
  }

  /* One dimension meter: score/max or n/a with the reason. */
  function dimensionMeter(label, dim, opts) {
    opts = opts || {};
    var applicable = dim && dim.applicable !== false && dim.score != null;
    var max = (dim && dim.max) || 4;
    var row = h('div', { class: 'dim' + (applicable ? '' : ' dim-na') });
    var value = applicable ? formatNumber(dim.score, 1) + '/' + max : 'n/a';
    row.appendChild(h('div', { class: 'dim-head' },
      h('span', { class: 'dim-label' }, label),
      h('span', { class: 'dim-value' }, value)));
    var pct = applicable ? Math.max(0, Math.min(100, (dim.score / max) * 100)) : 0;
    var bar = h('div', {
      class: 'meter', role: 'img',
      'aria-label': label + ': ' + (applicable ? formatNumber(dim.score, 1) + ' out of ' + max : 'not applicable')
    }, h('span', { class: 'meter-fill level-' + (applicable ? Math.round(dim.score / max * 4) : 'na') }));
    bar.firstChild.style.width = pct.toFixed(1) + '%';
    row.appendChild(bar);
    if (dim && dim.reason && opts.reason !== false) row.appendChild(h('p', { class: 'dim-reason' }, dim.reason));
    return row;
  }

  function actChips(score) {
    var wrap = h('ul', { class: 'chips', 'aria-label': 'Detected acts and cues' });
    var seen = {};
    (score.acts || []).forEach(function (a) {
      var key = 'a:' + (a.act || a.label);
      if (seen[key]) return; seen[key] = 1;
      wrap.appendChild(h('li', { class: 'chip chip-' + (nameValence(a.act) || 'neutral'), title: a.act || '' }, a.label || a.act));
    });
    (score.cues || []).forEach(function (c) {
      var key = 'c:' + (c.cue || c.label);
      if (seen[key]) return; seen[key] = 1;
      wrap.appendChild(h('li', { class: 'chip chip-cue chip-' + (nameValence(c.cue) || 'neutral'), title: 'cue: ' + (c.cue || '') }, c.label || c.cue));
    });
    if (!wrap.firstChild) wrap.appendChild(h('li', { class: 'chip chip-empty' }, 'No acts detected'));
    return wrap;
  }

  function tipBox(tip) {
    if (!tip || (!tip.text && !tip.alternative)) return null;
    return h('div', { class: 'tip' },
      tip.text ? h('p', { class: 'tip-text' }, tip.text) : null,
      tip.alternative ? h('p', { class: 'tip-alt' }, h('strong', null, 'Try instead: '), h('q', null, tip.alternative)) : null);
  }

  /* The full score card under a trainee turn. */
  function scoreCard(text, score, opts) {
    opts = opts || {};
    var card = h('section', { class: 'score-card' + (opts.compact ? ' compact' : ''), 'aria-label': 'Feedback on this reply' });
    var dims = score.dimensions || {};
    var meters = h('div', { class: 'dims' });
    DIMENSIONS.forEach(function (d) { meters.appendChild(dimensionMeter(d.label, dims[d.key])); });
    card.appendChild(meters);
    if (opts.showText !== false) {
      card.appendChild(h('h4', { class: 'card-sub' }, 'Your words, with the evidence'));
      card.appendChild(renderHighlighted(text, score));
      card.appendChild(highlightLegend());
    }
    card.appendChild(actChips(score));
    var t = tipBox(score.tip);
    if (t) card.appendChild(t);
    return card;
  }

  function scoreTotal(score) {
    if (!score || !score.dimensions) return null;
    var sum = 0, any = false;
    DIMENSIONS.forEach(function (d) {
      var dim = score.dimensions[d.key];
      if (dim && dim.applicable !== false && typeof dim.score === 'number') { sum += dim.score; any = true; }
    });
    return any ? sum : null;
  }

  global.Rapport = {
    MAX_CHARS: MAX_CHARS,
    DIMENSIONS: DIMENSIONS,
    escapeHtml: escapeHtml,
    h: h,
    append: append,
    clear: clear,
    qs: qs,
    api: api,
    newKey: newKey,
    showError: showError,
    hideError: hideError,
    initErrorNotice: initErrorNotice,
    getDisplayName: getDisplayName,
    setDisplayName: setDisplayName,
    getRecent: getRecent,
    rememberSession: rememberSession,
    forgetRecent: forgetRecent,
    formatDate: formatDate,
    formatNumber: formatNumber,
    charCount: charCount,
    capitalise: capitalise,
    renderHighlighted: renderHighlighted,
    highlightLegend: highlightLegend,
    dimensionMeter: dimensionMeter,
    actChips: actChips,
    tipBox: tipBox,
    scoreCard: scoreCard,
    scoreTotal: scoreTotal,
    nameValence: nameValence
  };
})(window);
