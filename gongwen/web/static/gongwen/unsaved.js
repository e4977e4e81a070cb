// Unsaved input survives a login that expired, or a page whose form expired because of a
// login in another tab (the 起草公文 editor: a long form).
//
// A form marked data-keep-unsaved is copied into this tab's sessionStorage when it is
// submitted, or when the 重新登录 link of an expired HTMX request is followed. If the
// next page is one that says the input was kept ([data-unsaved-note]: the login page, the
// 页面已过期 page), the copy is held; the first page after it that shows a form with the
// same action, for the same user (data-user), gets the input back and shows its
// [data-unsaved-restored] notice. The 刷新本页 link of an expired HTMX request
// (a[data-reload-unsaved]) holds the copy at once: the page it reloads gets it back. Any
// other page drops the copy: the form reached its view (saved, or shown again with its
// errors by the server).
// sessionStorage belongs to the tab and ends with it; passwords and files are never kept.
(function () {
  "use strict";
  var KEY = "gongwen.unsaved";
  var EXPIRED = "a[data-relogin], a[data-reload-unsaved]";
  var SKIPPED = { file: 1, password: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function read() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "null"); }
    catch (e) { return null; }
  }
  function write(entry) {
    try { window.sessionStorage.setItem(KEY, JSON.stringify(entry)); } catch (e) { /* full */ }
  }
  function drop() {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* unavailable */ }
  }
  function actionOf(form) {
    return new URL(form.getAttribute("action") || "", window.location.href).pathname;
  }
  function kept(el) {
    return el.name && !el.disabled && el.name !== "csrfmiddlewaretoken" && !SKIPPED[el.type];
  }

  function keep(form, held) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) fields.push([el.name, el.value]);
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) {
          fields.push([el.name, o.value]);
        });
      } else {
        fields.push([el.name, el.value]);
      }
    });
    write({ action: actionOf(form), user: form.dataset.user || "", fields: fields,
            held: !!held });
  }

  function restore(form, fields) {
    var values = {};
    fields.forEach(function (f) { (values[f[0]] = values[f[0]] || []).push(f[1]); });
    var used = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      var mine = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = mine.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = mine.indexOf(o.value) >= 0;
        });
      } else {
        var i = used[el.name] || 0;
        if (i < mine.length) el.value = mine[i];
        used[el.name] = i + 1;
      }
    });
    var notice = document.querySelector("[data-unsaved-restored]");
    if (notice) notice.hidden = false;
  }

  var entry = read();
  if (entry) {
    var note = document.querySelector("[data-unsaved-note]");
    if (note) {  // the login page, the 页面已过期 page
      entry.held = true;
      write(entry);
      note.hidden = false;
    } else {
      drop();
      if (entry.held) {
        var form = Array.prototype.find.call(
          document.querySelectorAll("form[data-keep-unsaved]"),
          function (f) { return actionOf(f) === entry.action; });
        if (form && entry.user && form.dataset.user === entry.user) restore(form, entry.fields);
      }
    }
  }

  // A region that shows an expired notice asks no more: its requests would fail the same
  // way (the page's token or login is gone until it is reloaded), and a new answer swapped
  // in under the pointer would swallow the click on the notice's link.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.querySelector && target.querySelector(EXPIRED)) event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-keep-unsaved]")) keep(form);
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(EXPIRED);
    if (!link) return;
    var held = link.hasAttribute("data-reload-unsaved");
    document.querySelectorAll("form[data-keep-unsaved]").forEach(function (form) {
      keep(form, held);
    });
  }, true);
})();
