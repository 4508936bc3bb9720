// The server-rendered shell: nothing here is needed for a page to work; it only adds comfort.
document.addEventListener("htmx:responseError", (e) => {
  const box = document.createElement("div");
  box.className = "flash flash-error";
  box.setAttribute("role", "alert");
  let msg = e.detail.xhr.statusText;
  try { msg = JSON.parse(e.detail.xhr.responseText).error.message; } catch (_) { /* HTML error page */ }
  box.textContent = msg;
  document.getElementById("main")?.prepend(box);
});

// A form marked data-swap-invalid shows the server's 400 answer (the same fragment with the reasons next to
// the fields) in place, instead of the generic error box: a refused snooze says why where it was typed.
document.addEventListener("htmx:beforeSwap", (e) => {
  if (e.detail.xhr.status === 400 && e.detail.requestConfig?.elt?.closest?.("[data-swap-invalid]")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});

// Signing out while the phone app (/m/) holds unsynced records would strand them: blocked, with the reason.
function phoneAppUnsynced() {
  return new Promise((resolve) => {
    if (!window.indexedDB) return resolve(0);
    const req = indexedDB.open("supervision");
    req.onupgradeneeded = () => req.transaction.abort(); // no app data on this device: create nothing
    req.onerror = () => resolve(0);
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("outbox")) { db.close(); return resolve(0); }
      const c = db.transaction("outbox").objectStore("outbox").count();
      c.onsuccess = () => { db.close(); resolve(c.result); };
      c.onerror = () => { db.close(); resolve(0); };
    };
  });
}
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!form.dataset || !form.dataset.guardUnsynced || form.dataset.checked) return;
  e.preventDefault();
  phoneAppUnsynced().then((n) => {
    if (!n) { form.dataset.checked = "1"; form.submit(); return; }
    const box = document.createElement("div");
    box.className = "flash flash-error";
    box.setAttribute("role", "alert");
    const link = document.createElement("a");
    link.href = form.dataset.appUrl;
    link.textContent = form.dataset.appUrl;
    box.append(form.dataset.guardUnsynced, " ", link);
    document.getElementById("main")?.prepend(box);
  });
});

// A poller marked data-poll-when-visible (the review queue's count) does not ask while its tab is hidden: a
// manager's forgotten tab costs the server nothing. When the tab shows again it asks at once ("poll-now"),
// so the count is current the moment someone looks.
document.addEventListener("htmx:beforeRequest", (e) => {
  if (document.hidden && e.detail.elt?.hasAttribute?.("data-poll-when-visible")) e.preventDefault();
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden || !window.htmx) return;
  document.querySelectorAll("[data-poll-when-visible]").forEach((el) => htmx.trigger(el, "poll-now"));
});
