// Front desk calendar: drag a visit onto a free time to move it (HTML5 drag and drop posting
// to the move endpoint), then redraw the grid with htmx. The visit's own page has a form that
// does the same for keyboard users. A refused move offers the nearest free times as buttons.
// The grid opens scrolled to now (or the first working hour), not to its first row.
(function () {
  "use strict";

  var dragged = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  // The words the page gave it, in the desk's language (templates/staff/calendar.html).
  function text(name, english) {
    var status = document.getElementById("cal-status");
    return (status && status.dataset[name]) || english;
  }

  function say(message, ok) {
    var status = document.getElementById("cal-status");
    if (!status) return;
    status.className = "cal-status alert py-2 " + (ok ? "alert-success" : "alert-danger");
    status.textContent = message;
  }

  function offer(grid, id, suggestions) {
    var status = document.getElementById("cal-status");
    if (!status || !suggestions || !suggestions.length) return;
    var list = document.createElement("div");
    list.className = "d-flex flex-wrap gap-2 mt-2 nearest-times";
    list.setAttribute("aria-label", text("nearest", "Nearest free times"));
    suggestions.forEach(function (free) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-light border";
      button.textContent = free.label;
      button.addEventListener("click", function () {
        post(grid, id, { date: free.date, time: free.time, provider: free.provider });
      });
      list.appendChild(button);
    });
    status.appendChild(document.createTextNode(" Nearest free times:"));
    status.appendChild(list);
  }

  function scrollToStart(grid) {
    var box = grid && grid.closest(".cal-scroll");
    var row = parseInt(grid && grid.dataset.scrollRow, 10);
    var body = grid && grid.querySelector(".cal-body");
    if (!box || !body || !row) return;
    var slot = body.getBoundingClientRect().height / parseInt(grid.dataset.rows, 10);
    // A little of what came before stays in view.
    box.scrollTop = Math.max(0, (row - 3) * slot);
  }

  function refresh(grid) {
    var url = grid.dataset.refreshUrl;
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#calendar", swap: "innerHTML" });
    } else {
      window.location.reload();
    }
  }

  function move(grid, id, cell) {
    var column = cell.closest(".cal-col");
    var fields = { date: column.dataset.date, time: cell.dataset.time };
    if (column.dataset.provider) fields.provider = column.dataset.provider;
    post(grid, id, fields);
  }

  function post(grid, id, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (name) {
      body.append(name, fields[name]);
    });
    var url = grid.dataset.moveUrl.replace("/0/", "/" + encodeURIComponent(id) + "/");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          say(
            data.message || (response.ok ? text("moved", "Moved.") : text("notMoved", "Not moved.")),
            response.ok
          );
          if (response.ok) refresh(grid);
          else offer(grid, id, data.suggestions);
        });
      })
      .catch(function () {
        say(text("unreachable", "Not moved: the clinic could not be reached. Try again."), false);
      });
  }

  function clearTargets() {
    document.querySelectorAll(".cal-cell.is-target").forEach(function (cell) {
      cell.classList.remove("is-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var appointment = event.target.closest && event.target.closest(".cal-appt");
    if (!appointment) return;
    dragged = appointment;
    event.dataTransfer.setData("text/plain", appointment.dataset.id);
    event.dataTransfer.effectAllowed = "move";
    appointment.classList.add("is-moving");
    // After the browser has taken its drag image: let drops reach the cells under visits.
    setTimeout(function () {
      appointment.closest(".cal").classList.add("is-dragging");
    }, 0);
  });

  document.addEventListener("dragend", function () {
    document.querySelectorAll(".cal.is-dragging").forEach(function (grid) {
      grid.classList.remove("is-dragging");
    });
    if (dragged) dragged.classList.remove("is-moving");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var cell = dragged && event.target.closest && event.target.closest(".cal-cell:not(.is-past):not(.is-full)");
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("is-target")) {
      clearTargets();
      cell.classList.add("is-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = dragged && event.target.closest && event.target.closest(".cal-cell:not(.is-past):not(.is-full)");
    if (!cell) return;
    event.preventDefault();
    var id = event.dataTransfer.getData("text/plain") || dragged.dataset.id;
    move(cell.closest(".cal"), id, cell);
  });

  document.addEventListener("DOMContentLoaded", function () {
    scrollToStart(document.querySelector(".cal"));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "calendar") {
      scrollToStart(document.querySelector(".cal"));
    }
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.submit();
  });
})();
