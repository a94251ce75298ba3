// The consent signature box (templates/consent/sign.html): signature_pad on a canvas sized to
// the screen, its PNG put in the hidden field on submit. No inline script (CSP).
(function () {
  "use strict";
  var canvas = document.querySelector("canvas[data-signature-pad]");
  if (!canvas || typeof SignaturePad === "undefined") return;
  var field = document.getElementById(canvas.dataset.target);
  var pad = new SignaturePad(canvas, { minWidth: 1, maxWidth: 2.5 });

  function resize() {
    // Sharp lines on high-density screens; resizing clears the drawing, so keep and redraw it.
    var data = pad.toData();
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", resize);
  resize();

  var clear = document.querySelector("[data-signature-clear]");
  if (clear) clear.addEventListener("click", function () { pad.clear(); });

  canvas.closest("form").addEventListener("submit", function () {
    field.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
