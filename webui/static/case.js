/* Case page: the live counter under the reply box, and reply states refreshed without reloading. */
(function () {
  "use strict";

  function setupCounter() {
    var box = document.getElementById("reply-text");
    var counter = document.getElementById("reply-counter");
    if (!box || !counter || !window.modemdSmsCount) { return; }
    var suffix = box.getAttribute("data-suffix") || "";
    var maxParts = parseInt(box.getAttribute("data-max-parts") || "10", 10);
    function field(name) { return counter.querySelector('[data-count="' + name + '"]'); }
    function update() {
      // what the server sends: the text trimmed, CRLF as LF, then the sender ID
      var body = box.value.replace(/\r\n/g, "\n").trim();
      var shape = window.modemdSmsCount(body ? body + suffix : "");
      field("chars").textContent = String(shape.chars);
      // the words come from the page (translated there): "plain letters" or "special characters"
      field("encoding").textContent = counter.getAttribute(shape.encoding === "gsm7" ? "data-plain" : "data-special");
      field("parts").textContent = String(shape.parts);
      field("remaining").textContent = String(shape.remaining);
      field("warning").hidden = shape.parts <= maxParts;
    }
    box.addEventListener("input", update);
    update();
  }

  function setupPolling() {
    var list = document.getElementById("replies");
    if (!list) { return; }
    var url = list.getAttribute("data-poll-url");
    var delay = 3000;
    function pending() {
      return Array.prototype.some.call(list.querySelectorAll("[data-reply-id] .state"), function (el) {
        var state = el.getAttribute("data-state");
        return state !== "delivered" && state !== "failed" && state !== "cancelled";
      });
    }
    function apply(data) {
      data.replies.forEach(function (reply) {
        var item = list.querySelector('[data-reply-id="' + reply.id + '"]');
        if (!item) { return; }
        var state = item.querySelector(".state");
        state.textContent = reply.label;  // textContent: nothing from the server is parsed as HTML
        state.setAttribute("data-state", reply.state);
        state.className = "pill state " + reply.state;
        item.querySelector(".reason").textContent = reply.reason;
      });
    }
    function poll() {
      if (!pending()) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () { /* offline for a moment: try again at the next tick */ })
        .then(function () { window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }

  setupCounter();
  setupPolling();
})();
