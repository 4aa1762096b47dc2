// Drawn signature on the consent page (optional: the typed name is the signature of record).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var printButton = document.getElementById("print-consent");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  if (!canvas) { return; }
  var context = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  context.lineWidth = 2;
  context.lineCap = "round";
  context.strokeStyle = "#1b2430";

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height)
    };
  }
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    var p = point(event);
    context.beginPath();
    context.moveTo(p.x, p.y);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var p = point(event);
    context.lineTo(p.x, p.y);
    context.stroke();
    drawn = true;
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });
  document.getElementById("signature-clear").addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  });
  document.getElementById("consent-form").addEventListener("submit", function () {
    document.getElementById("signature-data").value = drawn ? canvas.toDataURL("image/png") : "";
  });
})();
