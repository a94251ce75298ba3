// Front desk calendar: drag a visit onto a free time to move it (HTML5 drag and drop posting
// to the move endpoint), then redraw the grid with htmx. The visit's own page has a form that
// does the same for keyboard users.
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

  function say(message, ok) {
    var status = document.getElementById("cal-status");
    if (!status) return;
    status.className = "cal-status alert py-2 " + (ok ? "alert-success" : "alert-danger");
    status.textContent = message;
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
    var body = new FormData();
    body.append("date", column.dataset.date);
    body.append("time", cell.dataset.time);
    if (column.dataset.provider) body.append("provider", column.dataset.provider);
    var url = grid.dataset.moveUrl.replace("/0/", "/" + encodeURIComponent(id) + "/");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          say(data.message || (response.ok ? "Moved." : "Not moved."), response.ok);
          if (response.ok) refresh(grid);
        });
      })
      .catch(function () {
        say("Not moved: the clinic could not be reached. Try again.", false);
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
    var cell = dragged && event.target.closest && event.target.closest(".cal-cell");
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("is-target")) {
      clearTargets();
      cell.classList.add("is-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = dragged && event.target.closest && event.target.closest(".cal-cell");
    if (!cell) return;
    event.preventDefault();
    var id = event.dataTransfer.getData("text/plain") || dragged.dataset.id;
    move(cell.closest(".cal"), id, cell);
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.submit();
  });
})();
