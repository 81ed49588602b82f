// Remit User Center: small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // Language switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.documentElement.classList.add("js");

  // UC3: the billing-information dialog cannot be skipped: it is modal, has no close button,
  // and Escape (the "cancel" event) is ignored. Clicking the backdrop does nothing for <dialog>.
  const gate = document.querySelector("dialog[data-undismissable]");
  if (gate) {
    gate.close();
    gate.showModal();
    gate.addEventListener("cancel", (event) => event.preventDefault());
    gate.addEventListener("close", () => { if (!gate.dataset.submitted) gate.showModal(); });
    gate.querySelector("form").addEventListener("submit", () => { gate.dataset.submitted = "1"; });
  }

  // One-time sign-in links: press "Continue" for the customer.
  const portal = document.querySelector("form[data-autosubmit-form]");
  if (portal) { portal.submit(); }

  // A freshly issued invoice downloads by itself (the link stays for a second try).
  const ready = document.querySelector("a[data-auto-download]");
  if (ready) { ready.click(); }
});
