// The deposit page (templates/payments/pay.html) and the card-on-file page
// (templates/payments/keep_card.html): Stripe Elements keeps the card number in Stripe's
// hands, and a SetupIntent saves the card. Then the form's data-finish step runs on our
// server: "pay" charges the saved card (asking Stripe, never this page, whether that worked;
// a 3-D Secure check runs if the bank asks), "save" only records which card was saved.
// The words it shows come translated from the page (the form's data-msg-* attributes).
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  // Stripe's own texts stay out of the page: a card problem is shown by its code, in our
  // words (payments/declines.py); the card field itself speaks the page's language.
  var stripe = Stripe(form.dataset.key, {locale: form.dataset.locale || "auto"});
  var declines = JSON.parse(form.dataset.msgDeclines || "{}");
  function inOurWords(error, fallback) {
    var said = declines[error.decline_code] || declines[error.code];
    if (said) { return said; }
    return error.type === "card_error" ? declines.card_declined || fallback : fallback;
  }
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

  function post(fields) {
    return fetch(form.dataset.setupUrl, {
      method: "POST",
      headers: {"X-CSRFToken": csrf},
      body: new URLSearchParams(fields),
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }, function () {
      throw new Error(form.dataset.msgNetwork);
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    errors.textContent = "";
    var button = form.querySelector("button");
    button.disabled = true;
    try {
      var setup = await post({step: "setup"});
      if (setup.error) { throw new Error(setup.error); }
      var saved = await stripe.confirmCardSetup(setup.client_secret, {payment_method: {card: card}});
      if (saved.error) { throw new Error(inOurWords(saved.error, form.dataset.msgRefused)); }
      var paid = await post({step: form.dataset.finish || "pay", setup_intent: saved.setupIntent.id});
      if (paid.error) { throw new Error(paid.error); }
      if (paid.next === "authenticate") {
        var checked = await stripe.confirmCardPayment(paid.client_secret);
        if (checked.error) { throw new Error(inOurWords(checked.error, form.dataset.msgBank)); }
      }
      window.location.assign(form.dataset.returnUrl);
    } catch (problem) {
      errors.textContent = problem.message;
      button.disabled = false;
    }
  });
})();
