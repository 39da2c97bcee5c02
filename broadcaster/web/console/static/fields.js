// Field chips of the composer: <button data-field="[Đường dây nóng]" data-into="id-of-a-textarea"> puts the
// field's name where the cursor is, then tells the page the text changed (so it is checked again).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-field]");
  if (!button) return;
  var box = document.getElementById(button.getAttribute("data-into"));
  var field = button.getAttribute("data-field");
  var start = box.selectionStart, end = box.selectionEnd;
  box.value = box.value.slice(0, start) + field + box.value.slice(end);
  box.focus();
  box.selectionStart = box.selectionEnd = start + field.length;
  box.dispatchEvent(new Event("input", { bubbles: true }));
});

// A reading typed beside the radio text ("đọc là …") is not a change of the campaign: kept from the
// channel's "check again" trigger, whose answer would replace the panel the reading's own answer fills.
document.addEventListener("change", function (event) {
  if (event.target.closest && event.target.closest(".reading-ask")) event.stopPropagation();
}, true);
