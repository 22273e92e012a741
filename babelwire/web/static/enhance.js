// Progressive enhancement only: everything works without it.
// - The selectors submit themselves when changed.
// - An article shown in the original while its translation is being made asks
//   /api/v1/articles/{id}/translation-status now and then, and when the translation is
//   ready swaps it into the page (without JavaScript a <noscript> meta refresh reloads it).
"use strict";

const POLL_MS = 1000;
const POLL_MAX_MS = 5000;
const POLL_FOR_MS = 10 * 60 * 1000;

async function swapInTranslation() {
  const response = await fetch(window.location.href, {headers: {Accept: "text/html"},
                                                      credentials: "same-origin"});
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = doc.querySelector("main");
  if (!main || main.querySelector("[data-translation-status]")) return false;  // not yet
  document.querySelector("main").replaceWith(document.adoptNode(main));
  document.title = doc.title;
  document.documentElement.dataset.translationSwapped = "1";
  return true;
}

function watchTranslation(notice) {
  const url = notice.dataset.translationStatus;
  const started = Date.now();
  let delay = POLL_MS;
  const poll = async () => {
    let ready = false;
    try {
      const response = await fetch(url, {headers: {Accept: "application/json"},
                                         credentials: "same-origin", cache: "no-store"});
      if (response.ok) {
        const body = await response.json();
        ready = body.ready === true;
        if (!ready && body.status !== "pending") return;  // nothing is coming: stop
        if (ready && await swapInTranslation()) return;
      }
    } catch (err) {
      if (ready) { window.location.reload(); return; }  // ready, but the swap failed
    }
    if (Date.now() - started > POLL_FOR_MS) return;
    delay = Math.min(delay * 1.3, POLL_MAX_MS);
    window.setTimeout(poll, delay);
  };
  window.setTimeout(poll, delay);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    const button = select.form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
    select.addEventListener("change", () => select.form.submit());
  }
  const notice = document.querySelector("[data-translation-status]");
  if (notice) watchTranslation(notice);
});
