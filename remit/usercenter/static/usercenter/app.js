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
    // Chromium closes a dialog on a second Escape even when "cancel" is prevented; stopping the
    // key itself keeps the dialog open without a flicker.
    gate.addEventListener("keydown", (event) => { if (event.key === "Escape") event.preventDefault(); });
    gate.addEventListener("close", () => { if (!gate.dataset.submitted) gate.showModal(); });
    gate.querySelector("form").addEventListener("submit", () => { gate.dataset.submitted = "1"; });
  }

  // One-time sign-in links: press "Continue" for the customer.
  const portal = document.querySelector("form[data-autosubmit-form]");
  if (portal) { portal.submit(); }

  // P1/P5: "Create an Invoice" shows the invoice fields and renames the submit button; the total
  // updates as the customer types. Without JavaScript every field shows and the server decides.
  document.querySelectorAll("form[data-purchase]").forEach((form) => {
    const toggle = form.querySelector("[data-invoice-toggle]");
    const fields = form.querySelector("[data-invoice-fields]");
    const submit = form.querySelector("button[type=submit]");
    const output = form.querySelector("[data-total]");
    const currency = form.dataset.currency;
    const money = new Intl.NumberFormat(form.dataset.language || undefined, { style: "currency", currency });
    const exponent = money.resolvedOptions().maximumFractionDigits;
    const pairs = (text) => Object.fromEntries((text || "").split(",").filter(Boolean).map((p) => p.split(":")));
    const planPrices = pairs(form.dataset.planPrices);
    const discounts = pairs(form.dataset.termDiscounts);
    const showInvoice = () => {
      const on = toggle.checked;
      fields.hidden = !on;
      fields.querySelectorAll("input, select, textarea").forEach((input) => { input.disabled = !on; });
      submit.textContent = on ? submit.dataset.labelInvoice : submit.dataset.labelCard;
      // Terms that only cards can pay cannot be chosen with an invoice (P5).
      form.querySelectorAll("input[data-card-only]").forEach((radio) => {
        radio.disabled = on;
        if (on && radio.checked) {
          radio.checked = false;
          const first = form.querySelector("input[name$='term_months']:not([data-card-only])");
          if (first) first.checked = true;
        }
      });
      showTotal();
    };
    const totalMinor = () => {
      if (form.dataset.purchase === "credits") {
        const credits = Number(form.querySelector("input[name$='credits']").value);
        return Number.isInteger(credits) && credits > 0 ? credits * Number(form.dataset.unitPrice) : null;
      }
      const size = form.querySelector("select[name$='plan_size']").value;
      const term = form.querySelector("input[name$='term_months']:checked");
      if (!term || !(size in planPrices)) return null;
      const gross = Number(planPrices[size]) * Number(term.value);
      // Same rounding as the server: the discount is rounded half up to a whole minor unit.
      return gross - Math.round(gross * Number(discounts[term.value] || 0) / 100);
    };
    const showTotal = () => {
      const minor = totalMinor();
      output.textContent = minor === null ? "—" : money.format(minor / 10 ** exponent);
    };
    toggle.addEventListener("change", showInvoice);
    form.addEventListener("input", showTotal);
    form.addEventListener("change", showTotal);
    // A second click while the first submit is on its way does nothing (the server also refuses
    // to create a second order for the same form).
    form.addEventListener("submit", () => { setTimeout(() => { submit.disabled = true; }, 0); });
    window.addEventListener("pageshow", () => { submit.disabled = false; });
    showInvoice();
    showTotal();
  });

  // A freshly issued invoice downloads by itself (the link stays for a second try).
  // Only once: the address loses ?ready, so Reload and Back do not download it again.
  const ready = document.querySelector("a[data-auto-download]");
  if (ready) {
    ready.click();
    const url = new URL(window.location.href);
    url.searchParams.delete("ready");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  // Buttons that destroy something ask first.
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  // The print view's Print button.
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
