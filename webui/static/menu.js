// The menu's drop-downs are <details> and work without this file; it only closes an open one
// when another opens, on a click elsewhere, or on Escape (then the focus goes back to its summary).
(function () {
  "use strict";
  var groups = document.querySelectorAll("header.top details");
  // "toggle" events arrive late (queued): the phone menu's own toggle can come after a drop-down
  // inside it was opened, so what lies inside the one that opened is left alone
  function closeAll(except) {
    groups.forEach(function (d) {
      var related = except && (d === except || d.contains(except) || except.contains(d));
      if (!related && d.open) d.open = false;
    });
  }
  groups.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) closeAll(d); });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("header.top details")) closeAll(null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.activeElement && document.activeElement.closest && document.activeElement.closest("header.top details[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });
})();
