/* Rapport — home page: display name, scenario cards, recent sessions. */
(function () {
  'use strict';
  var R = window.Rapport;
  var h = R.h;

  var nameInput = document.getElementById('display-name');
  var list = document.getElementById('scenario-list');
  var busy = false;

  R.initErrorNotice();

  /* ----- display name ----- */
  nameInput.value = R.getDisplayName();
  nameInput.addEventListener('input', function () { R.setDisplayName(nameInput.value.trim()); });

  /* ----- health (quiet unless something is down) ----- */
  R.api('GET', '/api/health').then(function (res) {
    var box = document.getElementById('health-notice');
    if (res.ok && res.data && (res.data.rasa === false || res.data.actions === false)) {
      box.textContent = 'The simulated patient is offline at the moment. You can start a session, but replies may fail until it is back.';
      box.hidden = false;
    }
  });

  /* ----- scenarios ----- */
  function difficultyLabel(d) {
    if (d === 'gentle') return 'Gentle';
    if (d === 'hard') return 'Hard';
    return R.capitalise(d);
  }

  function scenarioCard(sc, i) {
    var id = 'sc-' + i;
    var patient = sc.patient || {};
    var diffs = Array.isArray(sc.difficulties) && sc.difficulties.length ? sc.difficulties : ['gentle'];
    var select = h('select', { id: id + '-difficulty', class: 'difficulty-select', name: 'difficulty' });
    diffs.forEach(function (d) { select.appendChild(h('option', { value: d }, difficultyLabel(d))); });
    var personas = Array.isArray(sc.personas) ? sc.personas : [];
    var personaSelect = null;
    if (personas.length > 1) {
      personaSelect = h('select', { id: id + '-persona', class: 'persona-select', name: 'persona' });
      personas.forEach(function (p) {
        personaSelect.appendChild(h('option', { value: p.id, title: p.summary || '' }, p.label || p.id));
      });
    }
    var exam = h('input', { type: 'checkbox', id: id + '-exam', class: 'exam-checkbox', name: 'exam_mode' });
    var start = h('button', { type: 'button', class: 'btn btn-primary start-button', 'aria-describedby': id + '-title' }, 'Start');

    var patientLine = [patient.name, patient.age != null ? String(patient.age) : null].filter(Boolean).join(', ');
    var goals = h('ul', { class: 'goals' });
    (sc.learning_goals || []).forEach(function (g) { goals.appendChild(h('li', null, g)); });
    var hasGoals = !!(sc.learning_goals && sc.learning_goals.length);

    // The card is short: title, one-line summary, who the patient is and the controls. The setting, the
    // patient's story and the learning goals open on demand (a native <details>: keyboard and screen-reader
    // friendly without any script).
    var details = (sc.setting || patient.summary || hasGoals) ? h('details', { class: 'card-details' },
      h('summary', null, 'Setting, patient and learning goals'),
      h('dl', { class: 'card-facts' },
        sc.setting ? [h('dt', null, 'Setting'), h('dd', { class: 'setting' }, sc.setting)] : null,
        patient.summary ? [h('dt', null, 'Patient'), h('dd', { class: 'patient' }, patient.summary)] : null),
      hasGoals ? h('div', { class: 'card-goals' }, h('h4', null, 'Learning goals'), goals) : null) : null;

    var card = h('article', { class: 'scenario-card', 'data-scenario-id': sc.id, 'aria-labelledby': id + '-title' },
      h('div', { class: 'card-top' },
        sc.theme ? h('span', { class: 'theme-tag' }, String(sc.theme).replace(/-/g, ' ')) : null,
        h('h3', { id: id + '-title', class: 'card-title' }, sc.title || sc.id)),
      sc.summary ? h('p', { class: 'card-summary' }, sc.summary) : null,
      patientLine ? h('p', { class: 'card-patient' }, h('span', { class: 'card-patient-label' }, 'Patient: '), patientLine) : null,
      details,
      h('div', { class: 'card-actions' },
        h('div', { class: 'field field-inline' }, h('label', { for: id + '-difficulty' }, 'Difficulty'), select),
        personaSelect ? h('div', { class: 'field field-inline' }, h('label', { for: id + '-persona' }, 'Persona'), personaSelect) : null,
        h('div', { class: 'check' }, exam, h('label', { for: id + '-exam' }, 'Exam mode (hide live scores)')),
        start));

    start.addEventListener('click', function () {
      startSession(sc, select.value, personaSelect ? personaSelect.value : null, exam.checked, start);
    });
    return card;
  }

  function startSession(sc, difficulty, persona, examMode, button) {
    if (busy) return;
    var name = nameInput.value.trim();
    if (!name) {
      R.showError('Please enter a display name before starting.');
      nameInput.focus();
      return;
    }
    R.setDisplayName(name);
    R.hideError();
    busy = true;
    var label = button.textContent;
    button.disabled = true;
    button.textContent = 'Starting…';
    R.api('POST', '/api/sessions', {
      display_name: name, scenario_id: sc.id, difficulty: difficulty, persona: persona || undefined,
      exam_mode: !!examMode
    }).then(function (res) {
      if (res.ok && res.data && res.data.session) {
        var s = res.data.session;
        if (!s.scenario_title) s.scenario_title = sc.title;
        R.rememberSession(s);
        window.location.href = 'session.html?id=' + encodeURIComponent(s.id);
        return;
      }
      busy = false;
      button.disabled = false;
      button.textContent = label;
      R.showError(res.error ? res.error.message : 'Could not start the session.');
    });
  }

  function loadScenarios() {
    R.api('GET', '/api/scenarios').then(function (res) {
      R.clear(list);
      list.setAttribute('aria-busy', 'false');
      if (!res.ok) {
        list.appendChild(h('div', { class: 'empty-state' },
          h('p', null, 'Could not load the scenarios: ' + (res.error ? res.error.message : 'unknown error')),
          h('button', { type: 'button', class: 'btn', onclick: function () { list.setAttribute('aria-busy', 'true'); loadScenarios(); } }, 'Try again')));
        return;
      }
      var scenarios = (res.data && res.data.scenarios) || [];
      if (!scenarios.length) {
        list.appendChild(h('p', { class: 'muted' }, 'No scenarios are available yet.'));
        return;
      }
      scenarios.forEach(function (sc, i) { list.appendChild(scenarioCard(sc, i)); });
    });
  }

  /* ----- recent sessions ----- */
  // The newest few are shown; the rest (up to the dozen remembered) open on demand, so the page stays short.
  var RECENT_SHOWN = 6;
  var showAllRecent = false;

  function renderRecent() {
    var ul = document.getElementById('recent-sessions');
    var empty = document.getElementById('recent-empty');
    var clearBtn = document.getElementById('clear-recent');
    R.clear(ul);
    var items = R.getRecent();
    empty.hidden = items.length > 0;
    clearBtn.hidden = items.length === 0;
    items.forEach(function (s, i) {
      var ended = s.status === 'ended';
      var meta = [R.formatDate(s.created_at), s.difficulty ? difficultyLabel(s.difficulty) : null, ended ? 'Ended' : 'In progress']
        .filter(Boolean).join(' · ');
      ul.appendChild(h('li', { class: 'recent-item' + (ended ? ' is-ended' : ''), hidden: !showAllRecent && i >= RECENT_SHOWN },
        h('div', { class: 'recent-info' },
          h('span', { class: 'recent-title' }, s.scenario_title || 'Practice session'),
          h('span', { class: 'recent-meta' }, meta)),
        // An active session offers Continue only: its report (concerns, debrief) would give the game away.
        ended
          ? h('div', { class: 'recent-links' },
            h('a', { class: 'btn btn-small btn-quiet', href: 'session.html?id=' + encodeURIComponent(s.id) }, 'Open chat'),
            h('a', { class: 'btn btn-small', href: 'report.html?id=' + encodeURIComponent(s.id) }, 'Report'))
          : h('div', { class: 'recent-links' },
            h('a', { class: 'btn btn-small', href: 'session.html?id=' + encodeURIComponent(s.id) }, 'Continue'))));
    });
    var more = document.getElementById('recent-more');
    var hiddenCount = Math.max(0, items.length - RECENT_SHOWN);
    more.hidden = hiddenCount === 0;
    more.setAttribute('aria-expanded', showAllRecent ? 'true' : 'false');
    more.textContent = showAllRecent ? 'Show fewer' : 'Show ' + hiddenCount + ' older session' + (hiddenCount === 1 ? '' : 's');
  }

  document.getElementById('recent-more').addEventListener('click', function () {
    showAllRecent = !showAllRecent;
    renderRecent();
  });

  document.getElementById('clear-recent').addEventListener('click', function () {
    R.forgetRecent();
    renderRecent();
  });

  renderRecent();
  loadScenarios();
})();
