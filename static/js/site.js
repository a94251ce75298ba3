// Small behaviours for every page, bound here because the Content-Security-Policy
// forbids inline event handlers.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
