// The shop's front end: plain JavaScript talking to the API of examples/app.py.
//
// Served by the API itself (/static/), it calls its own origin. Served from elsewhere (a dev
// server on http://localhost:5173, say), name the API in the query string:
// index.html?api=http://127.0.0.1:8000 -- the API's CORS settings must allow that origin.
"use strict";

const API = (new URLSearchParams(location.search).get("api") || "").replace(/\/+$/, "");

/** Call the API; resolves to the parsed answer, rejects with a readable message. */
async function api(path, options = {}) {
  const response = await fetch(API + path, { credentials: "include", ...options });
  const type = response.headers.get("content-type") || "";
  const text = await response.text();
  const body = text && type.includes("json") ? JSON.parse(text) : text;
  if (!response.ok) {
    throw new Error(describeError(response.status, body));
  }
  return body;
}

/** "name: String should have at least 1 character" for a 422, "404: Item 9 not found" else. */
function describeError(status, body) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) {
    return detail.map((error) => `${error.loc.slice(1).join(".") || "body"}: ${error.msg}`).join("; ");
  }
  return `${status}: ${typeof detail === "string" ? detail : body || "request failed"}`;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// -- items ----------------------------------------------------------------------------------------

const itemList = document.getElementById("items");
const itemsError = document.getElementById("items-error");
const searchForm = document.getElementById("search");
const addForm = document.getElementById("add-item");
const price = new Intl.NumberFormat(undefined, { style: "currency", currency: "EUR" });

async function loadItems() {
  const q = searchForm.elements.q.value.trim();
  try {
    const items = await api("/items?" + new URLSearchParams({ q }));
    itemList.replaceChildren(...items.map(itemRow));
    if (!items.length) itemList.append(element("li", q ? "No match." : "No items yet.", "empty"));
    itemsError.textContent = "";
  } catch (error) {
    itemsError.textContent = error.message;
  }
}

function itemRow(item) {
  const row = element("li");
  row.dataset.id = item.id;
  const remove = element("button", "\u00d7", "delete");
  remove.type = "button";
  remove.title = `Delete ${item.name}`;
  remove.setAttribute("aria-label", remove.title);
  remove.addEventListener("click", () => deleteItem(item.id));
  row.append(element("span", item.name, "name"), element("span", price.format(item.price), "price"), remove);
  return row;
}

async function deleteItem(id) {
  try {
    await api(`/items/${id}`, { method: "DELETE" });
  } catch (error) {
    itemsError.textContent = error.message;
  }
  await loadItems();
}

let searchTimer;
searchForm.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadItems, 200);
});
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  loadItems();
});

addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = addForm.elements;
  try {
    await api("/items", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: fields.name.value, price: Number(fields.price.value) }),
    });
    addForm.reset();
    await loadItems();
  } catch (error) {
    itemsError.textContent = error.message;
  }
});

// -- live counter (server-sent events) ------------------------------------------------------------

const counter = document.getElementById("counter");
const counterForm = document.getElementById("counter-form");
const counterState = document.getElementById("counter-state");
const stopButton = document.getElementById("counter-stop");
let source = null;

function stopCounter(message) {
  if (source) source.close(); // closing ends the request: the server stops counting
  source = null;
  stopButton.disabled = true;
  counterForm.elements["counter-start"].disabled = false;
  counterState.textContent = message;
}

counterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  stopCounter("");
  const start = counterForm.elements.start.value || "0";
  const limit = Number(counterForm.elements.limit.value || "10");
  const query = new URLSearchParams({ start, limit, interval: "1" });
  let received = 0;
  // A cross-origin stream sends cookies only when asked (and allowed by CORS).
  source = new EventSource(`${API}/events/counter?${query}`, { withCredentials: API !== "" });
  stopButton.disabled = false;
  counterForm.elements["counter-start"].disabled = true;
  counterState.textContent = "Connecting\u2026";
  source.addEventListener("tick", (tick) => {
    counter.value = tick.data;
    received += 1;
    counterState.textContent = `${received} of ${limit}`;
    // The server ends the stream after `limit` events; close it here, or the browser would
    // reconnect (sending Last-Event-ID, so counting would go on).
    if (received >= limit) stopCounter(`Done: ${limit} events.`);
  });
  source.addEventListener("error", () => {
    if (source && source.readyState === EventSource.CLOSED) stopCounter("The stream failed.");
    else if (source) counterState.textContent = "Reconnecting\u2026";
  });
});

stopButton.addEventListener("click", () => stopCounter("Stopped."));

// -- upload ---------------------------------------------------------------------------------------

const uploadForm = document.getElementById("upload");
const uploadResult = document.getElementById("upload-result");
const uploadError = document.getElementById("upload-error");

uploadForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  uploadError.textContent = "";
  uploadResult.hidden = true;
  try {
    // FormData makes a multipart body; the browser sets the content type with its boundary.
    const summary = await api("/uploads", { method: "POST", body: new FormData(uploadForm) });
    for (const field of uploadResult.querySelectorAll("[data-field]")) {
      const value = summary[field.dataset.field];
      field.textContent = field.dataset.field === "size" ? `${value} bytes` : value || "-";
    }
    uploadResult.hidden = false;
  } catch (error) {
    uploadError.textContent = error.message;
  }
});

loadItems();
