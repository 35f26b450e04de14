// Sanji page behaviour. Loaded as a file (the CSP forbids inline scripts).
// Buttons with data-confirm ask before submitting their form.
document.addEventListener("click", function (event) {
  const el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
// Elements with data-print print the page.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});
