/* Accessible names and roles that dash components cannot set themselves (found by axe-core; see
   tests/web/test_phone_and_a11y_browser.py). Re-applied, once per animation frame, whenever the DOM changes:
   - a dcc.Upload's file input gets a name;
   - dcc.Dropdown's hidden focus proxy (aria-hidden, yet in the Tab order) leaves the Tab order and its button
     enters it instead;
   - a dropdown button is named by its field's <label for=...> (its aria-labelledby named only the value);
   - dbc.Progress bars get a name;
   - the DataTable dropdown cells (react-select v1): the value item's stray role="option" is dropped and the
     combobox input is named after its column;
   - a clearable dropdown's clear link (an <a> without href inside the dropdown's button, so aria-label is not
     allowed on it: axe aria-allowed-attr) is hidden from assistive technology; the button clears on Delete or
     Backspace, which its aria-keyshortcuts now says. The title stays for the mouse. */
(function () {
  function fix() {
    document.querySelectorAll('input[type=file]:not([aria-label])').forEach(function (el) {
      el.setAttribute('aria-label', 'Upload a CSV file of daily ' + (el.closest('#upload-data') ? 'demand' : 'sales'));
    });
    document.querySelectorAll('input.dash-dropdown-focus-target:not([tabindex="-1"])').forEach(function (el) {
      var button = el.parentElement && el.parentElement.querySelector('button.dash-dropdown');
      if (button && !button.disabled) { button.setAttribute('tabindex', '0'); }  // Tab reaches the button itself
      el.setAttribute('tabindex', '-1');
    });
    document.querySelectorAll('label[for]').forEach(function (label) {
      var target = document.getElementById(label.getAttribute('for'));
      if (!target || target.tagName !== 'BUTTON') { return; }
      if (!label.id) { label.id = 'label-' + label.getAttribute('for'); }
      var by = target.getAttribute('aria-labelledby') || '';
      if (by.split(' ').indexOf(label.id) < 0) {  // the field's label first, then the dropdown's own value
        target.setAttribute('aria-labelledby', (label.id + ' ' + by).trim());
      }
    });
    document.querySelectorAll('.progress-bar[role=progressbar]:not([aria-label])').forEach(function (el) {
      var owner = el.closest('[id]');
      el.setAttribute('aria-label', owner && owner.id === 'progress' ? 'Simulation progress' : 'Job progress');
    });
    document.querySelectorAll('.Select-value[role=option], [id$="--value-item"][role=option]').forEach(function (el) {
      el.removeAttribute('role');
      el.removeAttribute('aria-selected');
    });
    document.querySelectorAll('.Select-input > input:not([aria-label])').forEach(function (el) {
      var cell = el.closest('td');
      var col = cell && cell.getAttribute('data-dash-column');
      el.setAttribute('aria-label', col ? 'Value of ' + col.replace(/_/g, ' ') : 'Choose a value');
    });
    document.querySelectorAll('a.dash-dropdown-clear:not([href])[aria-label]').forEach(function (el) {
      el.removeAttribute('aria-label');
      el.setAttribute('aria-hidden', 'true');
      var button = el.closest('button.dash-dropdown');
      if (button) { button.setAttribute('aria-keyshortcuts', 'Delete Backspace'); }
    });
  }
  window.onDomChange(fix, ['tabindex', 'aria-label']);  // assets/0-dom_changes.js
})();
