/* A choice cell of an AG Grid table (dashapp/ui/scenario_table.py: policy, unmet demand, forecaster, demand) opens
   its list on the click that starts editing it. AG Grid's agSelectCellEditor opens its list by itself only when
   editing starts with Enter; started by the one click of singleClickEdit it showed a closed picker that needed a
   second click. When such an editor appears, a mousedown on its picker (the event AG Grid's picker field listens
   for; it does not bubble, so the grid's own cell handlers never see it) opens the list — unless AG Grid opened it
   already (Enter), which it does one task later, so the check runs after that. */
(function () {
  var MARK = 'data-list-opened';
  function openNewPickers() {
    document.querySelectorAll('.ag-cell-inline-editing .ag-picker-field-wrapper:not([' + MARK + '])')
      .forEach(function (wrapper) {
        wrapper.setAttribute(MARK, '1');
        setTimeout(function () {
          if (!wrapper.isConnected || wrapper.classList.contains('ag-picker-expanded')) { return; }
          wrapper.dispatchEvent(new MouseEvent('mousedown', {bubbles: false, cancelable: true, button: 0}));
        }, 0);
      });
  }
  window.onDomChange(openNewPickers);  // assets/0-dom_changes.js
})();
