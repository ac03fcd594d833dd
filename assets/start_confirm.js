/* Start during a paused (or running) run would restart it from day 1: ask first. The question is asked in the
   capture phase, before dash sees the click, so a "Cancel" leaves Start's n_clicks untouched and nothing reaches
   the server; an "OK" lets the click through to the page's usual Start callback (dashapp/pages/simulator.py).
   The status text (#sim-status) says whether a run is on. */
(function () {
  var QUESTION = "Start a new run from day 1? The current run's days are discarded (Resume goes on instead).";
  document.addEventListener('click', function (e) {
    var button = e.target && e.target.closest && e.target.closest('#start');
    if (!button || button.disabled) { return; }
    var status = document.getElementById('sim-status');
    var state = status ? status.textContent.trim() : '';
    if ((state === 'paused' || state === 'running') && !window.confirm(QUESTION)) {
      e.stopPropagation();
      e.preventDefault();
    }
  }, true);
})();
