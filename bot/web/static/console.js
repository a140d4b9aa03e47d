// Inside Telegram: theme the page from Telegram's colours, and sign in with the Mini App's initData.
(function () {
  var tg = window.Telegram && window.Telegram.WebApp;
  if (!tg) {
    var outside = document.getElementById("outside");
    if (outside && document.getElementById("miniapp-login")) outside.hidden = false;
    return;
  }
  var p = tg.themeParams || {}, root = document.documentElement.style;
  var map = {bg_color: "--bg", text_color: "--fg", hint_color: "--muted", link_color: "--link",
             button_color: "--accent", button_text_color: "--accent-fg", secondary_bg_color: "--panel"};
  Object.keys(map).forEach(function (k) { if (p[k]) root.setProperty(map[k], p[k]); });
  tg.ready();
  var form = document.getElementById("miniapp-login");
  if (form && tg.initData) {
    document.getElementById("init-data").value = tg.initData;
    form.submit();
  }
})();
