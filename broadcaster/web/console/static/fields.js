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

// A channel that sends only as another's fallback (the SMS after Zalo) asks for no audience or timetable of its
// own: while the fallback is on, its section says so instead, and is on (its text is what goes out). A channel
// turned off is nobody's fallback any more.
function markFallbacks() {
  document.querySelectorAll("section.channel.is-fallback").forEach(function (section) {
    section.classList.remove("is-fallback");
  });
  document.querySelectorAll("input[data-fallback-to]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-fallback-from") + "-on");
    var target = box.getAttribute("data-fallback-to");
    var section = document.getElementById("channel-" + target);
    if (!box.checked || !source || !source.checked || !section) return;
    section.classList.add("is-fallback");
    var on = document.getElementById(target + "-on");
    if (on) on.checked = true;
  });
}
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.classList && box.classList.contains("channel-on") && !box.checked) {
    var channel = box.id.replace(/-on$/, "");
    document.querySelectorAll("input[data-fallback-to='" + channel + "']").forEach(function (fallback) {
      fallback.checked = false;
    });
  }
  if (box.classList && (box.classList.contains("channel-on") || box.classList.contains("fallback-on"))) markFallbacks();
});
