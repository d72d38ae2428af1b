// Optional: pressing Shift three times in a row, within two seconds and with no other key in
// between, leaves through "Exit this page" (as GOV.UK's component does). Typing capitals or
// symbols never triggers it, because any other key starts the count again.
// Nothing needs this script; the link works on its own.
(function () {
  var link = document.querySelector('a[data-exit]');
  if (!link) return;
  var presses = [];
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Shift') { presses = []; return; }
    if (event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { presses = []; window.location.replace(link.href); }
  });
})();
