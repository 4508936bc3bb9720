// "Copy" buttons: <button data-copy="#element-id" data-copied="Copied" hidden> copies that element's
// text to the clipboard. The button stays hidden where the clipboard API is missing (plain HTTP):
// the text is selectable anyway.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  const status = button.parentElement.querySelector(".copy-status");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      if (status) status.textContent = button.dataset.copied || "";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  });
}
