/* Rapport — session report page. */
(function () {
  'use strict';
  var R = window.Rapport;
  var h = R.h;

  var sessionId = R.qs('id');
  var root = document.getElementById('report');

  R.initErrorNotice();
  document.getElementById('print-button').addEventListener('click', function () { window.print(); });
  if (sessionId) document.getElementById('chat-link').setAttribute('href', 'session.html?id=' + encodeURIComponent(sessionId));
  else document.getElementById('chat-link').hidden = true;

  var MITI_NOTE = 'Expert-opinion benchmarks from the MITI 4.2.1 manual, not norms.';

  function section(id, title, intro) {
    return h('section', { id: id, class: 'report-section', 'aria-labelledby': id + '-heading' },
      h('h2', { id: id + '-heading' }, title),
      intro ? h('p', { class: 'section-intro muted' }, intro) : null);
  }

  // A wide table scrolls sideways inside its own box on a narrow screen, never the whole page; the box can be
  // focused so it can be scrolled from the keyboard too.
  function tableScroll(table, label) {
    return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': label + ' (scrolls sideways)' }, table);
  }

  // Turns are the trainee's own count (their first reply is turn 1); the transcript anchors them as #turn-N.
  function turnLink(turn) {
    if (turn == null) return null;
    return h('a', { href: '#turn-' + turn, class: 'turn-ref' }, 'turn ' + turn);
  }

  /* ----- header ----- */
  function renderHeader(rep) {
    var s = rep.session || {};
    var sc = rep.scenario || {};
    var p = sc.patient || {};
    var title = sc.title || s.scenario_title || 'Practice session';
    document.title = 'Report: ' + title + ' — Rapport';
    var facts = h('dl', { class: 'report-facts' });
    // Each label and its value share a box (a <div> in the <dl>), so the grid keeps the value under its label.
    function fact(k, v) { if (v) facts.appendChild(h('div', { class: 'fact' }, h('dt', null, k), h('dd', null, v))); }
    fact('Trainee', s.display_name);
    fact('Patient', [p.name, p.age != null ? String(p.age) : null].filter(Boolean).join(', '));
    fact('Difficulty', s.difficulty ? R.capitalise(s.difficulty) : null);
    var persona = (sc.personas || []).filter(function (x) { return x.id === rep.persona; })[0];
    fact('Persona', persona && (sc.personas || []).length > 1 ? persona.label : null);
    fact('Started', R.formatDate(s.created_at));
    var endedText = s.status === 'ended'
      ? (R.formatDate(s.ended_at) || 'Yes') + (s.ended_by === 'patient' ? ' (natural close)' : s.ended_by === 'trainee' ? ' (by you)' : '')
      : 'Still in progress';
    fact('Ended', endedText);
    fact('Exam mode', s.exam_mode ? 'On' : 'Off');
    return h('header', { class: 'report-header' },
      h('p', { class: 'eyebrow' }, 'Session report'),
      h('h1', null, title),
      sc.setting ? h('p', { class: 'muted setting' }, sc.setting) : null,
      facts);
  }

  /* ----- which instruments judge this scenario ----- */
  function renderInstruments(rep) {
    var list = rep.instruments || [];
    if (!list.length) return null;
    var used = list.filter(function (x) { return x.applies; });
    var unused = list.filter(function (x) { return !x.applies; });
    var box = h('div', { id: 'instruments', class: 'instruments' });
    box.appendChild(h('p', null, h('strong', null, 'Judged by: '),
      used.map(function (x) { return x.label; }).join('; ') || 'the scores below'));
    if (unused.length) {
      var ul = h('ul', { class: 'instruments-unused' });
      unused.forEach(function (x) {
        ul.appendChild(h('li', { 'data-instrument': x.id }, h('strong', null, x.label + ': '), 'not used here. ', x.why_not || ''));
      });
      box.appendChild(ul);
    }
    return box;
  }

  /* ----- outcome ----- */
  function renderOutcome(rep) {
    var sec = section('outcome', 'Outcome');
    sec.appendChild(h('p', { class: 'outcome-text' }, rep.outcome || 'No outcome recorded.'));
    return sec;
  }

  /* ----- dimensions ----- */
  function renderDimensions(rep) {
    var sec = section('dimensions', 'Scores across the session', 'Mean score per dimension over the turns where it applied (0–4).');
    var grid = h('div', { class: 'dims dims-report' });
    var dims = rep.dimensions || {};
    R.DIMENSIONS.forEach(function (d) {
      var dim = dims[d.key] || {};
      var applicable = typeof dim.mean === 'number' && (dim.turns == null || dim.turns > 0);
      var meter = R.dimensionMeter(d.label, { score: applicable ? dim.mean : null, max: dim.max || 4, applicable: applicable }, { reason: false });
      meter.appendChild(h('p', { class: 'dim-reason' },
        applicable ? 'Mean over ' + dim.turns + ' turn' + (dim.turns === 1 ? '' : 's') : 'Not applicable in this session'));
      grid.appendChild(meter);
    });
    sec.appendChild(grid);
    return sec;
  }

  /* ----- MITI ----- */
  function bandBadge(band) {
    if (!band) return h('span', { class: 'band band-none' }, 'not enough data');
    var cls = band === 'good' ? 'band-good' : band === 'fair' ? 'band-fair' : 'band-below';
    var sym = band === 'good' ? '● ' : band === 'fair' ? '◐ ' : '○ ';
    return h('span', { class: 'band ' + cls }, h('span', { 'aria-hidden': 'true' }, sym), band);
  }

  function instrument(rep, id) {
    return (rep.instruments || []).filter(function (x) { return x.id === id; })[0] || {};
  }

  // Where MITI is not the scenario's yardstick, only its counts are shown: no thresholds, no band.
  function renderMitiCounts(rep) {
    var m = rep.miti || {};
    var sec = section('miti', 'Questions and reflections', 'Counts of MITI behaviour codes in your replies, for information.');
    var counts = h('ul', { class: 'count-list' });
    [['Questions', m.questions], ['Open questions', m.open_questions], ['Simple reflections', m.simple_reflections],
      ['Complex reflections', m.complex_reflections]].forEach(function (c) {
      counts.appendChild(h('li', null, h('span', { class: 'count-num' }, c[1] != null ? String(c[1]) : '—'), ' ', c[0]));
    });
    sec.appendChild(counts);
    var why = instrument(rep, 'miti').why_not;
    if (why) sec.appendChild(h('p', { class: 'benchmark-note' }, why));
    return sec;
  }

  function renderMiti(rep) {
    var m = rep.miti || {};
    if (m.applies === false) return renderMitiCounts(rep);
    var bands = m.bands || {};
    var th = m.thresholds || {};
    var sec = section('miti', 'MI-style summary (MITI)');
    var rtqTh = th.reflection_to_question || {};
    var pcTh = th.percent_complex || {};
    function ratio(v) { var s = R.formatNumber(v, 2); return s == null ? '—' : s + ' : 1'; }
    function pct(v) { var s = R.formatNumber(v, 1); return s == null ? '—' : s + '%'; }

    var rtqVal = R.formatNumber(m.reflection_to_question, 2);
    var pcVal = R.formatNumber(m.percent_complex, 1);
    var rows = [
      ['Reflection-to-question ratio', rtqVal == null ? 'n/a' : rtqVal + ' : 1', ratio(rtqTh.fair), ratio(rtqTh.good), bandBadge(bands.reflection_to_question)],
      ['% complex reflections', pcVal == null ? 'n/a' : pcVal + '%', pct(pcTh.fair), pct(pcTh.good), bandBadge(bands.percent_complex)],
      ['MI-adherent (seek collaboration, affirm, emphasise autonomy)', String(m.mi_adherent != null ? m.mi_adherent : '—'), '—', '—',
        h('span', { class: 'band band-none' }, 'count; higher is better')],
      ['MI-non-adherent (confront, persuade)', String(m.mi_non_adherent != null ? m.mi_non_adherent : '—'), '—', '—',
        h('span', { class: 'band band-none' }, 'count; lower is better')]
    ];
    // Rapport's session figure (docs/scoring.md, section 4), then MI consistency, which only describes.
    if (m.session_quality != null) {
      rows.push(['Session quality: share of your coded moves that were not telling (not confronting, persuading, directing or giving information), 0 to 1 (Rapport\'s session figure, not a MITI score)',
        R.formatNumber(m.session_quality, 2) || '—', '—', '—',
        h('span', { class: 'band band-none', title: '1 − (MI-non-adherent + information) ÷ coded acts; its agreement with expert session ratings is in docs/scoring.md' }, 'higher is better')]);
    }
    if (m.mi_consistency != null) {
      rows.push(['MI consistency: net share of coded acts that is MI-consistent, -1 to 1 (descriptive, not a MITI score)', R.formatNumber(m.mi_consistency, 2) || '—', '—', '—',
        h('span', { class: 'band band-none', title: '(reflections + MI-adherent − MI-non-adherent) ÷ coded acts' }, 'higher is better')]);
    }
    var tbody = h('tbody');
    rows.forEach(function (r) {
      tbody.appendChild(h('tr', null, h('th', { scope: 'row' }, r[0]), h('td', { class: 'num' }, r[1]),
        h('td', { class: 'num' }, r[2]), h('td', { class: 'num' }, r[3]), h('td', null, r[4])));
    });
    var table = h('table', { class: 'data-table miti-table' },
      h('caption', null, 'Benchmarks: ' + MITI_NOTE),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Metric'), h('th', { scope: 'col', class: 'num' }, 'You'),
        h('th', { scope: 'col', class: 'num' }, 'Fair'), h('th', { scope: 'col', class: 'num' }, 'Good'),
        h('th', { scope: 'col' }, 'Band'))),
      tbody);
    sec.appendChild(tableScroll(table, 'MITI table'));

    var counts = h('ul', { class: 'count-list' });
    [['Questions', m.questions], ['Open questions', m.open_questions], ['Simple reflections', m.simple_reflections],
      ['Complex reflections', m.complex_reflections]].forEach(function (c) {
      counts.appendChild(h('li', null, h('span', { class: 'count-num' }, c[1] != null ? String(c[1]) : '—'), ' ', c[0]));
    });
    sec.appendChild(counts);
    sec.appendChild(h('p', { class: 'benchmark-note' },
      h('strong', null, 'Note: '), 'these thresholds are expert-opinion benchmarks from the MITI 4.2.1 manual, not norms.',
      m.note && m.note.indexOf('not norms') < 0 ? ' ' + m.note : null,
      ' Automated coding is least reliable at telling simple from complex reflections.'));
    return sec;
  }

  /* ----- SPIKES ----- */
  var SPIKES_STATUS = {
    done: { sym: '✓', text: 'Done', cls: 'st-done' },
    missed: { sym: '✗', text: 'Missed', cls: 'st-missed' },
    out_of_order: { sym: '⚠', text: 'Out of order', cls: 'st-order' }
  };

  function renderSpikes(rep) {
    var sec = section('spikes', 'SPIKES checklist', 'Steps for breaking difficult news (Baile, Buckman et al., 2000): presence and order.');
    var items = rep.spikes || [];
    if (!items.length) {
      sec.appendChild(h('p', { class: 'muted' }, 'SPIKES does not apply to this scenario.'));
      return sec;
    }
    var ol = h('ol', { class: 'checklist' });
    items.forEach(function (it) {
      var st = SPIKES_STATUS[it.status] || { sym: '?', text: it.status || 'Unknown', cls: 'st-unknown' };
      ol.appendChild(h('li', { class: 'check-item ' + st.cls, 'data-step': it.step || '' },
        h('span', { class: 'check-sym', 'aria-hidden': 'true' }, st.sym),
        h('div', { class: 'check-body' },
          h('p', { class: 'check-label' }, h('span', { class: 'check-status' }, st.text + ': '), it.label || it.step,
            it.turn != null ? [' (', turnLink(it.turn), ')'] : null),
          it.note ? h('p', { class: 'check-note' }, it.note) : null)));
    });
    sec.appendChild(ol);
    return sec;
  }

  /* ----- the scenario's own rubric (OPTION-5, MITI, stances, repair, persona fit, SPIKES extras) ----- */
  var RUBRIC_STATUS = {
    done: { sym: '✓', text: 'Done', cls: 'st-done' },
    good: { sym: '✓', text: 'Good', cls: 'st-done' },
    fair: { sym: '~', text: 'Fair', cls: 'st-order' },
    poor: { sym: '✗', text: 'Needs work', cls: 'st-missed' },
    missed: { sym: '✗', text: 'Missed', cls: 'st-missed' },
    out_of_order: { sym: '⚠', text: 'Out of order', cls: 'st-order' },
    info: { sym: '·', text: '', cls: 'st-info' }
  };

  function renderRubric(rep) {
    var rb = rep.rubric;
    var sec = section('rubric', rb && rb.title ? rb.title : 'Scenario rubric', rb && rb.note ? rb.note : null);
    if (!rb || !(rb.items || []).length) { sec.appendChild(h('p', { class: 'muted' }, 'No rubric for this scenario.')); return sec; }
    if (rb.ending) {
      sec.appendChild(h('p', { class: 'rubric-ending ' + (rb.ending.good ? 'st-done' : 'st-missed') },
        h('strong', null, 'Ending: '), rb.ending.outcome || rb.ending.id));
    }
    var body = h('tbody');
    var spikesShown = (rep.spikes || []).length > 0;
    rb.items.forEach(function (it) {
      if (spikesShown && it.section === 'spikes') return;  // the SPIKES checklist above shows these steps
      var st = RUBRIC_STATUS[it.status] || RUBRIC_STATUS.info;
      var value = it.turn != null ? turnLink(it.turn) : it.value == null ? '—' : String(it.value);
      body.appendChild(h('tr', { class: 'rubric-row ' + st.cls, 'data-key': it.key },
        h('th', { scope: 'row' }, it.label, it.note ? h('span', { class: 'check-note' }, ' ' + it.note) : null),
        h('td', { class: 'rubric-value' }, value),
        h('td', { class: 'rubric-status' }, h('span', { class: 'check-sym', 'aria-hidden': 'true' }, st.sym), ' ', st.text)));
    });
    sec.appendChild(tableScroll(h('table', { class: 'data-table rubric-table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Status'))),
      body), 'Rubric table'));
    return sec;
  }

  /* ----- debrief: teaching points, turning points, sources ----- */
  function renderDebrief(rep) {
    var d = rep.debrief || {};
    var sec = section('debrief', 'Debrief', 'What an expert would want you to take away from this scenario.');
    if (!(d.teaching_points || []).length && !(d.turning_points || []).length) {
      sec.appendChild(h('p', { class: 'muted' }, 'No debrief for this scenario.'));
      return sec;
    }
    if ((d.teaching_points || []).length) {
      var tp = h('ul', { class: 'debrief-points' });
      d.teaching_points.forEach(function (p) { tp.appendChild(h('li', null, p)); });
      sec.appendChild(h('h3', null, 'Teaching points'));
      sec.appendChild(tp);
    }
    if ((d.turning_points || []).length) {
      var dl = h('dl', { class: 'turning-points' });
      d.turning_points.forEach(function (p) {
        dl.appendChild(h('dt', null, p.moment));
        dl.appendChild(h('dd', null, p.expert));
      });
      sec.appendChild(h('h3', null, 'Turning points: what an expert does'));
      sec.appendChild(dl);
    }
    if ((d.sources || []).length) {
      var src = h('ol', { class: 'sources' });
      d.sources.forEach(function (p) { src.appendChild(h('li', null, p)); });
      sec.appendChild(h('h3', null, 'Sources'));
      sec.appendChild(src);
    }
    return sec;
  }

  /* ----- hidden concerns ----- */
  function renderConcerns(rep) {
    var sec = section('concerns', 'Hidden concerns', 'What the patient was holding back, and whether the conversation made room for it.');
    var items = rep.concerns || [];
    if (!items.length) { sec.appendChild(h('p', { class: 'muted' }, 'This scenario has no hidden concerns.')); return sec; }
    var ul = h('ul', { class: 'checklist' });
    items.forEach(function (c) {
      ul.appendChild(h('li', { class: 'check-item ' + (c.revealed ? 'st-done' : 'st-missed') },
        h('span', { class: 'check-sym', 'aria-hidden': 'true' }, c.revealed ? '✓' : '✗'),
        h('div', { class: 'check-body' },
          h('p', { class: 'check-label' }, h('span', { class: 'check-status' }, c.revealed ? 'Revealed: ' : 'Missed: '), c.summary))));
    });
    sec.appendChild(ul);
    return sec;
  }

  /* ----- strongest / weakest ----- */
  function highlightCard(kind, t) {
    var title = kind === 'strongest' ? 'Strongest turn' : 'Weakest turn';
    var card = h('div', { class: 'moment moment-' + kind, id: kind + '-turn' }, h('h3', null, title));
    // The scores on the dimensions that applied to this turn (turns are compared on those, n/a left out).
    var parts = R.DIMENSIONS.filter(function (d) { return t.scores && t.scores[d.key]; }).map(function (d) {
      return d.label + ' ' + t.scores[d.key].score + '/' + t.scores[d.key].max;
    });
    card.appendChild(h('p', { class: 'moment-meta' }, turnLink(t.turn), parts.length ? ' · ' + parts.join(', ') : null));
    card.appendChild(h('blockquote', { class: 'moment-text' }, t.text));
    // The turn's own tip, as the trainee saw it: after a good move it names the next one, after a poor one a
    // better reply, so the tip's words say which (no label here claims more than the tip does).
    if (t.tip) card.appendChild(h('p', { class: 'tip-text' }, t.tip));
    if (t.alternative) card.appendChild(h('p', { class: 'tip-alt' }, h('strong', null, 'Try: '), h('q', null, t.alternative)));
    return card;
  }

  // Two different turns, or one card when only one reply was scored: a turn is never both.
  function renderMoments(rep) {
    var sec = section('moments', 'Strongest and weakest moments');
    if (!rep.strongest) {
      sec.appendChild(h('p', { class: 'muted' }, 'No reply was scored, so there is no strongest or weakest turn.'));
      return sec;
    }
    var grid = h('div', { class: 'moments' }, highlightCard('strongest', rep.strongest));
    if (rep.weakest) grid.appendChild(highlightCard('weakest', rep.weakest));
    else grid.appendChild(h('p', { class: 'muted moment-single' }, 'Only one reply was scored, so there is no weakest turn to set against it.'));
    sec.appendChild(grid);
    if (rep.weakest && rep.weakest.total === rep.strongest.total) {
      sec.appendChild(h('p', { class: 'muted' }, 'All your scored replies had the same total; these are the first two.'));
    }
    return sec;
  }

  /* ----- transcript ----- */
  function renderTranscript(rep) {
    var sec = section('transcript', 'Transcript', 'Your replies with the evidence highlighted and their scores.');
    sec.appendChild(R.highlightLegend());
    var patientName = rep.scenario && rep.scenario.patient && rep.scenario.patient.name;
    var list = h('div', { class: 'transcript-list' });
    (rep.transcript || []).forEach(function (turn) {
      var speaker = turn.speaker === 'trainee' ? 'trainee' : turn.speaker === 'system' ? 'system' : 'patient';
      // A trainee reply is anchored and labelled by its turn number (1, 2, 3...); other lines by position only.
      var numbered = speaker === 'trainee' && turn.turn != null;
      var node = h('div', {
        class: 'turn ' + speaker + (turn.status === 'unanswered' ? ' unanswered' : '') + (turn.status === 'command' ? ' command' : ''),
        id: numbered ? 'turn-' + turn.turn : 'line-' + turn.index, 'data-index': turn.index, 'data-turn': numbered ? turn.turn : null
      });
      if (speaker === 'system') {
        node.appendChild(h('p', { class: 'system-text' }, turn.text));
        list.appendChild(node);
        return;
      }
      var who = speaker === 'trainee' ? 'You' : (patientName || 'Patient');
      node.appendChild(h('div', { class: 'speaker' }, who,
        numbered ? h('span', { class: 'turn-no' }, ' · turn ' + turn.turn) : null,
        turn.status === 'command' ? h('span', { class: 'turn-no' }, ' · to the app') : null));
      var bubble = h('div', { class: 'bubble' });
      if (speaker === 'trainee' && turn.score) bubble.appendChild(R.renderHighlighted(turn.text, turn.score, 'turn-text highlighted-text'));
      else bubble.appendChild(h('p', { class: 'turn-text' }, turn.text));
      node.appendChild(bubble);
      if (speaker === 'trainee' && turn.status === 'unanswered') node.appendChild(h('p', { class: 'turn-flag' }, 'Not answered by the patient.'));
      if (speaker === 'trainee' && turn.score) node.appendChild(R.scoreCard(turn.text, turn.score, { compact: true, showText: false }));
      list.appendChild(node);
    });
    if (!list.firstChild) list.appendChild(h('p', { class: 'muted' }, 'No turns.'));
    sec.appendChild(list);
    return sec;
  }

  function render(rep) {
    R.clear(root);
    root.setAttribute('aria-busy', 'false');
    if (rep.session) R.rememberSession(Object.assign({}, rep.session, {
      scenario_title: rep.session.scenario_title || (rep.scenario && rep.scenario.title)
    }));
    root.appendChild(renderHeader(rep));
    if (rep.in_progress) {
      // No spoilers while the session runs: only the transcript so far, and the way back to the chat.
      root.appendChild(h('div', { class: 'notice notice-info in-progress' },
        h('p', null, 'This session is still in progress. The full report (outcome, rubric, hidden concerns and ' +
          'debrief) opens when the session ends.'),
        h('a', { class: 'btn btn-primary', href: 'session.html?id=' + encodeURIComponent(sessionId) }, 'Continue the session')));
      root.appendChild(renderTranscript(rep));
      return;
    }
    var judged = renderInstruments(rep);
    root.appendChild(renderOutcome(rep));
    if (judged) root.lastChild.appendChild(judged);
    root.appendChild(renderDimensions(rep));
    root.appendChild(renderMoments(rep));
    if ((rep.spikes || []).length) root.appendChild(renderSpikes(rep));
    root.appendChild(renderRubric(rep));
    root.appendChild(renderConcerns(rep));
    root.appendChild(renderMiti(rep));
    root.appendChild(renderDebrief(rep));
    root.appendChild(renderTranscript(rep));
    root.appendChild(h('p', { class: 'report-foot no-print' },
      h('a', { class: 'btn', href: './' }, 'Back to home — practise again')));
  }

  function fail(message) {
    R.clear(root);
    root.setAttribute('aria-busy', 'false');
    root.appendChild(h('div', { class: 'empty-state' }, h('p', null, message), h('p', null, h('a', { href: './' }, 'Back to home'))));
    R.showError(message);
  }

  if (!sessionId) {
    fail('This page needs a session id. Open a report from the home page.');
  } else {
    R.api('GET', '/api/sessions/' + encodeURIComponent(sessionId) + '/report').then(function (res) {
      if (res.ok && res.data && res.data.report) render(res.data.report);
      else fail(res.error ? res.error.message : 'Could not load the report.');
    });
  }
})();
