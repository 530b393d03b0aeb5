/* Rapport — practice chat page. */
(function () {
  'use strict';
  var R = window.Rapport;
  var h = R.h;

  var sessionId = R.qs('id');
  var log = document.getElementById('chat-log');
  var input = document.getElementById('message-input');
  var sendBtn = document.getElementById('send-button');
  var hintBtn = document.getElementById('hint-button');
  var form = document.getElementById('composer');
  var counter = document.getElementById('char-counter');
  var limitLive = document.getElementById('limit-live');
  var examToggle = document.getElementById('exam-toggle');
  var endBtn = document.getElementById('end-session');
  var thinking = document.getElementById('thinking');

  var state = {
    session: null,
    scenario: null,
    turns: [],
    inFlight: false,
    ending: false,
    loaded: false,
    overLimit: false,
    retry: null,
    sendCount: 0  // bumped by every send, so a background re-read that started before it is dropped
  };
  var POLL_MS = 5000;

  R.initErrorNotice();

  function reportUrl() { return 'report.html?id=' + encodeURIComponent(sessionId || ''); }

  function isEnded() { return !!(state.session && state.session.status === 'ended'); }
  function examOn() { return !!(state.session && state.session.exam_mode); }

  function patientFirstName() {
    var p = state.scenario && state.scenario.patient;
    return p && p.name ? p.name : 'Patient';
  }

  /* ----- rendering ----- */

  function renderTurn(turn) {
    var speaker = turn.speaker === 'trainee' ? 'trainee' : turn.speaker === 'system' ? 'system' : 'patient';
    var flags = (turn.status === 'unanswered' ? ' unanswered' : '') + (turn.status === 'command' ? ' command' : '');
    var node = h('div', { class: 'turn ' + speaker + flags, 'data-index': turn.index });
    if (speaker === 'system') {
      node.appendChild(h('p', { class: 'system-text' }, turn.text));
      return node;
    }
    var who = speaker === 'trainee' ? 'You' : patientFirstName();
    node.appendChild(h('div', { class: 'speaker' }, who));
    node.appendChild(h('div', { class: 'bubble' }, h('p', { class: 'turn-text' }, turn.text)));
    if (speaker === 'trainee' && turn.status === 'unanswered') {
      node.appendChild(h('p', { class: 'turn-flag' }, 'Not answered — the patient was unavailable. Send it again when ready.'));
    }
    if (speaker === 'trainee' && turn.score && !examOn()) {
      node.appendChild(R.scoreCard(turn.text, turn.score));
    }
    return node;
  }

  // Puts a turn in the log once: a turn already shown (same index) is replaced in place, a new one appended.
  function placeTurn(turn) {
    var node = renderTurn(turn);
    var old = log.querySelector('.turn[data-index="' + turn.index + '"]');
    if (old) { log.replaceChild(node, old); return false; }
    var placeholder = log.querySelector('p.muted');
    if (placeholder && !log.querySelector('.turn')) log.removeChild(placeholder);
    var pending = log.querySelector('.pending-turn');
    if (pending) log.insertBefore(node, pending); else log.appendChild(node);
    return true;
  }

  function renderAll() {
    R.clear(log);
    if (!state.turns.length) {
      log.appendChild(h('p', { class: 'muted' }, 'No messages yet.'));
    }
    state.turns.forEach(function (t) { log.appendChild(renderTurn(t)); });
    renderHeader();
    updateControls();
  }

  function renderHeader() {
    var s = state.session || {};
    var title = s.scenario_title || (state.scenario && state.scenario.title) || 'Practice session';
    document.getElementById('scenario-title').textContent = title;
    document.title = title + ' — Rapport';
    var p = state.scenario && state.scenario.patient;
    var line = p ? 'With ' + [p.name, p.age != null ? String(p.age) : null].filter(Boolean).join(', ') : '';
    if (s.difficulty) line += (line ? ' · ' : '') + R.capitalise(s.difficulty);
    document.getElementById('patient-name').textContent = line;
    examToggle.checked = examOn();
    document.body.classList.toggle('exam-on', examOn());
    document.getElementById('exam-note').hidden = !examOn();

    var banner = document.getElementById('ended-banner');
    if (isEnded()) {
      document.getElementById('ended-reason').textContent = s.ended_by === 'patient'
        ? 'The patient brought the conversation to a close.'
        : s.ended_by === 'trainee' ? 'You ended this session.' : 'The session was ended.';
      document.getElementById('ended-report-link').setAttribute('href', reportUrl());
      banner.hidden = false;
      endBtn.textContent = 'View report';
    } else {
      banner.hidden = true;
      endBtn.textContent = 'End session';
    }
  }

  function updateControls() {
    var ended = isEnded();
    var ready = state.loaded && !ended;
    sendBtn.disabled = state.inFlight || !ready;
    hintBtn.disabled = state.inFlight || !ready;
    input.disabled = !ready;
    // Exam mode, once on, stays on until the session ends (the server refuses to switch it off).
    examToggle.disabled = !state.loaded || ended || examOn();
    endBtn.disabled = !state.loaded || state.ending || state.inFlight;  // never end under a message in flight
    sendBtn.setAttribute('aria-busy', state.inFlight ? 'true' : 'false');
    thinking.hidden = !state.inFlight;
    if (ended) input.placeholder = 'The conversation has ended.';
  }

  // The composer is sticky at the bottom of the window: scrolling a turn into view with the browser's own
  // "end" alignment would leave it under the message box, so scroll by what the composer covers.
  function scrollToEnd() {
    var target = state.inFlight ? thinking : log.lastElementChild;
    if (!target || !target.getBoundingClientRect) return;
    var limit = form.getBoundingClientRect().top - 12;  // a little air above the composer
    var by = target.getBoundingClientRect().bottom - limit;
    if (by <= 0) return;
    var reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    try { window.scrollBy({ top: by, behavior: reduce ? 'auto' : 'smooth' }); } catch (e) { window.scrollBy(0, by); }
  }

  /* ----- counter ----- */

  function updateCounter() {
    var n = R.charCount(input.value);
    counter.textContent = n + ' / ' + R.MAX_CHARS;
    var over = n > R.MAX_CHARS;
    counter.classList.toggle('over', over);
    counter.classList.toggle('near', !over && n > R.MAX_CHARS * 0.9);
    if (over !== state.overLimit) {
      limitLive.textContent = over ? 'Your message is over the ' + R.MAX_CHARS + '-character limit.' : '';
      state.overLimit = over;
    }
  }

  /* ----- loading ----- */

  function loadScenario() {
    if (!state.session || state.scenario) return Promise.resolve();
    return R.api('GET', '/api/scenarios').then(function (res) {
      if (!res.ok || !res.data) return;
      var found = (res.data.scenarios || []).filter(function (sc) { return sc.id === state.session.scenario_id; })[0];
      if (found) state.scenario = found;
    });
  }

  function loadSession(opts) {
    opts = opts || {};
    return R.api('GET', '/api/sessions/' + encodeURIComponent(sessionId)).then(function (res) {
      if (!res.ok) {
        if (!state.loaded) {
          R.clear(log);
          log.appendChild(h('div', { class: 'empty-state' },
            h('p', null, res.error.message),
            h('p', null, h('a', { href: './' }, 'Back to the scenario list'))));
        }
        R.showError(res.error.message);
        return false;
      }
      state.session = res.data.session;
      state.turns = res.data.turns || [];
      state.loaded = true;
      R.rememberSession(state.session);
      return loadScenario().then(function () {
        renderAll();
        if (opts.scroll !== false) scrollToEnd();
        return true;
      });
    });
  }

  /* ----- sending ----- */

  // `command` sends an app command (the Hint button) without touching what the trainee has typed.
  function send(command) {
    if (state.inFlight || !state.loaded || isEnded()) return;
    var text = typeof command === 'string' ? command : input.value;
    if (!text.trim()) {
      R.showError('Type a reply before sending.');
      input.focus();
      return;
    }
    R.hideError();
    state.inFlight = true;
    state.sendCount += 1;
    var pending = h('div', { class: 'pending-turn', 'aria-label': 'Your message, sending' },
      h('div', { class: 'speaker' }, 'You'),
      h('div', { class: 'bubble' }, h('p', { class: 'turn-text' }, text)),
      h('p', { class: 'turn-flag' }, 'Sending…'));
    var placeholder = log.querySelector('.muted');
    if (placeholder && !log.querySelector('.turn')) log.removeChild(placeholder);
    log.appendChild(pending);
    updateControls();
    scrollToEnd();

    // One idempotency key per message: a retry of the same text after a failure reuses it, so the server
    // stores the message once and hands back the first answer if it already exists.
    if (!state.retry || state.retry.text !== text) state.retry = { text: text, key: R.newKey() };
    var key = state.retry.key;
    postMessage(text, key, 2).then(function (res) {
      state.inFlight = false;
      if (pending.parentNode) pending.parentNode.removeChild(pending);
      if (res.ok && res.data) {
        var d = res.data;
        state.retry = null;
        if (d.session) state.session = d.session;
        [d.trainee_turn, d.patient_turn, d.system_turn].forEach(function (t) {
          if (!t) return;
          state.turns = state.turns.filter(function (x) { return x.index !== t.index; });
          state.turns.push(t);
          placeTurn(t);
        });
        if (typeof command !== 'string' && input.value === text) input.value = '';
        updateCounter();
        R.rememberSession(state.session);
        renderHeader();
        updateControls();
        scrollToEnd();
        if (!isEnded()) input.focus();
        return;
      }
      // Error: keep the typed text (and its key) so it can be re-sent.
      var code0 = res.error.code;
      if (code0 === 'message_superseded' || code0 === 'idempotency_key_reused') state.retry = null;
      R.showError(res.error.message);
      updateControls();
      var code = res.error.code;
      if (code === 'patient_unavailable' || code === 'session_ended' || code === 'unknown_session') {
        loadSession({ scroll: true });
      }
      if (!isEnded()) input.focus();
    });
  }

  // A network failure or a 503 is retried with the same key: the server may have the message, or even its
  // answer, already; the same key never stores it twice and hands back the answer if there is one.
  function postMessage(text, key, retriesLeft) {
    var path = '/api/sessions/' + encodeURIComponent(sessionId) + '/messages';
    return R.api('POST', path, { text: text }, { 'Idempotency-Key': key }).then(function (res) {
      var retriable = res.status === 0 || res.status === 503;
      if (res.ok || !retriable || retriesLeft <= 0) return res;
      return new Promise(function (resolve) { setTimeout(resolve, res.status === 503 ? 3000 : 1000); }).then(function () {
        return postMessage(text, key, retriesLeft - 1);
      });
    });
  }

  form.addEventListener('submit', function (e) { e.preventDefault(); send(); });
  // The Hint button sends the documented command "/hint"; typed words always go to the patient.
  hintBtn.addEventListener('click', function () { send('/hint'); });

  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  input.addEventListener('input', updateCounter);

  /* ----- exam mode ----- */

  examToggle.addEventListener('change', function () {
    var want = examToggle.checked;
    examToggle.disabled = true;
    R.api('PATCH', '/api/sessions/' + encodeURIComponent(sessionId), { exam_mode: want }).then(function (res) {
      if (!res.ok) {
        examToggle.checked = !want;
        R.showError(res.error.message);
        updateControls();
        return;
      }
      if (res.data && res.data.session) state.session = res.data.session;
      else state.session.exam_mode = want;
      R.hideError();
      // Re-read the history: turning exam mode off brings the scores back.
      loadSession({ scroll: false }).then(function () { examToggle.focus(); });
    });
  });

  /* ----- end ----- */

  // Ending is final, so it asks first: an inline confirmation (no browser dialog), focus on its button.
  var confirmBar = null;
  function closeConfirm() {
    if (confirmBar && confirmBar.parentNode) confirmBar.parentNode.removeChild(confirmBar);
    confirmBar = null;
    endBtn.focus();
  }
  function askToEnd() {
    if (confirmBar) { document.getElementById('end-confirm').focus(); return; }
    confirmBar = h('div', { class: 'end-confirm', role: 'alertdialog', 'aria-labelledby': 'end-confirm-text' },
      h('p', { id: 'end-confirm-text' },
        'End this session? The patient leaves, you cannot add more replies, and your report opens.'),
      h('button', { type: 'button', id: 'end-confirm', class: 'btn btn-primary', onclick: function () {
        if (confirmBar && confirmBar.parentNode) confirmBar.parentNode.removeChild(confirmBar);
        confirmBar = null;
        endNow();
      } }, 'End session'),
      h('button', { type: 'button', id: 'end-cancel', class: 'btn', onclick: closeConfirm }, 'Keep practising'));
    log.parentNode.insertBefore(confirmBar, log);
    document.getElementById('end-confirm').focus();
  }

  endBtn.addEventListener('click', function () {
    if (isEnded()) { window.location.href = reportUrl(); return; }
    if (state.ending) return;
    askToEnd();
  });

  function endNow() {
    if (state.ending || isEnded()) return;
    state.ending = true;
    updateControls();
    endBtn.textContent = 'Ending…';
    R.api('POST', '/api/sessions/' + encodeURIComponent(sessionId) + '/end').then(function (res) {
      if (res.ok || (res.error && res.error.code === 'session_ended')) {
        if (state.session) { state.session.status = 'ended'; R.rememberSession(state.session); }
        window.location.href = reportUrl();
        return;
      }
      state.ending = false;
      endBtn.textContent = 'End session';
      updateControls();
      R.showError(res.error.message);
    });
  }

  /* ----- catching up: another tab, or a page restored by the Back button ----- */

  function turnChanged(a, b) {
    return a.status !== b.status || a.text !== b.text || !!a.score !== !!b.score;
  }

  // Re-reads the session and shows what changed since (new turns, an answer that arrived, the end, exam
  // mode) without re-rendering the log: turns already shown stay, so nothing is announced twice.
  var refreshing = false;
  function refresh() {
    if (!sessionId || !state.loaded || refreshing || state.inFlight || state.ending) return Promise.resolve(false);
    refreshing = true;
    var sends = state.sendCount;
    return R.api('GET', '/api/sessions/' + encodeURIComponent(sessionId)).then(function (res) {
      refreshing = false;
      // A message sent meanwhile brings its own turns; this older picture of the session would fight it.
      if (!res.ok || !res.data || state.inFlight || state.ending || sends !== state.sendCount) return false;
      var byIndex = {};
      state.turns.forEach(function (t) { byIndex[t.index] = t; });
      var added = false;
      var examBefore = examOn();
      state.session = res.data.session;
      (res.data.turns || []).forEach(function (t) {
        var known = byIndex[t.index];
        if (known && !turnChanged(known, t)) return;
        if (placeTurn(t)) added = true;
      });
      state.turns = res.data.turns || [];
      if (examBefore !== examOn()) renderAll();  // exam mode switched elsewhere: scores come or go
      R.rememberSession(state.session);
      renderHeader();
      updateControls();
      if (added) scrollToEnd();
      return added;
    }, function () { refreshing = false; return false; });
  }

  function pageVisible() { return document.visibilityState !== 'hidden'; }

  document.addEventListener('visibilitychange', function () {
    if (pageVisible() && !isEnded()) refresh();
  });
  window.setInterval(function () {
    if (pageVisible() && !isEnded()) refresh();
  }, POLL_MS);

  // A page the browser restores from its back-forward cache keeps the state it had when it was left, for
  // example "Ending…" on its way to the report. Start again from what the server knows.
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted || !sessionId) return;
    refreshing = false;
    state.ending = false;
    state.inFlight = false;
    var pending = log.querySelector('.pending-turn');
    if (pending) log.removeChild(pending);
    if (confirmBar && confirmBar.parentNode) confirmBar.parentNode.removeChild(confirmBar);
    confirmBar = null;
    loadSession().then(function (ok) {
      updateCounter();
      if (ok && !isEnded()) input.focus();
      else if (ok) endBtn.focus();
    });
  });

  /* ----- start ----- */

  updateCounter();
  updateControls();
  if (!sessionId) {
    R.clear(log);
    log.appendChild(h('div', { class: 'empty-state' },
      h('p', null, 'No session was given.'),
      h('p', null, h('a', { href: './' }, 'Choose a scenario to start practising'))));
    R.showError('This page needs a session id. Start a session from the home page.');
  } else {
    loadSession().then(function (ok) { if (ok && !isEnded()) input.focus(); });
  }
})();
