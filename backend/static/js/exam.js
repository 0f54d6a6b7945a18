// The exam page's niceties; the page works without this file (plain save buttons, deadline shown as text).
// - the countdown: seconds left as sent by the server, counted down with the monotonic clock (a wrong
//   clock on the computer does not matter); warnings for screen readers at 10, 5 and 1 minutes; at zero
//   the page reloads, and the server (the authority on time) shows the submitted attempt.
// - the save status under a question says "Saving…" while a save is on its way, and what went wrong if
//   the connection failed (the answer is still in the page: saving again sends it).
// - the navigator's "answered" count follows the entries htmx swaps in after each save.
// - leaving the page while a save is still on its way asks for confirmation.
(function () {
  "use strict";

  var texts = {
    zh: {
      saving: "正在保存…",
      failed: "未能保存：网络连接有问题。答案仍在本页，请稍后再点“保存”。",
      timeUp: "时间到",
      warn: function (m) { return "距离考试结束还有 " + m + " 分钟。"; },
      ended: "考试时间已到，正在提交已保存的答案…",
      count: function (a, n) { return "已答 " + a + " / " + n; }
    },
    en: {
      saving: "Saving…",
      failed: "Not saved: the connection failed. Your answer is still on this page; press Save to try again.",
      timeUp: "Time is up",
      warn: function (m) { return m + (m === 1 ? " minute" : " minutes") + " left."; },
      ended: "Time is up: submitting your saved answers…"
    }
  };
  var lang = (document.documentElement.lang || "zh").indexOf("en") === 0 ? "en" : "zh";
  var t = texts[lang];
  var inFlight = 0;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h + ":" + pad(m) + ":" + pad(s);
  }

  function startCountdown() {
    var box = document.getElementById("countdown");
    var value = document.getElementById("countdown-value");
    var alertBox = document.getElementById("countdown-alert");
    if (!box || !value) { return; }
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    if (isNaN(left)) { return; }
    var end = performance.now() + left * 1000;
    var warned = {};
    function tick() {
      var seconds = Math.max(0, Math.round((end - performance.now()) / 1000));
      value.textContent = seconds > 0 ? format(seconds) : t.timeUp;
      [600, 300, 60].forEach(function (mark) {
        if (seconds <= mark && seconds > mark - 30 && !warned[mark] && alertBox) {
          warned[mark] = true;
          alertBox.textContent = t.warn(mark / 60);
        }
      });
      if (seconds <= 60) { box.classList.add("countdown--last-minute"); }
      if (seconds <= 0) {
        if (alertBox) { alertBox.textContent = t.ended; }
        // Give a save that is on its way a moment, then let the server show the submitted attempt.
        window.setTimeout(function () { window.location.reload(); }, inFlight ? 3000 : 1500);
        return;
      }
      window.setTimeout(tick, 250);
    }
    tick();
  }

  function statusFor(form) {
    var target = form.getAttribute("hx-target");
    return target ? document.querySelector(target) : null;
  }

  function isAutosave(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.hasAttribute && elt.hasAttribute("data-autosave") ? elt : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = isAutosave(event);
    if (!form) { return; }
    inFlight += 1;
    var status = statusFor(form);
    if (status) { status.textContent = t.saving; }
  });

  // afterRequest also follows a save that a newer save of the same question replaced (hx-sync).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (isAutosave(event)) { inFlight = Math.max(0, inFlight - 1); }
  });

  function showFailure(event) {
    var form = isAutosave(event);
    var status = form ? statusFor(form) : null;
    if (status) { status.textContent = t.failed; }
  }
  document.addEventListener("htmx:sendError", showFailure);
  document.addEventListener("htmx:responseError", showFailure);

  function updateCount() {
    var box = document.getElementById("answered-count");
    if (!box) { return; }
    var answered = document.querySelectorAll(".exam-nav-entry.is-answered").length;
    box.textContent = t.count(answered, box.getAttribute("data-total"));
  }
  document.addEventListener("htmx:afterSettle", updateCount);
  document.addEventListener("htmx:oobAfterSwap", updateCount);

  window.addEventListener("beforeunload", function (event) {
    if (inFlight > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startCountdown);
  } else {
    startCountdown();
  }
})();
