/* Recording page: marks on the player's timeline (第六条, 第八条 items), click to seek. */
(function () {
  "use strict";

  function player() { return document.getElementById("player"); }

  function placePins(root) {
    var pins = (root || document).querySelectorAll(".mark-pin[data-percent]");
    for (var i = 0; i < pins.length; i += 1) {
      // CSSOM, not a style attribute: allowed by the CSP (no inline styles).
      pins[i].style.left = pins[i].getAttribute("data-percent") + "%";
    }
  }

  document.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target.closest("[data-seek]") : null;
    var media = player();
    if (target && media && typeof media.currentTime === "number" && media.tagName !== "IMG") {
      media.currentTime = parseFloat(target.getAttribute("data-seek")) || 0;
      var p = media.play();
      if (p && p.catch) { p.catch(function () { /* autoplay refused: position is set anyway */ }); }
      return;
    }
    var use = e.target.closest ? e.target.closest(".use-current-time") : null;
    if (use && media) {
      var field = document.querySelector(".mark-form input[name=offset_seconds]");
      if (field) { field.value = (media.currentTime || 0).toFixed(1); }
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) { placePins(e.target); });
  document.addEventListener("DOMContentLoaded", function () { placePins(document); });
  if (document.readyState !== "loading") { placePins(document); }
})();
