// A stand-in for https://telegram.org/js/telegram-web-app.js in the browser tests, which cannot reach telegram.org.
// It does what the console relies on, as Telegram's script does it: the launch parameters come from the page's
// URL fragment (#tgWebAppData=…&tgWebAppThemeParams=…) and are kept in sessionStorage, so the pages a Mini App
// goes on to open still have them; Telegram.WebApp gives initData as it was sent and themeParams parsed; ready()
// tells the Telegram client, which for Telegram Web is the parent frame, by postMessage.
(function () {
  function decode(text) {
    try { return decodeURIComponent(text.replace(/\+/g, "%20")); } catch (e) { return text; }
  }
  var params = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    if (!pair) return;
    var at = pair.indexOf("=");
    params[decode(at < 0 ? pair : pair.slice(0, at))] = at < 0 ? null : decode(pair.slice(at + 1));
  });
  var stored = {};
  try { stored = JSON.parse(sessionStorage.getItem("__telegram__initParams")) || {}; } catch (e) {}
  Object.keys(stored).forEach(function (key) { if (!(key in params)) params[key] = stored[key]; });
  try { sessionStorage.setItem("__telegram__initParams", JSON.stringify(params)); } catch (e) {}

  var themeParams = {};
  try { themeParams = JSON.parse(params.tgWebAppThemeParams || "{}"); } catch (e) {}
  var inFrame = window.parent !== window;
  function postEvent(eventType, eventData) {
    if (inFrame) window.parent.postMessage(JSON.stringify({eventType: eventType, eventData: eventData || ""}), "*");
  }
  window.Telegram = window.Telegram || {};
  window.Telegram.WebApp = {
    initData: params.tgWebAppData || "",
    themeParams: themeParams,
    platform: params.tgWebAppPlatform || "unknown",
    version: params.tgWebAppVersion || "6.0",
    ready: function () { postEvent("web_app_ready"); },
  };
})();
