/* One watcher of DOM changes for the scripts that must act on elements Dash renders later (a11y.js,
   select_editor.js): window.onDomChange(fn, attributeFilter) calls fn at most once per animation frame after any
   node is added or removed anywhere in the page (and, with attributeFilter, after one of those attributes
   changes), and once when the document is loaded. Loaded first: Dash serves assets in file-name order. */
window.onDomChange = function (fn, attributeFilter) {
  var scheduled = false;
  function run() { scheduled = false; fn(); }
  function schedule() {
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(run); }
  }
  var options = {childList: true, subtree: true};
  if (attributeFilter) { options.attributes = true; options.attributeFilter = attributeFilter; }
  new MutationObserver(schedule).observe(document.documentElement, options);
  document.addEventListener('DOMContentLoaded', schedule);
};
