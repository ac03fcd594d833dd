/* Files over the upload limit are refused in the browser before they are read, with a message in
   #upload-status (dcc.Upload would otherwise drop them silently). The server checks the size again. */
(function () {
  function check(files) {
    var status = document.getElementById('upload-status');
    if (!status || !files || !files.length) { return; }
    var limit = parseInt(status.getAttribute('data-max-bytes') || '0', 10);
    var f = files[0];
    if (limit > 0 && f.size > limit) {
      var msg = f.name + ': the file is ' + (f.size / 1048576).toFixed(1) + ' MB, larger than the ' +
        (limit / 1048576).toFixed(0) + ' MB upload limit; nothing was loaded';
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props('upload-status', {children: msg});
      } else {
        status.textContent = msg;
      }
    }
  }
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (t && t.type === 'file' && t.closest && t.closest('#upload-data')) { check(t.files); }
  }, true);
  document.addEventListener('drop', function (e) {
    var t = e.target;
    if (t && t.closest && t.closest('#upload-data') && e.dataTransfer) { check(e.dataTransfer.files); }
  }, true);
})();
