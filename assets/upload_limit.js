/* Files over the upload limit are refused in the browser before they are read, with a message in the upload's
   status line: every status element names its dcc.Upload (data-upload-for) and the limit (data-max-bytes), from
   dashapp.ui.components.upload_status. dcc.Upload would otherwise drop such a file without calling back
   (plotly/dash#2638). The server checks the size again. */
(function () {
  function statusFor(target) {
    if (!target || !target.closest) { return null; }
    var list = document.querySelectorAll('[data-upload-for]');
    for (var i = 0; i < list.length; i++) {
      var id = list[i].getAttribute('data-upload-for');
      if (id && target.closest('#' + CSS.escape(id))) { return list[i]; }
    }
    return null;
  }
  function size(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : (n / 1024).toFixed(1) + ' kB';
  }
  function check(target, files) {
    var status = statusFor(target);
    if (!status || !files || !files.length) { return; }
    var limit = parseInt(status.getAttribute('data-max-bytes') || '0', 10);
    var f = files[0];
    if (limit > 0 && f.size > limit) {
      var msg = f.name + ': the file is ' + size(f.size) + ', larger than the ' + size(limit) +
        ' upload limit; nothing was loaded';
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props(status.id, {children: msg});
      } else {
        status.textContent = msg;
      }
    }
  }
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (t && t.type === 'file') { check(t, t.files); }
  }, true);
  document.addEventListener('drop', function (e) {
    if (e.dataTransfer) { check(e.target, e.dataTransfer.files); }
  }, true);
})();
