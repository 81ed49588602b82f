// Remit User Center: small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // Language switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.documentElement.classList.add("js");

  // The phone header's Menu button shows and hides the navigation; Escape closes it.
  const menuToggle = document.querySelector("[data-menu-toggle]");
  if (menuToggle) {
    const menu = document.getElementById(menuToggle.getAttribute("aria-controls"));
    const setOpen = (open) => {
      menu.classList.toggle("open", open);
      menuToggle.setAttribute("aria-expanded", String(open));
    };
    const header = menuToggle.closest("header");
    menuToggle.addEventListener("click", () => setOpen(!menu.classList.contains("open")));
    header.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.classList.contains("open")) { setOpen(false); menuToggle.focus(); }
    });
    document.addEventListener("click", (event) => { if (!header.contains(event.target)) setOpen(false); });
  }

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

  // Live preview of the invoice (issue 11): what the form holds is posted to the preview
  // endpoint, debounced, and its HTML (escaped by the server) replaces the preview's content.
  const livePreview = (form, target, active) => {
    let timer = null;
    let latest = 0;
    const refresh = () => {
      if (!active()) return;
      const request = ++latest;
      fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then((response) => response.text())
        .then((html) => { if (request === latest) target.innerHTML = html; })
        .catch(() => {});
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 350); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    return refresh;
  };

  // P1/P5: Buy Monthly (or Buy credits) opens the purchase dialog: the order summary and total
  // on the left, the payment on the right; "Create an Invoice" (bottom left) shows the invoice
  // fields and the preview and renames the submit button. Escape closes it: nothing is
  // committed until the dialog's submit button. Without JavaScript Buy Monthly posts a review
  // step and the server renders the dialog open in the page.
  document.querySelectorAll("form[data-purchase]").forEach((form) => {
    const opener = form.querySelector("[data-opens-dialog]");
    const dialog = document.getElementById(opener.dataset.opensDialog);
    const toggle = dialog.querySelector("[data-invoice-toggle]");
    const fields = dialog.querySelector("[data-invoice-fields]");
    const cardPanel = dialog.querySelector("[data-card-only-panel]");
    const preview = dialog.querySelector("[data-invoice-only]");
    const submit = dialog.querySelector("button[data-place]");
    const outputs = form.querySelectorAll("[data-total]");
    const currency = form.dataset.currency;
    const money = new Intl.NumberFormat(form.dataset.language || undefined, { style: "currency", currency });
    const exponent = money.resolvedOptions().maximumFractionDigits;
    const pairs = (text) => Object.fromEntries((text || "").split(",").filter(Boolean).map((p) => p.split(":")));
    const planPrices = pairs(form.dataset.planPrices);
    const discounts = pairs(form.dataset.termDiscounts);
    const refreshPreview = livePreview(form, dialog.querySelector("[data-preview]"), () => dialog.open && toggle.checked);
    const showInvoice = () => {
      const on = toggle.checked;
      fields.hidden = !on;
      preview.hidden = !on;
      if (cardPanel) cardPanel.hidden = on; // absent when nothing can be paid by card
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
      if (on) refreshPreview();
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
      outputs.forEach((output) => { output.textContent = minor === null ? "—" : money.format(minor / 10 ** exponent); });
    };
    // The summary repeats what is chosen on the page.
    const showSummary = () => {
      const text = (selector) => dialog.querySelector(`[data-summary='${selector}']`);
      if (form.dataset.purchase === "credits") {
        const credits = Number(form.querySelector("input[name$='credits']").value);
        text("credits").textContent = Number.isInteger(credits) && credits > 0
          ? new Intl.NumberFormat(form.dataset.language || undefined).format(credits) : "—";
      } else {
        const size = form.querySelector("select[name$='plan_size']");
        const term = form.querySelector("input[name$='term_months']:checked");
        text("plan").textContent = size.selectedOptions[0] ? size.selectedOptions[0].textContent : "—";
        text("term").textContent = term ? term.labels[0].textContent.trim() : "—";
      }
      showTotal();
    };
    const open = () => {
      showSummary();
      dialog.showModal();
      showInvoice();
      const problem = dialog.querySelector("[data-error-summary]");
      if (problem) {
        problem.focus();
        // Scrolling to the address's #fragment once the page has loaded moves focus away.
        window.addEventListener("load", () => problem.focus(), { once: true });
      }
    };
    form.addEventListener("submit", (event) => {
      if (event.submitter === opener || !event.submitter) {
        // Enter in a field of the page opens the dialog; in the dialog it places the order.
        event.preventDefault();
        if (dialog.open) form.requestSubmit(submit);
        else open();
        return;
      }
      // A second click while the first submit is on its way does nothing (the server also
      // refuses to create a second order for the same form).
      if (event.submitter === submit) setTimeout(() => { submit.disabled = true; }, 0);
    });
    window.addEventListener("pageshow", () => { submit.disabled = false; });
    dialog.querySelectorAll("[data-close-dialog]").forEach((close) => {
      close.addEventListener("click", (event) => { event.preventDefault(); dialog.close(); });
    });
    // Focus returns to Buy Monthly (the close event comes later than close(): skip it when the
    // dialog was reopened at once).
    dialog.addEventListener("close", () => { if (!dialog.open) opener.focus(); });
    toggle.addEventListener("change", showInvoice);
    form.addEventListener("input", showTotal);
    form.addEventListener("change", showTotal);
    showInvoice();
    showTotal();
    // After a refused purchase or the no-JavaScript review step the server rendered it open:
    // make it modal.
    if (dialog.hasAttribute("data-reopen")) {
      dialog.close();
      open();
    }
  });

  // The billing-information gate's live preview.
  document.querySelectorAll("form[data-gate-preview]").forEach((form) => {
    livePreview(form, form.querySelector("[data-preview]"), () => true)();
  });

  // After a refused form, focus moves to its error summary (or the first invalid field).
  if (!document.querySelector("dialog[open] [data-error-summary]")) {
    const summary = document.querySelector("[data-error-summary]") || document.querySelector("[aria-invalid=true]");
    if (summary) {
      summary.focus();
      window.addEventListener("load", () => summary.focus(), { once: true });
    }
  }

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
