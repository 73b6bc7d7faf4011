// Applied before first paint so a chosen theme never flashes the other one. A file of its own,
// loaded synchronously from <head>: the Content-Security-Policy (docker/security-headers.conf)
// allows no inline script.
try {
  var t = localStorage.getItem('theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
