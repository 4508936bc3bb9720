// Template editor: each item shows only the settings of its answer type (scale bounds, options,
// range). Without this script every setting shows and the server ignores those the type does not use.
(() => {
  const TYPES = ["scale", "choice", "number"];
  const sync = (item) => {
    const kind = item.querySelector(".ck-type")?.value ?? "pass_fail";
    item.dataset.answerType = kind;
    for (const t of TYPES) {
      for (const el of item.querySelectorAll(`.ck-type-${t}`)) el.hidden = t !== kind;
    }
  };
  const all = (root = document) => root.querySelectorAll(".ck-item").forEach(sync);
  document.addEventListener("change", (e) => {
    if (e.target.matches?.(".ck-type")) sync(e.target.closest(".ck-item"));
  });
  document.addEventListener("htmx:afterSwap", () => all());
  all();
})();
