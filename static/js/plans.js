// Plan form: show only the quarter or month control that the chosen period type needs.
// Without this script both show, and the server ignores the one that does not apply.
(() => {
  const type = document.getElementById("period_type");
  if (!type) return;
  const sync = () => {
    document.querySelector(".period-quarter")?.toggleAttribute("hidden", type.value !== "quarterly");
    document.querySelector(".period-month")?.toggleAttribute("hidden", type.value !== "monthly");
  };
  type.addEventListener("change", sync);
  sync();
})();

// Template form: each added item row takes the next free row number.
document.addEventListener("htmx:afterRequest", (e) => {
  if (e.detail.elt?.id !== "add-item" || !e.detail.successful) return;
  const count = document.getElementById("item-count");
  if (count) count.value = String(Number(count.value) + 1);
});
