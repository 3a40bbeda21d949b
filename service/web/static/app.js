// The review page's keyboard and small helpers. No inline script, no eval: the page's CSP
// allows scripts from this server only. htmx does the requests (its CSRF header comes from
// the body's hx-headers).
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#sentences > li"));
  }

  function currentIndex() {
    var detail = document.querySelector("#detail .sentence-detail");
    return detail ? detail.getAttribute("data-index") : null;
  }

  function markCurrent() {
    var index = currentIndex();
    rows().forEach(function (row) {
      if (row.getAttribute("data-index") === index) {
        row.setAttribute("aria-current", "true");
        row.scrollIntoView({ block: "nearest" });
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  // The sentence after the current one in the list as shown (filters kept), or null.
  function neighbour(step) {
    var list = rows();
    var index = currentIndex();
    var at = list.findIndex(function (row) { return row.getAttribute("data-index") === index; });
    var next = list[at + step];
    return at >= 0 && next ? next : null;
  }

  function open(row) {
    if (row) {
      row.querySelector("a.pick").click();
    }
  }

  function press(selector) {
    var button = document.querySelector(selector);
    if (button) {
      button.click();
    }
  }

  function toggleCode(code) {
    var form = document.getElementById("toggle-form");
    if (form && code) {
      document.getElementById("toggle-code").value = code;
      form.requestSubmit();
    }
  }

  function searchCodebook(input) {
    var words = input.value.toLowerCase().trim();
    document.querySelectorAll("#codebook-codes > li").forEach(function (item) {
      item.hidden = words !== "" && item.getAttribute("data-search").indexOf(words) < 0;
    });
  }

  var KEYS = {
    j: function () { open(neighbour(1)); },
    k: function () { open(neighbour(-1)); },
    a: function () { press("#accept"); },
    r: function () { press("#reject"); },
    u: function () { press("#undo"); },
    "/": function () {
      var search = document.getElementById("codebook-search");
      if (search) { search.focus(); search.select(); }
    }
  };

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (target.id === "codebook-search") {
      if (event.key === "Enter") {
        event.preventDefault();
        var first = document.querySelector("#codebook-codes > li:not([hidden]) .toggle-code");
        if (first) { toggleCode(first.getAttribute("data-code")); }
      } else if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable) {
      return;
    }
    if (KEYS[event.key]) {
      event.preventDefault();
      KEYS[event.key]();
    } else if (/^[1-9]$/.test(event.key)) {
      event.preventDefault();
      press('#detail button[data-rank="' + event.key + '"]');
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".toggle-code") : null;
    if (button) {
      toggleCode(button.getAttribute("data-code"));
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "codebook-search") {
      searchCodebook(event.target);
    }
  });

  // Accept and reject move on to the next sentence of the list as shown.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.hasAttribute && event.detail.elt.hasAttribute("data-advance")) {
      var next = neighbour(1);
      if (next) {
        event.detail.parameters.next = next.getAttribute("data-index");
      } else {
        delete event.detail.parameters.next;
      }
    }
  });

  // A swapped-in sentence takes the focus when the old one's button had it (gone with the
  // swap), so keyboard and screen-reader users land on the sentence now shown.
  document.addEventListener("htmx:afterSwap", function (event) {
    var lost = !document.activeElement || document.activeElement === document.body;
    if (event.detail.target.id === "detail" && lost) {
      var heading = document.getElementById("detail-h");
      if (heading) { heading.focus({ preventScroll: true }); }
    }
  });

  document.addEventListener("htmx:afterSettle", markCurrent);
  document.addEventListener("DOMContentLoaded", markCurrent);
})();
