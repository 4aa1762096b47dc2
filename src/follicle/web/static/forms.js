// Progress for slow submissions (uploads, image analysis): forms marked data-busy say what is
// happening and cannot be sent twice. Everything works without this script.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var note = form.querySelector(".busy-note");
      if (!note) {
        note = document.createElement("p");
        note.className = "busy-note";
        note.setAttribute("role", "status");
        form.appendChild(note);
      }
      note.textContent = form.getAttribute("data-busy");
      form.setAttribute("aria-busy", "true");
      // Disable after the browser has collected the form's fields.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
