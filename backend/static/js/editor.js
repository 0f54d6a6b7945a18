// Module editor, progressive enhancement only: a "line N" link in the preview's problem list puts the
// cursor on that line of the textarea (without this file the link still moves focus to the textarea).
(function () {
  "use strict";

  function lineRange(text, line) {
    var start = 0;
    for (var n = 1; n < line; n += 1) {
      var next = text.indexOf("\n", start);
      if (next === -1) {
        return [text.length, text.length];
      }
      start = next + 1;
    }
    var end = text.indexOf("\n", start);
    return [start, end === -1 ? text.length : end];
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a.jump-to-line") : null;
    var textarea = document.getElementById("f-text");
    if (!link || !textarea) {
      return;
    }
    var line = parseInt(link.getAttribute("data-line"), 10);
    if (!(line > 0)) {
      return;
    }
    event.preventDefault();
    var range = lineRange(textarea.value, line);
    textarea.focus();
    textarea.setSelectionRange(range[0], range[1]);
    // Scroll the chosen line into view: its share of the text times the textarea's scroll height.
    var lines = textarea.value.split("\n").length;
    textarea.scrollTop = Math.max(0, ((line - 3) / lines) * textarea.scrollHeight);
  });
})();
