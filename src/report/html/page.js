(function () {
  "use strict";
  // The page carries a strict Content-Security-Policy. Anything it blocks
  // means the scanned data tried to load or run something: say so on the
  // page, and count it where a test can read it.
  var root = document.documentElement;
  var blocked = 0;
  document.addEventListener("securitypolicyviolation", function (e) {
    blocked += 1;
    root.setAttribute("data-csp-violations", String(blocked));
    var note = document.getElementById("csp-note");
    if (note) {
      note.hidden = false;
      note.textContent = "This page blocked " + blocked +
        " attempt(s) to load or run something (" + e.violatedDirective +
        "). The scanned data may hold hostile names; nothing was run.";
    }
  });

  var table = document.getElementById("credentials");
  if (!table) {
    return;
  }
  var bodies = Array.prototype.slice.call(table.tBodies);
  var repo = document.getElementById("f-repo");
  var state = document.getElementById("f-state");
  var owner = document.getElementById("f-owner");
  var text = document.getElementById("f-text");
  var shown = document.getElementById("shown");

  function apply() {
    var r = repo ? repo.value : "";
    var s = state.value;
    var o = owner ? owner.value : "";
    var t = text.value.trim().toLowerCase();
    var n = 0;
    bodies.forEach(function (b) {
      var repos = " " + b.getAttribute("data-repos") + " ";
      var ok = (r === "" || repos.indexOf(" " + r + " ") >= 0) &&
        (s === "" || b.getAttribute("data-state") === s) &&
        (o === "" || b.getAttribute("data-owner") === o) &&
        (t === "" || b.textContent.toLowerCase().indexOf(t) >= 0);
      b.hidden = !ok;
      if (ok) {
        n += 1;
      }
    });
    shown.textContent = "Showing " + n + " of " + bodies.length + " credentials";
    root.setAttribute("data-shown", String(n));
  }

  [repo, state, owner].forEach(function (el) {
    if (el) {
      el.addEventListener("change", apply);
    }
  });
  text.addEventListener("input", apply);

  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, i) {
    var kind = th.getAttribute("data-sort");
    if (!kind) {
      return;
    }
    th.tabIndex = 0;
    th.classList.add("sortable");
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) {
        h.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      bodies.sort(function (a, b) {
        var x = a.rows[0].cells[i].getAttribute("data-v") || "";
        var y = b.rows[0].cells[i].getAttribute("data-v") || "";
        var c = kind === "num" ? Number(x) - Number(y) : (x < y ? -1 : (x > y ? 1 : 0));
        if (c === 0) {
          // Ties keep the report's order (most urgent first).
          return Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank"));
        }
        return asc ? c : -c;
      });
      bodies.forEach(function (b) {
        table.appendChild(b);
      });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        sort();
      }
    });
  });

  document.getElementById("controls").hidden = false;
  shown.hidden = false;
  apply();
})();
