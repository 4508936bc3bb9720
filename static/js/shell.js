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
