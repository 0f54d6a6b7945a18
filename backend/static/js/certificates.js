// Progressive enhancement for /me/certificates: a Copy button beside each share link (the link stays
// selectable in its read-only field without JavaScript).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy-button]").forEach(function (button) {
    var id = button.getAttribute("data-copy-button");
    var field = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied") || "✓";
        }
      });
    });
  });
});
