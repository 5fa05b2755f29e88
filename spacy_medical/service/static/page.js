// The service page: sends the note to POST /render and shows the server-rendered record.
// The HTML comes from spacy_medical.io.render (every note character escaped there), the same
// renderer as `annotate --html`. No external script, font or stylesheet: it works offline.
"use strict";
(function () {
  const form = document.getElementById("note-form");
  const text = document.getElementById("note-text");
  const result = document.getElementById("result");
  const status = document.getElementById("status");
  const keyRow = document.getElementById("key-row");
  const key = document.getElementById("api-key");
  const deidentify = document.getElementById("deidentify");

  function headers(contentType) {
    const h = {"Accept": "text/html, application/json"};
    if (contentType) h["Content-Type"] = contentType;
    if (key.value) h["Authorization"] = "Bearer " + key.value;
    return h;
  }

  fetch("health").then(r => r.json()).then(info => {
    document.getElementById("model").textContent =
      "Model " + info.model + " " + info.model_version + " \u00b7 up to " + info.max_chars + " characters per note";
    keyRow.hidden = !info.auth_required;
  }).catch(() => { document.getElementById("model").textContent = "The server does not answer."; });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.className = "";
    status.textContent = "Annotating\u2026";
    try {
      const response = await fetch(deidentify.checked ? "render?deidentify=true" : "render", {
        method: "POST", headers: headers("application/json"),
        body: JSON.stringify({note_id: "page", text: text.value}),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.detail ? JSON.stringify(body.detail) : response.statusText);
      }
      result.innerHTML = await response.text();
      status.textContent = "";
    } catch (err) {
      status.className = "error";
      status.textContent = "Error: " + err.message;
    }
  });
})();
