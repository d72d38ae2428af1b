// Optional: pressing Shift three times within two seconds leaves through "Exit this page".
// Nothing needs this script; the link works on its own.
(function () {
  var link = document.querySelector('a[data-exit]');
  if (!link) return;
  var presses = [];
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Shift' || event.repeat) return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { window.location.replace(link.href); }
  });
})();
